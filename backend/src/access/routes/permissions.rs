//! The permission catalog, and "why can X do Y".

use axum::extract::State;

#[allow(unused_imports)]
use crate::access::explain::*;
use crate::access::Actor;
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use crate::store::entities::{role_permissions, roles, user_roles, users, workspaces};
use axum::Json;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use steward_shared::api::{ConsolePageInfo, Explanation, Grant, LeafInfo, ModuleInfo, PermissionCatalog, WorkspaceRef};
use steward_shared::permissions::{self, CATALOG, CONSOLE_PAGES};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_permissions)).routes(routes!(explain_access))
}

/// The permission catalog: modules and their leaves, and the console pages.
#[utoipa::path(
    get, path = "/api/permissions", tag = "access", operation_id = "list_permissions",
    security(("bearer" = [])),
    responses((status = 200, description = "The catalog", body = PermissionCatalog)),
)]
async fn list_permissions() -> Json<PermissionCatalog> {
    Json(PermissionCatalog {
        total_leaves: permissions::all_leaves().count() as u32,
        modules: CATALOG
            .iter()
            .map(|m| ModuleInfo {
                id: m.id.into(),
                label: m.label.into(),
                leaves: m.leaves.iter().map(|l| LeafInfo { id: l.id.into(), label: l.label.into() }).collect(),
            })
            .collect(),
        console_pages: CONSOLE_PAGES
            .iter()
            .map(|p| ConsolePageInfo {
                id: p.id.into(),
                label: p.label.into(),
                delegable: p.delegable,
                read_leaf: p.read_leaf().into(),
                write_leaf: p.write_leaf().into(),
                read_operations: p.reads.iter().map(|s| (*s).into()).collect(),
                write_operations: p.writes.iter().map(|s| (*s).into()).collect(),
            })
            .collect(),
    })
}

/// Whether a user holds a leaf, and through which role and pattern (or super admin).
#[utoipa::path(
    get, path = "/api/access/explain", tag = "access", operation_id = "explain_access",
    security(("bearer" = ["steward.access.roles.view"])),
    params(ExplainQuery),
    responses((status = 200, description = "The answer and its reasons", body = Explanation)),
)]
async fn explain_access(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ExplainQuery>,
) -> AppResult<Json<Explanation>> {
    let mut v = Validator::new();
    if permissions::find_leaf(&q.permission).is_none() {
        v.error("permission", "is not a leaf of the permission catalog");
    }
    v.finish()?;
    let user = users::Entity::find_by_id(q.user)
        .one(&state.db)
        .await?
        .filter(|u| u.customer_id == actor.customer_id() || actor.cross_tenant())
        .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    if let Some(ws) = q.workspace {
        crate::access::workspaces::visible(&state.db, &actor, ws).await?;
    }
    let mut memberships = user_roles::Entity::find().filter(user_roles::Column::UserId.eq(user.id));
    if let Some(ws) = q.workspace {
        memberships = memberships.filter(user_roles::Column::WorkspaceId.eq(ws));
    }
    let memberships = memberships.all(&state.db).await?;
    let mut via = Vec::new();
    for m in &memberships {
        let role = roles::Entity::find_by_id(m.role_id).one(&state.db).await?;
        let workspace = workspaces::Entity::find_by_id(m.workspace_id).one(&state.db).await?;
        let (Some(role), Some(workspace)) = (role, workspace) else { continue };
        let patterns = role_permissions::Entity::find()
            .filter(role_permissions::Column::RoleId.eq(role.id))
            .all(&state.db)
            .await?;
        for p in patterns.into_iter().filter(|p| permissions::pattern_covers(&p.pattern, &q.permission)) {
            via.push(Grant {
                workspace: WorkspaceRef { id: workspace.id.into(), name: workspace.name.clone() },
                role_id: role.id.into(),
                role_name: role.name.clone(),
                pattern: p.pattern,
            });
        }
    }
    let active = user.status == "active" && user.erased_at.is_none();
    let root_only = permissions::is_root_only(&q.permission);
    let by_role = !via.is_empty() && !root_only;
    let granted = active && (user.super_admin || by_role);
    let detail = if !active {
        format!("{} is deactivated, so holds nothing.", user.email)
    } else if user.super_admin {
        format!("{} is a super admin and holds every permission.", user.email)
    } else if root_only {
        format!("`{}` belongs to a page only super admins may use; {} is not one.", q.permission, user.email)
    } else if let Some(first) = via.first() {
        format!(
            "{} holds `{}` through the role `{}` in {} (pattern `{}`).",
            user.email, q.permission, first.role_name, first.workspace.name, first.pattern
        )
    } else {
        format!("No role of {} grants `{}` there.", user.email, q.permission)
    };
    Ok(Json(Explanation {
        user_id: user.id.into(),
        permission: q.permission,
        workspace_id: q.workspace.map(Into::into),
        granted,
        super_admin: user.super_admin,
        via,
        detail,
    }))
}
