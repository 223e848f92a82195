//! The execution ledger: how many times each client call ran a function, the tenant of each
//! execution, and the durable executions by name.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::watch;

/// What a function's run produced: its output, or `(errorType, errorMessage)`.
pub(crate) type Outcome = Result<Bytes, (String, String)>;

/// One durable execution: the payload it started with, its ARN, and its outcome once known.
#[derive(Debug)]
pub(crate) struct DurableExecution {
    payload: Bytes,
    pub(crate) arn: String,
    outcome: watch::Sender<Option<Outcome>>,
}

impl DurableExecution {
    /// Records the outcome; every request attached to the execution gets it.
    pub(crate) fn finish(&self, outcome: Outcome) {
        self.outcome.send_replace(Some(outcome));
    }

    /// The outcome, waiting for it while the execution runs.
    pub(crate) async fn outcome(&self) -> Outcome {
        let mut rx = self.outcome.subscribe();
        let outcome = match rx.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            // The sender lives in `self`: it cannot be gone while we hold `self`.
            Err(_) => None,
        };
        outcome.unwrap_or_else(|| Err(lost()))
    }
}

fn lost() -> (String, String) {
    (
        "ServiceException".to_owned(),
        "the durable execution's outcome was lost".to_owned(),
    )
}

/// What a named durable invoke finds in the ledger.
#[derive(Debug)]
pub(crate) enum DurableStart {
    /// No execution of that name: this one was recorded, and the caller runs it.
    New(Arc<DurableExecution>),
    /// An execution of that name with the same payload: attach to it (no new execution).
    Attach(Arc<DurableExecution>),
    /// An execution of that name with another payload: 409.
    Conflict,
}

/// Most HTTP/2 stream records kept; older ones are dropped first.
pub(crate) const MAX_STREAM_RECORDS: usize = 100_000;

/// The call-id limit `lambda-vpce serve` and `bench`'s embedded endpoint run with
/// ([`LocalEndpointBuilder::call_ledger_limit`](super::LocalEndpointBuilder::call_ledger_limit)):
/// at some 150 bytes a call id, ~15 MB, where an unlimited ledger would grow by that much every
/// 100,000 calls for as long as the endpoint serves.
pub const LONG_RUN_CALL_LEDGER_LIMIT: usize = 100_000;

/// What happened to one HTTP/2 stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamOutcome {
    /// Reset with `REFUSED_STREAM` before the handler saw it: nothing ran.
    Refused,
    /// The handler answered it (whether a function ran is in [`Ledger::executions`]).
    Answered,
    /// The handler answered, then the response was cut by `RST_STREAM(INTERNAL_ERROR)`.
    ResetMidResponse,
    /// The connection ended (abrupt GOAWAY, die, shutdown) before the stream was answered.
    Unanswered,
}

/// One HTTP/2 stream as the server saw it. Streams above a GOAWAY's last-stream-id never reach
/// the server's code (the `h2` library ignores them), so they have no record: not processed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamRecord {
    /// The connection (numbered from 1 in accept order, every protocol counted).
    pub connection: u64,
    /// The HTTP/2 stream id.
    pub stream_id: u32,
    /// The stream's `amz-sdk-invocation-id`, if it carried one.
    pub call_id: Option<String>,
    /// What happened to it.
    pub outcome: StreamOutcome,
}

/// Counts function executions per client call id.
///
/// The key is the request's `amz-sdk-invocation-id` header (the AWS SDKs keep it across their
/// retries, and the crate's lean path sends one), or the server's request id when the header
/// is absent. An execution is counted when the function *starts*: after authentication,
/// routing and the payload checks, before any latency, stall or "die" misbehaviour. DryRun
/// calls, refused requests (403, 404, 413) and injected 429/5xx answers are not executions.
///
/// Over HTTP/2 it also keeps a [`StreamRecord`] per stream (the last 100,000).
///
/// A named invoke of a durable function that finds an execution of that name (same payload)
/// re-attaches to it: no execution is counted, and [`durable_executions`](Self::durable_executions)
/// stays at one per name.
///
/// By default every call id is kept for the endpoint's life (tests and `soak` reconcile each
/// call). With a limit, only the most recent that many call ids are (the oldest, by first
/// execution, are forgotten with their tenants first); [`total`](Self::total) counts on.
#[derive(Default)]
pub struct Ledger {
    by_call: Mutex<Calls>,
    tenants: Mutex<HashMap<String, Vec<String>>>,
    durable: Mutex<HashMap<(String, String), Arc<DurableExecution>>>,
    total: AtomicU64,
    streams: Mutex<VecDeque<StreamRecord>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("total", &self.total())
            .finish_non_exhaustive()
    }
}

/// Executions per call id, and (with a limit) the order the ids were first seen in.
#[derive(Debug, Default)]
struct Calls {
    counts: HashMap<String, u32>,
    /// `None`: no limit, and `order` stays empty.
    limit: Option<usize>,
    order: VecDeque<String>,
}

impl Calls {
    /// Counts one execution of `call_id` (kept only under a limit above 0); returns the call
    /// id it forgot to make room.
    fn count(&mut self, call_id: &str) -> Option<String> {
        if let Some(n) = self.counts.get_mut(call_id) {
            *n += 1;
            return None;
        }
        let Some(limit) = self.limit else {
            self.counts.insert(call_id.to_owned(), 1);
            return None;
        };
        if limit == 0 {
            return None;
        }
        let forgotten = if self.order.len() >= limit {
            self.order.pop_front().inspect(|old| {
                self.counts.remove(old);
            })
        } else {
            None
        };
        self.order.push_back(call_id.to_owned());
        self.counts.insert(call_id.to_owned(), 1);
        forgotten
    }
}

impl Ledger {
    /// A ledger that keeps the most recent `limit` call ids (`None`: all of them).
    pub(crate) fn with_call_limit(limit: Option<usize>) -> Self {
        let ledger = Ledger::default();
        lock(&ledger.by_call).limit = limit;
        ledger
    }

    /// Records one execution for `call_id`, and its tenant when the call named one.
    pub(crate) fn record(&self, call_id: &str, tenant: Option<&str>) {
        let (forgotten, kept) = {
            let mut calls = lock(&self.by_call);
            let forgotten = calls.count(call_id);
            let kept = tenant.is_some() && calls.counts.contains_key(call_id);
            (forgotten, kept)
        };
        let tenant = tenant.filter(|_| kept);
        if tenant.is_some() || forgotten.is_some() {
            let mut tenants = lock(&self.tenants);
            if let Some(old) = &forgotten {
                tenants.remove(old);
            }
            if let Some(tenant) = tenant {
                tenants
                    .entry(call_id.to_owned())
                    .or_default()
                    .push(tenant.to_owned());
            }
        }
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    /// Finds or starts the durable execution `name` of `function`: [`DurableStart::New`]
    /// records one execution for `call_id` (with its tenant) in the same step.
    pub(crate) fn durable_start(
        &self,
        function: &str,
        name: &str,
        payload: &Bytes,
        arn: impl FnOnce() -> String,
        call_id: &str,
        tenant: Option<&str>,
    ) -> DurableStart {
        let mut map = lock(&self.durable);
        let key = (function.to_owned(), name.to_owned());
        if let Some(existing) = map.get(&key) {
            return if existing.payload == *payload {
                DurableStart::Attach(existing.clone())
            } else {
                DurableStart::Conflict
            };
        }
        let execution = Arc::new(DurableExecution {
            payload: payload.clone(),
            arn: arn(),
            outcome: watch::Sender::new(None),
        });
        map.insert(key, execution.clone());
        drop(map);
        self.record(call_id, tenant);
        DurableStart::New(execution)
    }

    /// Durable executions of `function` started under `name`: 0 or 1.
    pub fn durable_executions(&self, function: &str, name: &str) -> u32 {
        u32::from(lock(&self.durable).contains_key(&(function.to_owned(), name.to_owned())))
    }

    /// The tenants `call_id`'s executions ran for, in order (empty when it named none).
    pub fn tenants(&self, call_id: &str) -> Vec<String> {
        lock(&self.tenants)
            .get(call_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Executions counted for `call_id` (0 if never seen).
    pub fn executions(&self, call_id: &str) -> u32 {
        lock(&self.by_call)
            .counts
            .get(call_id)
            .copied()
            .unwrap_or(0)
    }

    /// Executions counted since start (or the last [`Ledger::clear`]).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// A copy of every call id and its execution count.
    pub fn snapshot(&self) -> HashMap<String, u32> {
        lock(&self.by_call).counts.clone()
    }

    /// Call ids executed more than once, with their counts, sorted by id.
    pub fn duplicates(&self) -> Vec<(String, u32)> {
        let mut dups: Vec<(String, u32)> = lock(&self.by_call)
            .counts
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, n)| (id.clone(), *n))
            .collect();
        dups.sort();
        dups
    }

    /// Forgets every execution, stream record, tenant and durable execution name.
    pub fn clear(&self) {
        let mut calls = lock(&self.by_call);
        calls.counts.clear();
        calls.order.clear();
        lock(&self.tenants).clear();
        lock(&self.durable).clear();
        self.total.store(0, Ordering::Relaxed);
        self.lock_streams().clear();
    }

    /// Records what happened to an HTTP/2 stream.
    pub(crate) fn record_stream(&self, record: StreamRecord) {
        let mut streams = self.lock_streams();
        if streams.len() >= MAX_STREAM_RECORDS {
            streams.pop_front();
        }
        streams.push_back(record);
    }

    /// Every HTTP/2 stream record kept, in the order the streams ended.
    pub fn streams(&self) -> Vec<StreamRecord> {
        self.lock_streams().iter().cloned().collect()
    }

    /// The HTTP/2 stream records of one call id, in the order the streams ended.
    pub fn streams_of(&self, call_id: &str) -> Vec<StreamRecord> {
        self.lock_streams()
            .iter()
            .filter(|r| r.call_id.as_deref() == Some(call_id))
            .cloned()
            .collect()
    }

    /// How many HTTP/2 streams of `call_id` were refused with `REFUSED_STREAM`.
    pub fn refusals(&self, call_id: &str) -> u32 {
        let n = self
            .lock_streams()
            .iter()
            .filter(|r| {
                r.outcome == StreamOutcome::Refused && r.call_id.as_deref() == Some(call_id)
            })
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn lock_streams(&self) -> std::sync::MutexGuard<'_, VecDeque<StreamRecord>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave its map inconsistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_counts_each_call_id_and_lists_duplicates() {
        let ledger = Ledger::default();
        ledger.record("a", None);
        ledger.record("b", Some("blue"));
        ledger.record("a", None);
        assert_eq!(ledger.executions("a"), 2);
        assert_eq!(ledger.executions("b"), 1);
        assert_eq!(ledger.executions("c"), 0);
        assert_eq!(ledger.total(), 3);
        assert_eq!(ledger.duplicates(), vec![("a".to_owned(), 2)]);
        assert_eq!(ledger.tenants("b"), vec!["blue".to_owned()]);
        assert!(ledger.tenants("a").is_empty());
        ledger.clear();
        assert_eq!(ledger.total(), 0);
        assert!(ledger.snapshot().is_empty());
    }

    #[test]
    fn a_limited_ledger_forgets_the_oldest_call_ids_with_their_tenants_and_counts_on() {
        let ledger = Ledger::with_call_limit(Some(2));
        ledger.record("a", Some("blue"));
        ledger.record("b", None);
        ledger.record("a", None); // seen again: still the oldest, nothing forgotten
        assert_eq!((ledger.executions("a"), ledger.executions("b")), (2, 1));
        ledger.record("c", Some("green"));
        assert_eq!(ledger.executions("a"), 0, "the oldest id is forgotten");
        assert!(ledger.tenants("a").is_empty(), "with its tenants");
        assert_eq!((ledger.executions("b"), ledger.executions("c")), (1, 1));
        assert_eq!(ledger.tenants("c"), vec!["green".to_owned()]);
        assert_eq!(ledger.snapshot().len(), 2);
        assert_eq!(ledger.total(), 4);
        ledger.clear();
        ledger.record("d", None);
        ledger.record("e", None);
        assert_eq!((ledger.executions("d"), ledger.executions("e")), (1, 1));
    }

    #[test]
    fn a_ledger_limited_to_no_call_ids_keeps_none_and_still_counts_the_total() {
        let ledger = Ledger::with_call_limit(Some(0));
        ledger.record("a", Some("blue"));
        ledger.record("a", None);
        assert_eq!(ledger.executions("a"), 0);
        assert!(ledger.tenants("a").is_empty());
        assert_eq!(ledger.total(), 2);
    }

    #[test]
    fn an_unlimited_ledger_keeps_every_call_id() {
        let ledger = Ledger::with_call_limit(None);
        for i in 0..1_000 {
            ledger.record(&i.to_string(), None);
        }
        assert_eq!(ledger.snapshot().len(), 1_000);
        assert_eq!(ledger.executions("0"), 1);
    }

    #[tokio::test]
    async fn a_durable_name_starts_once_attaches_with_the_same_payload_and_conflicts_with_another()
    {
        let ledger = Ledger::default();
        let payload = Bytes::from_static(b"{}");
        let arn = || "arn".to_owned();
        let DurableStart::New(first) = ledger.durable_start("f", "n", &payload, arn, "c1", None)
        else {
            panic!("the first invoke starts the execution");
        };
        let DurableStart::Attach(again) = ledger.durable_start("f", "n", &payload, arn, "c2", None)
        else {
            panic!("the same payload attaches");
        };
        assert!(matches!(
            ledger.durable_start("f", "n", &Bytes::from_static(b"[]"), arn, "c3", None),
            DurableStart::Conflict
        ));
        assert!(matches!(
            ledger.durable_start("g", "n", &payload, arn, "c4", None),
            DurableStart::New(_)
        ));
        let waiting = tokio::spawn(async move { again.outcome().await });
        first.finish(Ok(Bytes::from_static(b"done")));
        assert_eq!(
            waiting.await.expect("joined"),
            Ok(Bytes::from_static(b"done"))
        );
        assert_eq!(first.outcome().await, Ok(Bytes::from_static(b"done")));
        assert_eq!(ledger.durable_executions("f", "n"), 1);
        assert_eq!(
            (
                ledger.executions("c1"),
                ledger.executions("c2"),
                ledger.total()
            ),
            (1, 0, 2)
        );
    }
}
