//! Real network faults, as root: the local endpoint in one network namespace, the client in
//! another, a veth pair between them (198.18.0.1/30 ↔ 198.18.0.2/30, and 198.18.1.1-2 for the
//! dark and refusing zones, all inside namespaces this test creates and deletes; no other
//! address is used), and packets dropped by iptables.
//!
//! - a pooled idle connection black-holed (`-j DROP`): TCP keepalive ends it within
//!   idle + interval × count, and the next call goes out on a new connection;
//! - a black-hole during an in-flight invoke: the call ends "may have executed" within the
//!   keepalive bound instead of waiting for its 15-minute deadline;
//! - over HTTP/2, a black-hole with several invokes in flight on the one connection, TCP
//!   keepalive off: the pool's PINGs (`h2_keepalive(2 s, 1 s)`) notice within
//!   interval + timeout, every stream ends "may have executed", and the next call goes out
//!   on a new connection;
//! - one Availability Zone dark, for HTTP/1.1 and HTTP/2: the endpoint name resolves to three
//!   addresses, one dropping every packet (198.18.1.1: the client's frames to it carry a MAC
//!   address nobody has, and the server's end of the veth drops them: no RST, no ICMP), one
//!   refusing
//!   (198.18.1.2, on the client namespace's loopback with nothing listening), one healthy (the
//!   server): every call succeeds, none waits for the dark address's connect timeout, and
//!   every connection goes to the healthy address;
//! - a middlebox that forgets idle flows (conntrack with a 3 s established timeout, strict
//!   tracking, INVALID dropped): a long invoke survives because keepalive probes keep the flow
//!   alive, while the same invoke without keepalive loses its response.
//!
//! They change the machine's network configuration (namespaces only) and take ~20 s, so they
//! are `#[ignore]`d: CI (root) runs `cargo test --test netns -- --ignored`. Run that way
//! without root or without `ip`, each prints why it skipped and passes — unless the
//! environment variable `CI` is set (`.ci/run` sets it): then it fails, saying why, since CI is
//! where these must run. Without `iptables`, the black-holes use a `blackhole` route instead
//! and the middlebox test skips (fails, with `CI` set). The client and the endpoint run on
//! their own threads moved into the namespaces with `setns(2)`, each with a current-thread
//! tokio runtime, so every socket they open lives in their namespace.
#![cfg(all(feature = "local", target_os = "linux"))]

mod support;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::pool::Protocol;
use lambda_vpce::{pool::PoolBuilder, FnResolver, LambdaVpce};
use support::{invoke, Class, ClientOpts};

const SERVER_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
/// A zone gone dark: frames to it go to a MAC address nobody has.
const DARK_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);
/// A zone refusing: on the client namespace's loopback, nothing listening.
const REFUSING_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
/// Short keepalive for the tests: first probe after 1 s, then every 1 s, 3 probes.
const KA_IDLE: Duration = Duration::from_secs(1);
const KA_INTERVAL: Duration = Duration::from_secs(1);
const KA_COUNT: u32 = 3;
/// Slack over the keepalive bound for timers and scheduling on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(4);

/// Invokes in flight on the one HTTP/2 connection when it is black-holed.
const H2_IN_FLIGHT: u64 = 4;

fn keepalive_bound() -> Duration {
    KA_IDLE + KA_INTERVAL * KA_COUNT
}

/// HTTP/2 PINGs in these tests: short, so a dead connection is noticed in seconds.
const H2_PING_INTERVAL: Duration = Duration::from_secs(2);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(1);

/// The documented bound for a dead HTTP/2 connection with streams open: a PING goes out at
/// the next interval and its answer is awaited for the timeout.
fn h2_ping_bound() -> Duration {
    H2_PING_INTERVAL + H2_PING_TIMEOUT
}

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        || Command::new(cmd)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Two namespaces joined by a veth pair; deleted on drop.
struct Netns {
    server: String,
    client: String,
    iptables: bool,
}

impl Netns {
    /// Creates the namespaces, or says why it cannot (and the test skips).
    fn create(tag: &str) -> Result<Netns, String> {
        if !is_root() {
            return Err("not root (network namespaces need CAP_SYS_ADMIN)".into());
        }
        if !have("ip") {
            return Err("no `ip` (iproute2) on PATH".into());
        }
        sweep_stale();
        let id = std::process::id();
        let ns = Netns {
            server: format!("lvpce-{id}-{tag}-srv"),
            client: format!("lvpce-{id}-{tag}-cli"),
            iptables: have("iptables"),
        };
        run("ip", &["netns", "add", &ns.server])?;
        run("ip", &["netns", "add", &ns.client])?;
        let (s, c) = (ns.server.as_str(), ns.client.as_str());
        run(
            "ip",
            &[
                "link", "add", "lv-c", "netns", c, "type", "veth", "peer", "name", "lv-s", "netns",
                s,
            ],
        )?;
        let srv = format!("{SERVER_IP}/30");
        let cli = format!("{CLIENT_IP}/30");
        run("ip", &["-n", s, "addr", "add", &srv, "dev", "lv-s"])?;
        run("ip", &["-n", c, "addr", "add", &cli, "dev", "lv-c"])?;
        for (n, dev) in [(s, "lv-s"), (c, "lv-c")] {
            run("ip", &["-n", n, "link", "set", dev, "up"])?;
            run("ip", &["-n", n, "link", "set", "lo", "up"])?;
        }
        Ok(ns)
    }

    /// Drops every packet between client and server, both ways, at the server
    /// (`iptables -j DROP` on INPUT and OUTPUT), as a middlebox that lost the flow does; or,
    /// without iptables, takes the server's end of the veth down (the client's packets vanish,
    /// no error comes back). One direction is not enough: the server's retransmissions would
    /// reach the client and restart its keepalive timer.
    fn blackhole(&self, on: bool) -> Result<(), String> {
        let s = self.server.as_str();
        let client = CLIENT_IP.to_string();
        if self.iptables {
            let op = if on { "-I" } else { "-D" };
            run(
                "ip",
                &[
                    "netns", "exec", s, "iptables", op, "INPUT", "-s", &client, "-j", "DROP",
                ],
            )?;
            run(
                "ip",
                &[
                    "netns", "exec", s, "iptables", op, "OUTPUT", "-d", &client, "-j", "DROP",
                ],
            )
        } else {
            let state = if on { "down" } else { "up" };
            run("ip", &["-n", s, "link", "set", "lv-s", state])
        }
    }

    /// A middlebox in the server namespace that forgets a flow after `idle` of silence:
    /// conntrack with that established timeout, no mid-stream pickup, INVALID dropped.
    fn forgetful_middlebox(&self, idle: Duration) -> Result<(), String> {
        let s = self.server.as_str();
        for chain in ["INPUT", "OUTPUT"] {
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    s,
                    "iptables",
                    "-A",
                    chain,
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "INVALID",
                    "-j",
                    "DROP",
                ],
            )?;
        }
        let timeout = format!(
            "net.netfilter.nf_conntrack_tcp_timeout_established={}",
            idle.as_secs()
        );
        run("ip", &["netns", "exec", s, "sysctl", "-qw", &timeout])?;
        run(
            "ip",
            &[
                "netns",
                "exec",
                s,
                "sysctl",
                "-qw",
                "net.netfilter.nf_conntrack_tcp_loose=0",
            ],
        )
    }
}

impl Netns {
    /// In the client's namespace: [`DARK_IP`] swallows every packet (routed onto the veth to
    /// a permanent neighbour entry with a MAC address nobody has, so the server's end drops
    /// each frame as not its own: no RST, no ICMP) and [`REFUSING_IP`] answers SYNs with RST
    /// (an address of the client namespace's loopback where nothing listens).
    fn dark_and_refusing_zones(&self) -> Result<(), String> {
        let c = self.client.as_str();
        let dark = DARK_IP.to_string();
        run("ip", &["-n", c, "route", "add", &dark, "dev", "lv-c"])?;
        run(
            "ip",
            &[
                "-n",
                c,
                "neigh",
                "replace",
                &dark,
                "lladdr",
                NOBODYS_MAC,
                "dev",
                "lv-c",
                "nud",
                "permanent",
            ],
        )?;
        let refusing = format!("{REFUSING_IP}/32");
        run("ip", &["-n", c, "addr", "add", &refusing, "dev", "lo"])
    }
}

/// A locally administered unicast MAC address no interface of the test has.
const NOBODYS_MAC: &str = "02:00:5e:00:53:01";

impl Drop for Netns {
    fn drop(&mut self) {
        for ns in [&self.server, &self.client] {
            if let Err(e) = run("ip", &["netns", "del", ns]) {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

/// Deletes namespaces left by a test process that was killed before its guards ran
/// (`lvpce-PID-...` whose PID is gone).
fn sweep_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix("lvpce-")
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = run("ip", &["netns", "del", name]);
        }
    }
}

/// Moves the current thread into network namespace `ns`.
fn enter(ns: &str) {
    let file = std::fs::File::open(format!("/var/run/netns/{ns}")).expect("namespace file");
    rustix::thread::move_into_link_name_space(
        file.as_fd(),
        Some(rustix::thread::LinkNameSpaceType::Network),
    )
    .expect("setns");
}

/// Runs `f` to completion on a new thread inside namespace `ns`.
fn in_namespace<T, F, Fut>(ns: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    let ns = ns.to_owned();
    std::thread::spawn(move || {
        enter(&ns);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f())
    })
    .join()
    .expect("the namespace thread finished")
}

/// The local endpoint serving on `SERVER_IP` inside the server namespace, on its own thread.
struct Server {
    ep: Arc<LocalEndpoint>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(ns: &Netns) -> Server {
        Self::start_with(ns, false)
    }

    /// [`start`](Self::start), offering `h2` in ALPN when `http2`.
    fn start_with(ns: &Netns, http2: bool) -> Server {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let name = ns.server.clone();
        let thread = std::thread::spawn(move || {
            enter(&name);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let ep = LocalEndpoint::builder()
                    .bind(SocketAddr::from((SERVER_IP, 0)))
                    .http2(http2)
                    .start()
                    .await
                    .expect("endpoint binds in the namespace");
                let ep = Arc::new(ep);
                tx.send(ep.clone()).expect("hand the endpoint over");
                let _ = stopped.await;
                drop(ep);
            });
        });
        let ep = rx.recv().expect("the endpoint started");
        Server {
            ep,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The crate's client reaching the endpoint as `https://localhost:PORT` (the name in its
/// certificate), resolved to `SERVER_IP`.
fn client(ep: &LocalEndpoint, keepalive: bool, response_timeout: Duration) -> LambdaVpce {
    client_speaking(ep, Protocol::Http1, keepalive, response_timeout)
}

/// [`client`] speaking `protocol`.
fn client_speaking(
    ep: &LocalEndpoint,
    protocol: Protocol,
    keepalive: bool,
    response_timeout: Duration,
) -> LambdaVpce {
    let addr = SocketAddr::from((SERVER_IP, ep.addr().port()));
    let mut pool = PoolBuilder::new()
        .protocol(protocol)
        .h2_keepalive(H2_PING_INTERVAL, H2_PING_TIMEOUT)
        .resolver(FnResolver(move |_h: &str, _p: u16| Ok(vec![addr])));
    pool = if keepalive {
        pool.tcp_keepalive(KA_IDLE, KA_INTERVAL, KA_COUNT)
    } else {
        pool.tcp_keepalive(None, KA_INTERVAL, KA_COUNT)
    };
    let opts = ClientOpts {
        url: Some(format!("https://localhost:{}", ep.addr().port())),
        response_timeout,
        max_attempts: 1,
        ..ClientOpts::default()
    };
    support::client_with(ep, pool, &opts)
}

/// The namespaces for test `$tag`; without them, a failure in CI and a skip elsewhere
/// ([`support::cannot_run`]).
macro_rules! netns_or_skip {
    ($tag:expr) => {
        match Netns::create($tag) {
            Ok(ns) => ns,
            Err(why) => {
                support::cannot_run($tag, &why);
                return;
            }
        }
    };
}

#[test]
#[ignore = "needs root: cargo test --test netns -- --ignored (CI runs it)"]
fn a_black_holed_idle_connection_is_noticed_by_keepalive_and_never_used() {
    let ns = Arc::new(netns_or_skip!("idle"));
    let server = Server::start(&ns);
    let ep = server.ep.clone();
    let ns2 = ns.clone();
    let client_ns = ns.client.clone();
    in_namespace(&client_ns, move || async move {
        let c = client(&ep, true, Duration::from_secs(30));
        let first = invoke(&c, "echo", "{}").await;
        assert_eq!(first.class, Class::Ok, "{}", first.message);
        assert_eq!(c.pool().stats().idle(), 1);
        ns2.blackhole(true).expect("black-hole");
        let start = Instant::now();
        let bound = keepalive_bound() + SLACK;
        while c.pool().stats().idle() > 0 {
            assert!(
                start.elapsed() < bound,
                "the dead idle connection was not noticed within {bound:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let noticed = start.elapsed();
        ns2.blackhole(false).expect("lift the black-hole");
        let second = invoke(&c, "echo", "{}").await;
        assert_eq!(second.class, Class::Ok, "{}", second.message);
        assert_eq!(second.executions(&ep), 1);
        assert_eq!(ep.stats().connections_accepted, 2, "a new connection");
        assert_eq!(c.pool().stats().reused(), 0, "the dead one was never used");
        eprintln!(
            "black-holed idle connection noticed after {noticed:?} (bound {:?})",
            keepalive_bound()
        );
    });
    drop(server);
}

#[test]
#[ignore = "needs root: cargo test --test netns -- --ignored (CI runs it)"]
fn a_black_hole_during_an_invoke_ends_it_maybe_executed_within_the_keepalive_bound() {
    let ns = Arc::new(netns_or_skip!("flight"));
    let server = Server::start(&ns);
    let ep = server.ep.clone();
    let ns2 = ns.clone();
    let client_ns = ns.client.clone();
    in_namespace(&client_ns, move || async move {
        // The deadline is far away: only keepalive can end this call early.
        let c = client(&ep, true, Duration::from_secs(900));
        let call = tokio::spawn({
            let c = c.clone();
            async move { invoke(&c, "sleep", r#"{"ms": 60000}"#).await }
        });
        let wait = Instant::now();
        while ep.ledger().total() == 0 {
            assert!(
                wait.elapsed() < Duration::from_secs(10),
                "the invoke started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ns2.blackhole(true).expect("black-hole");
        let start = Instant::now();
        let bound = keepalive_bound() + SLACK;
        let o = tokio::time::timeout(bound, call)
            .await
            .unwrap_or_else(|_| panic!("the call still hung {bound:?} after the black-hole"))
            .expect("call task");
        let ended = start.elapsed();
        assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
        assert!(
            !o.timeout,
            "ended by keepalive, not by the deadline: {}",
            o.message
        );
        assert_eq!(o.executions(&ep), 1);
        eprintln!(
            "in-flight invoke ended {ended:?} after the black-hole: {}",
            o.message
        );
        ns2.blackhole(false).expect("lift the black-hole");
    });
    drop(server);
}

#[test]
#[ignore = "needs root: cargo test --test netns -- --ignored (CI runs it)"]
fn over_http2_a_black_hole_with_invokes_in_flight_is_noticed_by_ping_and_the_next_call_reconnects()
{
    let ns = Arc::new(netns_or_skip!("h2ping"));
    let server = Server::start_with(&ns, true);
    let ep = server.ep.clone();
    let ns2 = ns.clone();
    let client_ns = ns.client.clone();
    in_namespace(&client_ns, move || async move {
        // TCP keepalive off and the deadline far away: only HTTP/2 PINGs can end these calls.
        let c = client_speaking(&ep, Protocol::Http2, false, Duration::from_secs(900));
        let calls: Vec<_> = (0..H2_IN_FLIGHT)
            .map(|_| {
                let c = c.clone();
                tokio::spawn(async move { invoke(&c, "sleep", r#"{"ms": 120000}"#).await })
            })
            .collect();
        let wait = Instant::now();
        while ep.ledger().total() < H2_IN_FLIGHT {
            assert!(
                wait.elapsed() < Duration::from_secs(10),
                "the invokes started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(ep.stats().connections_accepted, 1, "one HTTP/2 connection");
        assert_eq!(ep.stats().http2_connections, 1, "ALPN picked h2");
        ns2.blackhole(true).expect("black-hole");
        let start = Instant::now();
        let bound = h2_ping_bound() + SLACK;
        for call in calls {
            let left = bound.saturating_sub(start.elapsed());
            let o = tokio::time::timeout(left, call)
                .await
                .unwrap_or_else(|_| panic!("a stream still hung {bound:?} after the black-hole"))
                .expect("call task");
            assert_eq!(o.class, Class::MaybeExecuted, "{}", o.message);
            assert!(
                !o.timeout,
                "ended by the PING timeout, not by the deadline: {}",
                o.message
            );
            assert_eq!(o.executions(&ep), 1);
        }
        let ended = start.elapsed();
        ns2.blackhole(false).expect("lift the black-hole");
        let next = invoke(&c, "echo", "{}").await;
        assert_eq!(next.class, Class::Ok, "{}", next.message);
        assert_eq!(next.executions(&ep), 1);
        assert_eq!(
            ep.stats().connections_accepted,
            2,
            "the next call went out on a new connection"
        );
        eprintln!(
            "HTTP/2: {H2_IN_FLIGHT} in-flight invokes ended {ended:?} after the black-hole \
             (bound {:?})",
            h2_ping_bound()
        );
    });
    drop(server);
}

#[test]
#[ignore = "needs root: cargo test --test netns -- --ignored (CI runs it)"]
fn keepalive_probes_carry_a_long_invoke_through_a_middlebox_that_forgets_idle_flows() {
    let ns = Arc::new(netns_or_skip!("mbox"));
    if !ns.iptables {
        support::cannot_run(
            "mbox",
            "no iptables to simulate a middlebox (conntrack + INVALID drop)",
        );
        return;
    }
    let forget_after = Duration::from_secs(3);
    if let Err(e) = ns.forgetful_middlebox(forget_after) {
        support::cannot_run(
            "mbox",
            &format!("this kernel cannot simulate the middlebox: {e}"),
        );
        return;
    }
    let server = Server::start(&ns);
    let ep = server.ep.clone();
    let client_ns = ns.client.clone();
    in_namespace(&client_ns, move || async move {
        let silent_for = r#"{"ms": 8000}"#;
        let with_ka = client(&ep, true, Duration::from_secs(20));
        let without_ka = client(&ep, false, Duration::from_secs(14));
        let (kept, lost) = tokio::join!(
            invoke(&with_ka, "sleep", silent_for),
            invoke(&without_ka, "sleep", silent_for),
        );
        assert_eq!(
            lost.class,
            Class::MaybeExecuted,
            "the simulated middlebox did not forget the silent flow: {}",
            lost.message
        );
        assert_eq!(lost.executions(&ep), 1);
        assert_eq!(
            kept.class,
            Class::Ok,
            "keepalive kept the flow: {}",
            kept.message
        );
        assert_eq!(kept.executions(&ep), 1);
    });
    drop(server);
}

/// Connect timeout of the zone tests: long, so that a call that waited for the dark address's
/// connect instead of racing past it could not pass the per-call bound.
const ZONE_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Calls per wave, and waves; each wave after the first waits out the idle timeout so that
/// HTTP/1.1 connects again.
const ZONE_CALLS: usize = 16;
const ZONE_WAVES: usize = 3;

/// One zone dark, one refusing, one healthy, in the worst order: every call succeeds within
/// two attempt delays plus slack (far below the connect timeout), and every connection is to
/// the healthy address.
fn one_dark_zone_of_three(tag: &'static str, http2: bool) {
    let ns = Arc::new(netns_or_skip!(tag));
    ns.dark_and_refusing_zones().expect("zones");
    let server = Server::start_with(&ns, http2);
    let ep = server.ep.clone();
    let client_ns = ns.client.clone();
    in_namespace(&client_ns, move || async move {
        let port = ep.addr().port();
        let addrs: Vec<SocketAddr> = [DARK_IP, REFUSING_IP, SERVER_IP]
            .into_iter()
            .map(|ip| SocketAddr::from((ip, port)))
            .collect();
        let protocol = if http2 {
            Protocol::Http2
        } else {
            Protocol::Http1
        };
        let pool = PoolBuilder::new()
            .protocol(protocol)
            .connect_timeout(ZONE_CONNECT_TIMEOUT)
            .idle_timeout(Duration::from_secs(1))
            .h2_connections(3)
            .resolver(FnResolver(move |_h: &str, _p: u16| Ok(addrs.clone())));
        let opts = ClientOpts {
            url: Some(format!("https://localhost:{port}")),
            max_attempts: 1,
            ..ClientOpts::default()
        };
        let c = support::client_with(&ep, pool, &opts);
        let delay = c.pool().config().connect_attempt_delay();
        let bound = delay * 2 + SLACK;
        assert!(bound < ZONE_CONNECT_TIMEOUT);
        let mut slowest = Duration::ZERO;
        for wave in 0..ZONE_WAVES {
            if wave > 0 {
                tokio::time::sleep(Duration::from_millis(1100)).await;
            }
            let calls: Vec<_> = (0..ZONE_CALLS)
                .map(|_| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        let start = Instant::now();
                        let o = invoke(&c, "echo", "{}").await;
                        (o, start.elapsed())
                    })
                })
                .collect();
            for call in calls {
                let (o, took) = call.await.expect("call task");
                assert_eq!(o.class, Class::Ok, "wave {wave}: {}", o.message);
                assert!(
                    took < bound,
                    "wave {wave}: a call took {took:?} (bound {bound:?})"
                );
                slowest = slowest.max(took);
            }
        }
        let stats = c.pool().stats();
        let by = |ip: Ipv4Addr| {
            stats
                .addresses()
                .iter()
                .find(|a| a.address().ip() == std::net::IpAddr::V4(ip))
                .cloned()
                .unwrap_or_else(|| panic!("{ip} in {stats:?}"))
        };
        let (dark, refusing, healthy) = (by(DARK_IP), by(REFUSING_IP), by(SERVER_IP));
        assert_eq!(dark.connects() + refusing.connects(), 0, "{stats:?}");
        assert!(refusing.ejections() >= 1, "{refusing:?}");
        assert_eq!(refusing.last_failure(), Some("refused"));
        assert_eq!(
            healthy.connects(),
            ep.stats().connections_accepted,
            "every connection the server accepted was raced to it"
        );
        assert!(healthy.connects() >= 1);
        eprintln!(
            "{tag}: {} calls, slowest {slowest:?} (bound {bound:?}, connect timeout \
             {ZONE_CONNECT_TIMEOUT:?}); dark: {dark:?}; refusing: {refusing:?}; healthy: \
             {healthy:?}",
            ZONE_CALLS * ZONE_WAVES
        );
    });
    drop(server);
}

#[test]
#[ignore = "needs root: cargo test --test netns -- --ignored (CI runs it)"]
fn over_http1_one_dark_zone_and_one_refusing_of_three_fail_no_call_and_stall_none() {
    one_dark_zone_of_three("zones-h1", false);
}

#[test]
#[ignore = "needs root: cargo test --test netns -- --ignored (CI runs it)"]
fn over_http2_one_dark_zone_and_one_refusing_of_three_fail_no_call_and_stall_none() {
    one_dark_zone_of_three("zones-h2", true);
}
