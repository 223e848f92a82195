//! Establishing a connection: the zonal or regional name, the transport (`connect`: DNS, TCP,
//! TLS with ALPN), the HTTP/1.1 or HTTP/2 handshake (HTTP/2's settings and PINGs are in
//! `h2::connection`), and the task that drives it.

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::config::{ZONAL_FAILURES_BEFORE_FALLBACK, ZONAL_FALLBACK_COOLDOWN};
use super::h1::H1Conn;
use super::h2::{handshake, H2Conn};
use super::origin_pool::{Ended, OriginPool};
use super::stats::Counters;
use crate::connect::{OnAddress, Opened, RaceSettings};
use crate::error::{Error, Kind};
use crate::protocol::Protocol;

/// A new connection, before it is put in service.
pub(super) enum Established {
    H1(H1Conn),
    H2(H2Conn),
}

impl OriginPool {
    /// Opens a connection with `permit`: zonal name first — a failure there tries the regional
    /// name at once, and after [`ZONAL_FAILURES_BEFORE_FALLBACK`] in a row the regional name is
    /// used alone for [`ZONAL_FALLBACK_COOLDOWN`] — then the name's addresses raced by health
    /// and load, TLS, and the HTTP handshake. An HTTP/2 connection is returned once the server's
    /// SETTINGS arrived, so that its stream limit is known before the first stream.
    pub(super) async fn open(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        timeout: Duration,
    ) -> Result<Established, Error> {
        let (opened, address) = self.dial(timeout).await?;
        let remote = opened.remote;
        let id = self.shared.next_id.fetch_add(1, Relaxed);
        let weak: Weak<OriginPool> = Arc::downgrade(self);
        let h2 = match self.shared.config.tls.protocol {
            Protocol::Http1 => false,
            Protocol::Auto => opened.h2,
            Protocol::Http2 if self.origin.is_https() && !opened.h2 => {
                return Err(Error::with(
                    Kind::Tls,
                    "the server did not choose HTTP/2 in ALPN (the pool speaks only HTTP/2)",
                ));
            }
            Protocol::Http2 => true,
        };
        let conn = if h2 {
            let h2 = &self.shared.config.h2;
            let (tx, peer, driver) = handshake(opened.stream, h2).await?;
            drive(driver.run(), weak, id);
            tokio::time::timeout(timeout, peer.wait_for_settings())
                .await
                .map_err(|_| {
                    Error::with(Kind::ConnectTimeout, "no HTTP/2 SETTINGS from the server")
                })?;
            let cap = h2.max_streams_per_connection;
            Established::H2(H2Conn::new(
                id,
                tx,
                remote,
                peer,
                cap,
                self.counters.clone(),
                address,
                permit,
            ))
        } else {
            let (tx, connection) = hyper::client::conn::http1::Builder::new()
                .handshake(TokioIo::new(opened.stream))
                .await
                .map_err(|e| Error::with(Kind::Connect, e))?;
            drive(run_h1(connection, id), weak, id);
            let now = Instant::now();
            Established::H1(H1Conn {
                id,
                tx,
                remote,
                probe: opened.probe,
                created: now,
                idle_since: now,
                requests: 0,
                remaining: None,
                close_reason: None,
                counters: self.counters.clone(),
                address,
                _permit: permit,
            })
        };
        Counters::bump(&self.counters.opened);
        tracing::debug!(connection_id = id, remote = %remote, http2 = h2, "connection opened");
        Ok(conn)
    }

    /// The transport to the zonal name, falling back to the regional one (see [`Self::open`]):
    /// the addresses of the name raced ([`crate::connect::connect`]).
    async fn dial(&self, timeout: Duration) -> Result<(Opened, OnAddress), Error> {
        let rotation = self.rotation.fetch_add(1, Relaxed);
        let settings = RaceSettings {
            connect_timeout: timeout,
            attempt_delay: self.shared.config.connect_attempt_delay,
        };
        let race = |name: &str| {
            let name = name.to_owned();
            async move {
                crate::connect::connect(
                    &self.shared.connector,
                    &self.shared.health,
                    &self.origin,
                    &name,
                    rotation,
                    settings,
                )
                .await
            }
        };
        let use_fallback = self.origin.fallback.is_some() && self.on_fallback(Instant::now());
        let name = if use_fallback {
            self.origin.fallback.as_deref().unwrap_or(&self.origin.host)
        } else {
            &self.origin.host
        };
        match race(name).await {
            Ok(o) => {
                if !use_fallback {
                    self.lock().zonal_failures = 0;
                }
                Ok(o)
            }
            Err(e) => {
                Counters::bump(&self.counters.connect_failures);
                let fallback = match &self.origin.fallback {
                    Some(f) if !use_fallback => f.clone(),
                    _ => return Err(e),
                };
                // This request was never sent: try the regional name for it at once. After
                // enough consecutive zonal failures, new connections skip the zonal name for a
                // cool-down.
                if self.zonal_failed(Instant::now()) {
                    tracing::warn!(zonal = %self.origin.host, regional = %fallback, "zonal endpoint keeps failing; using the regional name for a while");
                }
                race(&fallback).await.inspect_err(|_| {
                    Counters::bump(&self.counters.connect_failures);
                })
            }
        }
    }

    fn on_fallback(&self, now: Instant) -> bool {
        let mut st = self.lock();
        match st.fallback_until {
            Some(until) if now < until => true,
            Some(_) => {
                st.fallback_until = None;
                false
            }
            None => false,
        }
    }

    /// Counts a zonal connect failure; true when the fallback starts now.
    fn zonal_failed(&self, now: Instant) -> bool {
        let mut st = self.lock();
        st.zonal_failures += 1;
        if st.zonal_failures >= ZONAL_FAILURES_BEFORE_FALLBACK {
            st.zonal_failures = 0;
            st.fallback_until = Some(now + ZONAL_FALLBACK_COOLDOWN);
            true
        } else {
            false
        }
    }
}

/// Runs connection `id`'s future in its own task; when it ends, tells the origin (if the pool
/// is still there) so that a connection the server closed or sent away leaves service, and an
/// idle one's idle time is learned from.
fn drive(
    connection: impl Future<Output = Ended> + Send + 'static,
    pool: Weak<OriginPool>,
    id: u64,
) {
    tokio::spawn(async move {
        let ended = connection.await;
        if let Some(pool) = pool.upgrade() {
            pool.on_connection_ended(id, ended);
        }
    });
}

async fn run_h1(connection: impl Future<Output = hyper::Result<()>>, id: u64) -> Ended {
    match connection.await {
        Ok(()) => Ended::Closed,
        Err(e) => {
            tracing::debug!(connection_id = id, error = %e, "connection ended with an error");
            Ended::Error
        }
    }
}
