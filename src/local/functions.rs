//! The functions the endpoint knows: what they do, their names, ARNs and configuration JSON.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The account id in every ARN the endpoint makes.
pub(crate) const ACCOUNT_ID: &str = "123456789012";
/// The version the functions report when none is given.
pub(crate) const DEFAULT_VERSION: &str = "1";
/// The runtime the functions report.
pub(crate) const RUNTIME: &str = "provided.al2023";

/// What a function does with its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviour {
    /// Returns the payload unchanged.
    Echo,
    /// Fails: `X-Amz-Function-Error: Unhandled` and `{"errorMessage","errorType"}`.
    Fail {
        /// `errorType` of the error body.
        error_type: String,
        /// `errorMessage` of the error body.
        message: String,
    },
    /// Reads `{"ms": N}`, sleeps N milliseconds (tokio time), then echoes the payload.
    SleepEcho,
}

/// One function: its name, behaviour, published version, and whether it is a durable function
/// or runs in tenant-isolation mode.
///
/// A **durable** function ([`durable`](Self::durable)) is invoked as Lambda wants one: by a
/// qualified name or ARN (an unqualified invoke is refused with 400
/// `InvalidParameterValueException`, "You cannot invoke a durable function using an unqualified
/// ARN."), and with `X-Amz-Durable-Execution-Name` deduplicated: the same name and payload
/// return the same execution — re-attached to while it runs, its result once it has finished —
/// and run it once; the same name with another payload is refused with 409
/// `DurableExecutionAlreadyStartedException`. Every answer carries
/// `X-Amz-Durable-Execution-Arn`. An execution, once started, runs to its end even when the
/// connection that started it dies.
///
/// A **tenant-isolated** function ([`tenant_isolated`](Self::tenant_isolated)) requires
/// `X-Amz-Tenant-Id` (400 `InvalidParameterValueException` without it) and the
/// [`Ledger`](super::Ledger) records the tenant of each execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSpec {
    pub(crate) name: String,
    pub(crate) behaviour: Behaviour,
    pub(crate) version: String,
    pub(crate) durable: bool,
    pub(crate) tenant_isolated: bool,
}

impl FunctionSpec {
    /// A function with version `1`.
    pub fn new(name: impl Into<String>, behaviour: Behaviour) -> Self {
        FunctionSpec {
            name: name.into(),
            behaviour,
            version: DEFAULT_VERSION.to_owned(),
            durable: false,
            tenant_isolated: false,
        }
    }

    /// Makes it a durable function (see [above](Self)). Default: off.
    pub fn durable(mut self) -> Self {
        self.durable = true;
        self
    }

    /// Puts it in tenant-isolation mode (see [above](Self)). Default: off.
    pub fn tenant_isolated(mut self) -> Self {
        self.tenant_isolated = true;
        self
    }

    /// Whether it is a durable function.
    pub fn is_durable(&self) -> bool {
        self.durable
    }

    /// Whether it runs in tenant-isolation mode.
    pub fn is_tenant_isolated(&self) -> bool {
        self.tenant_isolated
    }

    /// Sets the published version (what `X-Amz-Executed-Version` shows for an alias).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The default set: `echo`, `fail` and `sleep`.
    pub fn defaults() -> Vec<FunctionSpec> {
        vec![
            FunctionSpec::new("echo", Behaviour::Echo),
            FunctionSpec::new(
                "fail",
                Behaviour::Fail {
                    error_type: "Exception".to_owned(),
                    message: "the function failed on purpose".to_owned(),
                },
            ),
            FunctionSpec::new("sleep", Behaviour::SleepEcho),
        ]
    }
}

/// A function reference resolved from the path: the name and an optional qualifier.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FunctionRef {
    pub(crate) name: String,
    pub(crate) qualifier: Option<String>,
}

/// Resolves a (percent-decoded) name, partial ARN or full ARN, with an optional `:qualifier`.
pub(crate) fn parse_ref(reference: &str) -> FunctionRef {
    let parts: Vec<&str> = reference.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        ["arn", _partition, "lambda", _region, _account, "function", name, rest @ ..] => {
            (*name, rest.first())
        }
        [_account, "function", name, rest @ ..] => (*name, rest.first()),
        [name, rest @ ..] => (*name, rest.first()),
        [] => ("", None),
    };
    FunctionRef {
        name: name.to_owned(),
        qualifier: qualifier.map(|q| (*q).to_owned()),
    }
}

/// The set of functions, in name order.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    functions: BTreeMap<String, FunctionSpec>,
    region: String,
}

impl Registry {
    pub(crate) fn new(region: &str, specs: Vec<FunctionSpec>) -> Self {
        Registry {
            functions: specs.into_iter().map(|s| (s.name.clone(), s)).collect(),
            region: region.to_owned(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&FunctionSpec> {
        self.functions.get(name)
    }

    pub(crate) fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{ACCOUNT_ID}:function:{name}",
            self.region
        )
    }

    /// `FunctionConfiguration` JSON, as GetFunction and ListFunctions return it.
    pub(crate) fn configuration(&self, spec: &FunctionSpec) -> Value {
        let mut config = json!({
            "FunctionName": spec.name,
            "FunctionArn": self.arn(&spec.name),
            "Runtime": RUNTIME,
            "Role": format!("arn:aws:iam::{ACCOUNT_ID}:role/lambda-vpce-local"),
            "Handler": "bootstrap",
            "CodeSize": 1024,
            "Description": "lambda-vpce local endpoint function",
            "Timeout": 900,
            "MemorySize": 128,
            "LastModified": "2024-01-01T00:00:00.000+0000",
            "CodeSha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "Version": "$LATEST",
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
        });
        if let Some(obj) = config.as_object_mut() {
            if spec.durable {
                obj.insert(
                    "DurableConfig".to_owned(),
                    json!({"ExecutionTimeout": 900, "RetentionPeriodInDays": 1}),
                );
            }
            if spec.tenant_isolated {
                obj.insert(
                    "TenancyConfig".to_owned(),
                    json!({"TenantIsolationMode": "PER_TENANT"}),
                );
            }
        }
        config
    }

    /// The ARN of a durable execution: the qualified function ARN, then
    /// `/durable-execution/NAME/ID`.
    pub(crate) fn durable_execution_arn(
        &self,
        name: &str,
        qualifier: &str,
        execution: &str,
        id: &str,
    ) -> String {
        format!(
            "{}:{qualifier}/durable-execution/{execution}/{id}",
            self.arn(name)
        )
    }

    /// `GetFunction` JSON.
    pub(crate) fn get_function(&self, spec: &FunctionSpec) -> Value {
        json!({
            "Configuration": self.configuration(spec),
            "Code": {
                "RepositoryType": "S3",
                "Location": format!("https://awslambda-{}-tasks.s3.{}.amazonaws.com/snapshots/{ACCOUNT_ID}/{}", self.region, self.region, spec.name),
            },
            "Tags": {},
        })
    }

    /// `ListFunctions` JSON: up to `max_items` functions after the `marker` (an index).
    pub(crate) fn list(&self, marker: Option<&str>, max_items: usize) -> Value {
        let start = marker.and_then(|m| m.parse::<usize>().ok()).unwrap_or(0);
        let page: Vec<Value> = self
            .functions
            .values()
            .skip(start)
            .take(max_items)
            .map(|s| self.configuration(s))
            .collect();
        let next = start + page.len();
        if next < self.functions.len() {
            json!({"Functions": page, "NextMarker": next.to_string()})
        } else {
            json!({"Functions": page})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_partial_arns_and_full_arns_resolve_to_the_same_function() {
        let plain = FunctionRef {
            name: "echo".into(),
            qualifier: None,
        };
        assert_eq!(parse_ref("echo"), plain);
        assert_eq!(parse_ref("123456789012:function:echo"), plain);
        assert_eq!(
            parse_ref("arn:aws:lambda:us-east-1:123456789012:function:echo"),
            plain
        );
        let qualified = FunctionRef {
            name: "echo".into(),
            qualifier: Some("7".into()),
        };
        assert_eq!(parse_ref("echo:7"), qualified);
        assert_eq!(
            parse_ref("arn:aws:lambda:us-east-1:123456789012:function:echo:7"),
            qualified
        );
    }

    #[test]
    fn list_pages_with_marker_and_max_items() {
        let reg = Registry::new("us-east-1", FunctionSpec::defaults());
        let first = reg.list(None, 2);
        assert_eq!(first["Functions"].as_array().map(Vec::len), Some(2));
        assert_eq!(first["NextMarker"], "2");
        let second = reg.list(Some("2"), 2);
        assert_eq!(second["Functions"][0]["FunctionName"], "sleep");
        assert!(second.get("NextMarker").is_none());
    }
}
