//! View as another user: start and exit.

use axum::extract::State;
use axum::Json;
use steward_shared::api::{Me, StartImpersonation};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(start_impersonation)).routes(routes!(exit_impersonation))
}

/// Start viewing as another user. The admin stays signed in as themself.
#[utoipa::path(
    post, path = "/api/impersonation", tag = "impersonation", operation_id = "start_impersonation",
    security(("bearer" = ["steward.access.users.impersonate"])),
    request_body = StartImpersonation,
    responses(
        (status = 200, description = "Impersonating; what the SPA now shows", body = Me),
        (status = 409, description = "Yourself, a super admin, or an inactive user (`cannot_impersonate`); already viewing as someone (`already_impersonating`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn start_impersonation(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<StartImpersonation>,
) -> AppResult<Json<Me>> {
    let session = crate::identity::impersonation::start_impersonation(&state, &actor, &meta, body).await?;
    // What the SPA shows now: the session as it stands, viewing as the target.
    let effective = crate::identity::principal::reload(&state, &session).await?;
    crate::identity::me::me_of(&state, &effective).await.map(Json)
}

/// Stop impersonating; the session is the admin's own again.
#[utoipa::path(
    post, path = "/api/impersonation/exit", tag = "impersonation", operation_id = "exit_impersonation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Back as yourself", body = Me),
        (status = 409, description = "Not impersonating (`not_impersonating`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn exit_impersonation(State(state): State<AppState>, actor: Actor, meta: RequestMeta) -> AppResult<Json<Me>> {
    crate::identity::impersonation::exit_impersonation(&state, &actor, &meta).await.map(Json)
}
