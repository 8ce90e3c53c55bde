//! The request id: set (or taken from `x-request-id`) for every request, echoed on the
//! response, carried in log lines and in every problem body.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
    /// Whether this request already appended a `refused` audit event itself.
    static REFUSAL_AUDITED: std::cell::Cell<bool>;
}

/// Notes that the request being served recorded its own refusal in the audit log.
pub fn mark_refusal_audited() {
    let _ = REFUSAL_AUDITED.try_with(|c| c.set(true));
}

/// Whether the request being served recorded its own refusal in the audit log.
pub fn refusal_audited() -> bool {
    REFUSAL_AUDITED.try_with(std::cell::Cell::get).unwrap_or(false)
}

/// The id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware: assigns the id, runs the request inside a span and the task-local, echoes the header.
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(HEADER, value);
    }
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut response = {
        use tracing::Instrument;
        REQUEST_ID
            .scope(id.clone(), REFUSAL_AUDITED.scope(std::cell::Cell::new(false), next.run(req)))
            .instrument(span.clone())
            .await
    };
    span.in_scope(|| {
        tracing::info!(status = response.status().as_u16(), "served");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
