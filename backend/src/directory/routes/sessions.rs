//! Login sessions: list, revoke one, revoke all of a user.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{Page, Revoked, SessionRow};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::directory::sessions::*;
use crate::http::error::AppResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(revoke_user_sessions))
}

/// Login sessions in scope, newest first; live ones unless asked for more.
#[utoipa::path(
    get, path = "/api/sessions", tag = "sessions", operation_id = "list_sessions",
    security(("bearer" = ["steward.access.sessions.manage"])),
    params(SessionQuery, ScopeHeader),
    responses((status = 200, description = "A page of sessions", body = Page<SessionRow>)),
)]
async fn list_sessions(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> AppResult<Json<Page<SessionRow>>> {
    crate::directory::sessions::list_sessions(&state, &actor, &scope, q).await.map(Json)
}

/// Revoke one session: it ends on its next request. While impersonating, send the session
/// owner's email as `X-Steward-Confirm`.
#[utoipa::path(
    delete, path = "/api/sessions/{session_id}", tag = "sessions", operation_id = "revoke_session",
    security(("bearer" = ["steward.access.sessions.manage"])),
    extensions(("x-confirm" = json!("session"))),
    params(("session_id" = Uuid, Path, description = "The session")),
    responses(
        (status = 200, description = "Revoked (0 if it had already ended)", body = Revoked),
        (status = 409, description = "The owner is yourself (`yourself`; sign out instead) or a super admin you are not (`super_admin`), or the account is erased (`erased`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn revoke_session(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Revoked>> {
    crate::directory::sessions::revoke_session(&state, &actor, &meta, id).await.map(Json)
}

/// Revoke every session of a user. While impersonating, send the user's email as
/// `X-Steward-Confirm`.
#[utoipa::path(
    delete, path = "/api/users/{user_id}/sessions", tag = "sessions", operation_id = "revoke_user_sessions",
    security(("bearer" = ["steward.access.sessions.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "How many sessions ended", body = Revoked),
        (status = 409, description = "The user is yourself (`yourself`; sign out instead) or a super admin you are not (`super_admin`), or the account is erased (`erased`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn revoke_user_sessions(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<Revoked>)> {
    crate::directory::sessions::revoke_user_sessions(&state, &actor, &meta, id).await.map(|v| (StatusCode::OK, Json(v)))
}
