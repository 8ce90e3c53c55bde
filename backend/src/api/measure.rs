//! The request-metrics layer: names each request by its operation (from the same route table
//! the gate enforces), measures it, and hands a 5xx answer to the system log's API errors.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

use crate::http::request_meta::RequestOrigin;
use crate::state::AppState;

/// path template → (method, operationId): looked up by the matched path's `&str`, no key built.
pub type OperationNames = Arc<HashMap<String, Vec<(Method, String)>>>;

pub async fn measure(State((state, names)): State<(AppState, OperationNames)>, req: Request, next: Next) -> Response {
    let operation = match req.extensions().get::<MatchedPath>() {
        Some(path) => {
            let method = if req.method() == Method::HEAD { Method::GET } else { req.method().clone() };
            let named = names.get(path.as_str()).and_then(|ops| ops.iter().find(|(m, _)| *m == method));
            match named {
                Some((_, name)) => name.as_str(),
                // The contract's own pages (Swagger UI, the spec) are routes outside the table.
                None if path.as_str().starts_with("/api/docs") || path.as_str() == "/api/openapi.json" => "docs",
                None => "unmatched",
            }
        }
        None if req.uri().path().starts_with("/api/") => "unmatched",
        None => "spa",
    };
    let in_flight = state.telemetry.requests.start(operation);
    let origin = RequestOrigin::capture(req.extensions(), req.headers());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    in_flight.finish(status);
    if status >= 500 {
        let meta = origin.meta();
        let mut line = meta.log_line("system", "api_error", "error", format!("{operation} answered {status}"));
        line.fields = json!({ "operation": operation, "status": status });
        state.logs.emit(line);
    }
    response
}
