//! The running endpoint: listener, accept loop, shared state, and shutdown.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use super::builder::LocalEndpointBuilder;
use super::conn;
use super::faults::Faults;
use super::functions::Registry;
use super::handshakes::{Handshakes, TlsHandshake};
use super::http2::H2Config;
use super::ledger::Ledger;
use super::sigv4::Verifier;
use super::stats::{bump, Counters, ServerStats};

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again: 10 ms.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// What every connection and request shares.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) registry: Registry,
    pub(crate) verifier: Verifier,
    pub(crate) ledger: Ledger,
    pub(crate) faults: Faults,
    pub(crate) stats: Counters,
    /// The most recent TLS handshakes.
    pub(crate) handshakes: Handshakes,
    /// HTTP/2 settings; `None` serves HTTP/1.1 only.
    pub(crate) http2: Option<H2Config>,
    /// Bumped by [`LocalEndpoint::drain_connections`]; every connection task watches it.
    pub(crate) drain: watch::Sender<u64>,
    connections: AtomicU64,
}

impl State {
    /// The next connection's number (from 1).
    pub(crate) fn next_connection(&self) -> u64 {
        self.connections.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A running local Lambda endpoint. Dropping it, or [`LocalEndpoint::shutdown`], stops the
/// listener and every connection task.
#[derive(Debug)]
pub struct LocalEndpoint {
    state: Arc<State>,
    addr: SocketAddr,
    url: String,
    ca_pem: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    /// The runtime it serves on, when it has one of its own; dropped after the accept task is
    /// aborted (fields drop after `Drop::drop`).
    runtime: Option<OwnRuntime>,
}

/// A runtime an endpoint serves on instead of its caller's
/// ([`worker_threads`](super::LocalEndpointBuilder::worker_threads)). Dropped, it shuts down
/// in the background: dropping a tokio runtime blocks until its tasks end, which an async
/// caller, as every caller of the endpoint is, must not.
#[derive(Debug)]
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Everything `start` needs, gathered by the builder.
pub(crate) struct Config {
    pub(crate) addr: SocketAddr,
    pub(crate) tls: Option<super::tls::Tls>,
    pub(crate) http2: Option<H2Config>,
    pub(crate) region: String,
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) verify_signatures: bool,
    pub(crate) registry: Registry,
    pub(crate) faults: Faults,
    /// See [`LocalEndpointBuilder::call_ledger_limit`](super::LocalEndpointBuilder::call_ledger_limit).
    pub(crate) call_ledger_limit: Option<usize>,
}

impl LocalEndpoint {
    /// A builder with the defaults (see [`LocalEndpointBuilder`]).
    pub fn builder() -> LocalEndpointBuilder {
        LocalEndpointBuilder::default()
    }

    /// Starts an endpoint with the defaults: HTTPS on `127.0.0.1`, an ephemeral port, the
    /// default functions and credentials. Must be called inside a tokio runtime.
    pub async fn start() -> io::Result<LocalEndpoint> {
        Self::builder().start().await
    }

    pub(crate) async fn launch(config: Config) -> io::Result<LocalEndpoint> {
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let (scheme, host) = match (&config.tls, addr.ip().is_loopback()) {
            (Some(_), true) => ("https", "localhost".to_owned()),
            (Some(_), false) => ("https", ip_host(addr)),
            (None, _) => ("http", ip_host(addr)),
        };
        let url = format!("{scheme}://{host}:{}", addr.port());
        let (ca_pem, acceptor) = match config.tls {
            Some(tls) => (tls.ca_pem, Some(TlsAcceptor::from(tls.config))),
            None => (String::new(), None),
        };
        let state = Arc::new(State {
            verifier: Verifier::new(
                &config.access_key_id,
                &config.secret_access_key,
                &config.region,
                config.verify_signatures,
            ),
            registry: config.registry,
            ledger: Ledger::with_call_limit(config.call_ledger_limit),
            faults: config.faults,
            stats: Counters::default(),
            handshakes: Handshakes::default(),
            http2: config.http2,
            drain: watch::channel(0).0,
            connections: AtomicU64::new(0),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, state.clone(), acceptor, stop_rx));
        tracing::debug!(%addr, %url, "local endpoint started");
        Ok(LocalEndpoint {
            state,
            addr,
            url,
            ca_pem,
            region: config.region,
            access_key_id: config.access_key_id,
            secret_access_key: config.secret_access_key,
            stop,
            task: Some(task),
            runtime: None,
        })
    }

    /// [`launch`](Self::launch) on a new runtime of `workers` threads, which the endpoint keeps
    /// and ends with; a launch that fails ends it too. The runtime is built before the first
    /// await: its threads start from the thread that polls this first (and inherit its CPUs).
    pub(crate) async fn launch_on_own_runtime(
        config: Config,
        workers: usize,
    ) -> io::Result<LocalEndpoint> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder
            .worker_threads(workers)
            .thread_name("lambda-vpce-endpoint")
            .enable_all();
        let built = builder.build()?;
        let handle = built.handle().clone();
        let runtime = OwnRuntime(Some(built));
        let mut endpoint = handle
            .spawn(Self::launch(config))
            .await
            .map_err(io::Error::other)??;
        endpoint.runtime = Some(runtime);
        Ok(endpoint)
    }

    /// The base URL: `https://localhost:PORT` (or `http://127.0.0.1:PORT` in plain mode).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the throwaway CA that signed the server certificate (empty in plain mode).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes [`LocalEndpoint::ca_pem`] to a file.
    pub fn write_ca_pem(&self, path: impl AsRef<Path>) -> io::Result<()> {
        std::fs::write(path, &self.ca_pem)
    }

    /// The region requests must be signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The access key id the endpoint accepts.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key the endpoint verifies signatures with.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The credentials the endpoint accepts, for a client's `credentials(..)` (provider name
    /// `lambda-vpce-local`).
    pub fn credentials(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            None,
            None,
            "lambda-vpce-local",
        )
    }

    /// The full ARN of a function name on this endpoint.
    pub fn function_arn(&self, name: &str) -> String {
        self.state.registry.arn(name)
    }

    /// Execution accounting.
    pub fn ledger(&self) -> &Ledger {
        &self.state.ledger
    }

    /// Run-time switches for misbehaviours.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ServerStats {
        self.state.stats.snapshot(self.state.ledger.total())
    }

    /// The most recent TLS handshakes (up to 256),
    /// oldest first: what each ClientHello offered and what was negotiated. Empty in plain mode.
    pub fn tls_handshakes(&self) -> Vec<TlsHandshake> {
        self.state.handshakes.snapshot()
    }

    /// A graceful restart of every open connection, like an nginx reload: each HTTP/2
    /// connection gets a graceful GOAWAY (GOAWAY(2^31-1), PING, GOAWAY(last stream received);
    /// every stream at or below it is answered, then the connection closes), each HTTP/1.1
    /// connection closes at once when idle, else after its current exchange, whose response
    /// carries `Connection: close`. The listener keeps accepting; connections accepted
    /// afterwards are not drained. Returns at once (it does not wait for the closes).
    pub fn drain_connections(&self) {
        bump(&self.state.stats.drains);
        self.state.drain.send_modify(|generation| *generation += 1);
    }

    /// Stops accepting, ends every connection and waits until all tasks are gone.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for LocalEndpoint {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            // Aborting the accept task drops its JoinSet, which aborts every connection task.
            task.abort();
        }
    }
}

fn ip_host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    acceptor: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => {
                    bump(&state.stats.connections_accepted);
                    conns.spawn(conn::serve(tcp, state.clone(), acceptor.clone(), stop.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "local endpoint accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.shutdown().await;
}
