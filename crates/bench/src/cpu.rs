//! CPU time used by this process, all threads, read without `unsafe`.
//!
//! Linux: the sum of the first field of `/proc/self/task/*/schedstat` (nanoseconds each thread
//! spent on a CPU); where that is missing, `utime + stime` of `/proc/self/stat` (clock ticks,
//! taken as 100 Hz). Threads that exited between two readings drop out of the later one, so a
//! delta can come out low when the tokio blocking pool retires a thread; the bench's worker
//! threads live for the whole run. Elsewhere: `None`, and the report omits CPU.

use std::time::Duration;

/// Clock ticks per second assumed for `/proc/self/stat` (the kernel's `USER_HZ`).
const USER_HZ: u64 = 100;

/// CPU time used by the process so far, or `None` where it cannot be read.
pub fn process_cpu() -> Option<Duration> {
    schedstat().or_else(stat)
}

fn schedstat() -> Option<Duration> {
    let mut total: u64 = 0;
    let mut any = false;
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(entry) = entry else { continue };
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        if let Some(ns) = text
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
        {
            total = total.saturating_add(ns);
            any = true;
        }
    }
    any.then(|| Duration::from_nanos(total))
}

fn stat() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = text.get(text.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ") state".
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_cpu_time_never_goes_backwards_while_working() {
        let Some(before) = process_cpu() else { return };
        let mut x: u64 = 0;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = process_cpu().unwrap_or_default();
        assert!(after >= before, "{after:?} < {before:?}");
    }
}
