//! What one API call returned, in the form the recorder writes: the merged data
//! of every page, or a classified error. Converting the SDK's error here keeps
//! sources free of error handling: they use `?`.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use serde_json::Value;

use super::classify::{classify_failure, classify_service_error, UNPARSEABLE_CODE};
use auditpack_core::catalog::OperationSpec;
use auditpack_core::evidence::{AnswerStatus, ErrorClass};

/// A successful (possibly multi-page) answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// Merged data with AWS's field names.
    pub data: Value,
    /// Pages read.
    pub pages: u32,
    /// Items in the main list.
    pub item_count: u64,
    /// Request id of each page.
    pub request_ids: Vec<String>,
}

impl Answer {
    /// A one-page answer whose main list (or single object) has `item_count`
    /// items, with the request id of the SDK `output` it was mapped from.
    pub(crate) fn single(data: Value, item_count: usize, output: &impl RequestId) -> Answer {
        Answer {
            data,
            pages: 1,
            item_count: item_count as u64,
            request_ids: output.request_id().map(String::from).into_iter().collect(),
        }
    }

    /// Starts a paginated answer; call [`Answer::page`] per page.
    pub(crate) fn paginated() -> Answer {
        Answer {
            data: Value::Null,
            pages: 0,
            item_count: 0,
            request_ids: Vec::new(),
        }
    }

    /// Records one page (an SDK output), keeping its request id.
    pub(crate) fn page(&mut self, page: &impl RequestId) {
        self.pages += 1;
        self.request_ids.extend(page.request_id().map(String::from));
    }

    /// Sets the merged data and item count after the last page.
    pub(crate) fn finish(mut self, data: Value, item_count: usize) -> Answer {
        self.data = data;
        self.item_count = item_count as u64;
        self.pages = self.pages.max(1);
        self
    }
}

/// A failed call, classified.
#[derive(Debug, Clone)]
pub(crate) struct CallError {
    /// `not_found` or `error`.
    pub status: AnswerStatus,
    /// AWS's code, or the SDK's failure kind.
    pub code: String,
    /// Message (never contains credentials: AWS messages name ARNs, not keys).
    pub message: String,
    /// Class.
    pub class: ErrorClass,
    /// The request id, when AWS answered.
    pub request_id: Option<String>,
    /// The HTTP status, when AWS answered.
    pub http_status: Option<u16>,
}

impl CallError {
    /// An error made by the collector itself (e.g. an answer it could not map).
    pub(crate) fn local(code: &str, message: impl Into<String>, class: ErrorClass) -> CallError {
        CallError {
            status: AnswerStatus::Error,
            code: code.into(),
            message: message.into(),
            class,
            request_id: None,
            http_status: None,
        }
    }

    /// This error as an answer of `spec`: AWS's code is an absence
    /// (`not_found`) only where the catalog declares it for this operation.
    pub(crate) fn for_operation(mut self, spec: &OperationSpec) -> CallError {
        (self.status, self.class) = match self.http_status {
            Some(status) => classify_service_error(spec, &self.code, Some(status)),
            None => (self.status, self.class),
        };
        self
    }
}

impl<E> From<SdkError<E, HttpResponse>> for CallError
where
    E: ProvideErrorMetadata + RequestId + std::error::Error + Send + Sync + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let status = service.raw().status().as_u16();
                if e.code().is_none() && (200..300).contains(&status) {
                    // The SDK could not read a success answer as the
                    // operation's output: not an AWS error, an unreadable answer.
                    let mut unreadable = CallError::local(
                        UNPARSEABLE_CODE,
                        format!("AWS answered HTTP {status}, but the answer could not be read as the operation's output"),
                        ErrorClass::Unparseable,
                    );
                    unreadable.request_id = e.request_id().map(String::from);
                    unreadable.http_status = Some(status);
                    return unreadable;
                }
                let code = e.code().unwrap_or("Unknown").to_string();
                let http_status = Some(status);
                let class = classify_failure(&code, http_status);
                let message = match e.message() {
                    Some(m) if !m.is_empty() => m.to_string(),
                    _ => format!(
                        "HTTP {} with no AWS error code or message",
                        service.raw().status().as_u16()
                    ),
                };
                let request_id = e.request_id().map(String::from);
                CallError {
                    status: AnswerStatus::Error,
                    code,
                    message,
                    class,
                    request_id,
                    http_status,
                }
            }
            SdkError::TimeoutError(_) => CallError::local(
                "Timeout",
                "no answer within the per-call timeout",
                ErrorClass::Timeout,
            ),
            SdkError::DispatchFailure(d) => {
                let (code, class) = if d.is_timeout() {
                    ("DispatchFailure", ErrorClass::Timeout)
                } else if d.is_io()
                    || d.as_connector_error().and_then(|c| c.as_other())
                        == Some(aws_smithy_types::retry::ErrorKind::TransientError)
                {
                    // Refused, reset or closed connections (the SDK's transient
                    // connector errors), unresolved names: the endpoint, not
                    // the account, is the problem.
                    ("EndpointUnreachable", ErrorClass::Unreachable)
                } else {
                    ("DispatchFailure", ErrorClass::Other)
                };
                let message = match d.as_connector_error() {
                    Some(connector) => no_answer(connector),
                    None => format!("{err:?}"),
                };
                CallError::local(code, message, class)
            }
            SdkError::ResponseError(_) => CallError::local(
                "Unparseable",
                "the answer could not be parsed",
                ErrorClass::Unparseable,
            ),
            _ => CallError::local("ClientError", err.to_string(), ErrorClass::Other),
        }
    }
}

/// Why a request got no answer, in words a reader of the evidence and the
/// console can act on ("the connection was reset"), then the connector's
/// error chain, each cause once. The kind of the first `io::Error` in the
/// chain says what the connection did; before, the message was the connector
/// error's Debug text, which said `Io` and hid whether it was refused or reset.
fn no_answer(connector: &(dyn std::error::Error + 'static)) -> String {
    use std::io::ErrorKind;
    let mut kind = None;
    let mut chain: Vec<String> = Vec::new();
    let mut next = Some(connector);
    while let Some(e) = next {
        if let (None, Some(io)) = (kind, e.downcast_ref::<std::io::Error>()) {
            kind = Some(io.kind());
        }
        let text = e.to_string();
        if !chain.last().is_some_and(|last| last.contains(&text)) {
            chain.push(text);
        }
        next = e.source();
    }
    let what = match kind {
        Some(ErrorKind::ConnectionReset) => "the connection was reset before an answer",
        Some(ErrorKind::ConnectionRefused) => "the connection was refused",
        Some(ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof) => {
            "the connection was closed before an answer"
        }
        Some(ErrorKind::TimedOut) => "the connection timed out",
        _ => "no answer from the endpoint",
    };
    format!("{what} ({})", chain.join(": "))
}

/// Reads every page of a paginated call and merges its list into
/// `{ list_key: [...] }`. A page that fails fails the whole answer (recorded as
/// an error envelope), so a partial list can never pass for a complete one.
pub(crate) async fn paginate<O, E>(
    mut pages: aws_smithy_async::future::pagination_stream::PaginationStream<
        Result<O, SdkError<E, HttpResponse>>,
    >,
    list_key: &str,
    items_of: impl Fn(&O) -> Vec<serde_json::Value>,
) -> Result<Answer, CallError>
where
    O: RequestId,
    E: ProvideErrorMetadata + RequestId + std::error::Error + Send + Sync + 'static,
{
    let mut answer = Answer::paginated();
    let mut items = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page?;
        answer.page(&page);
        items.extend(items_of(&page));
    }
    let n = items.len();
    let mut data = serde_json::Map::new();
    data.insert(list_key.to_string(), serde_json::Value::Array(items));
    Ok(answer.finish(serde_json::Value::Object(data), n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::get_account_summary::GetAccountSummaryError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(status: u16, code: Option<&str>) -> CallError {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let err = GetAccountSummaryError::generic(meta.build());
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        CallError::from(SdkError::service_error(err, raw))
    }

    /// A success status whose body the SDK could not read (moto's Security
    /// Hub timestamps without a time zone did this) is an unreadable answer,
    /// not "HTTP 200 with no AWS error code".
    #[test]
    fn a_success_answer_that_cannot_be_read_is_unparseable() {
        let e = service_error(200, None);
        assert_eq!(e.code, UNPARSEABLE_CODE);
        assert_eq!(e.class, ErrorClass::Unparseable);
        assert!(e.message.contains("HTTP 200"), "{}", e.message);
        let e = e.for_operation(&auditpack_core::catalog::securityhub::GET_ADMINISTRATOR_ACCOUNT);
        assert_eq!(
            e.class,
            ErrorClass::Unparseable,
            "kept by the per-operation classification"
        );
    }

    fn dispatch_failure(connector: ConnectorError) -> CallError {
        CallError::from(
            SdkError::<GetAccountSummaryError, HttpResponse>::dispatch_failure(connector),
        )
    }

    fn io_error(kind: std::io::ErrorKind) -> ConnectorError {
        ConnectorError::io(Box::new(std::io::Error::from(kind)))
    }

    /// A connection reset before the answer (the fault proxy's `reset`) is
    /// the endpoint being unreachable, and the message says it was reset,
    /// so the evidence and the console tell a reset from a refusal.
    #[test]
    fn a_reset_connection_is_unreachable_and_says_reset() {
        let e = dispatch_failure(io_error(std::io::ErrorKind::ConnectionReset));
        assert_eq!(
            (e.code.as_str(), e.class),
            ("EndpointUnreachable", ErrorClass::Unreachable)
        );
        assert!(
            e.message.starts_with("the connection was reset"),
            "{}",
            e.message
        );
        let e = dispatch_failure(io_error(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(e.class, ErrorClass::Unreachable);
        assert!(
            e.message.starts_with("the connection was refused"),
            "{}",
            e.message
        );
        // hyper's "connection closed before message completed": no io error
        // in the chain, a transient connector error.
        let closed = ConnectorError::other(
            "connection closed before message completed".into(),
            Some(aws_smithy_types::retry::ErrorKind::TransientError),
        );
        let e = dispatch_failure(closed);
        assert_eq!(e.class, ErrorClass::Unreachable);
        assert!(
            e.message
                .contains("connection closed before message completed"),
            "{}",
            e.message
        );
        let unknown = ConnectorError::other("something else".into(), None);
        assert_eq!(dispatch_failure(unknown).class, ErrorClass::Other);
    }

    /// No answer within the call timeout (the fault proxy's `slow`), whether
    /// the operation's timeout or the connector's, is a timeout.
    #[test]
    fn no_answer_in_time_is_a_timeout() {
        let e = CallError::from(
            SdkError::<GetAccountSummaryError, HttpResponse>::timeout_error("operation timeout"),
        );
        assert_eq!((e.code.as_str(), e.class), ("Timeout", ErrorClass::Timeout));
        let e = dispatch_failure(ConnectorError::timeout("read timeout".into()));
        assert_eq!(e.class, ErrorClass::Timeout);
    }

    /// A 5xx in the service's error shape (the fault proxy's `server_error`)
    /// is a server error past the retries, whatever its code.
    #[test]
    fn a_5xx_answer_is_a_server_error() {
        for (status, code) in [
            (503, "ServiceUnavailable"),
            (500, "InternalFailure"),
            (503, "Unavailable"),
        ] {
            let e = service_error(status, Some(code));
            assert_eq!(e.class, ErrorClass::Server, "{status} {code}");
            assert_eq!(e.http_status, Some(status));
            let e = e.for_operation(&auditpack_core::catalog::kms::LIST_KEYS);
            assert_eq!(e.class, ErrorClass::Server, "kept per operation");
        }
        assert_eq!(
            service_error(400, Some("ThrottlingException")).class,
            ErrorClass::Throttled
        );
    }

    #[test]
    fn an_error_status_without_a_code_stays_an_aws_error() {
        let e = service_error(400, None);
        assert_eq!(e.code, "Unknown");
        assert_eq!(e.class, ErrorClass::Other);
        assert_eq!(
            service_error(403, Some("AccessDenied")).class,
            ErrorClass::AccessDenied
        );
    }
}
