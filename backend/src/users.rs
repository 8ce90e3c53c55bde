//! Users: creation with a home workspace and role, and the super admin flag.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Set,
    Statement, TransactionTrait,
};
use serde_json::json;
use steward_shared::api::{CreateUser, SetSuperAdmin, UserSummary, WorkspaceRef};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::auth::{password, Actor};
use crate::entities::{user_roles, users, workspaces};
use crate::error::{AppError, AppResult, Validator};
use crate::extract::{ApiJson, ApiPath};
use crate::request_meta::RequestMeta;
use crate::roles::{fits_workspace, leaves_of, refuse_escalation};
use crate::state::AppState;

/// Serialises changes to the set of super admins on PostgreSQL (SQLite has one writer).
const SUPER_ADMIN_LOCK: i64 = 0x0053_5550_4552_4144;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_user)).routes(routes!(set_super_admin))
}

pub fn summary(user: &users::Model, home: Option<&workspaces::Model>) -> UserSummary {
    UserSummary {
        id: user.id.into(),
        customer_id: user.customer_id.into(),
        email: user.email.clone(),
        name: user.name.clone(),
        locale: user.locale.clone(),
        status: user.status.clone(),
        super_admin: user.super_admin,
        home_workspace: home.map(|w| WorkspaceRef { id: w.id.into(), name: w.name.clone() }),
        created_at: user.created_at,
    }
}

/// Takes the lock that serialises super-admin changes, inside `conn`'s transaction.
pub async fn lock_super_admins<C: ConnectionTrait>(conn: &C) -> AppResult<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [SUPER_ADMIN_LOCK.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Active super admins other than `except`.
pub async fn other_active_super_admins<C: ConnectionTrait>(conn: &C, except: Uuid) -> AppResult<u64> {
    Ok(users::Entity::find()
        .filter(users::Column::SuperAdmin.eq(true))
        .filter(users::Column::Status.eq("active"))
        .filter(users::Column::ErasedAt.is_null())
        .filter(users::Column::Id.ne(except))
        .count(conn)
        .await?)
}

/// Create a user with a password, a home workspace and a role there.
///
/// The role is checked against your own permissions in that workspace (anti-escalation);
/// only a super admin creates a super admin.
#[utoipa::path(
    post, path = "/api/users", tag = "users", operation_id = "create_user",
    security(("bearer" = ["steward.access.users.manage"])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserSummary),
        (status = 409, description = "The email is taken (`conflict`, field `email`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<(StatusCode, Json<UserSummary>)> {
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    let name = v.text("name", &body.name, 1, 200);
    v.password("password", &body.password);
    let locale = v.text("locale", body.locale.as_deref().unwrap_or("en"), 2, 35);
    v.finish()?;
    let workspace = crate::workspaces::visible(&state.db, &actor, body.home_workspace_id.0)
        .await
        .map_err(|_| AppError::field("home_workspace_id", "is not a workspace you can see"))?;
    actor.require_in(workspace.id)?;
    let role = crate::roles::visible(&state.db, &actor, body.role_id.0)
        .await
        .map_err(|_| AppError::field("role_id", "is not a role you can see"))?;
    if !fits_workspace(&role, workspace.id) {
        return Err(AppError::field("role_id", "must be a system role or a custom role of the home workspace"));
    }
    refuse_escalation(&actor, workspace.id, &leaves_of(&state.db, role.id).await?, "grant a role with")?;
    if body.super_admin && !actor.is_super_admin() {
        return Err(AppError::Forbidden {
            code: "escalation_refused",
            detail: "Only a super admin can make a super admin.".into(),
        });
    }
    if users::Entity::find().filter(users::Column::Email.eq(email.clone())).count(&state.db).await? > 0 {
        return Err(email_taken());
    }
    let hash = password::hash(&state, body.password).await?;
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(workspace.customer_id),
        home_workspace_id: Set(Some(workspace.id)),
        email: Set(email),
        name: Set(name),
        locale: Set(locale),
        status: Set("active".into()),
        super_admin: Set(body.super_admin),
        password_hash: Set(Some(hash)),
        totp_secret: Set(None),
        totp_enabled: Set(false),
        last_login_at: Set(None),
        erased_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => email_taken(),
        other => other,
    })?;
    user_roles::ActiveModel {
        customer_id: Set(workspace.customer_id),
        workspace_id: Set(workspace.id),
        user_id: Set(user.id),
        role_id: Set(role.id),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = Event::new("user.create", "success")
        .by(&actor)
        .target("user", user.id)
        .summary(json!({ "after": {
            "email": user.email, "name": user.name, "workspace_id": workspace.id, "role": role.name, "super_admin": user.super_admin,
        }}));
    audit::append(&txn, &meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(summary(&user, Some(&workspace)))))
}

fn email_taken() -> AppError {
    AppError::Conflict {
        code: "conflict",
        field: Some("email".into()),
        detail: "A user with this email already exists.".into(),
    }
}

/// Grant or take away super admin (super admins only). The last active super admin stays one.
#[utoipa::path(
    put, path = "/api/users/{user_id}/super-admin", tag = "users", operation_id = "set_super_admin",
    security(("bearer" = ["steward.access.users.manage"])),
    params(("user_id" = Uuid, Path, description = "The user")),
    request_body = SetSuperAdmin,
    responses(
        (status = 200, description = "Updated", body = UserSummary),
        (status = 409, description = "The last active super admin (`last_super_admin`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn set_super_admin(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SetSuperAdmin>,
) -> AppResult<Json<UserSummary>> {
    if !actor.is_super_admin() {
        return Err(AppError::Forbidden {
            code: "escalation_refused",
            detail: "Only a super admin can grant or take away super admin.".into(),
        });
    }
    let txn = state.db.begin().await?;
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
    let home = match user.home_workspace_id {
        Some(ws) => workspaces::Entity::find_by_id(ws).one(&txn).await?,
        None => None,
    };
    txn.commit().await?;
    let updated = users::Model { super_admin: body.super_admin, ..user };
    Ok(Json(summary(&updated, home.as_ref())))
}
