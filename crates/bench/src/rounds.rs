//! Several clients compared in one run: interleaved rounds.
//!
//! A machine drifts (another process wakes, the CPU's clock changes, caches warm): run client
//! A for a minute and then client B, and the drift lands on one of them. [`run_rounds`] splits
//! each client's workload into `rounds` slices and runs round after round, each round one
//! slice of every client, in an order rotated by the round ([`round_order`]), so that the drift
//! spreads evenly over the clients. The calls of a fixed amount are split with
//! [`slice_calls`]; a duration is divided by the rounds. Each client's slices are merged into
//! one [`Tally`], and the process's CPU time around its slices is summed, so that CPU per call
//! is the client's own (nothing else runs while a slice does).
//!
//! [`SliceHooks`] lets the caller measure around every slice (what `lambda-vpce bench` does to
//! attribute the server's new connections to the client whose slice ran) and show progress.

use std::sync::Arc;
use std::time::Duration;

use crate::cpu;
use crate::workload::{
    no_progress, round_order, run_slice, slice_calls, Amount, Client, Progress, Shape, Tally,
};
use crate::Error;

/// One slice of a run: client `client` (its index in the list given to [`run_rounds`]) in
/// round `round`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// The round, from 0.
    pub round: u32,
    /// The client's index.
    pub client: usize,
}

/// What one client did over a run.
#[derive(Debug, Default)]
pub struct ClientRun {
    /// Its slices, merged.
    pub tally: Tally,
    /// The process's CPU time during its slices (`None` where it cannot be read).
    pub cpu: Option<Duration>,
}

/// What the caller does around each slice; every method has a default that does nothing.
pub trait SliceHooks {
    /// Progress reporting for this slice's calls ([`run_slice`]'s `progress`).
    fn progress(&mut self, _slice: Slice) -> Progress {
        no_progress()
    }
    /// Just before the slice starts (before the CPU time is read).
    fn before(&mut self, _slice: Slice) {}
    /// Just after it ended, with its own tally (already merged into the client's).
    fn after(&mut self, _slice: Slice, _tally: &Tally) {}
}

/// No hooks.
impl SliceHooks for () {}

/// Runs `rounds` rounds of every client's workload (module docs) and returns, per client in
/// the order given, its merged tally and CPU time. `amount` is each client's whole workload;
/// `shape` is shared by every slice. The first error of a slice ends the run.
pub async fn run_rounds<C: Client>(
    clients: &[Arc<C>],
    shape: Shape,
    amount: Amount,
    rounds: u32,
    hooks: &mut impl SliceHooks,
) -> Result<Vec<ClientRun>, Error> {
    let mut runs: Vec<ClientRun> = clients
        .iter()
        .map(|_| ClientRun {
            tally: Tally::default(),
            cpu: Some(Duration::ZERO),
        })
        .collect();
    for round in 0..rounds {
        for i in round_order(clients.len(), round) {
            let slice = Slice { round, client: i };
            let slice_amount = match amount {
                Amount::Calls(n) => Amount::Calls(slice_calls(n, rounds, round)),
                Amount::For(d) => Amount::For(d / rounds),
            };
            hooks.before(slice);
            let cpu_before = cpu::process_cpu();
            let tally = run_slice(
                clients[i].clone(),
                shape,
                slice_amount,
                hooks.progress(slice),
                u64::from(round),
            )
            .await?;
            let run = &mut runs[i];
            run.cpu = match (run.cpu, cpu_before, cpu::process_cpu()) {
                (Some(sum), Some(b), Some(after)) => Some(sum + after.saturating_sub(b)),
                _ => None,
            };
            run.tally.merge(&tally);
            hooks.after(slice, &tally);
        }
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::Outcome;

    /// A client that counts its calls and answers at once.
    #[derive(Default)]
    struct Counting(AtomicU64);

    impl Client for Counting {
        async fn call(&self, _worker: usize) -> Outcome {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }

    /// Records the hooks' calls.
    #[derive(Default)]
    struct Log(Vec<(&'static str, Slice, u64)>);

    impl SliceHooks for Log {
        fn before(&mut self, slice: Slice) {
            self.0.push(("before", slice, 0));
        }
        fn after(&mut self, slice: Slice, tally: &Tally) {
            self.0.push(("after", slice, tally.calls));
        }
    }

    fn shape() -> Shape {
        Shape {
            concurrency: 2,
            think_ms: None,
            rate: None,
            seed: 1,
        }
    }

    #[tokio::test]
    async fn each_round_runs_one_slice_of_every_client_in_a_rotated_order() {
        let clients: Vec<Arc<Counting>> = (0..3).map(|_| Arc::default()).collect();
        let mut log = Log::default();
        run_rounds(&clients, shape(), Amount::Calls(30), 3, &mut log)
            .await
            .expect("the run ends");
        let order: Vec<(u32, usize)> = log
            .0
            .iter()
            .filter(|(what, ..)| *what == "before")
            .map(|(_, s, _)| (s.round, s.client))
            .collect();
        assert_eq!(
            order,
            [
                (0, 0),
                (0, 1),
                (0, 2),
                (1, 1),
                (1, 2),
                (1, 0),
                (2, 2),
                (2, 0),
                (2, 1)
            ]
        );
        // Each `after` follows its own `before` and sees that slice's calls alone.
        for pair in log.0.chunks(2) {
            assert_eq!(pair[0].0, "before");
            assert_eq!((pair[1].0, pair[1].1, pair[1].2), ("after", pair[0].1, 10));
        }
    }

    #[tokio::test]
    async fn every_client_makes_exactly_its_calls_and_its_slices_are_merged() {
        let clients: Vec<Arc<Counting>> = (0..2).map(|_| Arc::default()).collect();
        let runs = run_rounds(&clients, shape(), Amount::Calls(1_001), 4, &mut ())
            .await
            .expect("the run ends");
        for (client, run) in clients.iter().zip(&runs) {
            assert_eq!(client.0.load(Ordering::Relaxed), 1_001);
            assert_eq!((run.tally.calls, run.tally.ok), (1_001, 1_001));
            assert_eq!(run.tally.hist.len(), 1_001);
        }
    }
}
