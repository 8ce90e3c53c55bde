//! Routes: admin actions on another user's credentials.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use steward_shared::api::{PasswordResetRequest, ResetLink, ResetQueued};
use steward_shared::permissions::USERS_MANAGE;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::Actor;
use crate::directory::credentials;
use crate::directory::listing::visible_user;
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::PageQuery;
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::users;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_password_reset))
        .routes(routes!(generate_reset_link))
        .routes(routes!(request_password_reset))
        .routes(routes!(reset_user_two_factor))
        .routes(routes!(list_user_tokens))
        .routes(routes!(revoke_user_token))
}

/// Mail a reset link to a user.
#[utoipa::path(
    post, path = "/api/users/{user_id}/password-reset", tag = "users", operation_id = "send_password_reset",
    security(("bearer" = ["steward.access.users.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 202, description = "The link is in the outbox", body = ResetQueued),
        (status = 409, description = "The account is erased or inactive (`account_inactive`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn send_password_reset(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<ResetQueued>)> {
    let user = visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    let queued = credentials::send_reset_link(&state, &actor, &meta, user).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// Hand a super admin a user's reset link (an instance without SMTP).
///
/// Seed 004's "Generate reset password link": only where no SMTP server is configured, only to
/// a super admin not viewing as someone; the link is shown in this answer once, works once and
/// expires in an hour, and the act is audited (`user.password_reset.link_generated`). Earlier
/// unused links of the account stop working.
#[utoipa::path(
    post, path = "/api/users/{user_id}/password-reset-link", tag = "users", operation_id = "generate_reset_link",
    security(("bearer" = ["steward.access.users.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 201, description = "The link, shown this once", body = ResetLink),
        (status = 403, description = "Not a super admin, or viewing as someone (`super_admin_required`); the account needs more than you hold (`stronger_account`, `peer_account`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is erased or inactive (`account_inactive`), or this instance sends mail (`smtp_configured`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn generate_reset_link(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, [(axum::http::HeaderName, &'static str); 1], Json<ResetLink>)> {
    let user = visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    let link = credentials::generate_reset_link(&state, &actor, &meta, user).await?;
    Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(link)))
}

/// Mail a reset link to the account with this email.
#[utoipa::path(
    post, path = "/api/password-resets", tag = "users", operation_id = "request_password_reset",
    security(("bearer" = ["steward.access.users.manage"])),
    extensions(("x-confirm" = json!("email"))),
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "The link is in the outbox", body = ResetQueued),
        (status = 409, description = "The account is erased or inactive (`account_inactive`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn request_password_reset(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> AppResult<(StatusCode, Json<ResetQueued>)> {
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    v.finish()?;
    let found = users::Entity::find().filter(users::Column::Email.eq(email)).one(&state.db).await?;
    let missing = || AppError::unknown("email", "is not the email of a user you can see");
    let user = visible_user(&state.db, &actor, found.ok_or_else(missing)?.id, USERS_MANAGE)
        .await
        .map_err(|e| e.or_miss(missing))?;
    let queued = credentials::send_reset_link(&state, &actor, &meta, user).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// Turn off another user's 2FA (a lost device): they sign in with their password alone and
/// enrol again. Sessions of that user end.
#[utoipa::path(
    delete, path = "/api/users/{user_id}/2fa", tag = "two_factor", operation_id = "reset_user_two_factor",
    security(("bearer" = ["steward.access.users.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 204, description = "2FA is off for that user"),
        (status = 409, description = "Yourself (`yourself`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn reset_user_two_factor(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let user = visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    credentials::reset_two_factor(&state, &actor, &meta, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's API tokens, newest first (never their secrets).
#[utoipa::path(
    get, path = "/api/users/{user_id}/tokens", tag = "tokens", operation_id = "list_user_tokens",
    security(("bearer" = ["steward.access.users.manage"])),
    params(("user_id" = Uuid, Path, description = "The user"), PageQuery),
    responses((status = 200, description = "A page of that user's tokens", body = steward_shared::api::Page<steward_shared::api::ApiTokenInfo>)),
)]
async fn list_user_tokens(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<steward_shared::api::Page<steward_shared::api::ApiTokenInfo>>> {
    let user = visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    credentials::user_tokens(&state, &user, q).await.map(Json)
}

/// Revoke one of a user's API tokens (needs strictly stronger rights than that account's).
#[utoipa::path(
    delete, path = "/api/users/{user_id}/tokens/{token_id}", tag = "tokens", operation_id = "revoke_user_token",
    security(("bearer" = ["steward.access.users.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("user_id" = Uuid, Path, description = "The user"), ("token_id" = Uuid, Path, description = "The token")),
    responses(
        (status = 204, description = "Revoked (or already was)"),
        (status = 409, description = "Yourself (`yourself`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn revoke_user_token(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath((id, token)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    let user = visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    credentials::revoke_user_token(&state, &actor, &meta, user, token).await?;
    Ok(StatusCode::NO_CONTENT)
}
