//! Configuration of a [`LocalEndpoint`] before it starts.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use super::faults::{FaultConfig, Faults};
use super::functions::{FunctionSpec, Registry};
use super::server::{Config, LocalEndpoint};
use super::tls;

/// Default region requests must be signed for.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default access key id the endpoint accepts (a fixed test credential, not a secret).
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIDLOCALLAMBDAVPCE";
/// Default secret access key the endpoint verifies with (a fixed test credential).
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "local-lambda-vpce-secret-access-key";

/// Builds a [`LocalEndpoint`].
///
/// Defaults: HTTPS, `127.0.0.1` on an ephemeral port, region [`DEFAULT_REGION`], credentials
/// [`DEFAULT_ACCESS_KEY_ID`]/[`DEFAULT_SECRET_ACCESS_KEY`], signatures verified, the
/// functions of [`FunctionSpec::defaults`], no faults.
#[derive(Debug)]
pub struct LocalEndpointBuilder {
    region: String,
    access_key_id: String,
    secret_access_key: String,
    addr: SocketAddr,
    plain_http: bool,
    verify_signatures: bool,
    functions: Vec<FunctionSpec>,
    faults: FaultConfig,
}

impl Default for LocalEndpointBuilder {
    fn default() -> Self {
        LocalEndpointBuilder {
            region: DEFAULT_REGION.to_owned(),
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
            secret_access_key: DEFAULT_SECRET_ACCESS_KEY.to_owned(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            plain_http: false,
            verify_signatures: true,
            functions: FunctionSpec::defaults(),
            faults: FaultConfig::default(),
        }
    }
}

impl LocalEndpointBuilder {
    /// The region requests must be signed for. Default: [`DEFAULT_REGION`].
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The only credentials accepted. Default: [`DEFAULT_ACCESS_KEY_ID`] and
    /// [`DEFAULT_SECRET_ACCESS_KEY`]. Any session token is accepted with them.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.access_key_id = access_key_id.into();
        self.secret_access_key = secret_access_key.into();
        self
    }

    /// Listens on this port of `127.0.0.1`. Default: 0 (an ephemeral port).
    pub fn port(mut self, port: u16) -> Self {
        self.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self
    }

    /// Listens on this address, which may be non-loopback (explicitly asked for).
    /// Default: `127.0.0.1:0`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Serves plain HTTP instead of HTTPS; only allowed on a loopback address. Default: off.
    pub fn plain_http(mut self, on: bool) -> Self {
        self.plain_http = on;
        self
    }

    /// Whether SigV4 signatures are verified. Turn off only for clients that cannot sign
    /// (wrk, curl). Default: on.
    pub fn verify_signatures(mut self, on: bool) -> Self {
        self.verify_signatures = on;
        self
    }

    /// Adds (or replaces, by name) a function.
    pub fn function(mut self, spec: FunctionSpec) -> Self {
        self.functions.retain(|f| f.name != spec.name);
        self.functions.push(spec);
        self
    }

    /// Removes every function (the defaults included).
    pub fn no_functions(mut self) -> Self {
        self.functions.clear();
        self
    }

    /// The misbehaviours in force from the start. Default: none.
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Binds and starts serving. Must be called inside a tokio runtime.
    pub async fn start(self) -> io::Result<LocalEndpoint> {
        if self.plain_http && !self.addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "plain HTTP is only served on a loopback address, not {}",
                    self.addr.ip()
                ),
            ));
        }
        let tls = if self.plain_http {
            None
        } else {
            Some(tls::make()?)
        };
        LocalEndpoint::launch(Config {
            addr: self.addr,
            tls,
            registry: Registry::new(&self.region, self.functions),
            region: self.region,
            access_key_id: self.access_key_id,
            secret_access_key: self.secret_access_key,
            verify_signatures: self.verify_signatures,
            faults: Faults::new(self.faults),
        })
        .await
    }
}
