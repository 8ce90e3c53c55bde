//! The logs: pages of lines and the live tail.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use steward_shared::api::Page;
use steward_shared::ops::LogEntry;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::ops::logs::{Followed, LogFilter};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_logs)).routes(routes!(follow_logs))
}

/// Lines of the platform, authentication and system logs in scope, newest first.
#[utoipa::path(
    get, path = "/api/logs", tag = "system", operation_id = "list_logs",
    security(("bearer" = ["steward.system.logs"])),
    params(LogFilter, ScopeHeader),
    responses((status = 200, description = "A page of log lines", body = Page<LogEntry>)),
)]
async fn list_logs(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(f): ApiQuery<LogFilter>,
) -> AppResult<Json<Page<LogEntry>>> {
    crate::ops::logs::list(&state, &actor, &scope, f).await.map(Json)
}

crate::http::pagination::closed_set! {
    /// What a log-tail event carries.
    pub enum LogStreamEventName { Log = "log", End = "end" }
}

/// One event of `follow_logs`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the shape of the stream, for the spec; the events are written by axum's Sse
pub struct LogStreamEvent {
    #[schema(inline)]
    event: LogStreamEventName,
    /// `log`: the line's `seq` (resume with `after`).
    id: Option<String>,
    /// `log`: the line as a JSON `LogEntry`; `end`: why the tail stopped.
    #[schema(content_media_type = "application/json")]
    data: String,
}

/// Follow the logs live: server-sent events, one `log` event per new line matching the
/// filter (its `id` is the line's `seq`; reconnect with `after` to resume), oldest first.
/// The stream ends with an `end` event when the credential may no longer read the logs.
#[utoipa::path(
    get, path = "/api/logs/follow", tag = "system", operation_id = "follow_logs",
    security(("bearer" = ["steward.system.logs"])),
    params(LogFilter, ScopeHeader),
    responses((status = 200, description = "An event stream of log lines (the schema is one event's)", content_type = "text/event-stream", body = LogStreamEvent)),
)]
async fn follow_logs(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    headers: HeaderMap,
    ApiQuery(f): ApiQuery<LogFilter>,
) -> AppResult<Response> {
    // The fuzzer found limit=0 and an empty cursor accepted and ignored here.
    f.paging()?;
    let lines = crate::ops::logs::follow(state, &actor, &scope, f, headers, "follow_logs").await?;
    let events = lines.map(|followed| {
        Ok::<_, std::convert::Infallible>(match followed {
            Followed::Line(line) => Event::default()
                .event("log")
                .id(line.seq.to_string())
                .data(serde_json::to_string(&line).unwrap_or_default()),
            Followed::Ended(why) => Event::default().event("end").data(why),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}
