//! An in-memory HTTP/1.1 server and a dialer that connects the pool to it, so pool tests run
//! under paused tokio time with no sockets.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use crate::connect::{Dial, MaybeTlsStream, MemoryStream, Opened};
use crate::error::{Error, Kind};
use crate::origin::Origin;
use crate::pool::{Pool, PoolBuilder};

/// `(scheme, authority, Host header)` of an HTTP/2 request.
pub(super) type H2Target = (Option<String>, Option<String>, Option<String>);

/// How the fake server behaves; change it at any time.
#[derive(Debug, Clone, Default)]
pub(super) struct Behavior {
    /// Close a connection idle this long after its last response (FIN).
    pub(super) idle_close: Option<Duration>,
    /// Send this `Keep-Alive` header.
    pub(super) keep_alive: Option<&'static str>,
    /// Wait this long before answering.
    pub(super) delay: Duration,
    /// Read the request, then drop the connection without answering.
    pub(super) die_after_request: bool,
}

#[derive(Default)]
pub(super) struct Server {
    pub(super) behavior: Mutex<Behavior>,
    /// Requests whose handler started (executions).
    pub(super) requests: AtomicUsize,
    /// Connections dialed.
    pub(super) dials: AtomicUsize,
    /// Connections the server closed because they sat idle.
    pub(super) idle_closes: AtomicUsize,
    /// Fails the next N dials (connect refused).
    pub(super) refuse_dials: AtomicUsize,
    /// Hosts whose connects are refused (they resolve to an address that refuses), and every
    /// host resolved, in order.
    pub(super) refuse_hosts: Mutex<Vec<String>>,
    pub(super) dialed_hosts: Mutex<Vec<String>>,
    /// Speak HTTP/2 (as if ALPN chose it).
    pub(super) h2: std::sync::atomic::AtomicBool,
    /// Dials wait on this when set.
    pub(super) dial_gate: Mutex<Option<Arc<Notify>>>,
    /// The HTTP/2 server, used when `h2` is set.
    pub(super) h2s: Arc<super::fake_h2::H2Server>,
    /// One flag per dialed connection, in dial order: see [`Server::reset_silently`].
    resets: Mutex<Vec<Arc<AtomicBool>>>,
    /// See [`Server::resolve_to`], [`Server::reach`], [`Server::dialed_addrs`].
    resolved: Mutex<HashMap<String, Vec<SocketAddr>>>,
    reach: Mutex<HashMap<SocketAddr, Reach>>,
    dialed_addrs: Mutex<Vec<SocketAddr>>,
}

impl Server {
    pub(super) fn set(&self, f: impl FnOnce(&mut Behavior)) {
        f(&mut self.behavior.lock().unwrap());
    }

    /// The client's next read on the `n`th dialed connection fails with `ConnectionReset`,
    /// and nothing wakes the connection's driver: the RST is in the socket, unseen by hyper.
    pub(super) fn reset_silently(&self, n: usize) {
        self.resets.lock().unwrap()[n].store(true, SeqCst);
    }

    fn behavior(&self) -> Behavior {
        self.behavior.lock().unwrap().clone()
    }
}

pub(super) struct FakeDialer {
    pub(super) server: Arc<Server>,
}

/// The address every name resolves to unless [`Server::resolve_to`] says otherwise.
pub(super) const DEFAULT_ADDR: &str = "127.0.0.1:443";

/// Where a host in [`Server::refuse_hosts`] resolves: an address that refuses every connect.
const REFUSING_ADDR: &str = "192.0.2.1:443";

/// How one address answers a connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// Swallows the SYN: the connect never completes (the race's timeout ends it).
    BlackHole,
    /// Refuses at once.
    Refuse,
    /// Accepts TCP, then resets during the TLS handshake.
    ResetInHandshake,
    /// Completes after this long.
    Slow(Duration),
}

impl Server {
    /// `host` resolves to these addresses, in this order.
    pub(super) fn resolve_to(&self, host: &str, addrs: &[&str]) {
        self.resolved.lock().unwrap().insert(
            host.to_owned(),
            addrs.iter().map(|a| a.parse().unwrap()).collect(),
        );
    }

    /// Connects to `addr` behave as `reach` says (`None`: they succeed at once).
    pub(super) fn reach(&self, addr: &str, reach: impl Into<Option<Reach>>) {
        let addr: SocketAddr = addr.parse().unwrap();
        let mut map = self.reach.lock().unwrap();
        match reach.into() {
            Some(r) => map.insert(addr, r),
            None => map.remove(&addr),
        };
    }

    /// Every address a connect attempt started on, in order.
    pub(super) fn dialed_addrs(&self) -> Vec<SocketAddr> {
        self.dialed_addrs.lock().unwrap().clone()
    }
}

fn refused() -> Error {
    Error::with(
        Kind::Connect,
        std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
    )
}

impl Dial for FakeDialer {
    fn resolve(&self, host: &str, _port: u16) -> crate::connect::Resolving {
        self.server
            .dialed_hosts
            .lock()
            .unwrap()
            .push(host.to_owned());
        let refused = self
            .server
            .refuse_hosts
            .lock()
            .unwrap()
            .iter()
            .any(|h| h == host);
        let addrs = if refused {
            vec![REFUSING_ADDR.parse().unwrap()]
        } else {
            self.server
                .resolved
                .lock()
                .unwrap()
                .get(host)
                .cloned()
                .unwrap_or_else(|| vec![DEFAULT_ADDR.parse().unwrap()])
        };
        Box::pin(std::future::ready(Ok(addrs)))
    }

    fn dial_addr<'a>(
        &'a self,
        _origin: &'a Origin,
        addr: SocketAddr,
        _timeout: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Opened, Error>> + Send + 'a>>
    {
        Box::pin(async move {
            self.server.dialed_addrs.lock().unwrap().push(addr);
            if addr == REFUSING_ADDR.parse().unwrap() {
                return Err(refused());
            }
            let reach = self.server.reach.lock().unwrap().get(&addr).copied();
            match reach {
                Some(Reach::BlackHole) => std::future::pending::<()>().await,
                Some(Reach::Refuse) => return Err(refused()),
                Some(Reach::ResetInHandshake) => {
                    return Err(Error::with(
                        Kind::Tls,
                        std::io::Error::from(std::io::ErrorKind::ConnectionReset),
                    ))
                }
                Some(Reach::Slow(d)) => tokio::time::sleep(d).await,
                None => {}
            }
            let gate = self.server.dial_gate.lock().unwrap().clone();
            if let Some(gate) = gate {
                gate.notified().await;
            }
            if self
                .server
                .refuse_dials
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(refused());
            }
            self.server.dials.fetch_add(1, SeqCst);
            let (client, server_end) = tokio::io::duplex(64 * 1024);
            let h2 = self.server.h2.load(SeqCst);
            if h2 {
                self.server.h2s.serve(server_end);
            } else {
                tokio::spawn(serve(self.server.clone(), server_end));
            }
            let reset = Arc::new(AtomicBool::new(false));
            self.server.resets.lock().unwrap().push(reset.clone());
            Ok(Opened {
                stream: MaybeTlsStream::Memory(MemoryStream { io: client, reset }),
                remote: addr,
                probe: None,
                h2,
            })
        })
    }
}

/// One server connection: answers requests, closes when idle past `idle_close`, or dies.
async fn serve(server: Arc<Server>, io: tokio::io::DuplexStream) {
    let (activity_tx, mut activity_rx) = watch::channel((0usize, Instant::now()));
    let activity = Arc::new(activity_tx);
    let kill = Arc::new(Notify::new());
    let svc = {
        let server = server.clone();
        let activity = activity.clone();
        let kill = kill.clone();
        service_fn(move |_req: http::Request<hyper::body::Incoming>| {
            let server = server.clone();
            let activity = activity.clone();
            let kill = kill.clone();
            async move {
                activity.send_modify(|(inflight, at)| {
                    *inflight += 1;
                    *at = Instant::now();
                });
                server.requests.fetch_add(1, SeqCst);
                let b = server.behavior();
                if !b.delay.is_zero() {
                    tokio::time::sleep(b.delay).await;
                }
                if b.die_after_request {
                    kill.notify_one();
                    std::future::pending::<()>().await;
                }
                let mut resp = http::Response::new(Full::new(Bytes::from_static(b"ok")));
                if let Some(ka) = b.keep_alive {
                    resp.headers_mut()
                        .insert("keep-alive", http::HeaderValue::from_static(ka));
                }
                activity.send_modify(|(inflight, at)| {
                    *inflight -= 1;
                    *at = Instant::now();
                });
                Ok::<_, Infallible>(resp)
            }
        })
    };
    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    loop {
        let (inflight, last) = *activity_rx.borrow_and_update();
        let idle_close = server.behavior().idle_close.filter(|_| inflight == 0);
        let idle_deadline = idle_close.map(|d| last + d);
        tokio::select! {
            _ = &mut conn => return,
            _ = kill.notified() => return,
            changed = activity_rx.changed() => if changed.is_err() { return },
            _ = async { tokio::time::sleep_until(idle_deadline.unwrap()).await }, if idle_deadline.is_some() => {
                server.idle_closes.fetch_add(1, SeqCst);
                return;
            }
        }
    }
}

/// A pool wired to a fresh fake server, with `f` applied to its builder.
pub(super) fn pool_with(f: impl FnOnce(PoolBuilder) -> PoolBuilder) -> (Pool, Arc<Server>) {
    pool_routed(&[], f)
}

/// Like [`pool_with`], with routes for these endpoints.
pub(super) fn pool_routed(
    routes: &[crate::Endpoint],
    f: impl FnOnce(PoolBuilder) -> PoolBuilder,
) -> (Pool, Arc<Server>) {
    let server = Arc::new(Server::default());
    let config = f(PoolBuilder::new()).validate_for_tests();
    let dialer = Arc::new(FakeDialer {
        server: server.clone(),
    });
    (Pool::with_dialer(config, routes, dialer), server)
}

/// A GET to the fake origin.
pub(super) fn request() -> http::Request<aws_smithy_types::body::SdkBody> {
    http::Request::builder()
        .uri("https://lambda.test/2015-03-31/functions/f/invocations")
        .body(aws_smithy_types::body::SdkBody::from("{}"))
        .unwrap()
}

/// A request to the fake origin named `id` (see [`super::fake_h2::CALL_ID`]).
pub(super) fn named_request(id: &str) -> http::Request<aws_smithy_types::body::SdkBody> {
    let mut r = request();
    r.headers_mut().insert(
        super::fake_h2::CALL_ID,
        http::HeaderValue::from_str(id).expect("a header-safe id"),
    );
    r
}

/// Sends the request named `id` with a `len`-byte body and reads the response to its end.
pub(super) async fn call_named_with_body(
    pool: &Pool,
    id: &str,
    len: usize,
) -> Result<crate::pool::ConnectionInfo, Error> {
    use http_body_util::BodyExt;
    let mut request = named_request(id);
    *request.body_mut() = aws_smithy_types::body::SdkBody::from(vec![b'x'; len]);
    let resp = pool.send(request).await?;
    let info = resp.body().connection_info();
    resp.into_body().collect().await?;
    Ok(info)
}

/// Sends the request named `id` and reads the body to its end.
pub(super) async fn call_named(
    pool: &Pool,
    id: &str,
) -> Result<crate::pool::ConnectionInfo, Error> {
    use http_body_util::BodyExt;
    let resp = pool.send(named_request(id)).await?;
    let info = resp.body().connection_info();
    resp.into_body().collect().await?;
    Ok(info)
}

/// Sends one request and reads the body to its end.
pub(super) async fn call(pool: &Pool) -> Result<crate::pool::ConnectionInfo, Error> {
    use http_body_util::BodyExt;
    let resp = pool.send(request()).await?;
    let info = resp.body().connection_info();
    resp.into_body().collect().await?;
    Ok(info)
}

/// `n` calls at once, each in its own task; their results in spawn order.
pub(super) async fn calls_at_once(
    pool: &Pool,
    n: usize,
) -> Vec<Result<crate::pool::ConnectionInfo, Error>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { call(&pool).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("the call's task ends"));
    }
    out
}

/// Lets spawned tasks (connection drivers, checkin) run on the single test thread, without
/// moving the clock: deterministic, unlike a sleep.
pub(super) async fn run_spawned_tasks() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}
