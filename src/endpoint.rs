//! TEMPORARY stub; replaced by the endpoint module on its branch.
#![allow(missing_docs, dead_code)]
use crate::BuildError;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint { scheme: String, host: String, port: u16, region: Option<String> }
impl Endpoint {
    pub fn url(s: &str) -> Result<Endpoint, BuildError> {
        let uri: http::Uri = s.parse().map_err(|_| BuildError::new("endpoint_url", s, "a URL"))?;
        let scheme = uri.scheme_str().unwrap_or("https").to_owned();
        let host = uri.host().unwrap_or("").to_owned();
        let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
        Ok(Endpoint { scheme, host, port, region: None })
    }
    pub fn private_dns(region: &str) -> Result<Endpoint, BuildError> {
        Ok(Endpoint { scheme: "https".into(), host: format!("lambda.{region}.amazonaws.com"), port: 443, region: Some(region.into()) })
    }
    pub fn from_env() -> Option<Result<Endpoint, BuildError>> { None }
    pub fn scheme(&self) -> &str { &self.scheme }
    pub fn port(&self) -> u16 { self.port }
    pub fn connect_host(&self) -> &str { &self.host }
    pub fn fallback_connect_host(&self) -> Option<&str> { None }
    pub fn sni(&self) -> &str { &self.host }
    pub fn signing_host(&self) -> String { if self.port == 443 { self.host.clone() } else { format!("{}:{}", self.host, self.port) } }
    pub fn region(&self) -> Option<&str> { self.region.as_deref() }
    pub fn endpoint_url_string(&self) -> String { format!("{}://{}", self.scheme, self.signing_host()) }
}
