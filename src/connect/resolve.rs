//! Name resolution, replaceable so tests and operators can choose addresses.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;

/// The future a [`Resolve`] returns.
pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// Turns a host name and port into the addresses to try, in order.
///
/// The pool calls it for every new connection, so DNS changes (a replaced endpoint ENI) are
/// picked up without a restart. The default is [`GaiResolver`].
pub trait Resolve: Send + Sync + fmt::Debug + 'static {
    /// Resolves `host` (a DNS name or an IP literal) for `port`.
    fn resolve(&self, host: &str, port: u16) -> Resolving;
}

/// The system resolver (`getaddrinfo` on a blocking thread, through tokio). IP literals are
/// answered without a lookup.
#[derive(Debug, Clone, Copy, Default)]
pub struct GaiResolver;

impl Resolve for GaiResolver {
    fn resolve(&self, host: &str, port: u16) -> Resolving {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return Box::pin(std::future::ready(Ok(vec![SocketAddr::new(ip, port)])));
        }
        let host = host.to_owned();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    }
}

/// A resolver from a function, for tests and fixed address lists.
#[derive(Clone)]
pub struct FnResolver<F>(pub F);

impl<F> fmt::Debug for FnResolver<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnResolver")
    }
}

impl<F> Resolve for FnResolver<F>
where
    F: Fn(&str, u16) -> io::Result<Vec<SocketAddr>> + Send + Sync + 'static,
{
    fn resolve(&self, host: &str, port: u16) -> Resolving {
        Box::pin(std::future::ready((self.0)(host, port)))
    }
}
