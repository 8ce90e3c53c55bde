//! First launch: is setup open, and the one setup call.

use axum::extract::State;
use axum::Json;
use steward_shared::api::{SetupRequest, SetupStatus, TokenPair};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::AppResult;
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status, setup))
}

/// Whether first-launch setup is still open.
#[utoipa::path(
    get, path = "/api/setup", tag = "setup", operation_id = "get_setup_status",
    security(()),
    responses((status = 200, description = "Setup status", body = SetupStatus)),
)]
async fn status(State(state): State<AppState>) -> AppResult<Json<SetupStatus>> {
    crate::directory::setup::status(&state).await.map(Json)
}

/// Create the first admin account (only while no user exists).
///
/// Creates the platform customer, its workspace and a super admin holding the `admin` role
/// there, and signs that admin in.
#[utoipa::path(
    post, path = "/api/setup", tag = "setup", operation_id = "complete_setup",
    security(()),
    request_body = SetupRequest,
    responses(
        (status = 201, description = "Set up; the new admin is signed in", body = TokenPair, headers(("Location" = String, description = "The new admin's account, as they see it: `/api/me`"))),
        (status = 409, description = "Already set up", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn setup(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<SetupRequest>,
) -> AppResult<Created<TokenPair>> {
    let pair = crate::directory::setup::setup(&state, &meta, body).await?;
    Ok(Created::at("/api/me", pair))
}
