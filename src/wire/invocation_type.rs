//! [`InvocationType`]: the three ways to invoke a function.

use std::fmt;
use std::str::FromStr;

use super::{MAX_EVENT_PAYLOAD_BYTES, MAX_SYNC_PAYLOAD_BYTES};
use crate::BuildError;

/// The three ways to invoke a function (`X-Amz-Invocation-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum InvocationType {
    /// Synchronous: wait for the function's response. The default.
    #[default]
    RequestResponse,
    /// Asynchronous: Lambda queues the event and answers 202.
    Event,
    /// Validate parameter values and permissions without running the function (204).
    DryRun,
}

impl InvocationType {
    /// The header value: `RequestResponse`, `Event` or `DryRun`.
    pub const fn as_str(self) -> &'static str {
        match self {
            InvocationType::RequestResponse => "RequestResponse",
            InvocationType::Event => "Event",
            InvocationType::DryRun => "DryRun",
        }
    }

    /// The largest request payload Lambda accepts for this invocation type:
    /// [`MAX_EVENT_PAYLOAD_BYTES`] for `Event`, [`MAX_SYNC_PAYLOAD_BYTES`] otherwise.
    pub fn max_payload_bytes(self) -> usize {
        match self {
            InvocationType::Event => MAX_EVENT_PAYLOAD_BYTES,
            InvocationType::RequestResponse | InvocationType::DryRun => MAX_SYNC_PAYLOAD_BYTES,
        }
    }
}

impl fmt::Display for InvocationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvocationType {
    type Err = BuildError;

    /// Parses `RequestResponse`, `Event` or `DryRun` (exact spelling, as Lambda wants it).
    fn from_str(s: &str) -> Result<Self, BuildError> {
        match s {
            "RequestResponse" => Ok(InvocationType::RequestResponse),
            "Event" => Ok(InvocationType::Event),
            "DryRun" => Ok(InvocationType::DryRun),
            _ => Err(BuildError::new(
                "invocation_type",
                s,
                "RequestResponse, Event or DryRun",
            )),
        }
    }
}

impl From<InvocationType> for aws_sdk_lambda::types::InvocationType {
    fn from(t: InvocationType) -> Self {
        match t {
            InvocationType::RequestResponse => {
                aws_sdk_lambda::types::InvocationType::RequestResponse
            }
            InvocationType::Event => aws_sdk_lambda::types::InvocationType::Event,
            InvocationType::DryRun => aws_sdk_lambda::types::InvocationType::DryRun,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [InvocationType; 3] = [
        InvocationType::RequestResponse,
        InvocationType::Event,
        InvocationType::DryRun,
    ];

    #[test]
    fn invocation_types_parse_from_their_header_values_only() {
        for t in ALL {
            assert_eq!(t.as_str().parse::<InvocationType>().unwrap(), t);
        }
        assert_eq!(
            "event".parse::<InvocationType>().unwrap_err().field(),
            "invocation_type"
        );
    }

    #[test]
    fn each_invocation_type_is_the_sdks_of_the_same_name() {
        for t in ALL {
            assert_eq!(
                aws_sdk_lambda::types::InvocationType::from(t).as_str(),
                t.as_str()
            );
        }
    }

    #[test]
    fn only_an_event_is_held_to_the_asynchronous_limit() {
        assert_eq!(
            InvocationType::Event.max_payload_bytes(),
            MAX_EVENT_PAYLOAD_BYTES
        );
        assert_eq!(
            InvocationType::RequestResponse.max_payload_bytes(),
            MAX_SYNC_PAYLOAD_BYTES
        );
        assert_eq!(
            InvocationType::DryRun.max_payload_bytes(),
            MAX_SYNC_PAYLOAD_BYTES
        );
    }
}
