//! The server's idle limit: announced in `Keep-Alive`, or learned from idle closes.

use std::time::Duration;

use http::HeaderName;

use super::config::{LEARNED_IDLE_MARGIN_DIVISOR, LEARNED_IDLE_MARGIN_MIN};
use super::stats::CloseReason;

/// `Keep-Alive`, not among `http`'s constants; a constant so that no lookup parses it. Read on
/// HTTP/1.1 responses, and dropped from HTTP/2 requests (a hop-by-hop header).
pub(super) const KEEP_ALIVE: HeaderName = HeaderName::from_static(crate::wire::header::KEEP_ALIVE);

/// Parameters of a `Keep-Alive` response header (RFC 2068 §19.7.1.1, as nginx and Apache send
/// it): `timeout=N` seconds and `max=N` requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KeepAliveHeader {
    /// `timeout=N`: the server closes a connection idle for N seconds.
    pub(crate) timeout: Option<Duration>,
    /// `max=N`: the server closes the connection after N more requests.
    pub(crate) max: Option<u32>,
}

impl KeepAliveHeader {
    /// Parses a header value leniently: unknown or malformed parameters are ignored, never an
    /// error (the header is advisory). Case-insensitive; whitespace and quotes are tolerated.
    pub(crate) fn parse(value: &[u8]) -> KeepAliveHeader {
        let mut out = KeepAliveHeader::default();
        let Ok(text) = std::str::from_utf8(value) else {
            return out;
        };
        for part in text.split(',') {
            let Some((name, val)) = part.split_once('=') else {
                continue;
            };
            let val = val.trim().trim_matches('"');
            let Ok(n) = val.parse::<u64>() else {
                continue;
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "timeout" => out.timeout = Some(Duration::from_secs(n.min(86_400))),
                "max" => out.max = Some(n.min(u64::from(u32::MAX)) as u32),
                _ => {}
            }
        }
        out
    }
}

/// What one origin knows about its server's idle limit.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IdleLimits {
    pub(crate) configured: Option<Duration>,
    pub(crate) announced: Option<Duration>,
    pub(crate) learned: Option<Duration>,
}

/// The margin kept below a server limit: max(100 ms, limit / 10).
pub(crate) fn below(limit: Duration) -> Duration {
    let margin = (limit / LEARNED_IDLE_MARGIN_DIVISOR).max(LEARNED_IDLE_MARGIN_MIN);
    limit.saturating_sub(margin)
}

impl IdleLimits {
    /// Records a server idle limit seen in `Keep-Alive: timeout`.
    pub(crate) fn announce(&mut self, timeout: Duration) {
        self.announced = Some(self.announced.map_or(timeout, |t| t.min(timeout)));
    }

    /// Records that the server closed (or broke) a connection that had been idle `idle`.
    pub(crate) fn observe_close(&mut self, idle: Duration) {
        self.learned = Some(self.learned.map_or(idle, |t| t.min(idle)));
    }

    /// The limit checkout applies, and the close reason an expiry under it gets.
    pub(crate) fn effective(&self) -> Option<(Duration, CloseReason)> {
        let mut best: Option<(Duration, CloseReason)> =
            self.configured.map(|d| (d, CloseReason::IdleTimeout));
        for (limit, reason) in [
            (self.announced.map(below), CloseReason::AnnouncedIdleLimit),
            (self.learned.map(below), CloseReason::LearnedIdleLimit),
        ] {
            if let Some(limit) = limit {
                if best.is_none_or(|(b, _)| limit < b) {
                    best = Some((limit, reason));
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_header_gives_timeout_and_max() {
        let h = KeepAliveHeader::parse(b"timeout=5, max=100");
        assert_eq!(h.timeout, Some(Duration::from_secs(5)));
        assert_eq!(h.max, Some(100));
    }

    #[test]
    fn keep_alive_header_ignores_garbage_without_failing() {
        assert_eq!(
            KeepAliveHeader::parse(b"timeout=abc, =, max"),
            KeepAliveHeader::default()
        );
        assert_eq!(
            KeepAliveHeader::parse(&[0xff, 0xfe]),
            KeepAliveHeader::default()
        );
        let h = KeepAliveHeader::parse(b" Timeout = \"7\" ");
        assert_eq!(h.timeout, Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_learned_limit_below_the_configured_one_wins_with_a_margin() {
        let mut l = IdleLimits {
            configured: Some(Duration::from_secs(20)),
            ..Default::default()
        };
        assert_eq!(
            l.effective(),
            Some((Duration::from_secs(20), CloseReason::IdleTimeout))
        );
        l.observe_close(Duration::from_millis(2003));
        l.observe_close(Duration::from_millis(2500));
        let (limit, reason) = l.effective().expect("a limit");
        assert_eq!(reason, CloseReason::LearnedIdleLimit);
        assert!(
            limit < Duration::from_millis(2000) && limit >= Duration::from_millis(1700),
            "{limit:?}"
        );
    }

    #[test]
    fn an_announced_limit_applies_with_its_margin() {
        let mut l = IdleLimits::default();
        l.announce(Duration::from_secs(5));
        assert_eq!(
            l.effective(),
            Some((Duration::from_millis(4500), CloseReason::AnnouncedIdleLimit))
        );
    }

    #[test]
    fn a_tiny_limit_never_underflows() {
        assert_eq!(below(Duration::from_millis(50)), Duration::ZERO);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn keep_alive_parser_never_panics_and_caps_values(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let h = KeepAliveHeader::parse(&bytes);
        if let Some(t) = h.timeout {
            proptest::prop_assert!(t <= Duration::from_secs(86_400));
        }
    }

    #[test]
    fn keep_alive_parser_reads_well_formed_values(timeout in 0u64..100_000, max in 0u64..10_000_000_000) {
        let text = format!("timeout={timeout}, max={max}");
        let h = KeepAliveHeader::parse(text.as_bytes());
        proptest::prop_assert_eq!(h.timeout, Some(Duration::from_secs(timeout.min(86_400))));
        proptest::prop_assert_eq!(h.max, Some(max.min(u64::from(u32::MAX)) as u32));
    }
    }
}
