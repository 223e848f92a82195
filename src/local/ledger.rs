//! The execution ledger: how many times each client call ran a function.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counts function executions per client call id.
///
/// The key is the request's `amz-sdk-invocation-id` header (the AWS SDKs keep it across their
/// retries, and the crate's lean path sends one), or the server's request id when the header
/// is absent. An execution is counted when the function *starts*: after authentication,
/// routing and the payload checks, before any latency, stall or "die" misbehaviour. DryRun
/// calls, refused requests (403, 404, 413) and injected 429/5xx answers are not executions.
#[derive(Debug, Default)]
pub struct Ledger {
    by_call: Mutex<HashMap<String, u32>>,
    total: AtomicU64,
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

    /// Forgets every execution.
    pub fn clear(&self) {
        let mut map = self.lock();
        map.clear();
        self.total.store(0, Ordering::Relaxed);
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
