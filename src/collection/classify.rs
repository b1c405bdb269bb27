//! The one place that decides what an AWS error means for evidence.
//!
//! *Absence is evidence*: an answer that says a configuration does not exist is a
//! definite answer (`not_found`), and controls may FAIL on it. *Failure to collect
//! is not*: access denied, throttling past retries, timeouts, 5xx and unparseable
//! answers are `error` envelopes, and controls that need them are NOT ASSESSED.

use crate::evidence::{ErrorClass, Status};

/// Error codes that mean "this configuration does not exist".
pub const NOT_FOUND_CODES: &[&str] = &[
    "ObjectLockConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchEntity",
    "NoSuchConfigurationRecorderException",
    "NoSuchDeliveryChannelException",
    "TrailNotFoundException",
];

const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AWSOrganizationsNotInUseException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
];

const THROTTLED_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
];

const REGION_DISABLED_CODES: &[&str] = &[
    "OptInRequired",
    "InvalidClientTokenId.RegionDisabled",
    "AuthFailure.RegionDisabled",
];

/// Classifies a service error by its code and HTTP status.
pub fn classify_service_error(code: &str, http_status: Option<u16>) -> (Status, ErrorClass) {
    let class = if NOT_FOUND_CODES.contains(&code) {
        return (Status::NotFound, ErrorClass::NotFound);
    } else if ACCESS_DENIED_CODES.contains(&code) {
        ErrorClass::AccessDenied
    } else if THROTTLED_CODES.contains(&code) {
        ErrorClass::Throttled
    } else if REGION_DISABLED_CODES.contains(&code) {
        ErrorClass::RegionDisabled
    } else if http_status.is_some_and(|s| s >= 500) {
        ErrorClass::Server
    } else if http_status == Some(403) {
        ErrorClass::AccessDenied
    } else if http_status == Some(429) {
        ErrorClass::Throttled
    } else {
        ErrorClass::Other
    };
    (Status::Error, class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_absence_code_is_a_definite_answer() {
        for code in NOT_FOUND_CODES {
            assert_eq!(
                classify_service_error(code, Some(404)),
                (Status::NotFound, ErrorClass::NotFound),
                "{code}"
            );
        }
    }

    #[test]
    fn failures_to_collect_are_errors() {
        let cases = [
            ("AccessDenied", Some(403), ErrorClass::AccessDenied),
            ("AccessDeniedException", Some(400), ErrorClass::AccessDenied),
            ("UnauthorizedOperation", Some(403), ErrorClass::AccessDenied),
            (
                "AWSOrganizationsNotInUseException",
                Some(400),
                ErrorClass::AccessDenied,
            ),
            ("ExpiredToken", Some(400), ErrorClass::AccessDenied),
            ("ThrottlingException", Some(400), ErrorClass::Throttled),
            ("Throttling", Some(400), ErrorClass::Throttled),
            ("TooManyRequestsException", Some(429), ErrorClass::Throttled),
            ("SlowDown", Some(503), ErrorClass::Throttled),
            ("OptInRequired", Some(403), ErrorClass::RegionDisabled),
            ("InternalFailure", Some(500), ErrorClass::Server),
            ("ServiceUnavailable", Some(503), ErrorClass::Server),
            ("", Some(403), ErrorClass::AccessDenied),
            ("SomethingElse", Some(400), ErrorClass::Other),
        ];
        for (code, status, class) in cases {
            assert_eq!(
                classify_service_error(code, status),
                (Status::Error, class),
                "{code}"
            );
        }
    }
}
