//! Facts gathered from the outside world, as plain data for the judges.
//!
//! An outside call that fails is a fact too ([`ApiError`]): the judge reports it as a
//! failure with the service's own words, never a panic and never a silent pass.

use std::fmt;

/// A call to the Kubernetes API or to AWS that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The call, as a user would recognise it: `GetRole`, `list secrets`, …
    pub call: String,
    /// The service's error code (`AccessDenied`, `NoSuchEntity`, `Forbidden`, HTTP 500 …).
    pub code: Option<String>,
    /// The service's message, on one line.
    pub message: String,
}

impl ApiError {
    pub fn new(call: impl Into<String>, code: Option<String>, message: impl Into<String>) -> Self {
        let message: String = message.into();
        ApiError {
            call: call.into(),
            code,
            // One line per finding: fold whatever the service sent.
            message: message.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }

    /// True when the service said the caller lacks a permission.
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("AccessDenied" | "AccessDeniedException" | "Forbidden" | "UnauthorizedOperation")
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} failed: {}: {}", self.call, code, self.message),
            None => write!(f, "{} failed: {}", self.call, self.message),
        }
    }
}

impl std::error::Error for ApiError {}

/// The result of one outside call.
pub type Fetched<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_call_code_and_message_on_one_line() {
        let e = ApiError::new(
            "GetRole",
            Some("AccessDenied".into()),
            "User: arn:aws:iam::1:user/x is not authorized\n to perform: iam:GetRole",
        );
        assert_eq!(
            e.to_string(),
            "GetRole failed: AccessDenied: User: arn:aws:iam::1:user/x is not authorized to perform: iam:GetRole"
        );
        assert!(e.is_access_denied());
    }
}
