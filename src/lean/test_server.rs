//! Test fakes: a tiny plain-HTTP server on 127.0.0.1 that records every request and answers
//! with a canned response, and a SigV4 checker built on the tests' reference signer (`aws_sigv4::http_request::sign()`).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::reference_sigv4::ReferenceSigner;
use crate::wire::header;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(super) struct Recorded {
    pub(super) method: String,
    /// Path and query, as sent.
    pub(super) path: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

type Responder = dyn Fn(&Recorded, usize) -> http::Response<Full<Bytes>> + Send + Sync;

/// A server on 127.0.0.1:0; stops when dropped.
pub(super) struct TestServer {
    pub(super) url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Starts a server answering request number `n` (from 0) with `respond(&request, n)`.
    pub(super) async fn start(
        respond: impl Fn(&Recorded, usize) -> http::Response<Full<Bytes>> + Send + Sync + 'static,
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let recorded: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let respond: Arc<Responder> = Arc::new(respond);
        let rec = recorded.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let rec = rec.clone();
                let respond = respond.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req: http::Request<Incoming>| {
                            let rec = rec.clone();
                            let respond = respond.clone();
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|c| c.to_bytes())
                                    .unwrap_or_default();
                                let r = Recorded {
                                    method: parts.method.to_string(),
                                    path: parts
                                        .uri
                                        .path_and_query()
                                        .map(|p| p.as_str().to_owned())
                                        .unwrap_or_default(),
                                    headers: parts.headers,
                                    body,
                                };
                                let n = {
                                    let mut all = rec.lock().expect("lock");
                                    all.push(r.clone());
                                    all.len() - 1
                                };
                                Ok::<_, Infallible>(respond(&r, n))
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TestServer {
            url: format!("http://{addr}"),
            recorded,
            task,
        }
    }

    /// Every request received so far.
    pub(super) fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().expect("lock").clone()
    }
}

/// A response with `status`, `headers` and `body`.
pub(super) fn response(
    status: u16,
    headers: &[(&str, &str)],
    body: &'static str,
) -> http::Response<Full<Bytes>> {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("response")
}

/// The `Authorization` value the reference signer (`aws_sigv4::http_request::sign()` with
/// default settings, what the SDK uses for Lambda) computes for a POST with `headers` (not
/// the ones `sign()` adds itself: `authorization`, `x-amz-date`, `x-amz-security-token`).
pub(super) fn sigv4_authorization(
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    credentials: &Credentials,
    region: &str,
    time: SystemTime,
) -> String {
    ReferenceSigner::new(credentials.clone(), region)
        .at(time)
        .authorization("POST", uri, headers.iter().copied(), body)
}

/// Parses `x-amz-date` (`YYYYMMDDTHHMMSSZ`).
pub(super) fn parse_amz_date(s: &str) -> SystemTime {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, &fmt)
        .expect(header::AMZ_DATE)
        .assume_utc()
        .into()
}

/// Checks a recorded request's SigV4 signature as Lambda would: recomputes it with aws-sigv4
/// from the signed headers and the body, and compares.
pub(super) fn verify_signature(r: &Recorded, credentials: &Credentials, region: &str) -> bool {
    let Some(auth) = r.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(signed) = auth
        .split(", ")
        .find_map(|p| p.strip_prefix("SignedHeaders="))
    else {
        return false;
    };
    let Some(date) = r
        .headers
        .get(header::AMZ_DATE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let headers: Vec<(&str, &str)> = signed
        .split(';')
        .filter(|n| !matches!(*n, header::AMZ_DATE | header::SECURITY_TOKEN))
        .filter_map(|n| Some((n, r.headers.get(n)?.to_str().ok()?)))
        .collect();
    let host = r
        .headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let expected = sigv4_authorization(
        &format!("http://{host}{}", r.path),
        &headers,
        &r.body,
        credentials,
        region,
        parse_amz_date(date),
    );
    expected == auth
}
