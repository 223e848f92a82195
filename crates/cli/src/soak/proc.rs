//! What the process holds: open file descriptors and resident memory, read from `/proc/self`.

/// Open file descriptors (entries of `/proc/self/fd`), or `None` where `/proc` is absent.
pub(crate) fn open_fds() -> Option<u64> {
    let dir = std::fs::read_dir("/proc/self/fd").ok()?;
    // The directory handle being read is itself one entry.
    Some((dir.count() as u64).saturating_sub(1))
}

/// Resident set size in KiB (`VmRSS` of `/proc/self/status`), or `None` where absent.
pub(crate) fn rss_kb() -> Option<u64> {
    status_kb("VmRSS:")
}

/// The peak resident set size in KiB (`VmHWM`), or `None` where absent.
pub(crate) fn rss_peak_kb() -> Option<u64> {
    status_kb("VmHWM:")
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_kb(&status, field)
}

fn parse_kb(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_kib_from_the_status_text() {
        let status = "Name:\tx\nVmPeak:\t 100 kB\nVmRSS:\t    2048 kB\nThreads:\t3\n";
        assert_eq!(parse_kb(status, "VmRSS:"), Some(2048));
        assert_eq!(parse_kb(status, "VmPeak:"), Some(100));
        assert_eq!(parse_kb("Name:\tx\n", "VmRSS:"), None);
        assert_eq!(parse_kb("VmRSS:\tlots kB\n", "VmRSS:"), None);
    }

    #[test]
    fn the_process_has_fds_and_memory_on_linux() {
        if std::path::Path::new("/proc/self/fd").exists() {
            assert!(open_fds().is_some_and(|n| n >= 3));
            assert!(rss_kb().is_some_and(|kb| kb > 0));
        }
    }
}
