//! The execution ledger: how many times each client call ran a function.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Most HTTP/2 stream records kept; older ones are dropped first.
pub const MAX_STREAM_RECORDS: usize = 100_000;

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
/// Over HTTP/2 it also keeps a [`StreamRecord`] per stream (the last [`MAX_STREAM_RECORDS`]).
#[derive(Default)]
pub struct Ledger {
    by_call: Mutex<HashMap<String, u32>>,
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

impl Ledger {
    /// Records one execution for `call_id`.
    pub(crate) fn record(&self, call_id: &str) {
        let mut map = self.lock();
        *map.entry(call_id.to_owned()).or_insert(0) += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    /// Executions counted for `call_id` (0 if never seen).
    pub fn executions(&self, call_id: &str) -> u32 {
        self.lock().get(call_id).copied().unwrap_or(0)
    }

    /// Executions counted since start (or the last [`Ledger::clear`]).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// A copy of every call id and its execution count.
    pub fn snapshot(&self) -> HashMap<String, u32> {
        self.lock().clone()
    }

    /// Call ids executed more than once, with their counts, sorted by id.
    pub fn duplicates(&self) -> Vec<(String, u32)> {
        let mut dups: Vec<(String, u32)> = self
            .lock()
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, n)| (id.clone(), *n))
            .collect();
        dups.sort();
        dups
    }

    /// Forgets every execution and stream record.
    pub fn clear(&self) {
        let mut map = self.lock();
        map.clear();
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.by_call.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_counts_each_call_id_and_lists_duplicates() {
        let ledger = Ledger::default();
        ledger.record("a");
        ledger.record("b");
        ledger.record("a");
        assert_eq!(ledger.executions("a"), 2);
        assert_eq!(ledger.executions("b"), 1);
        assert_eq!(ledger.executions("c"), 0);
        assert_eq!(ledger.total(), 3);
        assert_eq!(ledger.duplicates(), vec![("a".to_owned(), 2)]);
        ledger.clear();
        assert_eq!(ledger.total(), 0);
        assert!(ledger.snapshot().is_empty());
    }
}
