//! Explaining an `AccessDeniedException` that a VPC endpoint policy caused.

use std::fmt;

/// An access denial that Lambda attributes to a VPC endpoint policy.
///
/// Lambda says so in the message: `... is not authorized to perform: lambda:InvokeFunction on
/// resource: ARN because no VPC endpoint policy allows the lambda:InvokeFunction action`, or
/// `... with an explicit deny in a VPC endpoint policy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointPolicyDenial {
    explicit_deny: bool,
    action: Option<String>,
    resource: Option<String>,
}

impl EndpointPolicyDenial {
    /// Recognises the denial from a service error's code and message; `None` for any other
    /// error, including denials by identity-based or resource-based policies.
    ///
    /// ```
    /// use lambda_vpce::doctor::EndpointPolicyDenial;
    /// let d = EndpointPolicyDenial::from_error(
    ///     Some("AccessDeniedException"),
    ///     Some("User: arn:aws:sts::123456789012:assumed-role/app/i-0 is not authorized to \
    ///           perform: lambda:InvokeFunction on resource: \
    ///           arn:aws:lambda:us-east-1:123456789012:function:orders:prod because no VPC \
    ///           endpoint policy allows the lambda:InvokeFunction action"),
    /// ).expect("an endpoint policy denial");
    /// assert!(d.resource_is_qualified());
    /// assert!(d.advice().contains("function:orders:*"));
    /// ```
    pub fn from_error(code: Option<&str>, message: Option<&str>) -> Option<Self> {
        let message = message?;
        let lower = message.to_ascii_lowercase();
        let access_denied = code.is_none_or(|c| c.starts_with("AccessDenied"));
        if !access_denied || !lower.contains("vpc endpoint policy") {
            return None;
        }
        Some(EndpointPolicyDenial {
            explicit_deny: lower.contains("explicit deny"),
            action: word_after(message, "perform: "),
            resource: word_after(message, "on resource: "),
        })
    }

    /// The policy has a `Deny` statement that matched (an `Allow` cannot override it).
    pub fn is_explicit_deny(&self) -> bool {
        self.explicit_deny
    }

    /// The action named in the message, such as `lambda:InvokeFunction`.
    pub fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// The resource named in the message: a function ARN, qualified or not.
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// The refused resource is a qualified function ARN (`...:function:NAME:QUALIFIER`).
    pub fn resource_is_qualified(&self) -> bool {
        self.resource
            .as_deref()
            .and_then(|r| crate::validate::function_arn(r).ok())
            .is_some_and(|arn| arn.qualifier().is_some())
    }

    /// What to change, citing the Lambda guide's note on unqualified and qualified ARNs.
    pub fn advice(&self) -> String {
        if self.explicit_deny {
            return "an explicit Deny in the VPC endpoint policy matched this call; no Allow \
                    can override it: narrow or remove that Deny statement"
                .to_owned();
        }
        let arn = self
            .resource
            .as_deref()
            .and_then(|r| crate::validate::function_arn(r).ok());
        let mut text = String::from(
            "the VPC endpoint policy allows no statement matching this call. For \
             lambda:InvokeFunction it must list both the unqualified function ARN and the \
             qualified ARN:* (Lambda guide): with only the first, invokes of a version or \
             alias are denied; with only the second, unqualified invokes are.",
        );
        if let Some(arn) = arn {
            let unqualified = arn.unqualified();
            let missing = if arn.qualifier().is_some() {
                format!("{unqualified}:*")
            } else {
                unqualified.clone()
            };
            text.push_str(&format!(
                " This call used {} ARN: check that the policy lists {missing}, and that the \
                 principal is allowed. `lambda-vpce policy --principal ARN --function \
                 {unqualified}` prints a policy with both.",
                if arn.qualifier().is_some() {
                    "a qualified"
                } else {
                    "the unqualified"
                },
            ));
        } else {
            text.push_str(
                " `lambda-vpce policy --principal ARN --function ARN` prints a policy with both.",
            );
        }
        text
    }
}

impl fmt::Display for EndpointPolicyDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.advice())
    }
}

/// The whitespace-delimited word after `marker`, without trailing punctuation.
fn word_after(message: &str, marker: &str) -> Option<String> {
    let start = message.find(marker)? + marker.len();
    let word = message[start..].split_whitespace().next()?;
    let word = word.trim_end_matches([',', '.', ';', '"']);
    (!word.is_empty()).then(|| word.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_ALLOW: &str = "User: arn:aws:sts::123456789012:assumed-role/app/i-0 is not \
        authorized to perform: lambda:InvokeFunction on resource: \
        arn:aws:lambda:us-east-1:123456789012:function:orders because no VPC endpoint policy \
        allows the lambda:InvokeFunction action";
    const EXPLICIT: &str = "User: arn:aws:iam::123456789012:user/bob is not authorized to \
        perform: lambda:InvokeFunction on resource: \
        arn:aws:lambda:us-east-1:123456789012:function:orders:7 with an explicit deny in a VPC \
        endpoint policy";

    #[test]
    fn a_missing_allow_for_an_unqualified_arn_names_the_unqualified_arn() {
        let d = EndpointPolicyDenial::from_error(Some("AccessDeniedException"), Some(NO_ALLOW))
            .expect("recognised");
        assert!(!d.is_explicit_deny() && !d.resource_is_qualified());
        assert_eq!(d.action(), Some("lambda:InvokeFunction"));
        assert_eq!(
            d.resource(),
            Some("arn:aws:lambda:us-east-1:123456789012:function:orders")
        );
        let advice = d.advice();
        assert!(advice.contains("both the unqualified function ARN and the qualified ARN:*"));
        assert!(advice.contains("lists arn:aws:lambda:us-east-1:123456789012:function:orders,"));
    }

    #[test]
    fn an_explicit_deny_says_no_allow_can_override_it() {
        let d = EndpointPolicyDenial::from_error(Some("AccessDeniedException"), Some(EXPLICIT))
            .expect("recognised");
        assert!(d.is_explicit_deny() && d.resource_is_qualified());
        assert!(d.advice().contains("explicit Deny"));
    }

    #[test]
    fn other_denials_and_other_errors_are_not_endpoint_policy_denials() {
        let identity = "User: x is not authorized to perform: lambda:InvokeFunction on \
            resource: y because no identity-based policy allows the lambda:InvokeFunction action";
        assert!(
            EndpointPolicyDenial::from_error(Some("AccessDeniedException"), Some(identity))
                .is_none()
        );
        assert!(EndpointPolicyDenial::from_error(
            Some("ResourceNotFoundException"),
            Some(NO_ALLOW)
        )
        .is_none());
        assert!(EndpointPolicyDenial::from_error(Some("AccessDeniedException"), None).is_none());
    }

    #[test]
    fn a_message_ending_at_the_marker_does_not_panic() {
        let d = EndpointPolicyDenial::from_error(None, Some("VPC endpoint policy on resource: "))
            .expect("recognised");
        assert_eq!(d.resource(), None);
        assert!(d.advice().contains("lambda-vpce policy"));
    }
}
