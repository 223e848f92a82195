//! The pool's one background task: reap expired idle connections, refill `min_idle`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use tokio::time::Instant;

use super::config::MAINTENANCE_INTERVAL;
use super::{Pool, PoolInner};

/// Clears the pool's "maintenance runs" flag when the task ends, or is dropped because its
/// runtime shut down: the pool's next call then starts it again.
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

pub(super) fn spawn(
    pool: Weak<PoolInner>,
    mut stop: tokio::sync::watch::Receiver<()>,
    running: Arc<AtomicBool>,
) {
    let running = Running(running);
    tokio::spawn(async move {
        let _running = running;
        let mut tick = tokio::time::interval(MAINTENANCE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                // The sender lives in the pool: this resolves when the pool is dropped.
                _ = stop.changed() => return,
            }
            let Some(inner) = pool.upgrade() else { return };
            let pool = Pool { inner };
            let now = Instant::now();
            for host in pool.origins_snapshot() {
                host.maintain(now);
            }
            // The `metrics` gauges: set from a snapshot.
            #[cfg(feature = "metrics")]
            let _ = pool.stats();
        }
    });
}
