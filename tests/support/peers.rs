//! Helpers shared by the peer suites (`tests/peer_*.rs`): tests against third-party servers the
//! scripts in `scripts/peers/` start. They never skip: a missing or unreachable server is a
//! loud failure that says how to start it.

#![allow(dead_code)] // each suite uses a different subset

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use aws_credential_types::Credentials;

/// How long a peer server may take to accept a TCP connection before it counts as unreachable.
pub const REACH_TIMEOUT: Duration = Duration::from_secs(3);

/// The value of env var `name`, or a panic naming the variable and the command that sets it.
pub fn require_env(name: &str, how: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().to_owned(),
        _ => panic!(
            "peer suite: environment variable {name} is not set, so the server under test is \
             unknown.\nStart the server and export its settings first:\n    {how}\n\
             (.ci/run does all of this.)"
        ),
    }
}

/// Panics unless something accepts TCP connections at the URL's host and port.
pub fn require_reachable(url: &str, how: &str) {
    let addr = socket_addr(url)
        .unwrap_or_else(|| panic!("peer suite: cannot read a host:port from the URL {url:?}"));
    if let Err(e) = TcpStream::connect_timeout(&addr, REACH_TIMEOUT) {
        panic!(
            "peer suite: the server at {url} is unreachable ({e}).\nStart it first:\n    {how}\n\
             (.ci/run does all of this.)"
        );
    }
}

/// The socket address of an `http(s)://host:port[/...]` URL on a loopback or literal address.
fn socket_addr(url: &str) -> Option<SocketAddr> {
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split('/').next()?;
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else if url.starts_with("https://") {
        format!("{authority}:443")
    } else {
        format!("{authority}:80")
    };
    with_port.to_socket_addrs().ok()?.next()
}

/// Credentials nobody holds: peers accept any SigV4-shaped signature.
pub fn fake_credentials() -> Credentials {
    Credentials::new(
        "AKIAPEERTESTEXAMPLE",
        "peer-test-secret-not-a-real-key",
        None,
        None,
        "peer-suite",
    )
}

/// The region every peer suite signs for.
pub const REGION: &str = "us-east-1";

/// A name unique to this test process, for resources on a server that outlives one run.
pub fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos:08x}", std::process::id())
}
