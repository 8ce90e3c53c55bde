//! The user lifecycle: create, edit, activate, deactivate, erase, super admin, bulk.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{BulkOutcome, BulkUsers, CreateUser, DirectoryUser, SetSuperAdmin, UpdateUser};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .routes(routes!(update_user, erase_user))
        .routes(routes!(set_super_admin))
        .routes(routes!(activate_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(bulk_users))
}

/// Create a user with a home workspace and a role there.
///
/// With a password, it is used directly (argon2id); without one, the user is mailed a
/// single-use link to set their own. The role is checked against your own permissions in
/// that workspace (anti-escalation); only a super admin creates a super admin.
#[utoipa::path(
    post, path = "/api/users", tag = "users", operation_id = "create_user",
    security(("bearer" = ["steward.access.users.manage"])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = DirectoryUser, headers(("Location" = String, description = "The new user: `/api/users/{id}`"))),
        (status = 409, description = "The email is taken (`conflict`, field `email`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<Created<DirectoryUser>> {
    let user = crate::directory::users::create_user(&state, &actor, &meta, body).await?;
    Ok(Created::at(format!("/api/users/{}", user.id), user))
}

/// Edit a user: email, name, locale, home workspace and role. Only the fields given change.
#[utoipa::path(
    patch, path = "/api/users/{user_id}", tag = "users", operation_id = "update_user",
    security(("bearer" = ["steward.access.users.manage"])),
    params(("user_id" = Uuid, Path, description = "The user")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Updated", body = DirectoryUser),
        (status = 409, description = "The email is taken (`conflict`, field `email`), or the account is erased (`erased`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn update_user(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> AppResult<Json<DirectoryUser>> {
    crate::directory::users::update_user(&state, &actor, &meta, id, body).await.map(Json)
}

/// Activate a user.
#[utoipa::path(
    post, path = "/api/users/{user_id}/activate", tag = "users", operation_id = "activate_user",
    security(("bearer" = ["steward.access.users.manage"])),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "Active", body = DirectoryUser),
        (status = 409, description = "Yourself (`yourself`) or an erased account (`erased`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn activate_user(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<DirectoryUser>> {
    crate::directory::users::activate_user(&state, &actor, &meta, id).await.map(Json)
}

/// Deactivate a user: they can no longer sign in, and every live session ends at once.
#[utoipa::path(
    post, path = "/api/users/{user_id}/deactivate", tag = "users", operation_id = "deactivate_user",
    security(("bearer" = ["steward.access.users.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "Inactive", body = DirectoryUser),
        (status = 409, description = "Yourself (`yourself`), the last active super admin (`last_super_admin`) or an erased account (`erased`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn deactivate_user(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<DirectoryUser>> {
    crate::directory::users::deactivate_user(&state, &actor, &meta, id).await.map(Json)
}

/// Erase a user: the anonymizing delete. Memberships are dropped, sessions and tokens end,
/// the identity is scrubbed; the row stays so the audit log stays intact.
///
/// While impersonating, send the user's email as `X-Steward-Confirm`.
#[utoipa::path(
    delete, path = "/api/users/{user_id}", tag = "users", operation_id = "erase_user",
    security(("bearer" = ["steward.access.users.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 204, description = "Erased"),
        (status = 409, description = "Yourself (`yourself`), the last active super admin (`last_super_admin`), or already erased (`erased`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "Impersonating without the typed confirmation (`confirmation_required`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn erase_user(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    crate::directory::users::erase_user(&state, &actor, &meta, id).await.map(|()| StatusCode::NO_CONTENT)
}

/// Activate, deactivate, erase or assign a role to many users in one call.
///
/// Each id that cannot be acted on is skipped and reported with its reason; the others are
/// done, all in one transaction. With `dry_run` nothing changes and the answer says what
/// would. While impersonating, `delete` needs `X-Steward-Confirm: <n> users`.
#[utoipa::path(
    post, path = "/api/users/bulk", tag = "users", operation_id = "bulk_users",
    security(("bearer" = ["steward.access.users.manage"])),
    extensions(("x-confirm" = json!("bulk_users"))),
    request_body = BulkUsers,
    responses(
        (status = 200, description = "What was done (or would be) and what was skipped", body = BulkOutcome),
        (status = 428, description = "Impersonating without the typed confirmation (`confirmation_required`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn bulk_users(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<BulkUsers>,
) -> AppResult<Json<BulkOutcome>> {
    crate::directory::users::bulk_users(&state, &actor, &meta, body).await.map(Json)
}

/// Grant or take away super admin (super admins only). The last active super admin stays one.
#[utoipa::path(
    put, path = "/api/users/{user_id}/super-admin", tag = "users", operation_id = "set_super_admin",
    security(("bearer" = ["steward.access.users.manage"])),
    params(("user_id" = Uuid, Path, description = "The user")),
    request_body = SetSuperAdmin,
    responses(
        (status = 200, description = "Updated", body = DirectoryUser),
        (status = 409, description = "The last active super admin (`last_super_admin`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn set_super_admin(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SetSuperAdmin>,
) -> AppResult<Json<DirectoryUser>> {
    crate::directory::users::set_super_admin(&state, &actor, &meta, user_id, body).await.map(Json)
}
