//! Misbehaviours of the local endpoint, switchable at run time.
//!
//! Every request takes a snapshot of the [`FaultConfig`] when it arrives; idle timers re-read
//! it whenever it changes. Where a fault acts, and whether the call counts as an execution:
//!
//! | fault | acts | execution counted |
//! |---|---|---|
//! | `status` (429, 500, 502, ...) | instead of running the function | no (answered by the "front end") |
//! | `die_after_request` | request read, function started, connection closed without a response | yes |
//! | `stall` | function started, no response until the client gives up or the server stops | yes |
//! | `latency` | function started, response delayed | yes |
//! | `garbage_response`, `truncate_body`, `oversized_headers`, `trickle_headers` | on the response | yes |
//! | `idle_close`, `idle_reset` | on an idle keep-alive connection | (no request involved) |
//! | `max_requests` | `Connection: close` on the Nth response | yes |
//! | `chaos` | per request: close or reset *before* the function starts (no), stall for a bounded time (yes), die (yes) | see left |
//! | `only_next` | limits the request faults (all but `idle_*`, `max_requests`, `announce_keep_alive`) to the next N requests | — |
//!
//! The HTTP/2 faults act on HTTP/2 connections only (HTTP/1.1 connections ignore them). "Stream
//! N" counts the streams a connection accepted, from 1; the GOAWAY's last-stream-id is always
//! true — every stream at or below it was handed to the server, no stream above it was.
//!
//! | HTTP/2 fault | acts | execution counted |
//! |---|---|---|
//! | `h2_goaway_after_streams` N | graceful GOAWAY once stream N is accepted: GOAWAY(2^31-1), PING, then GOAWAY(last stream received) (RFC 9113 §6.8); streams at or below it run and are answered, then the connection closes | yes, for every stream at or below last-stream-id |
//! | `h2_close_after_streams` N | as nginx's `keepalive_requests`: streams after N are refused with `REFUSED_STREAM`; once the N are answered and sent, one GOAWAY(last stream received, `NO_ERROR`), then close; later streams are above it | yes for the N; no for refused and above |
//! | `h2_goaway_on_idle` T | graceful GOAWAY (as above) once the connection has had no open stream for T | (no stream involved) |
//! | `h2_abrupt_goaway` (N, code) | once stream N is accepted: GOAWAY(last stream received, code), then close; no open stream is answered | maybe, for streams at or below last-stream-id; never above |
//! | `h2_refuse` | chosen streams are reset with `REFUSED_STREAM` before the handler sees them | no |
//! | `h2_black_hole` | the connection goes silent: the server neither reads nor writes it (PINGs unanswered, responses held), TCP stays up; switched off, it resumes | yes, for streams that had started |
//! | `h2_reset_mid_response` | the response's headers and the first part of its body are sent, then `RST_STREAM(INTERNAL_ERROR)` | yes |
//! | `h2_max_concurrent_streams` | `SETTINGS_MAX_CONCURRENT_STREAMS` of connections accepted afterwards | (a setting) |
//!
//! [`LocalEndpoint::drain_connections`](super::LocalEndpoint::drain_connections) is not a fault
//! but a graceful restart: a graceful GOAWAY on every HTTP/2 connection, `Connection: close`
//! after the current exchange (or a close at once when idle) on every HTTP/1.1 one.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

/// How the server closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseKind {
    /// An orderly close: FIN (after a TLS `close_notify` where the fault says so).
    Fin,
    /// An abortive close: RST (`SO_LINGER` 0, then close).
    Reset,
}

/// Random per-request misbehaviour for soaks.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ChaosConfig {
    /// Probability in `[0, 1]` that a request gets one of the faults (chosen uniformly among
    /// close before running, reset before running, stall then answer, die after running).
    pub probability: f64,
    /// How long a chaos stall holds the response before answering normally.
    pub stall_for: Duration,
    /// Seed of the random generator (the same seed gives the same sequence of choices).
    pub seed: u64,
}

/// Default length of a chaos stall.
pub const DEFAULT_CHAOS_STALL: Duration = Duration::from_secs(2);

impl ChaosConfig {
    /// Chaos with the given probability, [`DEFAULT_CHAOS_STALL`] and seed 0.
    pub fn new(probability: f64) -> Self {
        ChaosConfig {
            probability: probability.clamp(0.0, 1.0),
            stall_for: DEFAULT_CHAOS_STALL,
            seed: 0,
        }
    }

    /// Sets how long a chaos stall lasts.
    pub fn stall_for(mut self, stall_for: Duration) -> Self {
        self.stall_for = stall_for;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// Which HTTP/2 streams [`FaultConfig::h2_refuse`] resets with `REFUSED_STREAM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefuseStreams {
    /// Every k-th stream of each connection (k, 2k, 3k, ...; `k` of 0 refuses none).
    EveryNth(u32),
    /// The first n streams of each connection.
    FirstPerConnection(u32),
}

impl RefuseStreams {
    /// Whether the `nth` stream (from 1) accepted on a connection is refused.
    pub(crate) fn refuses(self, nth: u64) -> bool {
        match self {
            RefuseStreams::EveryNth(0) => false,
            RefuseStreams::EveryNth(k) => nth % u64::from(k) == 0,
            RefuseStreams::FirstPerConnection(n) => nth <= u64::from(n),
        }
    }
}

/// HTTP/2 error code `INTERNAL_ERROR` (RFC 9113 §7).
pub const H2_INTERNAL_ERROR: u32 = 0x2;
/// HTTP/2 error code `ENHANCE_YOUR_CALM` (RFC 9113 §7).
pub const H2_ENHANCE_YOUR_CALM: u32 = 0xb;

/// [`FaultConfig::h2_abrupt_goaway`]: after which stream, and with which error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AbruptGoaway {
    /// The GOAWAY is sent once this many streams were accepted on the connection (0 acts as 1).
    pub after_streams: u32,
    /// The GOAWAY's error code, e.g. [`H2_INTERNAL_ERROR`] or [`H2_ENHANCE_YOUR_CALM`].
    pub code: u32,
}

impl AbruptGoaway {
    /// An abrupt GOAWAY with `code` once `after_streams` streams were accepted.
    pub fn new(after_streams: u32, code: u32) -> Self {
        AbruptGoaway {
            after_streams,
            code,
        }
    }
}

/// What chaos chose for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChaosAction {
    /// Close (FIN or RST) before the function starts: not an execution.
    CloseBeforeRun(CloseKind),
    /// Start the function, hold the response, then answer.
    Stall,
    /// Start the function, then close (FIN or RST) without a response.
    Die(CloseKind),
}

/// The full set of misbehaviours. All off by default.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct FaultConfig {
    /// Close (TLS `close_notify` + FIN) a connection idle this long after its last byte written.
    pub idle_close: Option<Duration>,
    /// Reset (RST) a connection idle this long after its last byte written.
    pub idle_reset: Option<Duration>,
    /// Close a connection after this many requests (`Connection: close` on the last).
    pub max_requests: Option<u32>,
    /// Add `Keep-Alive: timeout=N` (N = idle limit in whole seconds) to responses.
    pub announce_keep_alive: bool,
    /// Delay before responding.
    pub latency: Duration,
    /// Never respond (the connection stays open until the client or the server ends it).
    pub stall: bool,
    /// Read the request, count the execution, then close without a response.
    pub die_after_request: Option<CloseKind>,
    /// Announce a `Content-Length` larger than the body sent, then close.
    pub truncate_body: bool,
    /// Answer with bytes that are not HTTP, then close.
    pub garbage_response: bool,
    /// Add a 1 MiB response header, then close.
    pub oversized_headers: bool,
    /// Write the response head one byte per interval, then the body, then close.
    pub trickle_headers: Option<Duration>,
    /// Answer every request with this status (429, 500, 502, ...) without running the function.
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with an injected 429.
    pub retry_after: Option<u32>,
    /// Random per-request misbehaviour.
    pub chaos: Option<ChaosConfig>,
    /// HTTP/2: a graceful GOAWAY once a connection accepted this many streams (0 acts as 1).
    pub h2_goaway_after_streams: Option<u32>,
    /// HTTP/2, like nginx's `keepalive_requests`: a connection serves this many streams (0 acts
    /// as 1) and refuses later ones with `REFUSED_STREAM`; once the served ones are answered, a
    /// single GOAWAY(last stream received, `NO_ERROR`), then close. Streams that arrive after
    /// it are above its last-stream-id and not processed.
    pub h2_close_after_streams: Option<u32>,
    /// HTTP/2: a graceful GOAWAY once a connection had no open stream for this long.
    pub h2_goaway_on_idle: Option<Duration>,
    /// HTTP/2: an abrupt GOAWAY with an error code, then close (see [`AbruptGoaway`]).
    pub h2_abrupt_goaway: Option<AbruptGoaway>,
    /// HTTP/2: streams reset with `REFUSED_STREAM` before anything runs.
    pub h2_refuse: Option<RefuseStreams>,
    /// HTTP/2: every connection goes silent (neither read nor written) while this is on.
    pub h2_black_hole: bool,
    /// HTTP/2: send the response's headers and part of its body, then `RST_STREAM(INTERNAL_ERROR)`.
    pub h2_reset_mid_response: bool,
    /// HTTP/2: `SETTINGS_MAX_CONCURRENT_STREAMS` for connections accepted from now on, instead of
    /// the builder's [`h2_max_concurrent_streams`](super::LocalEndpointBuilder::h2_max_concurrent_streams).
    pub h2_max_concurrent_streams: Option<u32>,
    /// The request faults (`latency`, `stall`, `die_after_request`, `truncate_body`,
    /// `garbage_response`, `oversized_headers`, `trickle_headers`, `status`, `chaos`) act on
    /// this many requests, counted as they arrive, then switch off; `None`: on every request.
    /// (A fault, then a healthy retry: the retry finds the server well.)
    pub only_next: Option<u32>,
}

impl FaultConfig {
    /// The idle limit in force and how it closes (`idle_reset` wins over `idle_close`).
    pub(crate) fn idle_limit(&self) -> Option<(Duration, CloseKind)> {
        match (self.idle_reset, self.idle_close) {
            (Some(t), _) => Some((t, CloseKind::Reset)),
            (None, Some(t)) => Some((t, CloseKind::Fin)),
            (None, None) => None,
        }
    }

    /// Switches the request faults off (see [`only_next`](Self::only_next)).
    fn clear_request_faults(&mut self) {
        self.latency = Duration::ZERO;
        self.stall = false;
        self.die_after_request = None;
        self.truncate_body = false;
        self.garbage_response = false;
        self.oversized_headers = false;
        self.trickle_headers = None;
        self.status = None;
        self.chaos = None;
        self.only_next = None;
    }
}

/// Run-time switches for the endpoint's misbehaviours (see the module table).
///
/// Setters take effect for requests that arrive afterwards and for idle timers at once.
#[derive(Debug, Default)]
pub struct Faults {
    config: Mutex<FaultConfig>,
    rng: Mutex<Option<fastrand::Rng>>,
    changed: Notify,
}

impl Faults {
    pub(crate) fn new(config: FaultConfig) -> Self {
        let faults = Faults::default();
        faults.set(config);
        faults
    }

    /// A copy of the current configuration.
    pub fn snapshot(&self) -> FaultConfig {
        self.lock().clone()
    }

    /// Replaces the whole configuration.
    pub fn set(&self, config: FaultConfig) {
        self.update(|c| *c = config);
    }

    /// Switches every misbehaviour off.
    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// See [`FaultConfig::idle_close`]. `None` disables.
    pub fn idle_close(&self, after: impl Into<Option<Duration>>) {
        let after = after.into();
        self.update(|c| c.idle_close = after);
    }

    /// See [`FaultConfig::idle_reset`]. `None` disables.
    pub fn idle_reset(&self, after: impl Into<Option<Duration>>) {
        let after = after.into();
        self.update(|c| c.idle_reset = after);
    }

    /// See [`FaultConfig::max_requests`]. `None` disables.
    pub fn max_requests(&self, n: impl Into<Option<u32>>) {
        let n = n.into();
        self.update(|c| c.max_requests = n);
    }

    /// See [`FaultConfig::announce_keep_alive`].
    pub fn announce_keep_alive(&self, on: bool) {
        self.update(|c| c.announce_keep_alive = on);
    }

    /// See [`FaultConfig::latency`]. `Duration::ZERO` disables.
    pub fn latency(&self, latency: Duration) {
        self.update(|c| c.latency = latency);
    }

    /// See [`FaultConfig::stall`].
    pub fn stall(&self, on: bool) {
        self.update(|c| c.stall = on);
    }

    /// See [`FaultConfig::die_after_request`]. `None` disables.
    pub fn die_after_request(&self, close: impl Into<Option<CloseKind>>) {
        let close = close.into();
        self.update(|c| c.die_after_request = close);
    }

    /// See [`FaultConfig::truncate_body`].
    pub fn truncate_body(&self, on: bool) {
        self.update(|c| c.truncate_body = on);
    }

    /// See [`FaultConfig::garbage_response`].
    pub fn garbage_response(&self, on: bool) {
        self.update(|c| c.garbage_response = on);
    }

    /// See [`FaultConfig::oversized_headers`].
    pub fn oversized_headers(&self, on: bool) {
        self.update(|c| c.oversized_headers = on);
    }

    /// See [`FaultConfig::trickle_headers`]. `None` disables.
    pub fn trickle_headers(&self, interval: impl Into<Option<Duration>>) {
        let interval = interval.into();
        self.update(|c| c.trickle_headers = interval);
    }

    /// See [`FaultConfig::status`]. `None` disables.
    pub fn status(&self, status: impl Into<Option<u16>>) {
        let status = status.into();
        self.update(|c| c.status = status);
    }

    /// See [`FaultConfig::retry_after`]. `None` sends no `Retry-After`.
    pub fn retry_after(&self, secs: impl Into<Option<u32>>) {
        let secs = secs.into();
        self.update(|c| c.retry_after = secs);
    }

    /// See [`FaultConfig::chaos`]. `None` disables. Setting a config reseeds the generator.
    pub fn chaos(&self, chaos: impl Into<Option<ChaosConfig>>) {
        let chaos = chaos.into();
        self.update(|c| c.chaos = chaos);
    }

    /// See [`FaultConfig::h2_goaway_after_streams`]. `None` disables.
    pub fn h2_goaway_after_streams(&self, n: impl Into<Option<u32>>) {
        let n = n.into();
        self.update(|c| c.h2_goaway_after_streams = n);
    }

    /// See [`FaultConfig::h2_close_after_streams`]. `None` disables.
    pub fn h2_close_after_streams(&self, n: impl Into<Option<u32>>) {
        let n = n.into();
        self.update(|c| c.h2_close_after_streams = n);
    }

    /// See [`FaultConfig::h2_goaway_on_idle`]. `None` disables.
    pub fn h2_goaway_on_idle(&self, after: impl Into<Option<Duration>>) {
        let after = after.into();
        self.update(|c| c.h2_goaway_on_idle = after);
    }

    /// See [`FaultConfig::h2_abrupt_goaway`]. `None` disables.
    pub fn h2_abrupt_goaway(&self, goaway: impl Into<Option<AbruptGoaway>>) {
        let goaway = goaway.into();
        self.update(|c| c.h2_abrupt_goaway = goaway);
    }

    /// See [`FaultConfig::h2_refuse`]. `None` disables.
    pub fn h2_refuse(&self, refuse: impl Into<Option<RefuseStreams>>) {
        let refuse = refuse.into();
        self.update(|c| c.h2_refuse = refuse);
    }

    /// See [`FaultConfig::h2_black_hole`].
    pub fn h2_black_hole(&self, on: bool) {
        self.update(|c| c.h2_black_hole = on);
    }

    /// See [`FaultConfig::h2_reset_mid_response`].
    pub fn h2_reset_mid_response(&self, on: bool) {
        self.update(|c| c.h2_reset_mid_response = on);
    }

    /// See [`FaultConfig::h2_max_concurrent_streams`]. `None` goes back to the builder's value.
    pub fn h2_max_concurrent_streams(&self, n: impl Into<Option<u32>>) {
        let n = n.into();
        self.update(|c| c.h2_max_concurrent_streams = n);
    }

    /// See [`FaultConfig::only_next`]. `None`: every request.
    pub fn only_next(&self, requests: impl Into<Option<u32>>) {
        let requests = requests.into();
        self.update(|c| c.only_next = requests);
    }

    /// The configuration one arriving request acts on, spending one of
    /// [`only_next`](FaultConfig::only_next)'s requests (the last one switches the request
    /// faults off for those that follow).
    pub(crate) fn for_request(&self) -> FaultConfig {
        let mut config = self.lock();
        let mut snapshot = config.clone();
        match config.only_next {
            None => {}
            Some(0) => {
                config.clear_request_faults();
                snapshot.clear_request_faults();
            }
            Some(1) => config.clear_request_faults(),
            Some(n) => config.only_next = Some(n - 1),
        }
        snapshot
    }

    /// Draws chaos's choice for one request.
    pub(crate) fn chaos_pick(&self, chaos: &ChaosConfig) -> Option<ChaosAction> {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let rng = rng.get_or_insert_with(|| fastrand::Rng::with_seed(chaos.seed));
        if rng.f64() >= chaos.probability {
            return None;
        }
        let kind = if rng.bool() {
            CloseKind::Fin
        } else {
            CloseKind::Reset
        };
        Some(match rng.u8(0..4) {
            0 => ChaosAction::CloseBeforeRun(CloseKind::Fin),
            1 => ChaosAction::CloseBeforeRun(CloseKind::Reset),
            2 => ChaosAction::Stall,
            _ => ChaosAction::Die(kind),
        })
    }

    /// A future that completes at the next configuration change. Create it *before* reading
    /// the configuration so that no change is missed.
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    fn update(&self, f: impl FnOnce(&mut FaultConfig)) {
        {
            let mut config = self.lock();
            let old_chaos = config.chaos.clone();
            f(&mut config);
            if config.chaos != old_chaos {
                *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = config
                    .chaos
                    .as_ref()
                    .map(|c| fastrand::Rng::with_seed(c.seed));
            }
        }
        self.changed.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, FaultConfig> {
        self.config.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_reset_takes_precedence_over_idle_close() {
        let faults = Faults::default();
        faults.idle_close(Duration::from_secs(1));
        assert_eq!(
            faults.snapshot().idle_limit(),
            Some((Duration::from_secs(1), CloseKind::Fin))
        );
        faults.idle_reset(Duration::from_secs(2));
        assert_eq!(
            faults.snapshot().idle_limit(),
            Some((Duration::from_secs(2), CloseKind::Reset))
        );
        faults.clear();
        assert_eq!(faults.snapshot(), FaultConfig::default());
    }

    #[test]
    fn refuse_streams_picks_every_nth_or_the_first_n() {
        let every = RefuseStreams::EveryNth(3);
        let picked: Vec<u64> = (1..=9).filter(|n| every.refuses(*n)).collect();
        assert_eq!(picked, vec![3, 6, 9]);
        let first = RefuseStreams::FirstPerConnection(2);
        let picked: Vec<u64> = (1..=5).filter(|n| first.refuses(*n)).collect();
        assert_eq!(picked, vec![1, 2]);
        assert!(!(1..=5).any(|n| RefuseStreams::EveryNth(0).refuses(n)));
    }

    #[test]
    fn only_next_spends_the_request_faults_then_switches_them_off() {
        let faults = Faults::default();
        faults.die_after_request(CloseKind::Fin);
        faults.idle_close(Duration::from_secs(1));
        faults.only_next(2);
        assert_eq!(faults.for_request().die_after_request, Some(CloseKind::Fin));
        assert_eq!(faults.for_request().die_after_request, Some(CloseKind::Fin));
        let after = faults.for_request();
        assert_eq!(after.die_after_request, None);
        assert_eq!(
            after.idle_close,
            Some(Duration::from_secs(1)),
            "not a request fault"
        );
        faults.stall(true);
        assert!(
            faults.for_request().stall,
            "without only_next: every request"
        );
        assert!(faults.for_request().stall);
    }

    #[test]
    fn chaos_with_the_same_seed_repeats_its_choices() {
        let chaos = ChaosConfig::new(0.5).seed(7);
        let draw = || {
            let faults = Faults::default();
            faults.chaos(chaos.clone());
            (0..64)
                .map(|_| faults.chaos_pick(&chaos))
                .collect::<Vec<_>>()
        };
        let first = draw();
        assert_eq!(first, draw());
        assert!(first.iter().any(Option::is_some));
        assert!(first.iter().any(Option::is_none));
    }
}
