//! Where a request came from, for sessions and audit events.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
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
    /// A line for the logs that carries this request's id, peer address and user agent.
    pub fn log_line(
        &self,
        stream: &'static str,
        kind: &'static str,
        level: &'static str,
        message: impl Into<String>,
    ) -> crate::store::logs::LogLine {
        let mut line = crate::store::logs::LogLine::new(stream, kind, level, message);
        line.request_id = self.request_id.clone();
        line.ip = self.ip.clone();
        line.user_agent = self.user_agent.clone();
        line
    }

    /// The peer address, user agent (at most 512 characters) and request id of a request.
    pub fn of(extensions: &axum::http::Extensions, headers: &axum::http::HeaderMap) -> Self {
        RequestOrigin::capture(extensions, headers).meta()
    }
}

/// What [`RequestMeta`] is made from, kept without formatting anything (a copy and two
/// reference counts): for code that needs the metadata only on some outcomes, such as the gate
/// recording a refusal after the handler ran.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    peer: Option<SocketAddr>,
    user_agent: Option<HeaderValue>,
    audit_keys: Option<Arc<AuditKeys>>,
}

impl RequestOrigin {
    pub fn capture(extensions: &axum::http::Extensions, headers: &axum::http::HeaderMap) -> Self {
        Self {
            peer: extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0),
            user_agent: headers.get(header::USER_AGENT).cloned(),
            audit_keys: extensions.get::<Arc<AuditKeys>>().cloned(),
        }
    }

    /// The metadata, with the request id of the request being served.
    pub fn meta(&self) -> RequestMeta {
        RequestMeta {
            ip: self.peer.map(|p| p.ip().to_string()),
            user_agent: self.user_agent.as_ref().and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect()),
            request_id: crate::http::request_id::current(),
            audit_keys: self.audit_keys.clone(),
        }
    }
}
