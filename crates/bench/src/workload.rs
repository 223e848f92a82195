//! Running the workload: slices of calls by a number of workers, closed or open loop, and
//! the rounds that interleave the clients.
//!
//! A run is `rounds` rounds; each round runs one slice of every client's workload, client after
//! client, the order rotated by one each round, so drift of the machine (frequency, other
//! load, the endpoint's state) spreads evenly over the clients. A client's numbers are the
//! sum of its slices.
//!
//! Closed loop (the default): `concurrency` workers each make a call, wait `think_time`, and
//! make the next. Latency is the call's own time.
//!
//! Open loop (`--rate R`): call *k* of a slice is scheduled at `start + k/R`; a worker takes
//! the next call, waits for its scheduled time if it is early, and latency is measured from
//! the *scheduled* time, not from when a worker got to it. When every worker is busy past a
//! schedule point, the wait shows in the percentiles (coordinated omission corrected, as wrk2
//! does). A worker that is early sleeps until the scheduled time and is timed from its
//! wake-up, so the timer's own lateness (up to 1 ms in tokio) is not charged to the client.
//! `concurrency` is then the most calls in flight.
//!
//! Memory does not grow with the workers: a slice records into a few shared tallies (one HDR
//! histogram of ~190 KB each, see [`shard_count`]), worker `w` into shard `w % shards`, each
//! behind its own lock held for one record; they are merged when the slice ends. The merged
//! histogram is the same as one per worker would give: recording is a count per value, and
//! counts add.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::outcome::{ErrorKind, Outcome, KINDS};
use crate::Error;

/// A client the harness can drive: makes one call and says how it ended.
///
/// The harness calls it from `concurrency` tasks at once on the caller's tokio runtime;
/// `worker` (`0..concurrency`) tells which task calls, for clients that keep state per worker
/// (one connection each, say). What is sent is the client's own business.
pub trait Client: Send + Sync + 'static {
    /// Makes one call as worker `worker`; its latency is measured around this future.
    fn call(&self, worker: usize) -> impl Future<Output = Outcome> + Send;
}

/// Told how many calls ended since it was last told (in batches of [`PROGRESS_BATCH`] per
/// worker): drives a progress bar. [`no_progress`] ignores it.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// A [`Progress`] that ignores what it is told.
pub fn no_progress() -> Progress {
    Arc::new(|_| {})
}

/// The longest latency the histograms hold, in microseconds (one hour); longer values are
/// recorded as this.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Significant figures of the latency histograms.
pub const HISTOGRAM_SIGFIGS: u8 = 3;
/// Calls a worker makes between two progress-bar updates.
pub const PROGRESS_BATCH: u64 = 64;

/// How much each slice does.
#[derive(Debug, Clone, Copy)]
pub enum Amount {
    /// This many calls.
    Calls(u64),
    /// Calls for this long (closed loop: started before the end; open loop: scheduled before).
    For(Duration),
}

/// The shape of the load, shared by every slice.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Workers (closed loop) or most calls in flight (open loop).
    pub concurrency: usize,
    /// Idle time between one worker's calls, uniform in `[min, max]` milliseconds.
    pub think_ms: Option<(u64, u64)>,
    /// Open loop: calls per second on a fixed schedule.
    pub rate: Option<f64>,
    /// Seed of the think-time generator.
    pub seed: u64,
}

/// An empty latency histogram (microseconds).
pub fn new_histogram() -> Histogram<u64> {
    // Constant, valid bounds: hdrhistogram only refuses low < 1, high < 2 * low or sigfigs > 5.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, MAX_LATENCY_US, HISTOGRAM_SIGFIGS)
        .expect("constant histogram bounds are valid")
}

/// What one slice (or a whole client's run) counted.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Latencies of successful calls, microseconds.
    pub hist: Histogram<u64>,
    /// Calls made.
    pub calls: u64,
    /// Calls that succeeded.
    pub ok: u64,
    /// Failed calls by [`ErrorKind::index`].
    pub errors: [u64; KINDS],
    /// Wall time of the slices.
    pub wall: Duration,
    /// When the first slice started and the last one ended (wall clock).
    pub window: Option<(SystemTime, SystemTime)>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            hist: new_histogram(),
            calls: 0,
            ok: 0,
            errors: [0; KINDS],
            wall: Duration::ZERO,
            window: None,
        }
    }
}

impl Tally {
    /// Counts one call that ended with `outcome` after `latency` (the latency only when ok).
    pub fn record(&mut self, outcome: Outcome, latency: Duration) {
        self.calls += 1;
        match outcome {
            Ok(()) => {
                self.ok += 1;
                let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                self.hist.saturating_record(us.clamp(1, MAX_LATENCY_US));
            }
            Err(kind) => self.errors[kind.index()] += 1,
        }
    }

    /// Adds another tally's counts.
    pub fn merge(&mut self, other: &Tally) {
        // Both histograms have the same bounds (or auto-resize), so `add` cannot fail on range.
        let _ = self.hist.add(&other.hist);
        self.calls += other.calls;
        self.ok += other.ok;
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.wall += other.wall;
        self.window = match (self.window, other.window) {
            (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
            (a, b) => a.or(b),
        };
    }

    /// Failed calls of every kind.
    pub fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Failed calls of one kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind.index()]
    }
}

/// How many shared tallies a slice of `workers` records into: the runtime's threads twice
/// over (two workers on different threads rarely wait for one lock), at most one per worker.
pub fn shard_count(workers: usize) -> usize {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    (2 * threads).clamp(1, workers.max(1))
}

/// Runs one slice: `amount` of `shape` through `client`. Fails if a worker panicked.
pub async fn run_slice<C: Client>(
    client: Arc<C>,
    shape: Shape,
    amount: Amount,
    progress: Progress,
    slice_seed: u64,
) -> Result<Tally, Error> {
    let workers = shape.concurrency.max(1);
    let shards: Arc<[Mutex<Tally>]> = (0..shard_count(workers))
        .map(|_| Mutex::new(Tally::default()))
        .collect();
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let started_at = SystemTime::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let client = client.clone();
        let shards = shards.clone();
        let next = next.clone();
        let progress = progress.clone();
        let seed = shape.seed ^ slice_seed.rotate_left(17) ^ (worker as u64).rotate_left(40);
        tasks.spawn(async move {
            let shard = &shards[worker % shards.len()];
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut since_progress = 0;
            let mut first = true;
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let scheduled = shape
                    .rate
                    .map(|rate| start + Duration::from_secs_f64(k as f64 / rate));
                let go = match amount {
                    Amount::Calls(n) => k < n,
                    Amount::For(d) => scheduled.unwrap_or_else(Instant::now) < start + d,
                };
                if !go {
                    break;
                }
                if let (false, Some((lo, hi))) = (first, shape.think_ms) {
                    tokio::time::sleep(Duration::from_millis(rng.u64(lo..=hi))).await;
                }
                first = false;
                let began = match scheduled {
                    // Early: wait for the schedule. The timer wakes up to a millisecond late
                    // (tokio's granularity); that delay is the bench's, so time from the wake-up.
                    Some(at) if Instant::now() < at => {
                        tokio::time::sleep_until(at).await;
                        Instant::now()
                    }
                    // Late (every worker was busy past the schedule point): time from the
                    // scheduled start, so the wait shows (coordinated omission corrected).
                    Some(at) => at,
                    None => Instant::now(),
                };
                let outcome = client.call(worker).await;
                let latency = began.elapsed();
                // A worker that panicked while holding the lock left a whole record or none.
                shard
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .record(outcome, latency);
                since_progress += 1;
                if since_progress == PROGRESS_BATCH {
                    progress(since_progress);
                    since_progress = 0;
                }
            }
            progress(since_progress);
        });
    }
    while let Some(done) = tasks.join_next().await {
        // A worker that panicked took its call's outcome with it: fail the run rather than
        // report fewer calls than were made.
        done.map_err(|e| format!("a bench worker failed: {e}"))?;
    }
    let mut total = Tally::default();
    for shard in shards.iter() {
        total.merge(&shard.lock().unwrap_or_else(PoisonError::into_inner));
    }
    total.wall = start.elapsed();
    total.window = Some((started_at, SystemTime::now()));
    Ok(total)
}

/// Splits `total` calls over `rounds` slices: slice `i` gets its share, the remainder going
/// to the first slices.
pub fn slice_calls(total: u64, rounds: u32, i: u32) -> u64 {
    let rounds = u64::from(rounds.max(1));
    total / rounds + u64::from(u64::from(i) < total % rounds)
}

/// The client order of round `round`: `n` clients rotated by `round`.
pub fn round_order(n: usize, round: u32) -> impl Iterator<Item = usize> {
    let shift = if n == 0 { 0 } else { round as usize % n };
    (0..n).map(move |i| (i + shift) % n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_add_up_to_the_requested_calls() {
        for (total, rounds) in [(10_000, 10), (7, 3), (2, 5), (0, 4)] {
            let sum: u64 = (0..rounds).map(|i| slice_calls(total, rounds, i)).sum();
            assert_eq!(sum, total, "{total} over {rounds}");
        }
    }

    #[test]
    fn each_client_leads_one_round_in_turn() {
        let firsts: Vec<usize> = (0..4).filter_map(|r| round_order(4, r).next()).collect();
        assert_eq!(firsts, vec![0, 1, 2, 3]);
        let mut second: Vec<usize> = round_order(4, 1).collect();
        second.sort_unstable();
        assert_eq!(second, vec![0, 1, 2, 3]);
    }

    #[test]
    fn failed_calls_are_counted_by_kind_and_kept_out_of_the_percentiles() {
        let mut t = Tally::default();
        t.record(Ok(()), Duration::from_micros(250));
        t.record(Err(ErrorKind::MaybeExecuted), Duration::from_secs(9));
        assert_eq!((t.calls, t.ok, t.error_total()), (2, 1, 1));
        assert_eq!(t.errors_of(ErrorKind::MaybeExecuted), 1);
        assert!(t.hist.max() < 1_000);
    }

    /// Takes `took` (on the paused clock); fails when worker `fails` calls.
    struct Sleeper {
        took: Duration,
        fails: Option<usize>,
    }

    impl Client for Sleeper {
        async fn call(&self, worker: usize) -> Outcome {
            tokio::time::sleep(self.took).await;
            if self.fails == Some(worker) {
                Err(ErrorKind::Service)
            } else {
                Ok(())
            }
        }
    }

    fn counting_progress() -> (Progress, Arc<AtomicU64>) {
        let seen = Arc::new(AtomicU64::new(0));
        let counter = seen.clone();
        let progress: Progress = Arc::new(move |n| {
            counter.fetch_add(n, Ordering::Relaxed);
        });
        (progress, seen)
    }

    #[tokio::test(start_paused = true)]
    async fn many_workers_record_every_call_once_into_a_few_shared_histograms() {
        let shape = Shape {
            concurrency: 500,
            think_ms: None,
            rate: None,
            seed: 1,
        };
        assert!(shard_count(500) < 500);
        let (progress, seen) = counting_progress();
        let client = Arc::new(Sleeper {
            took: Duration::from_millis(2),
            fails: Some(0),
        });
        let t = run_slice(client, shape, Amount::Calls(5_000), progress, 0)
            .await
            .expect("no worker panics");
        assert_eq!(t.calls, 5_000);
        assert_eq!(t.ok + t.error_total(), 5_000);
        assert_eq!(t.errors_of(ErrorKind::Service), t.error_total());
        assert!(t.error_total() > 0, "worker 0 called");
        assert_eq!(t.hist.len(), t.ok, "one latency per ok call");
        assert_eq!(
            seen.load(Ordering::Relaxed),
            5_000,
            "progress told of every call"
        );
        // Closed loop on a paused clock: every call took its 2 ms, no more.
        assert_eq!(t.hist.value_at_quantile(0.0), 2_000);
        assert!(t.hist.max() < 2_010, "{}", t.hist.max());
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_loop_that_falls_behind_times_each_call_from_its_scheduled_start() {
        // 1 call per ms scheduled, one worker, 2 ms per call: call k starts at 2k ms instead of
        // k ms, so its latency is k + 2 ms, not the 2 ms the call itself took.
        let shape = Shape {
            concurrency: 1,
            think_ms: None,
            rate: Some(1_000.0),
            seed: 1,
        };
        let client = Arc::new(Sleeper {
            took: Duration::from_millis(2),
            fails: None,
        });
        let t = run_slice(client, shape, Amount::Calls(100), no_progress(), 0)
            .await
            .expect("no worker panics");
        assert_eq!((t.calls, t.ok), (100, 100));
        assert_eq!(
            t.hist.value_at_quantile(0.0),
            2_000,
            "the first call was on time"
        );
        let last = t.hist.max();
        assert!(
            (100_900..102_000).contains(&last),
            "the last waited 99 ms: {last}"
        );
    }
}
