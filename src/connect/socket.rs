//! Socket options set on every connection.

use std::io;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};

/// TCP options applied right after connect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SocketOptions {
    pub(crate) nodelay: bool,
    /// `None` turns TCP keepalive off.
    pub(crate) keepalive: Option<Keepalive>,
}

/// TCP keepalive timing: first probe after `idle` without traffic, then every `interval`,
/// giving up after `count` unanswered probes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keepalive {
    pub(crate) idle: Duration,
    pub(crate) interval: Duration,
    pub(crate) count: u32,
}

impl Keepalive {
    /// How long a silent dead peer goes unnoticed at most: `idle + interval × count`.
    pub(crate) fn detection_bound(&self) -> Duration {
        self.idle + self.interval * self.count
    }
}

impl SocketOptions {
    pub(crate) fn apply(&self, stream: &tokio::net::TcpStream) -> io::Result<()> {
        let sock = SockRef::from(stream);
        sock.set_nodelay(self.nodelay)?;
        if let Some(ka) = self.keepalive {
            let params = TcpKeepalive::new()
                .with_time(ka.idle)
                .with_interval(ka.interval);
            #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
            let params = params.with_retries(ka.count);
            sock.set_tcp_keepalive(&params)?;
            // Data written but never acknowledged (a black-holed flow mid-request) is bounded
            // by the same budget as a silent idle peer.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            sock.set_tcp_user_timeout(Some(ka.detection_bound()))?;
        }
        Ok(())
    }
}
