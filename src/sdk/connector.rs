//! The pool as the AWS SDK's HTTP client: `HttpClient` → `HttpConnector` → [`Pool::send`].

use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

use crate::pool::{deadline_after, Pool, RequestOptions};
use crate::Error;

/// An [`HttpClient`] for the AWS SDK backed by a [`Pool`].
///
/// It honours the SDK's `HttpConnectorSettings`: `connect_timeout` for connects a call starts,
/// `read_timeout` as the call's deadline (default [`DEFAULT_RESPONSE_TIMEOUT`](crate::pool::DEFAULT_RESPONSE_TIMEOUT)).
#[derive(Debug, Clone)]
pub struct PoolHttpClient {
    pool: Pool,
    response_timeout: Duration,
}

impl PoolHttpClient {
    /// Wraps `pool`; `response_timeout` applies when the SDK sets no read timeout.
    pub fn new(pool: Pool, response_timeout: Duration) -> Self {
        PoolHttpClient {
            pool,
            response_timeout,
        }
    }
}

impl HttpClient for PoolHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PoolConnector {
            pool: self.pool.clone(),
            connect_timeout: settings.connect_timeout(),
            response_timeout: settings.read_timeout().unwrap_or(self.response_timeout),
        })
    }
}

#[derive(Debug, Clone)]
struct PoolConnector {
    pool: Pool,
    connect_timeout: Option<Duration>,
    response_timeout: Duration,
}

/// Attached to every response (and every sent-request error) so the retry classifier knows
/// whether the request may safely be repeated: the classifier runs after the orchestrator has
/// handed the request to the connector, so what it needs of the request's headers is read here.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestFacts {
    pub(crate) idempotent: bool,
    /// The request carries `X-Amz-Durable-Execution-Name`: Lambda deduplicates it by name and
    /// payload, so a resend cannot start a second execution.
    pub(crate) durable_named: bool,
}

/// A failure of a request, with whether its method is idempotent (RFC 9110 §9.2.2).
#[derive(Debug)]
pub(crate) struct CallError {
    pub(crate) facts: RequestFacts,
    pub(crate) error: Error,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.facts.idempotent {
            "idempotent request failed"
        } else {
            "request failed"
        })
    }
}

impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl HttpConnector for PoolConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let pool = self.pool.clone();
        let opts = RequestOptions {
            deadline: deadline_after(self.response_timeout),
            connect_timeout: self.connect_timeout,
        };
        // The attempt's request reached the pool: from here on, a failure is the pool's to
        // classify (see `attempt`).
        super::attempt::Witness::reached_pool(&request);
        HttpConnectorFuture::new(async move {
            let request = request.try_into_http1x().map_err(|e| {
                ConnectorError::user(Box::new(Error::with(crate::error::Kind::InvalidInput, e)))
            })?;
            let facts = RequestFacts {
                idempotent: matches!(
                    *request.method(),
                    http::Method::GET
                        | http::Method::HEAD
                        | http::Method::PUT
                        | http::Method::DELETE
                        | http::Method::OPTIONS
                ),
                durable_named: request
                    .headers()
                    .contains_key(crate::wire::header::DURABLE_EXECUTION_NAME),
            };
            match pool.send_with(request, opts).await {
                Ok(response) => {
                    let info = response.body().connection_info();
                    let mut response = HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                        .map_err(|e| ConnectorError::other(Box::new(e), None))?;
                    response.add_extension(facts);
                    // Which connection carried it, for interceptors (bench reads the version).
                    response.add_extension(info);
                    Ok(response)
                }
                Err(error) => Err(to_connector_error(CallError { facts, error })),
            }
        })
    }
}

fn to_connector_error(e: CallError) -> ConnectorError {
    let error = &e.error;
    if error.is_invalid_input() {
        ConnectorError::user(Box::new(e))
    } else if error.is_timeout() {
        ConnectorError::timeout(Box::new(e))
    } else if error.is_pool_exhausted() || error.is_closed() {
        ConnectorError::other(Box::new(e), None)
    } else {
        // Connect failures (not sent) and failures after sending both look like I/O to the
        // SDK; the retry classifier tells them apart through `CallError`.
        ConnectorError::io(Box::new(e))
    }
}
