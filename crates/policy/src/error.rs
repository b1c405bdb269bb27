//! [`PolicyError`]: why a policy document could not be read.

use thiserror::Error;

/// Why a policy document could not be read.
///
/// Statement numbers are 1-based positions in the `Statement` list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The text is not JSON (or not decodable URL-encoded JSON).
    #[error("policy is not valid JSON: {0}")]
    InvalidJson(String),
    /// The document (or a statement) is not a JSON object.
    #[error("{0} is not a JSON object")]
    NotAnObject(&'static str),
    /// A required element is missing.
    #[error("{}missing {element}", where_prefix(*.statement))]
    MissingElement {
        /// Element name, e.g. `"Effect"`.
        element: &'static str,
        /// Statement number, `None` at document level.
        statement: Option<usize>,
    },
    /// An element has a shape or value IAM does not accept.
    #[error("{}invalid {element}: {detail}", where_prefix(*.statement))]
    InvalidElement {
        /// Element name, e.g. `"Principal"`.
        element: &'static str,
        /// Statement number, `None` at document level.
        statement: Option<usize>,
        /// What is wrong with it.
        detail: String,
    },
}

fn where_prefix(statement: Option<usize>) -> String {
    statement.map_or_else(String::new, |n| format!("statement #{n}: "))
}

/// An [`PolicyError::InvalidElement`] of statement number `statement`.
pub(crate) fn invalid(
    element: &'static str,
    statement: usize,
    detail: impl Into<String>,
) -> PolicyError {
    PolicyError::InvalidElement {
        element,
        statement: Some(statement),
        detail: detail.into(),
    }
}
