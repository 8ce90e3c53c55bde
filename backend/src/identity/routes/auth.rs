//! Sign in, refresh and sign out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{LoginRequest, RefreshRequest, TokenPair};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(refresh)).routes(routes!(logout))
}

/// Sign in with email and password.
///
/// Unknown email and wrong password get the same answer.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth", operation_id = "login",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "Unknown email or wrong password (`invalid_credentials`); 2FA is on and `totp_code` is missing (`totp_required`), wrong or already used (`invalid_totp`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is deactivated (`account_inactive`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts for this account or address (`too_many_attempts`); see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many password checks are waiting (`busy`): the request was refused at once, without checking the password; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<LoginRequest>,
) -> AppResult<Json<TokenPair>> {
    crate::identity::login::login(&state, &meta, body).await.map(Json)
}

/// Exchange a refresh credential for a new token pair.
///
/// Each refresh credential works once; the response carries its successor.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth", operation_id = "refresh_session",
    security(()),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        (status = 401, description = "The credential was revoked or expired (`session_ended`, `account_inactive`), or was already used, which ends the whole session (`refresh_reused`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> AppResult<Json<TokenPair>> {
    crate::identity::login::refresh(&state, &meta, body).await.map(Json)
}

/// Sign out: end the current session.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth", operation_id = "logout",
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out")),
)]
async fn logout(State(state): State<AppState>, meta: RequestMeta, actor: Actor) -> AppResult<StatusCode> {
    crate::identity::login::logout(&state, &meta, &actor).await.map(|()| StatusCode::NO_CONTENT)
}
