//! Roles and memberships: the handlers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{
    AddMember, Membership, Page, RoleMember, RoleMetrics, RoleSummary, RoleWrite, SetMemberRole,
};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::PageQuery;
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::roles::service::*;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles))
        .routes(routes!(role_metrics))
        .routes(routes!(get_role, update_role, delete_role))
        .routes(routes!(create_role))
        .routes(routes!(list_role_members))
        .routes(routes!(add_member))
        .routes(routes!(set_member_role, remove_member))
}

/// Roles: the system roles and your customer's custom roles, with coverage and member counts,
/// on one page.
#[utoipa::path(
    get, path = "/api/roles", tag = "roles", operation_id = "list_roles",
    security(("bearer" = ["steward.access.roles.view"])),
    params(ListQuery),
    responses((status = 200, description = "Every role, system roles first, then by name", body = Page<RoleSummary>)),
)]
async fn list_roles(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<RoleSummary>>> {
    crate::roles::service::list_roles(&state, &actor, q).await.map(Json)
}

/// The metrics strip of the roles page: leaves in the catalog, roles (all and custom) over the
/// same query as `list_roles`, and memberships assigned in your customer.
#[utoipa::path(
    get, path = "/api/roles/metrics", tag = "roles", operation_id = "role_metrics",
    security(("bearer" = ["steward.access.roles.view"])),
    params(ListQuery),
    responses((status = 200, description = "The counts", body = RoleMetrics)),
)]
async fn role_metrics(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<RoleMetrics>> {
    crate::roles::service::role_metrics(&state, &actor, q).await.map(Json)
}

/// One role.
#[utoipa::path(
    get, path = "/api/roles/{role_id}", tag = "roles", operation_id = "get_role",
    security(("bearer" = ["steward.access.roles.view"])),
    params(("role_id" = Uuid, Path, description = "The role")),
    responses((status = 200, description = "The role", body = RoleSummary)),
)]
async fn get_role(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(role_id): ApiPath<Uuid>,
) -> AppResult<Json<RoleSummary>> {
    crate::roles::service::get_role(&state, &actor, role_id).await.map(Json)
}

/// Create a custom role in a workspace.
///
/// Refused (`escalation_refused`) when it would grant a leaf you do not hold in that workspace.
#[utoipa::path(
    post, path = "/api/workspaces/{workspace_id}/roles", tag = "roles", operation_id = "create_role",
    security(("bearer" = ["steward.access.roles.manage"])),
    params(("workspace_id" = Uuid, Path, description = "The workspace the role belongs to")),
    request_body = RoleWrite,
    responses(
        (status = 201, description = "Created", body = RoleSummary, headers(("Location" = String, description = "The new role: `/api/roles/{id}`"))),
        (status = 409, description = "The name is taken in this workspace (`role_name_taken`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_role(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(workspace_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RoleWrite>,
) -> AppResult<Created<RoleSummary>> {
    let role = crate::roles::service::create_role(&state, &actor, &meta, workspace_id, body).await?;
    Ok(Created::at(format!("/api/roles/{}", role.id), role))
}

/// Replace a custom role's name, description and patterns.
#[utoipa::path(
    put, path = "/api/roles/{role_id}", tag = "roles", operation_id = "update_role",
    security(("bearer" = ["steward.access.roles.manage"])),
    params(("role_id" = Uuid, Path, description = "The role")),
    request_body = RoleWrite,
    responses(
        (status = 200, description = "Updated", body = RoleSummary),
        (status = 409, description = "The name is taken in this workspace (`role_name_taken`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn update_role(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(role_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RoleWrite>,
) -> AppResult<Json<RoleSummary>> {
    crate::roles::service::update_role(&state, &actor, &meta, role_id, body).await.map(Json)
}

/// Delete a custom role nobody holds.
#[utoipa::path(
    delete, path = "/api/roles/{role_id}", tag = "roles", operation_id = "delete_role",
    security(("bearer" = ["steward.access.roles.manage"])),
    extensions(("x-confirm" = json!("role"))),
    params(("role_id" = Uuid, Path, description = "The role")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 428, description = "Impersonating without typed confirmation (`confirmation_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Members or pending invitations still use it (`role_in_use`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn delete_role(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(role_id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    crate::roles::service::delete_role(&state, &actor, &meta, role_id).await.map(|()| StatusCode::NO_CONTENT)
}

/// Who holds this role in your customer: a page of people by name, one row per workspace where
/// they hold it.
#[utoipa::path(
    get, path = "/api/roles/{role_id}/members", tag = "roles", operation_id = "list_role_members",
    security(("bearer" = ["steward.access.roles.view"])),
    params(("role_id" = Uuid, Path, description = "The role"), PageQuery),
    responses((status = 200, description = "A page of members, by name", body = Page<RoleMember>)),
)]
async fn list_role_members(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(role_id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<RoleMember>>> {
    crate::roles::service::list_role_members(&state, &actor, role_id, q).await.map(Json)
}

/// Give a user (by email) a role in a workspace.
#[utoipa::path(
    post, path = "/api/workspaces/{workspace_id}/members", tag = "roles", operation_id = "add_member",
    security(("bearer" = ["steward.access.roles.manage"])),
    params(("workspace_id" = Uuid, Path, description = "The workspace")),
    request_body = AddMember,
    responses((status = 200, description = "The membership", body = Membership)),
)]
async fn add_member(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(workspace_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AddMember>,
) -> AppResult<Json<Membership>> {
    crate::roles::service::add_member(&state, &actor, &meta, workspace_id, body).await.map(Json)
}

/// Change the role a user holds in a workspace (or give them one).
#[utoipa::path(
    put, path = "/api/workspaces/{workspace_id}/members/{user_id}", tag = "roles", operation_id = "set_member_role",
    security(("bearer" = ["steward.access.roles.manage"])),
    params(("workspace_id" = Uuid, Path, description = "The workspace"), ("user_id" = Uuid, Path, description = "The user")),
    request_body = SetMemberRole,
    responses((status = 200, description = "The membership", body = Membership)),
)]
async fn set_member_role(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath((workspace_id, user_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<SetMemberRole>,
) -> AppResult<Json<Membership>> {
    crate::roles::service::set_member_role(&state, &actor, &meta, (workspace_id, user_id), body).await.map(Json)
}

/// Remove a user's role in a workspace (not their home membership).
#[utoipa::path(
    delete, path = "/api/workspaces/{workspace_id}/members/{user_id}", tag = "roles", operation_id = "remove_member",
    security(("bearer" = ["steward.access.roles.manage"])),
    extensions(("x-confirm" = json!("user"))),
    params(("workspace_id" = Uuid, Path, description = "The workspace"), ("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 204, description = "Removed"),
        (status = 428, description = "Impersonating without typed confirmation (`confirmation_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It is the user's home membership (`home_membership`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn remove_member(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath((workspace_id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    crate::roles::service::remove_member(&state, &actor, &meta, (workspace_id, user_id))
        .await
        .map(|()| StatusCode::NO_CONTENT)
}
