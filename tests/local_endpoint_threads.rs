//! The embedded endpoint's own runtime starts its threads from the thread that first polls
//! `start`, so that on Linux they inherit its CPUs: how `bench --server-cpus` pins the
//! endpoint without a hook in it. Its own test binary: it reads every thread of the process
//! in `/proc`, and another test starting threads meanwhile would be counted.
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;

use lambda_vpce::local::LocalEndpoint;
use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

/// The CPUs the calling thread may run on.
fn own_cpus() -> Vec<usize> {
    let set = sched_getaffinity(None).expect("reads the affinity");
    (0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect()
}

fn set_own_cpus(cpus: &[usize]) {
    let mut set = CpuSet::new();
    for &c in cpus {
        set.set(c);
    }
    sched_setaffinity(None, &set).expect("sets the affinity");
}

/// This process's threads: id → (name, `Cpus_allowed_list`).
fn threads() -> Vec<(u32, String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").expect("lists threads") {
        let entry = entry.expect("entry");
        let Some(tid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let (Ok(comm), Ok(status)) = (
            std::fs::read_to_string(entry.path().join("comm")),
            std::fs::read_to_string(entry.path().join("status")),
        ) else {
            continue; // ended meanwhile
        };
        let cpus = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .expect("a Cpus_allowed_list line")
            .trim()
            .to_owned();
        out.push((tid, comm.trim_end().to_owned(), cpus));
    }
    out
}

#[test]
fn the_endpoints_own_threads_inherit_the_cpus_of_the_thread_that_first_polls_start() {
    let own = own_cpus();
    let cpu = *own.last().expect("at least one CPU");
    let before: BTreeSet<u32> = threads().into_iter().map(|(tid, ..)| tid).collect();
    let caller = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    set_own_cpus(&[cpu]);
    let endpoint = caller.block_on(LocalEndpoint::builder().worker_threads(2).start());
    set_own_cpus(&own);
    let endpoint = endpoint.expect("starts");

    let new: Vec<_> = threads()
        .into_iter()
        .filter(|(tid, ..)| !before.contains(tid))
        .collect();
    let workers: Vec<_> = new
        .iter()
        .filter(|(_, name, _)| name.starts_with("lambda-vpce-end"))
        .collect();
    assert!(workers.len() >= 2, "the endpoint's two workers: {new:?}");
    for (tid, name, cpus) in &new {
        assert_eq!(
            cpus,
            &cpu.to_string(),
            "thread {tid} ({name}) runs on the pinned CPU"
        );
    }
    assert_eq!(own_cpus(), own, "the calling thread has its CPUs back");

    // And it serves: the pinned runtime is the endpoint's.
    let url = endpoint.url();
    assert!(url.starts_with("https://"), "{url}");
    caller.block_on(endpoint.shutdown());
}
