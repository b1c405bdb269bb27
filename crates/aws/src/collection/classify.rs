//! The one place that decides what an AWS error means for evidence.
//!
//! *Absence is evidence*: an answer that says a configuration does not exist is a
//! definite answer (`not_found`), and controls may FAIL on it. *Failure to collect
//! is not*: access denied, throttling past retries, timeouts, 5xx and unparseable
//! answers are `error` envelopes, and controls that need them are NOT ASSESSED.

use auditpack_core::catalog::OperationSpec;
use auditpack_core::evidence::{AnswerStatus, ErrorClass};

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

/// Classifies a service error of `spec` by its code and HTTP status.
pub fn classify_service_error(
    spec: &OperationSpec,
    code: &str,
    http_status: Option<u16>,
) -> (AnswerStatus, ErrorClass) {
    if spec.not_found.contains(&code) {
        return (AnswerStatus::NotFound, ErrorClass::NotFound);
    }
    (AnswerStatus::Error, classify_failure(code, http_status))
}

/// The code the collector gives an answer AWS sent with a success status that
/// could not be read as the operation's shape (a malformed timestamp, a body
/// of another protocol): evidence of nothing, unlike an AWS error.
pub(crate) const UNPARSEABLE_CODE: &str = "Unparseable";

/// Why a call failed, from its code and HTTP status, for any operation.
pub(crate) fn classify_failure(code: &str, http_status: Option<u16>) -> ErrorClass {
    if code == UNPARSEABLE_CODE {
        ErrorClass::Unparseable
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
    }
}

/// Why calls of this class failed, in words, for the end-of-run summary (the
/// class alone, `server`, does not say that the retries were spent).
pub fn describe_class(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::NotFound => "not found",
        ErrorClass::AccessDenied => "access denied",
        ErrorClass::Throttled => "throttled past the retries",
        ErrorClass::Timeout => "no answer within --call-timeout",
        ErrorClass::Server => "server error (5xx) past the retries",
        ErrorClass::RegionDisabled => "region not enabled",
        ErrorClass::Unparseable => "unreadable answer",
        ErrorClass::Unreachable => "endpoint unreachable, no answer",
        ErrorClass::Other => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use auditpack_core::catalog::{iam, operations, s3};

    #[test]
    fn every_declared_absence_code_is_a_definite_answer_for_its_operation() {
        let mut declared = 0;
        for spec in operations() {
            for code in spec.not_found {
                declared += 1;
                assert_eq!(
                    classify_service_error(spec, code, Some(404)),
                    (AnswerStatus::NotFound, ErrorClass::NotFound),
                    "{code} for {}",
                    spec.source_name()
                );
            }
        }
        assert!(
            declared >= 9,
            "the catalog declares {declared} absence codes"
        );
    }

    #[test]
    fn an_absence_code_of_another_operation_is_an_error() {
        // NoSuchEntity means "no console password" for GetLoginProfile, but
        // a bucket call answering it is not an absence of the bucket's policy.
        assert_eq!(
            classify_service_error(&iam::GET_LOGIN_PROFILE, "NoSuchEntity", Some(404)).0,
            AnswerStatus::NotFound
        );
        assert_eq!(
            classify_service_error(&s3::GET_BUCKET_POLICY, "NoSuchEntity", Some(404)),
            (AnswerStatus::Error, ErrorClass::Other)
        );
    }

    /// The summary tells the classes apart by these words: no two alike.
    #[test]
    fn each_class_is_described_in_its_own_words() {
        let classes = [
            ErrorClass::NotFound,
            ErrorClass::AccessDenied,
            ErrorClass::Throttled,
            ErrorClass::Timeout,
            ErrorClass::Server,
            ErrorClass::RegionDisabled,
            ErrorClass::Unparseable,
            ErrorClass::Unreachable,
            ErrorClass::Other,
        ];
        let words: std::collections::BTreeSet<&str> =
            classes.iter().map(|c| describe_class(*c)).collect();
        assert_eq!(words.len(), classes.len(), "{words:?}");
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
            (UNPARSEABLE_CODE, Some(200), ErrorClass::Unparseable),
        ];
        for (code, status, class) in cases {
            assert_eq!(
                classify_service_error(&s3::LIST_BUCKETS, code, status),
                (AnswerStatus::Error, class),
                "{code}"
            );
        }
    }
}
