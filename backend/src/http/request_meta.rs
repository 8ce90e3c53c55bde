//! Where a request came from, for sessions and audit events.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::http::error::AppError;
use crate::secrets::AuditKeys;

#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// The audit keyring, which the router hands every request (an audit event cannot be
    /// appended without it).
    pub audit_keys: Option<Arc<AuditKeys>>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.extensions, &parts.headers))
    }
}

impl RequestMeta {
    /// The peer address, user agent (at most 512 characters) and request id of a request.
    pub fn of(extensions: &axum::http::Extensions, headers: &axum::http::HeaderMap) -> Self {
        let ip = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let user_agent =
            headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect());
        let audit_keys = extensions.get::<Arc<AuditKeys>>().cloned();
        Self { ip, user_agent, request_id: crate::http::request_id::current(), audit_keys }
    }
}
