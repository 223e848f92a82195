//! One soak call through the crate's SDK client: a unique payload, the invocation id the SDK
//! sent, and the outcome class.

use std::sync::{Arc, Mutex};

use aws_sdk_lambda::primitives::Blob;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use lambda_vpce::{LambdaVpce, Verdict};

/// The header the SDK keeps across retries and the endpoint's ledger counts by.
const INVOCATION_ID: &str = lambda_vpce::wire::header::SDK_INVOCATION_ID;

/// How one call ended, as the caller saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A response with the payload sent: the function ran.
    Ok,
    /// A response whose payload is not the one sent (a cross-wired response).
    Mismatched,
    /// Provably never sent.
    NotSent,
    /// Sent; the function may have run.
    MaybeExecuted,
    /// The service answered with an error status.
    Service,
}

impl Class {
    /// The class of a failure with this verdict (invalid input was not sent either).
    fn of(verdict: &Verdict) -> Class {
        if verdict.is_not_sent() {
            Class::NotSent
        } else if verdict.is_service() {
            Class::Service
        } else {
            Class::MaybeExecuted
        }
    }
}

/// One finished call.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// The invocation id of the call, when an attempt was transmitted.
    pub(crate) call_id: Option<String>,
    pub(crate) class: Class,
    /// The crate's error said timeout.
    pub(crate) timeout: bool,
    /// The error's text with its causes (none for a response).
    pub(crate) error: Option<String>,
}

/// Records the invocation id of every attempt the SDK transmits.
#[derive(Debug, Clone, Default)]
struct Ids(Arc<Mutex<Option<String>>>);

#[aws_smithy_runtime_api::client::interceptors::dyn_dispatch_hint]
impl Intercept for Ids {
    fn name(&self) -> &'static str {
        "soak invocation id"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(id) = ctx.request().headers().get(INVOCATION_ID) {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(id.to_owned());
        }
        Ok(())
    }
}

/// Invokes `echo` through the lean path with a payload unique to `seq` and classifies the
/// result. The lean path does not expose its invocation id: `call_id` stays `None`.
pub(crate) async fn lean(invoker: &lambda_vpce::lean::LeanInvoker, seq: u64) -> Record {
    let payload = format!("{{\"soak\":{seq}}}");
    let result = invoker
        .invoke(lambda_vpce::lean::InvokeRequest::new(
            "echo",
            payload.clone(),
        ))
        .await;
    let (class, timeout, error) = match result {
        Ok(r) if r.payload.as_ref() == payload.as_bytes() => (Class::Ok, false, None),
        Ok(_) => (Class::Mismatched, false, None),
        Err(e) => (
            Class::of(&e.verdict()),
            e.is_timeout(),
            Some(format!("{e}: {e:?}")),
        ),
    };
    Record {
        call_id: None,
        class,
        timeout,
        error,
    }
}

/// Invokes `echo` with a payload unique to `seq` and classifies the result.
pub(crate) async fn sdk(client: &LambdaVpce, seq: u64) -> Record {
    let payload = format!("{{\"soak\":{seq}}}");
    let ids = Ids::default();
    let result = client
        .client()
        .invoke()
        .function_name("echo")
        .payload(Blob::new(payload.as_bytes()))
        .customize()
        .interceptor(ids.clone())
        .send()
        .await;
    let call_id = ids.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let error = result
        .as_ref()
        .err()
        .map(|e| aws_smithy_types::error::display::DisplayErrorContext(e).to_string());
    let (class, timeout) = match result {
        Ok(out) => {
            let same = out.payload().map(Blob::as_ref) == Some(payload.as_bytes());
            (if same { Class::Ok } else { Class::Mismatched }, false)
        }
        Err(err) => {
            let timeout = matches!(err, aws_sdk_lambda::error::SdkError::TimeoutError(_))
                || lambda_vpce::Error::find_in(&err).is_some_and(|e| e.is_timeout());
            (Class::of(&Verdict::of_sdk(&err)), timeout)
        }
    };
    Record {
        call_id,
        class,
        timeout,
        error,
    }
}
