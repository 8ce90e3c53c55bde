//! The outbox's API: mail the platform sent or holds.

use axum::extract::State;
use axum::Json;
use steward_shared::api::{OutboxMail, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::mail::outbox::*;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_outbox))
}

/// The outbox in scope, newest first: what was sent, what waits, what failed.
///
/// Bodies carry single-use links and are shown to super admins only.
#[utoipa::path(
    get, path = "/api/outbox", tag = "mail", operation_id = "list_outbox",
    security(("bearer" = ["steward.system.logs"])),
    params(OutboxQuery, ScopeHeader),
    responses((status = 200, description = "A page of mail", body = Page<OutboxMail>)),
)]
async fn list_outbox(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> AppResult<Json<Page<OutboxMail>>> {
    crate::mail::outbox::list_outbox(&state, &actor, &scope, q).await.map(Json)
}
