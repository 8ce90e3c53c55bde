//! Platform actions: request one (typed confirmation), list them with each replica's
//! acknowledgement.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::Page;
use steward_shared::ops::{CommandRow, RequestAction};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::ops::actions::{self, CommandQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_platform_actions, request_platform_action))
        .routes(routes!(get_platform_action))
}

/// The platform actions requested, newest first, each with the replicas that carried it out
/// and those still to.
#[utoipa::path(
    get, path = "/api/platform/actions", tag = "system", operation_id = "list_platform_actions",
    security(("super_admin" = ["steward.console.platform_actions.read"])),
    params(CommandQuery),
    responses((status = 200, description = "A page of actions", body = Page<CommandRow>)),
)]
async fn list_platform_actions(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CommandQuery>,
) -> AppResult<Json<Page<CommandRow>>> {
    actions::list(&state, q).await.map(Json)
}

/// One platform action and its acknowledgements.
#[utoipa::path(
    get, path = "/api/platform/actions/{action_id}", tag = "system", operation_id = "get_platform_action",
    security(("super_admin" = ["steward.console.platform_actions.read"])),
    params(("action_id" = Uuid, Path, description = "The action")),
    responses((status = 200, description = "The action", body = CommandRow)),
)]
async fn get_platform_action(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>) -> AppResult<Json<CommandRow>> {
    actions::get(&state, id).await.map(Json)
}

/// Restart the worker pool (runs in flight finish first), reload the applications, purge a
/// tenant's demo data (its flows, runs, connectors and records), or delete all public objects
/// (every tenant's; customers, users, roles and the audit log stay). Every replica carries the
/// action out and acknowledges it; the answer comes before they have.
#[utoipa::path(
    post, path = "/api/platform/actions", tag = "system", operation_id = "request_platform_action",
    security(("super_admin" = ["steward.console.platform_actions.write"])),
    request_body = RequestAction,
    responses(
        (status = 202, description = "Requested; replicas acknowledge within seconds", body = CommandRow),
        (status = 409, description = "The confirmation is not what this action asks to type (`confirmation_mismatch`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn request_platform_action(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<RequestAction>,
) -> AppResult<(StatusCode, Json<CommandRow>)> {
    actions::request(&state, &actor, &meta, body).await.map(|c| (StatusCode::ACCEPTED, Json(c)))
}
