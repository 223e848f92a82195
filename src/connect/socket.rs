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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keepalive_timing_and_nodelay_are_set_on_the_socket() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let ka = Keepalive {
            idle: Duration::from_secs(30),
            interval: Duration::from_secs(10),
            count: 3,
        };
        SocketOptions {
            nodelay: true,
            keepalive: Some(ka),
        }
        .apply(&stream)
        .unwrap();
        let sock = SockRef::from(&stream);
        assert!(sock.nodelay().unwrap());
        assert!(sock.keepalive().unwrap());
        #[cfg(target_os = "linux")]
        {
            assert_eq!(sock.keepalive_time().unwrap(), Duration::from_secs(30));
            assert_eq!(sock.keepalive_interval().unwrap(), Duration::from_secs(10));
            assert_eq!(sock.keepalive_retries().unwrap(), 3);
            assert_eq!(
                sock.tcp_user_timeout().unwrap(),
                Some(Duration::from_secs(60))
            );
        }
        assert_eq!(ka.detection_bound(), Duration::from_secs(60));
    }
}
