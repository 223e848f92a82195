//! Credentials for the lean path: loaded from a provider, cached, refreshed before they expire,
//! each with its cached SigV4 signing key. Never logged.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use http::HeaderValue;

use crate::error::{Error, Kind};
use crate::sign::{self, AmzDate};

/// Credentials are refreshed this long before their expiry (the SDK's identity cache uses the
/// same lead time), so no request is signed with credentials about to lapse in flight.
pub(crate) const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// After a failed refresh while the cached credentials are still valid, the provider is asked
/// again no sooner than this; until then the cached ones are used.
pub(crate) const REFRESH_RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// One set of credentials with what signing needs from them.
pub(crate) struct Identity {
    credentials: Credentials,
    /// `x-amz-security-token`, marked sensitive, built once.
    token: Option<HeaderValue>,
    refresh_after: Option<SystemTime>,
    expires: Option<SystemTime>,
    /// The signing key of the last date signed for, and an HMAC keyed with it.
    key: Mutex<Option<DayKey>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("session_token", &self.token.is_some())
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl Identity {
    pub(crate) fn new(credentials: Credentials, now: SystemTime) -> Result<Identity, Error> {
        let token = match credentials.session_token() {
            Some(t) => {
                let mut v = HeaderValue::from_str(t).map_err(|_| {
                    Error::with(
                        Kind::Credentials,
                        "the session token is not a valid header value",
                    )
                })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let expires = credentials.expiry();
        let refresh_after = expires.map(|exp| match exp.checked_sub(REFRESH_BEFORE_EXPIRY) {
            Some(early) if early > now => early,
            // Short-lived credentials: refresh halfway to their expiry.
            _ => now + exp.duration_since(now).unwrap_or_default() / 2,
        });
        Ok(Identity {
            credentials,
            token,
            refresh_after,
            expires,
            key: Mutex::new(None),
        })
    }

    fn with_refresh_after(&self, at: SystemTime) -> Identity {
        Identity {
            credentials: self.credentials.clone(),
            token: self.token.clone(),
            refresh_after: Some(at),
            expires: self.expires,
            key: Mutex::new(self.key.lock().unwrap_or_else(|p| p.into_inner()).clone()),
        }
    }

    pub(crate) fn access_key_id(&self) -> &str {
        self.credentials.access_key_id()
    }

    pub(crate) fn session_token(&self) -> Option<&HeaderValue> {
        self.token.as_ref()
    }

    fn needs_refresh(&self, now: SystemTime) -> bool {
        self.refresh_after.is_some_and(|r| now >= r)
    }

    fn expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }

    /// An HMAC keyed with the signing key for `date` (derived at most once per date), for
    /// `region` and Lambda: each call clones it instead of hashing the key's two pads again.
    pub(crate) fn signing_mac(
        &self,
        date: &AmzDate,
        time: SystemTime,
        region: &str,
    ) -> sign::SigningMac {
        self.day_key(date, time, region).mac
    }

    fn day_key(&self, date: &AmzDate, time: SystemTime, region: &str) -> DayKey {
        let day = date.date();
        let mut cached = self.key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = cached.as_ref().filter(|k| k.day == day) {
            return k.clone();
        }
        let key = sign::signing_key(self.credentials.secret_access_key(), time, region);
        let k = DayKey {
            day,
            mac: sign::keyed_mac(&key),
        };
        *cached = Some(k.clone());
        k
    }
}

/// An HMAC keyed with one date's signing key.
#[derive(Clone)]
struct DayKey {
    day: [u8; 8],
    mac: sign::SigningMac,
}

/// A provider's credentials, cached until [`REFRESH_BEFORE_EXPIRY`] before they expire.
///
/// One refresh at a time: concurrent callers wait for it (a tokio mutex taken only on refresh),
/// then share its result. The signing key is cached per identity, so one invoker (one region)
/// derives it once a day.
pub(crate) struct CredentialsCache {
    provider: SharedCredentialsProvider,
    current: RwLock<Option<Arc<Identity>>>,
    refresh: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsCache")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl CredentialsCache {
    pub(crate) fn new(provider: SharedCredentialsProvider) -> Self {
        CredentialsCache {
            provider,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    fn cached(&self) -> Option<Arc<Identity>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn store(&self, id: Arc<Identity>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(id);
    }

    /// The cached credentials, if they need no refresh at `now`: every call's fast path.
    pub(crate) fn fresh(&self, now: SystemTime) -> Option<Arc<Identity>> {
        self.cached()
            .filter(|id| !id.needs_refresh(now) && !id.expired(now))
    }

    /// Credentials valid at `now`, from the cache or from the provider.
    pub(crate) async fn get(&self, now: SystemTime) -> Result<Arc<Identity>, Error> {
        if let Some(id) = self.fresh(now) {
            return Ok(id);
        }
        let _refreshing = self.refresh.lock().await;
        let cached = self.cached();
        if let Some(id) = &cached {
            if !id.needs_refresh(now) && !id.expired(now) {
                return Ok(id.clone());
            }
        }
        match self.provider.provide_credentials().await {
            Ok(credentials) => {
                let id = Arc::new(Identity::new(credentials, now)?);
                if id.expired(now) {
                    return Err(Error::with(
                        Kind::Credentials,
                        "the provider returned expired credentials",
                    ));
                }
                self.store(id.clone());
                Ok(id)
            }
            Err(e) => match cached {
                Some(id) if !id.expired(now) => {
                    tracing::warn!(
                        error = %e,
                        "refreshing credentials failed; using the cached ones until they expire"
                    );
                    let id = Arc::new(id.with_refresh_after(now + REFRESH_RETRY_INTERVAL));
                    self.store(id.clone());
                    Ok(id)
                }
                _ => Err(Error::with(Kind::Credentials, e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    use aws_credential_types::provider::{error::CredentialsError, future};

    /// Hands out numbered credentials expiring `ttl` after `base`, counting calls; fails when
    /// `fail` is set.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        expiry: Option<SystemTime>,
        fail: Arc<std::sync::atomic::AtomicBool>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                return future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
                    "test provider is down",
                )));
            }
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                Some("token".into()),
                self.expiry,
                "test",
            )))
        }
    }

    fn cache(
        expiry: Option<SystemTime>,
    ) -> (
        CredentialsCache,
        Arc<AtomicUsize>,
        Arc<std::sync::atomic::AtomicBool>,
    ) {
        let calls = Arc::new(AtomicUsize::new(0));
        let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let provider = Counting {
            calls: calls.clone(),
            expiry,
            fail: fail.clone(),
        };
        (
            CredentialsCache::new(SharedCredentialsProvider::new(provider)),
            calls,
            fail,
        )
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[tokio::test]
    async fn credentials_are_loaded_once_and_reused_until_five_minutes_before_expiry() {
        let expiry = at(10_000);
        let (cache, calls, _) = cache(Some(expiry));
        let first = cache.get(at(1_000)).await.expect("loaded");
        let again = cache.get(at(9_699)).await.expect("cached");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(Arc::ptr_eq(&first, &again));
        let refreshed = cache.get(at(9_700)).await.expect("refreshed");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(refreshed.access_key_id(), "AKID1");
    }

    #[tokio::test]
    async fn credentials_without_expiry_are_never_refreshed() {
        let (cache, calls, _) = cache(None);
        cache.get(at(1)).await.expect("loaded");
        cache.get(at(100_000_000)).await.expect("cached");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_valid_credentials_and_waits_before_asking_again() {
        let (cache, calls, fail) = cache(Some(at(10_000)));
        cache.get(at(1_000)).await.expect("loaded");
        fail.store(true, Ordering::SeqCst);
        let kept = cache.get(at(9_800)).await.expect("still valid");
        assert_eq!(kept.access_key_id(), "AKID0");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        cache.get(at(9_805)).await.expect("still valid");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "no new attempt within the retry interval"
        );
        let err = cache
            .get(at(10_000))
            .await
            .expect_err("expired and no refresh");
        assert!(err.is_credentials() && err.is_not_sent());
    }

    #[test]
    fn the_signing_key_is_derived_once_per_date() {
        let id = Identity::new(Credentials::new("AKID", "secret", None, None, "t"), at(0))
            .expect("identity");
        // A MAC is known by what it makes of a message.
        let tag = |mac: sign::SigningMac| {
            use hmac::Mac as _;
            mac.chain_update(b"string to sign").finalize().into_bytes()
        };
        let expected = |t| {
            tag(sign::keyed_mac(&sign::signing_key(
                "secret",
                t,
                "us-east-1",
            )))
        };
        let t1 = at(1_700_000_000);
        let d1 = AmzDate::new(t1).expect("date");
        let k1 = tag(id.signing_mac(&d1, t1, "us-east-1"));
        assert_eq!(k1, expected(t1));
        assert_eq!(tag(id.signing_mac(&d1, t1, "us-east-1")), k1, "cached");
        let t2 = t1 + Duration::from_secs(86_400);
        let d2 = AmzDate::new(t2).expect("date");
        let k2 = tag(id.signing_mac(&d2, t2, "us-east-1"));
        assert_ne!(k1, k2);
        assert_eq!(k2, expected(t2));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let id = Identity::new(
            Credentials::new(
                "AKIDSECRETLOOKING",
                "wJalrXUt",
                Some("tok3n".into()),
                None,
                "t",
            ),
            at(0),
        )
        .expect("identity");
        let dbg = format!("{id:?}");
        assert!(!dbg.contains("wJalrXUt") && !dbg.contains("tok3n") && !dbg.contains("AKIDSECRET"));
    }
}
