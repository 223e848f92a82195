//! Refuses a bad `Invoke` before anything is sent: the same checks the lean path makes.

use aws_sdk_lambda::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_lambda::config::{ConfigBag, Intercept};
use aws_sdk_lambda::error::BoxError;
use aws_sdk_lambda::operation::invoke::InvokeInput;
use aws_sdk_lambda::operation::invoke_with_response_stream::InvokeWithResponseStreamInput;

use crate::error::{Error, Kind};
use crate::validate;
use crate::wire::InvocationType;

/// An interceptor that validates `Invoke` and `InvokeWithResponseStream` inputs against
/// Lambda's own rules (function name/ARN pattern and length, qualifier, client context, durable
/// execution name, tenant id, payload limits: 6 MB synchronous, 1 MB `Event`). A refusal is an [`Error::is_invalid_input`]
/// (not sent) whose source names the field and the limit.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ValidateInvoke;

struct Fields<'a> {
    function: Option<&'a str>,
    qualifier: Option<&'a str>,
    client_context: Option<&'a str>,
    durable_execution_name: Option<&'a str>,
    tenant_id: Option<&'a str>,
    payload_len: usize,
    invocation_type: InvocationType,
}

fn check(f: Fields<'_>) -> Result<(), crate::BuildError> {
    validate::function_name(f.function.unwrap_or(""))?;
    if let Some(q) = f.qualifier {
        validate::qualifier(q)?;
    }
    if let Some(c) = f.client_context {
        validate::client_context(c)?;
    }
    if let Some(n) = f.durable_execution_name {
        validate::durable_execution_name(n)?;
    }
    if let Some(t) = f.tenant_id {
        validate::tenant_id(t)?;
    }
    validate::payload(f.payload_len, f.invocation_type)
}

#[aws_smithy_runtime_api::client::interceptors::dyn_dispatch_hint]
impl Intercept for ValidateInvoke {
    fn name(&self) -> &'static str {
        "lambda-vpce validate Invoke"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        let fields = if let Some(i) = input.downcast_ref::<InvokeInput>() {
            Fields {
                function: i.function_name(),
                qualifier: i.qualifier(),
                client_context: i.client_context(),
                durable_execution_name: i.durable_execution_name(),
                tenant_id: i.tenant_id(),
                payload_len: i.payload().map_or(0, |p| p.as_ref().len()),
                invocation_type: match i.invocation_type() {
                    Some(aws_sdk_lambda::types::InvocationType::Event) => InvocationType::Event,
                    Some(aws_sdk_lambda::types::InvocationType::DryRun) => InvocationType::DryRun,
                    _ => InvocationType::RequestResponse,
                },
            }
        } else if let Some(i) = input.downcast_ref::<InvokeWithResponseStreamInput>() {
            Fields {
                function: i.function_name(),
                qualifier: i.qualifier(),
                client_context: i.client_context(),
                durable_execution_name: None,
                tenant_id: i.tenant_id(),
                payload_len: i.payload().map_or(0, |p| p.as_ref().len()),
                invocation_type: InvocationType::RequestResponse,
            }
        } else {
            return Ok(());
        };
        check(fields).map_err(|e| Box::new(Error::with(Kind::InvalidInput, e)) as BoxError)
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::interceptors::{OverriddenHooks, SharedInterceptor};

    use super::ValidateInvoke;

    #[test]
    fn the_orchestrator_calls_the_validator_only_before_execution() {
        // Every other hook would cost a configuration lookup and a call, on every call.
        assert_eq!(
            SharedInterceptor::new(ValidateInvoke).overridden_hooks(),
            OverriddenHooks::READ_BEFORE_EXECUTION
        );
    }
}
