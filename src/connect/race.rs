//! Raced connects over the addresses of one name: RFC 8305 ("Happy Eyeballs") applied to an
//! endpoint's addresses, both families.
//!
//! ```text
//!  resolve (within connect_timeout)
//!    ▼
//!  plan: healthy addresses by load, families interleaved (see `health`)
//!    ▼
//!  t=0      attempt 1 ─── TCP + TLS, within connect_timeout ───► first to complete wins
//!  t=d      attempt 2 (d = connect_attempt_delay; at once if every attempt so far failed)
//!  t=2d     attempt 3 …
//!    ▼
//!  the winner is returned; attempts still pending run on in their own tasks until they end
//!  (within their own connect_timeout), so that a black-holed address is found out and
//!  ejected even when another won; a loser that completes is closed at once.
//! ```
//!
//! Every attempt is bounded by `connect_timeout` (TCP connect and TLS handshake together, as
//! the AWS SDK's connect timeout bounds its connector), and the whole race by
//! `connect_timeout + connect_attempt_delay × (addresses − 1)`. Every failure here happens
//! before a request byte exists: "not sent".

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::health::{Address, AddressHealth, Failure, OnAddress};
use super::{Dial, Opened};
use crate::error::{Error, Kind};
use crate::origin::Origin;

/// How one connect races its addresses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RaceSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) attempt_delay: Duration,
}

/// Resolves `host` and races its addresses (see the module doc); the winner's stream and the
/// guard that counts it on its address.
pub(crate) async fn connect(
    dial: &Arc<dyn Dial>,
    health: &Arc<AddressHealth>,
    origin: &Origin,
    host: &str,
    rotation: usize,
    settings: RaceSettings,
) -> Result<(Opened, OnAddress), Error> {
    let timeout = settings.connect_timeout;
    let addrs: Vec<SocketAddr> = tokio::time::timeout(timeout, dial.resolve(host, origin.port()))
        .await
        .map_err(|_| Error::with(Kind::ConnectTimeout, "DNS resolution timed out"))?
        .map_err(|e| Error::with(Kind::Dns, e))?;
    if addrs.is_empty() {
        return Err(Error::with(
            Kind::Dns,
            io::Error::new(io::ErrorKind::NotFound, "no addresses resolved"),
        ));
    }
    let plan = health.plan(host, &addrs, rotation, Instant::now());
    let n = u32::try_from(plan.len()).unwrap_or(u32::MAX);
    let bound = timeout.saturating_add(settings.attempt_delay.saturating_mul(n.saturating_sub(1)));
    match tokio::time::timeout(bound, race(dial, health, origin, plan, settings)).await {
        Ok(result) => result,
        Err(_) => Err(Error::with(
            Kind::ConnectTimeout,
            format!("no address of {host} connected within {bound:?}"),
        )),
    }
}

async fn race(
    dial: &Arc<dyn Dial>,
    health: &Arc<AddressHealth>,
    origin: &Origin,
    plan: Vec<Arc<Address>>,
    settings: RaceSettings,
) -> Result<(Opened, OnAddress), Error> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Arc<Address>, Result<Opened, Error>)>();
    let mut queue = plan.into_iter();
    let mut marks = Vec::new();
    let mut pending = 0usize;
    let mut last_err: Option<Error> = None;
    loop {
        // Every turn of the loop starts the next address: at first, after the delay, or after
        // a failure (nothing to wait for then: RFC 8305 §5).
        if let Some(address) = queue.next() {
            let attempt = address.attempt();
            marks.push(attempt.loser_mark());
            pending += 1;
            let (dial, health, origin, tx) =
                (dial.clone(), health.clone(), origin.clone(), tx.clone());
            tokio::spawn(async move {
                let result = attempt_one(&*dial, &health, &origin, &address, settings).await;
                drop(attempt);
                // A closed channel: the race is over (another address won); a stream that
                // completed anyway is dropped here, which closes it.
                let _ = tx.send((address, result));
            });
        }
        let next_at = Instant::now() + settings.attempt_delay;
        if pending == 0 {
            return Err(last_err.unwrap_or_else(|| Error::new(Kind::Connect)));
        }
        let more = queue.len() > 0;
        tokio::select! {
            biased;
            Some((address, result)) = rx.recv() => {
                pending -= 1;
                match result {
                    Ok(opened) => {
                        for mark in marks {
                            mark.lost();
                        }
                        let on = address.connection();
                        return Ok((opened, on));
                    }
                    Err(e) => last_err = Some(e),
                }
            }
            () = tokio::time::sleep_until(next_at), if more => {}
        }
    }
}

/// One attempt: TCP and TLS to `address` within the connect timeout; its outcome is recorded
/// in the address's health.
async fn attempt_one(
    dial: &dyn Dial,
    health: &AddressHealth,
    origin: &Origin,
    address: &Address,
    settings: RaceSettings,
) -> Result<Opened, Error> {
    let addr = address.addr;
    let result = match tokio::time::timeout(
        settings.connect_timeout,
        dial.dial_addr(origin, addr, settings.connect_timeout),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(Error::with(
            Kind::ConnectTimeout,
            format!("connect to {addr} timed out"),
        )),
    };
    match &result {
        Ok(_) => address.succeeded(),
        Err(e) => {
            address.connect_failed();
            tracing::debug!(%addr, error = %e, "connect attempt failed");
            if let Some(why) = address_failure(e) {
                health.failed(address, why, Instant::now());
            }
        }
    }
    result
}

/// Whether a connect error says something about the address (as opposed to the name or the
/// certificate, which every address shares).
fn address_failure(e: &Error) -> Option<Failure> {
    match e.kind() {
        Kind::ConnectTimeout => Some(Failure::TimedOut),
        Kind::Connect => Some(Failure::Refused),
        Kind::Tls => {
            let io = std::error::Error::source(e).and_then(|s| s.downcast_ref::<io::Error>())?;
            matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::BrokenPipe
            )
            .then_some(Failure::Reset)
        }
        _ => None,
    }
}
