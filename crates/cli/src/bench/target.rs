//! Where the benchmark sends calls: the embedded endpoint it starts, or an endpoint named by
//! the shared endpoint flags (credentials and region then come from the standard chain).

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use lambda_vpce::local::{FaultConfig, LocalEndpoint, LONG_RUN_CALL_LEDGER_LIMIT};
use lambda_vpce::{endpoint::Endpoint, endpoint::EndpointKind};

use lambda_vpce_bench::pin::{self, CpuList};

use crate::common::{CmdError, EndpointArgs};

/// The embedded endpoint's misbehaviours the bench can switch on.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServerKnobs {
    /// Close idle keep-alive connections after this many milliseconds.
    pub(crate) idle_close_ms: Option<u64>,
    /// Close a connection after this many requests.
    pub(crate) max_requests: Option<u32>,
    /// Delay every invoke response by this many milliseconds.
    pub(crate) latency_ms: Option<u64>,
}

impl ServerKnobs {
    /// The fault configuration these knobs describe.
    pub(crate) fn fault_config(self) -> FaultConfig {
        let mut f = FaultConfig::default();
        f.idle_close = self.idle_close_ms.map(std::time::Duration::from_millis);
        f.max_requests = self.max_requests;
        f.latency = std::time::Duration::from_millis(self.latency_ms.unwrap_or(0));
        f
    }

    /// True when any knob is set.
    pub(crate) fn any(self) -> bool {
        self.idle_close_ms.is_some() || self.max_requests.is_some() || self.latency_ms.is_some()
    }

    /// True when these knobs leave the endpoint free to offer `h2` in ALPN: no fault of
    /// HTTP/1 only is on.
    pub(crate) fn allow_http2(self) -> bool {
        self.idle_close_ms.is_none() && self.max_requests.is_none()
    }
}

/// The resolved target of a run.
#[derive(Debug)]
pub(crate) struct Target {
    /// The endpoint every client calls.
    pub(crate) endpoint: Endpoint,
    /// The URL given to the SDK clients that do their own connecting (for a connect-only
    /// endpoint, the VPCE name it connects to).
    pub(crate) url: String,
    /// Extra CA certificates to trust (the embedded endpoint's throwaway CA, or --ca-cert).
    pub(crate) ca_pem: Option<Vec<u8>>,
    /// The region requests are signed for.
    pub(crate) region: String,
    /// Credentials for the embedded endpoint, or the chain's at start (raw-hyper pre-signs
    /// with them once; every other client of an external endpoint uses the chain itself).
    pub(crate) credentials: Credentials,
    /// The loaded SDK configuration when the endpoint is external (None for the embedded one).
    pub(crate) sdk_config: Option<SdkConfig>,
    /// The embedded endpoint, when the run started one.
    pub(crate) local: Option<Arc<LocalEndpoint>>,
    /// The CPUs the embedded endpoint's threads run on, when `--server-cpus` pinned them.
    pub(crate) server_cpus: Option<Vec<usize>>,
}

impl Target {
    /// Starts the embedded endpoint with `knobs`, offering `h2` in ALPN when `http2`, on a
    /// runtime of its own with `threads` workers (0: on the bench's runtime), pinned to `cpus`
    /// when given (refused unless every thread it started runs on exactly those CPUs). The
    /// endpoint builds its runtime in the first poll of its start, whose workers inherit the
    /// calling thread's CPUs: [`pin::first_poll_pinned`] pins this thread for that poll only.
    pub(crate) async fn embedded(
        knobs: ServerKnobs,
        http2: bool,
        threads: usize,
        cpus: Option<CpuList>,
    ) -> Result<Target, CmdError> {
        let builder = LocalEndpoint::builder()
            .http2(http2)
            .worker_threads(threads)
            .call_ledger_limit(LONG_RUN_CALL_LEDGER_LIMIT)
            .faults(knobs.fault_config());
        let (local, server_cpus) = match &cpus {
            Some(list) => {
                let before = pin::threads()?;
                let local = pin::first_poll_pinned(list, builder.start()).await?;
                let local =
                    local.map_err(|e| format!("cannot start the embedded endpoint: {e}"))?;
                let pinned = pin::verify_new_threads(&before, "", list)
                    .map_err(|e| format!("the embedded endpoint's threads: {e}"))?;
                (local, Some(pinned))
            }
            None => (
                builder
                    .start()
                    .await
                    .map_err(|e| format!("cannot start the embedded endpoint: {e}"))?,
                None,
            ),
        };
        let url = local.url();
        let endpoint = Endpoint::from_url(&url)?;
        Ok(Target {
            endpoint,
            url,
            ca_pem: Some(local.ca_pem().as_bytes().to_vec()),
            region: local.region().to_owned(),
            credentials: local.credentials(),
            sdk_config: None,
            local: Some(Arc::new(local)),
            server_cpus,
        })
    }

    /// The endpoint the flags and the AWS configuration name (chosen by the library, as for
    /// `invoke` and `doctor`), with region and credentials from the standard chain.
    pub(crate) async fn external(args: &EndpointArgs) -> Result<Target, CmdError> {
        let known = match &args.region {
            Some(r) => Some(r.clone()),
            None => args.endpoint()?.and_then(|e| e.region().map(str::to_owned)),
        };
        let sdk_config = match &known {
            Some(region) => lambda_vpce::load_sdk_config_for_region(region.clone()).await,
            None => lambda_vpce::load_sdk_config().await,
        };
        let lambda = crate::common::lambda_builder(args, lambda_vpce::pool::PoolBuilder::new())
            .await?
            .sdk_config(&sdk_config)
            .build_sync()?;
        let endpoint = lambda.endpoint().clone();
        let ca_pem = crate::common::trusted_pem(args, &lambda)?;
        let region = lambda
            .settings()
            .region()
            .map(|r| r.value().clone())
            .or_else(|| endpoint.region().map(str::to_owned))
            .ok_or("no region: pass --region or set AWS_REGION")?;
        let provider = sdk_config
            .credentials_provider()
            .ok_or("no credentials provider in the standard chain")?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| format!("cannot load credentials: {e}"))?;
        // The SDK's own clients cannot connect to one name and sign for another: with
        // --connect-only they use the VPCE name as their endpoint URL (signed for it, which
        // Lambda's VPC endpoints accept), so every client takes the same network path.
        let url = match endpoint.kind() {
            EndpointKind::VpceConnectOnly => {
                format!("{}://{}", endpoint.scheme(), endpoint.connect_host())
            }
            _ => endpoint.url(),
        };
        Ok(Target {
            url,
            endpoint,
            ca_pem,
            region,
            credentials,
            sdk_config: Some(sdk_config),
            local: None,
            server_cpus: None,
        })
    }

    /// Connections the embedded endpoint has accepted so far (None for an external endpoint).
    pub(crate) fn server_connections(&self) -> Option<u64> {
        self.local.as_ref().map(|l| l.stats().connections_accepted)
    }

    /// TLS handshakes the embedded endpoint has seen so far (None for an external endpoint).
    pub(crate) fn server_tls_handshakes(&self) -> Option<u64> {
        self.local.as_ref().map(|l| l.stats().tls_handshakes)
    }

    /// The key-exchange groups the embedded endpoint negotiated in the handshakes after the
    /// first `before` ([`server_tls_handshakes`](Self::server_tls_handshakes)), sorted and
    /// `+`-joined; None when it saw none (plain HTTP, an external endpoint).
    pub(crate) fn server_tls_groups_since(&self, before: u64) -> Option<String> {
        let local = self.local.as_ref()?;
        let new = local.stats().tls_handshakes.saturating_sub(before);
        let groups: std::collections::BTreeSet<String> = local
            .tls_handshakes()
            .into_iter()
            .rev()
            .take(usize::try_from(new).unwrap_or(usize::MAX))
            .filter_map(|h| h.key_exchange_group)
            .collect();
        (!groups.is_empty()).then(|| groups.into_iter().collect::<Vec<_>>().join("+"))
    }

    /// Connections the embedded endpoint has accepted so far and how many of them ALPN made
    /// HTTP/2 (None for an external endpoint).
    pub(crate) fn server_versions(&self) -> Option<(u64, u64)> {
        self.local.as_ref().map(|l| {
            let s = l.stats();
            (s.connections_accepted, s.http2_connections)
        })
    }
}
