//! Reconciling every call with the endpoint's ledger, and the JSON report.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::call::{Class, Record};

/// The soak's numbers. `duplicates`, `lost`, `hung` and `mismatched` must be 0.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) duration_s: f64,
    pub(crate) concurrency: usize,
    pub(crate) seed: u64,
    pub(crate) chaos_probability: f64,
    /// `--protocol` of the soaked clients: `http1`, `http2` or `auto`.
    pub(crate) protocol: &'static str,
    /// Connections the endpoints accepted, and how many of them ALPN made HTTP/2.
    pub(crate) server_connections: u64,
    pub(crate) server_http2_connections: u64,
    pub(crate) calls: u64,
    /// Of `calls`: through the SDK client (reconciled per invocation id) and through the lean
    /// path (reconciled in aggregate on an endpoint of its own, see [`Report::reconcile_lean`]).
    pub(crate) sdk_calls: u64,
    pub(crate) lean_calls: u64,
    pub(crate) ok: u64,
    pub(crate) not_sent: u64,
    pub(crate) maybe_executed: u64,
    /// Of `maybe_executed`: how many the server ran (the rest it never started).
    pub(crate) maybe_executed_ran: u64,
    pub(crate) timeouts: u64,
    pub(crate) service_errors: u64,
    /// Always 0: every failure has a [`lambda_vpce::Verdict`] now. Kept so the JSON keeps its
    /// field.
    pub(crate) unclassified: u64,
    /// Calls whose invocation id the server ran more than once.
    pub(crate) duplicates: u64,
    /// Calls reported ok that the server never ran, or reported not sent that it ran.
    pub(crate) lost: u64,
    /// Calls still pending past their bound (deadline × attempts + grace).
    pub(crate) hung: u64,
    /// Responses whose payload was not the one the call sent.
    pub(crate) mismatched: u64,
    /// Executions under ids no call sent.
    pub(crate) orphan_executions: u64,
    pub(crate) executions: u64,
    pub(crate) calls_per_s: f64,
    pub(crate) server_fault_closes: u64,
    pub(crate) pool_connections_opened: u64,
    pub(crate) pool_requests: u64,
    pub(crate) pool_unsent_resends: u64,
    pub(crate) fds_before: Option<u64>,
    pub(crate) fds_after: Option<u64>,
    pub(crate) rss_before_kb: Option<u64>,
    pub(crate) rss_peak_kb: Option<u64>,
    /// Descriptors and resident memory after the first round's endpoints and clients were
    /// dropped; `fds_after` and `rss_after_kb` are the same after the second round.
    pub(crate) fds_after_first_round: Option<u64>,
    pub(crate) rss_after_first_round_kb: Option<u64>,
    pub(crate) rss_after_kb: Option<u64>,
    pub(crate) fd_tolerance: u64,
    /// How much more memory the second round may leave behind than the first, before the
    /// allowance for a higher heap peak in the second round (see `judge`).
    pub(crate) rss_round_tolerance_kb: u64,
    /// Live heap bytes (allocated and not freed since the soak started) after each round's
    /// endpoints, clients and records were dropped: their difference is what the second round
    /// leaked. `None` where the binary cannot count.
    pub(crate) heap_after_first_round_bytes: Option<i64>,
    pub(crate) heap_after_bytes: Option<i64>,
    /// The highest live heap sampled during each round: the soak's own per-call bookkeeping
    /// (ledger, records) at its largest, which sets the resident plateau a round leaves.
    pub(crate) heap_peak_first_round_bytes: Option<i64>,
    pub(crate) heap_peak_second_round_bytes: Option<i64>,
    /// How much more live heap the second round may leave behind than the first.
    pub(crate) heap_round_tolerance_bytes: i64,
    /// The first error text seen per outcome class, for diagnosis.
    pub(crate) first_errors: std::collections::BTreeMap<String, String>,
    /// Why the soak failed; empty when it passed.
    pub(crate) failures: Vec<String>,
}

impl Report {
    /// Counts every record against the ledger's executions per call id.
    pub(crate) fn reconcile(
        &mut self,
        records: &[Record],
        hung: u64,
        ledger: &HashMap<String, u32>,
    ) {
        let mut seen = HashSet::with_capacity(records.len());
        self.hung += hung;
        self.calls += records.len() as u64 + hung;
        self.sdk_calls += records.len() as u64 + hung;
        for r in records {
            let runs = r.call_id.as_deref().map_or(0, |id| {
                seen.insert(id);
                ledger.get(id).copied().unwrap_or(0)
            });
            if runs > 1 {
                self.duplicates += 1;
            }
            self.count(r, "sdk");
            match r.class {
                Class::Ok => {
                    self.ok += 1;
                    if runs == 0 {
                        self.lost += 1;
                    }
                }
                Class::Mismatched => self.mismatched += 1,
                Class::NotSent => {
                    self.not_sent += 1;
                    if runs > 0 {
                        self.lost += 1;
                    }
                }
                Class::MaybeExecuted => {
                    self.maybe_executed += 1;
                    self.maybe_executed_ran += u64::from(runs > 0);
                }
                Class::Service => self.service_errors += 1,
            }
        }
        for (id, n) in ledger {
            self.executions += u64::from(*n);
            if !seen.contains(id.as_str()) {
                self.orphan_executions += u64::from(*n);
            }
        }
    }

    /// Counts the lean path's calls, which carry no invocation id, against the ledger of an
    /// endpoint only they used. Exact for duplicates (any id run twice); for lost calls a lower
    /// bound: fewer ids executed than ok calls means an ok call never ran, more ids executed
    /// than ok + may-have-executed calls means a call reported not sent ran.
    pub(crate) fn reconcile_lean(
        &mut self,
        records: &[Record],
        hung: u64,
        ledger: &HashMap<String, u32>,
    ) {
        self.hung += hung;
        self.calls += records.len() as u64 + hung;
        self.lean_calls += records.len() as u64 + hung;
        let (mut ok, mut maybe) = (0u64, 0u64);
        for r in records {
            self.count(r, "lean");
            match r.class {
                Class::Ok => {
                    ok += 1;
                    self.ok += 1;
                }
                Class::Mismatched => self.mismatched += 1,
                Class::NotSent => self.not_sent += 1,
                Class::MaybeExecuted => {
                    maybe += 1;
                    self.maybe_executed += 1;
                }
                Class::Service => self.service_errors += 1,
            }
        }
        let ids = ledger.len() as u64;
        self.duplicates += ledger.values().filter(|n| **n > 1).count() as u64;
        self.executions += ledger.values().map(|n| u64::from(*n)).sum::<u64>();
        self.lost += ok.saturating_sub(ids) + ids.saturating_sub(ok + maybe + hung);
    }

    fn count(&mut self, r: &Record, path: &str) {
        self.timeouts += u64::from(r.timeout);
        if let Some(e) = &r.error {
            self.first_errors
                .entry(format!("{path} {:?}", r.class))
                .or_insert_with(|| e.clone());
        }
    }

    /// Adds a round's call counts (not its settings or resource readings) to this report.
    pub(crate) fn absorb(&mut self, r: Report) {
        self.duration_s += r.duration_s;
        self.concurrency = r.concurrency;
        self.seed = r.seed;
        self.chaos_probability = r.chaos_probability;
        self.protocol = r.protocol;
        for (mine, theirs) in [
            (&mut self.server_connections, r.server_connections),
            (
                &mut self.server_http2_connections,
                r.server_http2_connections,
            ),
            (&mut self.calls, r.calls),
            (&mut self.sdk_calls, r.sdk_calls),
            (&mut self.lean_calls, r.lean_calls),
            (&mut self.ok, r.ok),
            (&mut self.not_sent, r.not_sent),
            (&mut self.maybe_executed, r.maybe_executed),
            (&mut self.maybe_executed_ran, r.maybe_executed_ran),
            (&mut self.timeouts, r.timeouts),
            (&mut self.service_errors, r.service_errors),
            (&mut self.unclassified, r.unclassified),
            (&mut self.duplicates, r.duplicates),
            (&mut self.lost, r.lost),
            (&mut self.hung, r.hung),
            (&mut self.mismatched, r.mismatched),
            (&mut self.orphan_executions, r.orphan_executions),
            (&mut self.executions, r.executions),
            (&mut self.server_fault_closes, r.server_fault_closes),
            (&mut self.pool_connections_opened, r.pool_connections_opened),
            (&mut self.pool_requests, r.pool_requests),
            (&mut self.pool_unsent_resends, r.pool_unsent_resends),
        ] {
            *mine += theirs;
        }
        self.calls_per_s = self.calls as f64 / self.duration_s.max(1e-9);
        for (k, v) in r.first_errors {
            self.first_errors.entry(k).or_insert(v);
        }
    }

    /// How many KiB higher the second round's sampled heap peak was than the first's (0 when
    /// lower or unknown): resident memory the allocator may keep after the second round
    /// beyond the first round's plateau without anything leaking.
    fn higher_second_peak_kb(&self) -> u64 {
        match (
            self.heap_peak_first_round_bytes,
            self.heap_peak_second_round_bytes,
        ) {
            (Some(first), Some(second)) => (second - first).max(0) as u64 / 1024,
            _ => 0,
        }
    }

    /// Fills `failures` from the numbers and the tolerances.
    pub(crate) fn judge(&mut self) {
        let mut f = Vec::new();
        for (name, n) in [
            ("duplicates", self.duplicates),
            ("lost", self.lost),
            ("hung", self.hung),
            ("mismatched", self.mismatched),
        ] {
            if n > 0 {
                f.push(format!("{name} = {n}"));
            }
        }
        if self.ok == 0 {
            f.push("no call succeeded".to_owned());
        }
        for after in [self.fds_after_first_round, self.fds_after] {
            if let (Some(b), Some(a)) = (self.fds_before, after) {
                if a > b + self.fd_tolerance {
                    f.push(format!(
                        "file descriptors grew from {b} to {a} (tolerance {})",
                        self.fd_tolerance
                    ));
                }
            }
        }
        if let (Some(first), Some(second)) =
            (self.heap_after_first_round_bytes, self.heap_after_bytes)
        {
            if second - first > self.heap_round_tolerance_bytes {
                f.push(format!(
                    "the live heap grew by {} bytes in the second round (from {first} to {second} bytes after the first; tolerance {} bytes): a leak",
                    second - first,
                    self.heap_round_tolerance_bytes
                ));
            }
        }
        if let (Some(first), Some(second)) = (self.rss_after_first_round_kb, self.rss_after_kb) {
            let allowed = self.rss_round_tolerance_kb + self.higher_second_peak_kb();
            if second > first + allowed {
                f.push(format!(
                    "resident memory climbed from {first} KiB after the first round to {second} KiB after the second (allowed {allowed} KiB: tolerance {} KiB + {} KiB by which the second round's heap peaked higher)",
                    self.rss_round_tolerance_kb,
                    self.higher_second_peak_kb()
                ));
            }
        }
        self.failures = f;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, class: Class) -> Record {
        Record {
            call_id: Some(id.to_owned()),
            class,
            timeout: false,
            error: None,
        }
    }

    #[test]
    fn reconciliation_finds_duplicates_lost_calls_and_orphans() {
        let ledger: HashMap<String, u32> = [("a", 1), ("b", 2), ("d", 1), ("z", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let records = [
            rec("a", Class::Ok),
            rec("b", Class::MaybeExecuted),
            rec("c", Class::Ok),
            rec("d", Class::NotSent),
        ];
        let mut r = Report::default();
        r.reconcile(&records, 1, &ledger);
        assert_eq!((r.calls, r.ok, r.maybe_executed, r.not_sent), (5, 2, 1, 1));
        assert_eq!(r.duplicates, 1, "b ran twice");
        assert_eq!(r.lost, 2, "c ok but never ran; d not sent but ran");
        assert_eq!(r.orphan_executions, 1, "z");
        assert_eq!(r.executions, 5);
        r.judge();
        assert_eq!(r.failures.len(), 3, "{:?}", r.failures);
        let mut none_ok = Report::default();
        none_ok.reconcile(&[rec("b", Class::NotSent)], 0, &HashMap::new());
        none_ok.judge();
        assert_eq!(none_ok.failures, ["no call succeeded"]);
    }

    #[test]
    fn lean_reconciliation_counts_duplicates_and_bounds_lost_calls() {
        let anon = |class| Record {
            call_id: None,
            class,
            timeout: false,
            error: None,
        };
        let ledger: HashMap<String, u32> = [("x", 1), ("y", 2), ("z", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let mut r = Report::default();
        // Two ok calls and one not sent, but three ids ran: one "not sent" call ran.
        r.reconcile_lean(
            &[anon(Class::Ok), anon(Class::Ok), anon(Class::NotSent)],
            0,
            &ledger,
        );
        assert_eq!((r.lean_calls, r.ok, r.not_sent), (3, 2, 1));
        assert_eq!(r.duplicates, 1);
        assert_eq!(r.lost, 1);
        let two: HashMap<String, u32> = [("x".to_owned(), 1), ("y".to_owned(), 1)].into();
        let mut fine = Report::default();
        fine.reconcile_lean(&[anon(Class::Ok), anon(Class::MaybeExecuted)], 0, &two);
        assert_eq!(
            fine.lost, 0,
            "the may-have-executed call may be the second id"
        );
        let mut orphan = Report::default();
        orphan.reconcile_lean(&[anon(Class::Ok), anon(Class::MaybeExecuted)], 0, &ledger);
        assert_eq!(orphan.lost, 1, "three ids ran for two calls");
    }

    #[test]
    fn a_live_heap_that_grows_in_the_second_round_is_a_leak_whatever_resident_memory_says() {
        let mut r = Report {
            heap_after_first_round_bytes: Some(3_000_000),
            heap_after_bytes: Some(3_500_000),
            heap_round_tolerance_bytes: 1 << 20,
            ..Report::default()
        };
        let ledger = [("a".to_owned(), 1)].into_iter().collect();
        r.reconcile(&[rec("a", Class::Ok)], 0, &ledger);
        r.judge();
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        r.heap_after_bytes = Some(3_000_000 + (1 << 20) + 1);
        r.judge();
        assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
        assert!(
            r.failures[0].contains("live heap grew by"),
            "{:?}",
            r.failures
        );
    }

    #[test]
    fn resident_memory_may_climb_by_as_much_as_the_second_rounds_heap_peaked_higher() {
        let mut r = Report {
            rss_after_first_round_kb: Some(120_000),
            rss_after_kb: Some(152_000),
            rss_round_tolerance_kb: 24 * 1024,
            // The second round's bookkeeping peaked 20 MiB higher (more calls).
            heap_peak_first_round_bytes: Some(60 << 20),
            heap_peak_second_round_bytes: Some(80 << 20),
            ..Report::default()
        };
        let ledger = [("a".to_owned(), 1)].into_iter().collect();
        r.reconcile(&[rec("a", Class::Ok)], 0, &ledger);
        r.judge();
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        // The same climb with equal peaks is not explained by the soak's own state.
        r.heap_peak_second_round_bytes = Some(60 << 20);
        r.judge();
        assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
        assert!(r.failures[0].contains("resident memory climbed"));
    }

    #[test]
    fn a_clean_run_with_steady_resources_passes_and_a_climbing_one_fails() {
        let mut r = Report {
            fds_before: Some(10),
            fds_after_first_round: Some(11),
            fds_after: Some(12),
            rss_before_kb: Some(1000),
            rss_after_first_round_kb: Some(90_000),
            rss_after_kb: Some(95_000),
            fd_tolerance: 4,
            rss_round_tolerance_kb: 8192,
            ..Report::default()
        };
        let ledger = [("a".to_owned(), 1)].into_iter().collect();
        r.reconcile(&[rec("a", Class::Ok)], 0, &ledger);
        r.judge();
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        r.rss_after_kb = Some(120_000);
        r.fds_after_first_round = Some(20);
        r.judge();
        assert_eq!(r.failures.len(), 2, "{:?}", r.failures);
    }

    #[test]
    fn rounds_add_up() {
        let ledger = [("a".to_owned(), 1), ("b".to_owned(), 2)]
            .into_iter()
            .collect();
        let mut one = Report::default();
        one.reconcile(
            &[rec("a", Class::Ok), rec("b", Class::MaybeExecuted)],
            1,
            &ledger,
        );
        let mut total = Report::default();
        total.absorb(one);
        let mut two = Report::default();
        two.reconcile(&[rec("a", Class::Ok)], 0, &ledger);
        total.absorb(two);
        assert_eq!((total.calls, total.ok, total.maybe_executed), (4, 2, 1));
        assert_eq!((total.hung, total.duplicates), (1, 1));
    }
}
