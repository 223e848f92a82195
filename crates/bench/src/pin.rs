//! `--client-cpus` and `--server-cpus`: the bench's threads pinned to CPUs (Linux).
//!
//! At one call at a time on a small VM, a call's latency follows where its threads run more
//! than what they do: a client thread and an endpoint thread that meet on one CPU hand a call
//! over in a few microseconds, two that must wake an idle vCPU take tens, and which of the two
//! a client gets can stay the same for a whole run. Pinning the clients to some CPUs and the
//! embedded endpoint to others makes every client of the run cross between CPUs the same way,
//! as a client and a server on different machines always do.
//!
//! On Linux a thread starts with the CPUs of the thread that creates it. The clients' CPUs are
//! set on the main thread before the runtime starts ([`pin_current_thread`]), so every thread
//! the bench starts inherits them. A server started in-process gets its own CPUs the same way:
//! [`first_poll_pinned`] pins the calling thread for the first poll of the server's start (a
//! tokio runtime built then spawns its workers from this thread), restores the thread's CPUs,
//! and [`verify_new_threads`] then reads, in `/proc`, the CPUs of every thread that appeared
//! meanwhile. No hook in the server is needed. The report carries the CPUs the OS says each
//! side may run on, not the flags.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// The highest CPU number a list may name (the kernel's `CPU_SETSIZE` − 1).
pub const MAX_CPU: usize = 1023;

/// A CPU list as `taskset -c` takes it (`0`, `0-3`, `0,2,4-7`): sorted, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuList(Vec<usize>);

impl CpuList {
    /// Parses `0`, `0-3`, `0,2,4-7`; clap's value parser for the two flags.
    pub fn parse(s: &str) -> Result<CpuList, String> {
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
    pub fn cpus(&self) -> &[usize] {
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
#[derive(Debug, Clone, Copy)]
pub struct Compact<'a>(pub &'a [usize]);

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
pub fn check(flag: &str, list: &CpuList) -> Result<(), String> {
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
pub fn pin_current_thread(list: &CpuList) -> Result<(), String> {
    imp::pin(list.cpus()).map_err(|e| format!("cannot pin to CPUs {}: {e}", Compact(list.cpus())))
}

/// The CPUs the calling thread may run on, as the OS reports them.
pub fn current() -> Result<Vec<usize>, String> {
    imp::current().map_err(|e| format!("cannot read this thread's CPUs: {e}"))
}

/// Awaits `start`, its first poll made with the calling thread pinned to `list`; the thread's
/// own CPUs are restored before that poll returns. Every thread created during the first poll
/// (a tokio runtime built there: its workers and first blocking threads) runs on `list`, and so
/// does every thread those threads create later. The pinning is undone on the same thread it
/// was done on, whichever thread later polls run on.
pub async fn first_poll_pinned<F: Future>(list: &CpuList, start: F) -> Result<F::Output, String> {
    let mut start = pin!(start);
    let mut first = true;
    std::future::poll_fn(|cx| {
        if !first {
            return start.as_mut().poll(cx).map(Ok);
        }
        first = false;
        let own = match current() {
            Ok(own) => own,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if let Err(e) = pin_current_thread(list) {
            return Poll::Ready(Err(e));
        }
        let polled = start.as_mut().poll(cx);
        if let Err(e) = imp::pin(&own) {
            return Poll::Ready(Err(format!(
                "cannot restore this thread's CPUs {}: {e}",
                Compact(&own)
            )));
        }
        polled.map(Ok)
    })
    .await
}

/// The ids of this process's threads (Linux: `/proc/self/task`).
pub fn threads() -> Result<BTreeSet<u32>, String> {
    imp::threads().map_err(|e| format!("cannot list this process's threads: {e}"))
}

/// The CPUs thread `tid` of this process may run on, as the OS reports them (Linux:
/// `Cpus_allowed_list` in `/proc/self/task/TID/status`); `None` when the thread has ended.
pub fn thread_cpus(tid: u32) -> Result<Option<Vec<usize>>, String> {
    imp::thread_cpus(tid).map_err(|e| format!("cannot read the CPUs of thread {tid}: {e}"))
}

/// Checks that every thread of this process not in `before` (see [`threads`]) whose name
/// starts with `named` (`""`: any; the kernel keeps a name's first 15 bytes) may run on
/// exactly `list`, and that there is at least one; returns `list`'s CPUs.
pub fn verify_new_threads(
    before: &BTreeSet<u32>,
    named: &str,
    list: &CpuList,
) -> Result<Vec<usize>, String> {
    let mut seen = 0;
    for tid in threads()?.difference(before) {
        match imp::thread_name(*tid) {
            Ok(Some(name)) if name.starts_with(named) => {}
            Ok(_) => continue,
            Err(e) => return Err(format!("cannot read the name of thread {tid}: {e}")),
        }
        let Some(cpus) = thread_cpus(*tid)? else {
            continue;
        };
        if cpus != list.cpus() {
            return Err(format!(
                "thread {tid} runs on CPUs {}, not {}",
                Compact(&cpus),
                Compact(list.cpus())
            ));
        }
        seen += 1;
    }
    if seen == 0 {
        return Err(format!("no new thread named {named}* to check"));
    }
    Ok(list.cpus().to_vec())
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

    pub(super) fn threads() -> std::io::Result<std::collections::BTreeSet<u32>> {
        let mut out = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir("/proc/self/task")? {
            if let Some(tid) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) {
                out.insert(tid);
            }
        }
        Ok(out)
    }

    pub(super) fn thread_name(tid: u32) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")) {
            Ok(s) => Ok(Some(s.trim_end().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) fn thread_cpus(tid: u32) -> std::io::Result<Option<Vec<usize>>> {
        let status = match std::fs::read_to_string(format!("/proc/self/task/{tid}/status")) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let list = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .ok_or_else(|| std::io::Error::other("no Cpus_allowed_list"))?;
        super::CpuList::parse(list)
            .map(|l| Some(l.cpus().to_vec()))
            .map_err(std::io::Error::other)
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

    pub(super) fn threads() -> std::io::Result<std::collections::BTreeSet<u32>> {
        Err(unsupported())
    }

    pub(super) fn thread_name(_: u32) -> std::io::Result<Option<String>> {
        Err(unsupported())
    }

    pub(super) fn thread_cpus(_: u32) -> std::io::Result<Option<Vec<usize>>> {
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

    /// A runtime built in the pinned first poll, on a thread of its own (the pinning must
    /// not touch the test harness's threads): its workers, and the threads they start, run on
    /// the list; the calling thread gets its own CPUs back; the verification sees it.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_runtime_started_in_the_pinned_first_poll_runs_its_workers_on_the_list() {
        std::thread::spawn(|| {
            let own = current().expect("reads the affinity");
            let list = CpuList::parse(&own[0].to_string()).expect("parses");
            let caller = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let before = threads().expect("lists threads");
            let server = caller
                .block_on(first_poll_pinned(&list, async {
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .thread_name("pin-probe")
                        .enable_all()
                        .build()
                        .expect("server runtime")
                }))
                .expect("pins and restores");
            assert_eq!(
                current().expect("reads"),
                own,
                "the caller's CPUs are restored"
            );
            let late = server
                .block_on(server.spawn(async { std::thread::spawn(current).join() }))
                .expect("task")
                .expect("thread")
                .expect("reads");
            assert_eq!(late, vec![own[0]], "a worker's own threads inherit");
            assert_eq!(
                verify_new_threads(&before, "pin-probe", &list),
                Ok(vec![own[0]])
            );
            if own.len() > 1 {
                let other = CpuList::parse(&own[1].to_string()).expect("parses");
                let err =
                    verify_new_threads(&before, "pin-probe", &other).expect_err("not on that CPU");
                assert!(err.contains("runs on CPUs"), "{err}");
            }
            drop(server);
        })
        .join()
        .expect("the test thread ends");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn no_new_thread_is_refused_rather_than_verified() {
        let list = CpuList::parse(&current().expect("reads")[0].to_string()).expect("parses");
        let all = threads().expect("lists threads");
        let err = verify_new_threads(&all, "no-such-thread", &list).expect_err("nothing new");
        assert!(err.contains("no new thread"), "{err}");
    }
}
