//! Routes: users.

use axum::extract::State;

#[allow(unused_imports)]
use crate::directory::users::*;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use serde_json::json;
use steward_shared::api::{
    BulkAction, BulkOutcome, BulkUsers, CreateUser, DirectoryUser, SetSuperAdmin, SkippedUser, UpdateUser,
};

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::directory::listing::{one_row, visible_user};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::request_meta::RequestMeta;
use crate::identity::password;
use crate::identity::password_reset;
use crate::state::AppState;
use crate::store::entities::users;
use steward_shared::permissions::USERS_MANAGE;
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

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
        (status = 201, description = "Created", body = DirectoryUser),
        (status = 409, description = "The email is taken (`conflict`, field `email`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<(StatusCode, Json<DirectoryUser>)> {
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    let name = v.text("name", &body.name, 1, 200);
    if let Some(p) = &body.password {
        v.password("password", p);
    }
    let locale = v.text("locale", body.locale.as_deref().unwrap_or("en"), 2, 35);
    v.finish()?;
    let workspace = crate::access::workspaces::visible(&state.db, &actor, body.home_workspace_id.0)
        .await
        .map_err(|_| AppError::field("home_workspace_id", "is not a workspace you can see"))?;
    actor.require_in(workspace.id)?;
    let role = crate::roles::service::grantable(&state.db, &actor, &workspace, body.role_id.0).await?;
    if body.super_admin && !actor.is_super_admin() {
        return Err(AppError::Forbidden {
            code: "escalation_refused",
            detail: "Only a super admin can make a super admin.".into(),
        });
    }
    if users::Entity::find().filter(users::Column::Email.eq(email.clone())).count(&state.db).await? > 0 {
        return Err(email_taken());
    }
    let hash = match body.password {
        Some(p) => Some(password::hash(&state, p).await?),
        None => None,
    };
    let mailed = hash.is_none();
    let txn = crate::store::begin(&state.db).await?;
    let account = NewAccount {
        customer_id: workspace.customer_id,
        workspace_id: workspace.id,
        role_id: role.id,
        email,
        name,
        locale,
        password_hash: hash,
        super_admin: body.super_admin,
        signed_in: false,
    };
    let user = insert_account(&txn, account).await?;
    if mailed {
        password_reset::issue(&txn, &state, &user, password_reset::WELCOME_TTL, true).await?;
    }
    let event = Event::new("user.create", "success").by(&actor).target("user", user.id).summary(json!({ "after": {
        "email": user.email, "name": user.name, "workspace_id": workspace.id, "role": role.name,
        "super_admin": user.super_admin, "password": if mailed { "reset link mailed" } else { "set by admin" },
    }}));
    audit::append(&txn, &meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    let row = one_row(&txn, user).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(row)))
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
    let mut v = Validator::new();
    let email = body.email.as_deref().map(|e| v.email("email", e));
    let name = body.name.as_deref().map(|n| v.text("name", n, 1, 200));
    let locale = body.locale.as_deref().map(|l| v.text("locale", l, 2, 35));
    if body.home_workspace_id.is_some() != body.role_id.is_some() {
        v.error(
            if body.role_id.is_none() { "role_id" } else { "home_workspace_id" },
            "home_workspace_id and role_id go together",
        );
    }
    v.finish()?;
    let user = visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    if user.erased_at.is_some() {
        return Err(AppError::Conflict { code: "erased", field: None, detail: "This account is erased.".into() });
    }
    if user.super_admin && !actor.is_super_admin() {
        return Err(AppError::Forbidden {
            code: "super_admin",
            detail: "Only a super admin can edit a super admin.".into(),
        });
    }
    if let Some(home) = user.home_workspace_id {
        actor.require_in(home)?;
    }
    not_stronger(&state.db, &actor, &user).await?;
    let target = match (body.home_workspace_id, body.role_id) {
        (Some(ws), Some(role)) => {
            let workspace = crate::access::workspaces::visible(&state.db, &actor, ws.0)
                .await
                .map_err(|_| AppError::field("home_workspace_id", "is not a workspace you can see"))?;
            if workspace.customer_id != user.customer_id {
                return Err(AppError::field("home_workspace_id", "must be a workspace of the user's own customer"));
            }
            actor.require_in(workspace.id)?;
            let role = crate::roles::service::grantable(&state.db, &actor, &workspace, role.0).await?;
            Some((workspace, role))
        }
        _ => None,
    };
    if let Some(e) = &email {
        if *e != user.email
            && users::Entity::find().filter(users::Column::Email.eq(e.clone())).count(&state.db).await? > 0
        {
            return Err(email_taken());
        }
    }
    let txn = crate::store::begin(&state.db).await?;
    let mut active: users::ActiveModel = user.clone().into();
    if let Some(e) = email.clone() {
        active.email = Set(e);
    }
    if let Some(n) = name.clone() {
        active.name = Set(n);
    }
    if let Some(l) = locale.clone() {
        active.locale = Set(l);
    }
    if let Some((workspace, role)) = &target {
        crate::roles::service::grant(&txn, &actor, &meta, workspace, &user, role).await?;
        active.home_workspace_id = Set(Some(workspace.id));
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await.map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => email_taken(),
        other => other,
    })?;
    let event = Event::new("user.update", "success").by(&actor).target("user", user.id).summary(json!({
        "before": { "email": user.email, "name": user.name, "locale": user.locale, "home_workspace_id": user.home_workspace_id },
        "after": { "email": updated.email, "name": updated.name, "locale": updated.locale, "home_workspace_id": updated.home_workspace_id },
    }));
    audit::append(&txn, &meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    let row = one_row(&txn, updated).await?;
    txn.commit().await?;
    Ok(Json(row))
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
    change_status(state, actor, meta, id, true).await
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
    change_status(state, actor, meta, id, false).await
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
    let user = visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    let txn = crate::store::begin(&state.db).await?;
    check(&txn, &actor, &user, BulkAction::Delete).await?;
    erase(&txn, &actor, &meta, &user).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
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
    if body.ids.is_empty() || body.ids.len() > BULK_MAX {
        return Err(AppError::field("ids", format!("must hold 1 to {BULK_MAX} user ids")));
    }
    let grant = match (body.action, body.workspace_id, body.role_id) {
        (BulkAction::AssignRole, Some(ws), Some(role)) => {
            let workspace = crate::access::workspaces::visible(&state.db, &actor, ws.0)
                .await
                .map_err(|_| AppError::field("workspace_id", "is not a workspace you can see"))?;
            actor.require_in(workspace.id)?;
            let role = crate::roles::service::grantable(&state.db, &actor, &workspace, role.0).await?;
            Some((workspace, role))
        }
        (BulkAction::AssignRole, ws, _) => {
            return Err(AppError::field(
                if ws.is_none() { "workspace_id" } else { "role_id" },
                "is required for assign_role",
            ))
        }
        (_, None, None) => None,
        (_, ws, _) => {
            return Err(AppError::field(
                if ws.is_some() { "workspace_id" } else { "role_id" },
                "is only for assign_role",
            ))
        }
    };
    let txn = crate::store::begin(&state.db).await?;
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for raw in &body.ids {
        let skip = |reason: &'static str, detail: &str| SkippedUser {
            id: raw.clone(),
            reason: reason.into(),
            detail: detail.into(),
        };
        let Ok(id) = Uuid::parse_str(raw.trim()) else {
            skipped.push(skip("invalid_id", "Not a user id."));
            continue;
        };
        if !seen.insert(id) {
            skipped.push(skip("duplicate", "Listed more than once."));
            continue;
        }
        let Ok(user) = visible_user(&txn, &actor, id, USERS_MANAGE).await else {
            skipped.push(skip("not_found", "No such user visible to you."));
            continue;
        };
        if let Err(r) = check(&txn, &actor, &user, body.action).await {
            skipped.push(skip(r.reason, &r.detail));
            continue;
        }
        let done = match (&body.action, &grant) {
            (BulkAction::Activate, _) => set_status(&txn, &actor, &meta, &user, true).await,
            (BulkAction::Deactivate, _) => set_status(&txn, &actor, &meta, &user, false).await,
            (BulkAction::Delete, _) => erase(&txn, &actor, &meta, &user).await,
            (BulkAction::AssignRole, Some((workspace, role))) => {
                if user.customer_id != workspace.customer_id {
                    skipped.push(skip("other_customer", "The user belongs to another customer than the workspace."));
                    continue;
                }
                crate::roles::service::grant(&txn, &actor, &meta, workspace, &user, role).await
            }
            (BulkAction::AssignRole, None) => Err(AppError::internal("assign_role without a role")),
        };
        match done {
            Ok(()) => applied.push(user.id.into()),
            Err(AppError::Forbidden { code, detail }) => skipped.push(skip(code, &detail)),
            Err(e) => return Err(e),
        }
    }
    if body.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(Json(BulkOutcome { action: body.action, dry_run: body.dry_run, applied, skipped }))
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
    if !actor.is_super_admin() {
        return Err(AppError::Forbidden {
            code: "escalation_refused",
            detail: "Only a super admin can grant or take away super admin.".into(),
        });
    }
    let txn = crate::store::begin(&state.db).await?;
    lock_super_admins(&txn).await?;
    let user = users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| u.erased_at.is_none())
        .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    if user.super_admin
        && !body.super_admin
        && user.status == "active"
        && other_active_super_admins(&txn, user.id).await? == 0
    {
        return Err(AppError::Conflict {
            code: "last_super_admin",
            field: Some("super_admin".into()),
            detail: "This is the last active super admin; make someone else one first.".into(),
        });
    }
    users::Entity::update_many()
        .col_expr(users::Column::SuperAdmin, Expr::value(body.super_admin))
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(users::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    let event =
        Event::new(if body.super_admin { "user.super_admin.grant" } else { "user.super_admin.revoke" }, "success")
            .by(&actor)
            .target("user", user.id)
            .summary(
                json!({ "before": { "super_admin": user.super_admin }, "after": { "super_admin": body.super_admin } }),
            );
    audit::append(&txn, &meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    let row = one_row(&txn, users::Model { super_admin: body.super_admin, ..user }).await?;
    txn.commit().await?;
    Ok(Json(row))
}
