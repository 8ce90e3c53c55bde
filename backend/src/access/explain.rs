//! The permission catalog, and "why can X do Y": explaining a user's access.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use steward_shared::api::{Explanation, Grant, WorkspaceRef};
use steward_shared::permissions;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::{AppResult, Validator};
use crate::state::AppState;
use crate::store::entities::{role_permissions, roles, user_roles, users, workspaces};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    /// The user whose access to explain.
    pub user: Uuid,
    /// A leaf of the catalog.
    pub permission: String,
    /// Only this workspace; default: any of the user's workspaces.
    pub workspace: Option<Uuid>,
}

/// Whether a user holds a leaf, and through which role and pattern (or super admin).
pub async fn explain_access(state: &AppState, actor: &Actor, q: ExplainQuery) -> AppResult<Explanation> {
    let mut v = Validator::new();
    if permissions::find_leaf(&q.permission).is_none() {
        v.error("permission", "is not a leaf of the permission catalog");
    }
    v.finish()?;
    let user = actor.tenant_row(
        users::Entity::find_by_id(q.user).one(&state.db).await?,
        |u| Some(u.customer_id),
        "No such user.",
    )?;
    if let Some(ws) = q.workspace {
        crate::access::workspaces::visible(&state.db, actor, ws).await?;
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
    Ok(Explanation {
        user_id: user.id.into(),
        permission: q.permission,
        workspace_id: q.workspace.map(Into::into),
        granted,
        super_admin: user.super_admin,
        via,
        detail,
    })
}
