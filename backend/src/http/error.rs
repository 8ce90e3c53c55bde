//! One error type for the API, rendered as RFC 9457 problem details with a stable `type`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr};
use steward_shared::problem::{FieldError, Problem, PROBLEM_TYPE_PREFIX};
use steward_shared::rules;

use crate::http::request_id;

/// Every way a request can fail. 5xx carry no internals; they are logged with the request id.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{0}")]
    NotFound(String),
    /// A thing that exists, but in a tenant the caller may not see: answered exactly like
    /// [`AppError::NotFound`] (its existence is not revealed), and recorded as a refusal.
    #[error("{0}")]
    Foreign(String),
    /// A well-formed value that names nothing the caller can see (an id, an email, a cursor this
    /// list did not give out): 404, naming the field. The request's shape was right; what it
    /// names is not there.
    #[error("{field} {message}")]
    Unknown { field: String, message: String },
    #[error("{detail}")]
    Conflict { code: &'static str, field: Option<String>, detail: String },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PreconditionRequired(String),
    /// A single-use or expiring credential that no longer works (410).
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    /// Another server this one called refused or failed (502).
    #[error("{detail}")]
    Upstream { code: &'static str, detail: String },
    /// Too many failed attempts: answered 429 with `Retry-After`.
    #[error("{detail}")]
    TooManyAttempts { detail: String, retry_after_secs: u64 },
    /// The server is shedding this kind of work right now: answered 503 with `Retry-After`.
    #[error("{detail}")]
    Busy { detail: String, retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// This replica is stopping (answered by `/api/health` while it drains).
    #[error("shutting down")]
    ShuttingDown,
}

impl AppError {
    /// A 422 naming one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError { field: field.into(), message: message.into() }])
    }

    /// A typed confirmation in a request body (`confirm`) that is absent or not the phrase: a 409
    /// on `confirm` (`confirmation_mismatch`). The phrase follows what the operation would do
    /// now (a count, a name), so one typed for another state conflicts with this one.
    pub fn unconfirmed(message: impl Into<String>) -> Self {
        Self::Conflict { code: "confirmation_mismatch", field: Some("confirm".into()), detail: message.into() }
    }

    /// A 404 naming the field whose value names nothing the caller can see.
    pub fn unknown(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unknown { field: field.into(), message: message.into() }
    }

    /// A 401 with this code and detail.
    pub fn unauthenticated(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthenticated { code, detail: detail.into() }
    }

    /// A 403 for a missing permission leaf.
    pub fn missing_leaf(leaf: &str) -> Self {
        Self::Forbidden {
            code: "permission_denied",
            detail: format!("This needs the permission `{leaf}`, which you do not hold."),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    /// A lookup's miss (not found, another tenant's) told another way, such as a 404 naming the
    /// field that named it; any other failure passes through unchanged, so a database that
    /// blinked stays a 503 and never reads as "no such thing".
    pub fn or_miss(self, miss: impl FnOnce() -> AppError) -> AppError {
        match self {
            Self::NotFound(_) | Self::Foreign(_) => miss(),
            other => other,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Invalid input"),
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code, "Bad request"),
            Self::Unauthenticated { code, .. } => (StatusCode::UNAUTHORIZED, code, "Not signed in"),
            Self::Forbidden { code, .. } => (StatusCode::FORBIDDEN, code, "Forbidden"),
            Self::NotFound(_) | Self::Foreign(_) | Self::Unknown { .. } => {
                (StatusCode::NOT_FOUND, "not_found", "Not found")
            }
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code, "Conflict"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type")
            }
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Payload too large"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
            Self::PreconditionRequired(_) => {
                (StatusCode::PRECONDITION_REQUIRED, "confirmation_required", "Confirmation required")
            }
            Self::Gone { code, .. } => (StatusCode::GONE, code, "Gone"),
            Self::Upstream { code, .. } => (StatusCode::BAD_GATEWAY, code, "Bad gateway"),
            Self::TooManyAttempts { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", "Too many attempts"),
            Self::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal server error"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", "Database unavailable"),
            Self::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "Shutting down"),
        }
    }

    /// The problem body this error renders as.
    pub fn to_problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        let mut errors = Vec::new();
        let detail = match self {
            Self::Validation(fields) => {
                errors = fields.clone();
                let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                Some(format!("Invalid value for: {}.", names.join(", ")))
            }
            Self::Conflict { field, detail, .. } => {
                if let Some(field) = field {
                    errors.push(FieldError { field: field.clone(), message: detail.clone() });
                }
                Some(detail.clone())
            }
            Self::Unknown { field, message } => {
                errors.push(FieldError { field: field.clone(), message: message.clone() });
                Some(format!("Nothing found for: {field}."))
            }
            Self::BadRequest { detail, .. }
            | Self::Forbidden { detail, .. }
            | Self::Unauthenticated { detail, .. }
            | Self::Gone { detail, .. }
            | Self::Upstream { detail, .. }
            | Self::TooManyAttempts { detail, .. }
            | Self::Busy { detail, .. } => Some(detail.clone()),
            Self::NotFound(d)
            | Self::Foreign(d)
            | Self::UnsupportedMediaType(d)
            | Self::PayloadTooLarge(d)
            | Self::MethodNotAllowed(d)
            | Self::PreconditionRequired(d) => Some(d.clone()),
            Self::Internal(_) => {
                Some("Something went wrong on our side; the request id identifies it in the server log.".into())
            }
            Self::Unavailable(_) => Some("The database is not reachable right now; try again shortly.".into()),
            Self::ShuttingDown => {
                Some("This replica is stopping and finishes what it has; send new requests to another.".into())
            }
        };
        Problem {
            type_: format!("{PROBLEM_TYPE_PREFIX}{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            instance: None,
            request_id: request_id::current(),
            errors,
        }
    }
}

/// Marks a response that refuses a principal by a rule (see [`AppError::refusal_code`]); the
/// gate records these in the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Refused(pub &'static str);

/// The refusal code of an id that names another tenant's thing (answered as "not found").
pub const FOREIGN_ID: &str = "foreign_id";

/// 409 codes that are refusals by a rule rather than conflicts with existing data.
const REFUSING_CONFLICTS: &[&str] =
    &["yourself", "last_super_admin", "cannot_impersonate", "already_impersonating", "super_admin", "erased"];

impl AppError {
    /// The code of a refusal by a rule: any 403, a missing typed confirmation (428) or a wrong
    /// one (422 on `X-Steward-Confirm`), a rule's 409 (yourself, the last super admin, ...), and
    /// a 404 (which on a write means a foreign or unknown id).
    pub fn refusal_code(&self) -> Option<&'static str> {
        match self {
            Self::Forbidden { code, .. } => Some(code),
            Self::PreconditionRequired(_) => Some("confirmation_required"),
            Self::Validation(fields) if fields.iter().any(|f| f.field == "X-Steward-Confirm") => {
                Some("confirmation_mismatch")
            }
            Self::Conflict { code, .. } if REFUSING_CONFLICTS.contains(code) => Some(code),
            Self::NotFound(_) => Some("not_found"),
            Self::Foreign(_) => Some(FOREIGN_ID),
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let problem = self.to_problem();
        let refused = self.refusal_code().map(Refused);
        match &self {
            Self::Internal(e) | Self::Unavailable(e) => {
                tracing::error!(request_id = problem.request_id.as_deref().unwrap_or("-"), error = %e, "request failed");
            }
            _ => {}
        }
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Self::TooManyAttempts { retry_after_secs, .. } | Self::Busy { retry_after_secs, .. } = &self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if let Self::Unavailable(_) | Self::ShuttingDown = &self {
            // The pool reconnects on its own; a second is what a fast restart takes.
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if matches!(self, Self::Unauthenticated { .. }) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(refused) = refused {
            response.extensions_mut().insert(refused);
        }
        response
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(msg)) = err.sql_err() {
            return Self::Conflict {
                code: "conflict",
                field: unique_field(&msg),
                detail: "This value is already taken.".into(),
            };
        }
        if connection_lost(&err) {
            return Self::Unavailable(err.to_string());
        }
        Self::Internal(err.to_string())
    }
}

/// Whether `err` says the database went away (a restart, a failover, a dropped connection, a
/// full pool) rather than that the statement was wrong: the request may be tried again once the
/// pool has reconnected, so it is answered 503 with `Retry-After`, not 500.
pub fn connection_lost(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::RuntimeErr;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match &**e {
            Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
            // SQLSTATE class 08 (connection exception) and 57P01-57P05 (the server is shutting
            // down, restarting, or not accepting connections yet).
            Sqlx::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
            _ => false,
        },
        _ => false,
    }
}

/// The column a unique violation is about, from the messages of SQLite
/// (`UNIQUE constraint failed: users.email`) and PostgreSQL (`… "ux_users_email"`).
fn unique_field(msg: &str) -> Option<String> {
    if let Some(rest) = msg.split("UNIQUE constraint failed: ").nth(1) {
        let first = rest.split(',').next()?.trim();
        return first.rsplit('.').next().map(str::to_owned);
    }
    let name = msg.split('"').nth(1)?;
    let mut parts = name.strip_prefix("ux_")?.splitn(2, '_');
    parts.next()?;
    parts.next().map(str::to_owned)
}

/// Accumulates field errors, so a response names every bad field at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.into(), message: message.into() });
    }

    /// Checks free text against its rule ([`rules::Text`]); returns it trimmed.
    pub fn text(&mut self, field: &str, value: &str, rule: rules::Text) -> String {
        if let Some(why) = rule.refuse(value) {
            self.error(field, why);
        }
        value.trim().to_string()
    }

    /// Checks a secret against its rule ([`rules::Secret`]); taken as sent.
    pub fn secret(&mut self, field: &str, value: &str, rule: rules::Secret) {
        if let Some(why) = rule.refuse(value) {
            self.error(field, why);
        }
    }

    /// Checks an integer against its range ([`rules::Range`]).
    pub fn range(&mut self, field: &str, value: impl TryInto<i64>, rule: rules::Range) {
        if let Some(why) = rule.refuse(value.try_into().unwrap_or(i64::MAX)) {
            self.error(field, why);
        }
    }

    /// Checks how many items a list holds ([`rules::Items`]).
    pub fn items(&mut self, field: &str, len: usize, rule: rules::Items) {
        if let Some(why) = rule.refuse(len) {
            self.error(field, why);
        }
    }

    /// Checks an email address ([`rules::refuse_email`]); returns it trimmed and lowercased.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        if let Some(why) = rules::refuse_email(value) {
            self.error(field, why);
        }
        value.trim().to_lowercase()
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_field_reads_both_databases() {
        assert_eq!(unique_field("UNIQUE constraint failed: users.email").as_deref(), Some("email"));
        assert_eq!(
            unique_field("duplicate key value violates unique constraint \"ux_users_email\"").as_deref(),
            Some("email")
        );
    }
}
