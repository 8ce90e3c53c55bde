//! Roles and memberships: the handlers.

use std::collections::HashMap;

#[allow(unused_imports)]
use crate::roles::service::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use serde_json::json;
use steward_shared::api::{
    AddMember, Membership, RoleList, RoleMember, RoleMetrics, RoleSummary, RoleWrite, SetMemberRole,
};

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{invitations, roles, user_roles, users};
use steward_shared::permissions::{self};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles))
        .routes(routes!(get_role, update_role, delete_role))
        .routes(routes!(create_role))
        .routes(routes!(list_role_members))
        .routes(routes!(add_member))
        .routes(routes!(set_member_role, remove_member))
}

/// Roles: the system roles and your customer's custom roles, with coverage and member counts.
#[utoipa::path(
    get, path = "/api/roles", tag = "roles", operation_id = "list_roles",
    security(("bearer" = ["steward.access.roles.view"])),
    params(ListQuery),
    responses((status = 200, description = "Roles and the metrics strip", body = RoleList)),
)]
async fn list_roles(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<RoleList>> {
    let db = &state.db;
    let mut custom =
        Condition::all().add(roles::Column::IsSystem.eq(false)).add(roles::Column::CustomerId.eq(actor.customer_id()));
    if let Some(ws) = q.workspace_id {
        crate::access::workspaces::visible(db, &actor, ws).await?;
        custom = Condition::all().add(roles::Column::IsSystem.eq(false)).add(roles::Column::WorkspaceId.eq(ws));
    }
    let rows = roles::Entity::find()
        .filter(Condition::any().add(roles::Column::IsSystem.eq(true)).add(custom))
        .order_by_desc(roles::Column::IsSystem)
        .order_by_asc(roles::Column::Name)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut patterns = patterns_of(db, &ids).await?;
    let counts = member_counts(db, actor.customer_id()).await?;
    let ws_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.workspace_id).collect();
    let refs = workspace_refs(db, &ws_ids).await?;
    let members_assigned =
        user_roles::Entity::find().filter(user_roles::Column::CustomerId.eq(actor.customer_id())).count(db).await?;
    let roles: Vec<RoleSummary> = rows
        .into_iter()
        .map(|r| {
            let p = patterns.remove(&r.id).unwrap_or_default();
            let count = counts.get(&r.id).copied().unwrap_or(0);
            let ws = r.workspace_id.and_then(|w| refs.get(&w).cloned());
            summarize(r, p, count, ws)
        })
        .collect();
    let metrics = RoleMetrics {
        leaves_in_catalog: permissions::all_leaves().count() as u32,
        total_roles: roles.len() as u32,
        custom_roles: roles.iter().filter(|r| !r.system).count() as u32,
        members_assigned,
    };
    Ok(Json(RoleList { roles, metrics }))
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
    let role = visible(&state.db, &actor, role_id).await?;
    summary_of(&state.db, &actor, role).await.map(Json)
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
        (status = 201, description = "Created", body = RoleSummary),
        (status = 409, description = "The name is taken in this workspace (`role_name_taken`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_role(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(workspace_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RoleWrite>,
) -> AppResult<(StatusCode, Json<RoleSummary>)> {
    let workspace = crate::access::workspaces::visible(&state.db, &actor, workspace_id).await?;
    actor.require_in(workspace.id)?;
    let (name, description, patterns) = validate(&body)?;
    let leaves = permissions::expand(patterns.iter().map(String::as_str).collect::<Vec<_>>());
    refuse_escalation(&actor, workspace.id, &leaves, "create a role with")?;

    let txn = crate::store::begin(&state.db).await?;
    if name_in_use(&txn, workspace.id, &name, None).await? {
        return Err(name_taken());
    }
    let now = Utc::now();
    let role = roles::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(Some(workspace.customer_id)),
        workspace_id: Set(Some(workspace.id)),
        name: Set(name),
        description: Set(description),
        is_system: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => name_taken(),
        other => other,
    })?;
    replace_patterns(&txn, role.id, &patterns).await?;
    let event = Event::new("role.create", "success")
        .by(&actor)
        .target("role", role.id)
        .summary(json!({ "after": { "name": role.name, "workspace_id": workspace.id, "patterns": patterns } }));
    audit::append(&txn, &meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    let summary = summary_of(&txn, &actor, role).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(summary)))
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
    let (role, workspace) = editable(&state.db, &actor, role_id).await?;
    let (name, description, patterns) = validate(&body)?;
    let leaves = permissions::expand(patterns.iter().map(String::as_str).collect::<Vec<_>>());
    refuse_escalation(&actor, workspace, &leaves, "give a role")?;

    let txn = crate::store::begin(&state.db).await?;
    if name_in_use(&txn, workspace, &name, Some(role.id)).await? {
        return Err(name_taken());
    }
    let before = patterns_of(&txn, &[role.id]).await?.remove(&role.id).unwrap_or_default();
    let mut active: roles::ActiveModel = role.clone().into();
    active.name = Set(name.clone());
    active.description = Set(description);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    replace_patterns(&txn, role.id, &patterns).await?;
    let event = Event::new("role.update", "success").by(&actor).target("role", role.id).summary(
        json!({ "before": { "name": role.name, "patterns": before }, "after": { "name": name, "patterns": patterns } }),
    );
    audit::append(&txn, &meta, Event { customer_id: role.customer_id, ..event }).await?;
    let summary = summary_of(&txn, &actor, updated).await?;
    txn.commit().await?;
    Ok(Json(summary))
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
    let (role, _) = editable(&state.db, &actor, role_id).await?;
    let txn = crate::store::begin(&state.db).await?;
    let members = user_roles::Entity::find().filter(user_roles::Column::RoleId.eq(role.id)).count(&txn).await?;
    let invited = invitations::Entity::find().filter(invitations::Column::RoleId.eq(role.id)).count(&txn).await?;
    if members > 0 || invited > 0 {
        return Err(AppError::Conflict {
            code: "role_in_use",
            field: None,
            detail: format!(
                "The role `{}` is held by {members} member(s) and named by {invited} invitation(s); reassign them first.",
                role.name
            ),
        });
    }
    let patterns = patterns_of(&txn, &[role.id]).await?.remove(&role.id).unwrap_or_default();
    roles::Entity::delete_by_id(role.id).exec(&txn).await?;
    let event = Event::new("role.delete", "success")
        .by(&actor)
        .target("role", role.id)
        .summary(json!({ "before": { "name": role.name, "patterns": patterns } }));
    audit::append(&txn, &meta, Event { customer_id: role.customer_id, ..event }).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who holds this role, in your customer.
#[utoipa::path(
    get, path = "/api/roles/{role_id}/members", tag = "roles", operation_id = "list_role_members",
    security(("bearer" = ["steward.access.roles.view"])),
    params(("role_id" = Uuid, Path, description = "The role")),
    responses((status = 200, description = "Members, by name", body = Vec<RoleMember>)),
)]
async fn list_role_members(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(role_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<RoleMember>>> {
    let role = visible(&state.db, &actor, role_id).await?;
    let customer = role.customer_id.unwrap_or(actor.customer_id());
    let memberships = user_roles::Entity::find()
        .filter(user_roles::Column::RoleId.eq(role.id))
        .filter(user_roles::Column::CustomerId.eq(customer))
        .limit(1000)
        .all(&state.db)
        .await?;
    let user_ids: Vec<Uuid> = memberships.iter().map(|m| m.user_id).collect();
    let people: HashMap<Uuid, users::Model> = users::Entity::find()
        .filter(users::Column::Id.is_in(user_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let ws_ids: Vec<Uuid> = memberships.iter().map(|m| m.workspace_id).collect();
    let refs = workspace_refs(&state.db, &ws_ids).await?;
    let mut members: Vec<RoleMember> = memberships
        .into_iter()
        .filter_map(|m| {
            let user = people.get(&m.user_id)?;
            Some(RoleMember {
                user_id: user.id.into(),
                name: user.name.clone(),
                email: user.email.clone(),
                workspace: refs.get(&m.workspace_id)?.clone(),
                home: user.home_workspace_id == Some(m.workspace_id),
            })
        })
        .collect();
    members.sort_by_key(|m| m.name.to_lowercase());
    Ok(Json(members))
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
    let workspace = crate::access::workspaces::visible(&state.db, &actor, workspace_id).await?;
    actor.require_in(workspace.id)?;
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    v.finish()?;
    let user = users::Entity::find().filter(users::Column::Email.eq(email)).one(&state.db).await?;
    let user = member_candidate(&workspace, user)
        .map_err(|_| AppError::field("email", "is not a user of this workspace's customer"))?;
    assign(&state, &actor, &meta, &workspace, &user, body.role_id.0).await.map(Json)
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
    let workspace = crate::access::workspaces::visible(&state.db, &actor, workspace_id).await?;
    actor.require_in(workspace.id)?;
    let user = member_candidate(&workspace, users::Entity::find_by_id(user_id).one(&state.db).await?)?;
    assign(&state, &actor, &meta, &workspace, &user, body.role_id.0).await.map(Json)
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
    let workspace = crate::access::workspaces::visible(&state.db, &actor, workspace_id).await?;
    actor.require_in(workspace.id)?;
    let user = member_candidate(&workspace, users::Entity::find_by_id(user_id).one(&state.db).await?)?;
    let txn = crate::store::begin(&state.db).await?;
    let membership = user_roles::Entity::find_by_id((workspace.id, user.id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("This user holds no role in this workspace.".into()))?;
    if user.home_workspace_id == Some(workspace.id) {
        return Err(AppError::Conflict {
            code: "home_membership",
            field: None,
            detail: "This is the user's home workspace; change their home workspace first.".into(),
        });
    }
    let old_leaves = leaves_of(&txn, membership.role_id).await?;
    refuse_escalation(&actor, workspace.id, &old_leaves, "remove a membership that holds")?;
    user_roles::Entity::delete_many()
        .filter(user_roles::Column::WorkspaceId.eq(workspace.id))
        .filter(user_roles::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let event = Event::new("membership.revoke", "success")
        .by(&actor)
        .target("user", user.id)
        .summary(json!({ "workspace_id": workspace.id, "before": { "role_id": membership.role_id } }));
    audit::append(&txn, &meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
