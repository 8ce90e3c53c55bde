//! Completing a password reset with a mailed link.

use axum::extract::State;
use axum::http::StatusCode;
use steward_shared::api::CompletePasswordReset;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::AppResult;
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(complete_password_reset))
}

/// Set a new password with a mailed reset token (single use; ends every session of the account).
#[utoipa::path(
    post, path = "/api/auth/password-reset", tag = "auth", operation_id = "complete_password_reset",
    security(()),
    request_body = CompletePasswordReset,
    responses(
        (status = 204, description = "The password is set; sign in with it"),
        (status = 410, description = "The link was used, replaced or has expired (`token_expired`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn complete_password_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CompletePasswordReset>,
) -> AppResult<StatusCode> {
    crate::identity::password_reset::complete_password_reset(&state, &meta, body).await.map(|()| StatusCode::NO_CONTENT)
}
