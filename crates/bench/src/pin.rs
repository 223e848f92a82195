//! `--client-cpus` and `--server-cpus`: the bench's threads pinned to CPUs (Linux).
//!
//! At one call at a time on a small VM, a call's latency follows where its threads run more
//! than what they do: a client thread and an endpoint thread that meet on one CPU hand a call
//! over in a few microseconds, two that must wake an idle vCPU take tens, and which of the two
//! a client gets can stay the same for a whole run. Pinning the clients to some CPUs and the
//! embedded endpoint to others makes every client of the run cross between CPUs the same way,
//! as a client and a server on different machines always do.
//!
//! The clients' CPUs are set on the main thread before the runtime starts, so every thread the
//! bench starts inherits them; the endpoint's own runtime sets its CPUs on each of its threads
//! as it starts ([`LocalEndpointBuilder::on_worker_start`]). The report carries the CPUs the
//! OS then says each side may run on, not the flags.
//!
//! [`LocalEndpointBuilder::on_worker_start`]: lambda_vpce::local::LocalEndpointBuilder::on_worker_start

use std::fmt;
use std::time::Duration;

use tokio::sync::watch;

/// The highest CPU number a list may name (the kernel's `CPU_SETSIZE` − 1).
pub(crate) const MAX_CPU: usize = 1023;

/// A CPU list as `taskset -c` takes it (`0`, `0-3`, `0,2,4-7`): sorted, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CpuList(Vec<usize>);

impl CpuList {
    /// Parses `0`, `0-3`, `0,2,4-7`; clap's value parser for the two flags.
    pub(crate) fn parse(s: &str) -> Result<CpuList, String> {
        let mut cpus = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            let (lo, hi) = match part.split_once('-') {
                Some((lo, hi)) => (cpu(lo)?, cpu(hi)?),
                None => (cpu(part)?, cpu(part)?),
            };
            if lo > hi {
                return Err(format!("`{part}`: a range goes from low to high"));
            }
            cpus.extend(lo..=hi);
        }
        cpus.sort_unstable();
        cpus.dedup();
        Ok(CpuList(cpus))
    }

    /// The CPUs, ascending.
    pub(crate) fn cpus(&self) -> &[usize] {
        &self.0
    }
}

fn cpu(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a CPU number (a list looks like 0, 0-3 or 0,2,4-7)"))?;
    if n > MAX_CPU {
        return Err(format!("CPU {n} is above {MAX_CPU}"));
    }
    Ok(n)
}

/// `0-3,5`: consecutive CPUs as ranges, as `taskset` prints them.
pub(crate) struct Compact<'a>(pub(crate) &'a [usize]);

impl fmt::Display for Compact<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        let mut first = true;
        while let [start, ..] = rest {
            let run = rest
                .iter()
                .enumerate()
                .take_while(|&(i, &c)| c == start + i)
                .count();
            if !first {
                f.write_str(",")?;
            }
            first = false;
            match run {
                1 => write!(f, "{start}")?,
                n => write!(f, "{start}-{}", start + n - 1)?,
            }
            rest = &rest[run..];
        }
        Ok(())
    }
}

/// Refuses a list naming a CPU outside the calling thread's affinity (absent, offline, or left
/// out by `taskset`): pinning never widens what the process was started with.
pub(crate) fn check(flag: &str, list: &CpuList) -> Result<(), String> {
    let allowed = current().map_err(|e| format!("{flag}: {e}"))?;
    let missing: Vec<usize> = list
        .cpus()
        .iter()
        .copied()
        .filter(|c| !allowed.contains(c))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{flag} {}: CPU {} outside the CPUs this process started with ({})",
        Compact(list.cpus()),
        Compact(&missing),
        Compact(&allowed)
    ))
}

/// Pins the calling thread (and every thread it starts afterwards) to `list`.
pub(crate) fn pin_current_thread(list: &CpuList) -> Result<(), String> {
    imp::pin(list.cpus()).map_err(|e| format!("cannot pin to CPUs {}: {e}", Compact(list.cpus())))
}

/// The CPUs the calling thread may run on, as the OS reports them.
pub(crate) fn current() -> Result<Vec<usize>, String> {
    imp::current().map_err(|e| format!("cannot read this thread's CPUs: {e}"))
}

/// How long `bench` waits for every endpoint thread to report where it was pinned.
pub(crate) const PIN_REPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// What each endpoint thread reported after pinning itself: the CPUs it may then run on, or
/// why it could not pin.
#[derive(Debug, Clone)]
pub(crate) struct Observed(watch::Sender<Vec<Result<Vec<usize>, String>>>);

impl Default for Observed {
    fn default() -> Self {
        Observed(watch::Sender::new(Vec::new()))
    }
}

impl Observed {
    /// A hook for [`on_worker_start`](lambda_vpce::local::LocalEndpointBuilder::on_worker_start):
    /// pins the thread to `list` and reports the CPUs it then may run on (or the error).
    pub(crate) fn pinning_hook(&self, list: CpuList) -> impl Fn() + Send + Sync + 'static {
        let reports = self.0.clone();
        move || {
            let result = pin_current_thread(&list).and_then(|()| current());
            reports.send_modify(|r| r.push(result));
        }
    }

    /// Waits (at most [`PIN_REPORT_TIMEOUT`]) until `threads` endpoint threads have reported,
    /// then returns their CPUs: an error unless every thread is on exactly `list`.
    pub(crate) async fn verify(
        &self,
        list: &CpuList,
        threads: usize,
    ) -> Result<Vec<usize>, String> {
        let mut rx = self.0.subscribe();
        let waited =
            tokio::time::timeout(PIN_REPORT_TIMEOUT, rx.wait_for(|r| r.len() >= threads)).await;
        let reports = self.0.borrow().clone();
        if waited.is_err() {
            return Err(format!(
                "{} of the embedded endpoint's {threads} threads reported their CPUs within {:?}",
                reports.len(),
                PIN_REPORT_TIMEOUT
            ));
        }
        for report in &reports {
            match report {
                Ok(cpus) if cpus == list.cpus() => {}
                Ok(cpus) => {
                    return Err(format!(
                        "an embedded endpoint thread runs on CPUs {}, not the --server-cpus {}",
                        Compact(cpus),
                        Compact(list.cpus())
                    ))
                }
                Err(e) => return Err(format!("an embedded endpoint thread: {e}")),
            }
        }
        Ok(list.cpus().to_vec())
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

    pub(super) fn pin(cpus: &[usize]) -> std::io::Result<()> {
        let mut set = CpuSet::new();
        for &c in cpus {
            set.set(c);
        }
        sched_setaffinity(None, &set).map_err(Into::into)
    }

    pub(super) fn current() -> std::io::Result<Vec<usize>> {
        let set = sched_getaffinity(None)?;
        Ok((0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect())
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    fn unsupported() -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "CPU pinning is implemented on Linux only",
        )
    }

    pub(super) fn pin(_: &[usize]) -> std::io::Result<()> {
        Err(unsupported())
    }

    pub(super) fn current() -> std::io::Result<Vec<usize>> {
        Err(unsupported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_read_like_tasksets() {
        let cpus = |s: &str| CpuList::parse(s).map(|l| l.cpus().to_vec());
        assert_eq!(cpus("1"), Ok(vec![1]));
        assert_eq!(cpus("0-3"), Ok(vec![0, 1, 2, 3]));
        assert_eq!(cpus("4-5, 0,2,2"), Ok(vec![0, 2, 4, 5]));
        for bad in [
            "",
            "a",
            "1-",
            "-1",
            "3-1",
            "0,,1",
            "1024",
            "0-99999999999999999999",
        ] {
            assert!(CpuList::parse(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn cpu_lists_print_consecutive_cpus_as_ranges() {
        assert_eq!(Compact(&[0, 1, 2, 3, 5, 7, 8]).to_string(), "0-3,5,7-8");
        assert_eq!(Compact(&[1]).to_string(), "1");
        assert_eq!(Compact(&[]).to_string(), "");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pinned_thread_runs_only_on_its_cpus_and_a_cpu_it_may_not_use_is_refused() {
        let allowed = current().expect("reads the affinity");
        let last = *allowed.last().expect("at least one CPU");
        let list = CpuList::parse(&last.to_string()).expect("parses");
        // On a thread of its own: pinning the test's thread would outlive the test.
        let pinned = std::thread::spawn(move || {
            pin_current_thread(&list).expect("pins");
            current().expect("reads the affinity")
        })
        .join()
        .expect("the thread ends");
        assert_eq!(pinned, vec![last]);

        let absent = CpuList::parse(&MAX_CPU.to_string()).expect("parses");
        if !allowed.contains(&MAX_CPU) {
            let err = check("--client-cpus", &absent).expect_err("not available");
            assert!(
                err.contains("outside the CPUs this process started with"),
                "{err}"
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_endpoint_hook_reports_each_threads_cpus_and_verify_waits_for_every_thread() {
        let first = current().expect("reads the affinity")[0];
        let list = CpuList::parse(&first.to_string()).expect("parses");
        let observed = Observed::default();
        let hook = observed.pinning_hook(list.clone());
        std::thread::spawn(hook).join().expect("the thread ends");
        assert_eq!(observed.verify(&list, 1).await, Ok(vec![first]));
        let other = CpuList::parse(&(first + 1).to_string()).expect("parses");
        assert!(observed.verify(&other, 1).await.is_err());
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(start_paused = true)]
    async fn verify_gives_up_on_threads_that_never_report() {
        let list = CpuList::parse(&current().expect("reads")[0].to_string()).expect("parses");
        let err = Observed::default()
            .verify(&list, 2)
            .await
            .expect_err("no thread reported");
        assert!(
            err.contains("0 of the embedded endpoint's 2 threads"),
            "{err}"
        );
    }
}
