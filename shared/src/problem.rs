//! RFC 9457 problem details, as every error of the API is shaped.

use serde::{Deserialize, Serialize};

/// The prefix of every problem `type` URI; the rest is a stable snake_case code.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:steward:problem:";

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field, as a JSON pointer-like dotted path (`email`, `patterns.2`).
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem detail (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Problem {
    /// `urn:steward:problem:<code>`; stable, safe to match on.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The id of the request, as in the `x-request-id` header and the server's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Each bad field, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// The stable code: the `type` without its prefix.
    pub fn code(&self) -> &str {
        self.type_.strip_prefix(PROBLEM_TYPE_PREFIX).unwrap_or(&self.type_)
    }

    /// One line for people: the detail, else the title, with the field errors.
    pub fn message(&self) -> String {
        let mut out = self.detail.clone().unwrap_or_else(|| self.title.clone());
        for e in &self.errors {
            out.push_str(&format!("; {}: {}", e.field, e.message));
        }
        out
    }
}
