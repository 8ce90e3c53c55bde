//! Roles and memberships: system roles (global, read-only), custom roles per workspace,
//! and who holds which role where. Anti-escalation applies wherever a role is granted,
//! created or edited: nobody grants a leaf they do not hold in that workspace.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use serde::Deserialize;
use serde_json::json;
use steward_shared::api::{Membership, ModuleCoverage, RoleSummary, RoleWrite, WorkspaceRef};

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{role_permissions, roles, user_roles, users, workspaces};
use steward_shared::permissions::{self, CATALOG};
use uuid::Uuid;

/// `admin`: everything, including cross-tenant views.
pub const SYSTEM_ADMIN_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);

/// `operator`: read all, trigger runs, pause flows, rotate keys.
pub const SYSTEM_OPERATOR_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0002);

/// `viewer`: read only.
pub const SYSTEM_VIEWER_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0003);

// ---------------------------------------------------------------- services

/// The role, when this principal may see it: system roles, and custom roles of its customer.
pub async fn visible<C: ConnectionTrait>(conn: &C, actor: &Actor, id: Uuid) -> AppResult<roles::Model> {
    roles::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|r| r.is_system || r.customer_id == Some(actor.customer_id()) || actor.cross_tenant())
        .ok_or_else(|| AppError::NotFound("No such role.".into()))
}

/// Whether `role` may be held in `workspace`: a system role, or a custom role of that workspace.
pub fn fits_workspace(role: &roles::Model, workspace: Uuid) -> bool {
    role.is_system || role.workspace_id == Some(workspace)
}

pub(super) async fn patterns_of<C: ConnectionTrait>(
    conn: &C,
    role_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<String>>> {
    let rows = role_permissions::Entity::find()
        .filter(role_permissions::Column::RoleId.is_in(role_ids.to_vec()))
        .order_by_asc(role_permissions::Column::Pattern)
        .all(conn)
        .await?;
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    for row in rows {
        out.entry(row.role_id).or_default().push(row.pattern);
    }
    Ok(out)
}

/// The leaves a role grants.
pub async fn leaves_of<C: ConnectionTrait>(conn: &C, role: Uuid) -> AppResult<Vec<&'static str>> {
    let patterns = patterns_of(conn, &[role]).await?.remove(&role).unwrap_or_default();
    Ok(permissions::expand(patterns.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// Anti-escalation: refuses when `leaves` holds anything `actor` does not hold in `workspace`.
pub fn refuse_escalation(actor: &Actor, workspace: Uuid, leaves: &[&'static str], what: &str) -> AppResult<()> {
    let missing: Vec<&str> = leaves.iter().copied().filter(|l| !actor.holds_in(l, workspace)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(AppError::Forbidden {
        code: "escalation_refused",
        detail: format!("You cannot {what} permissions you do not hold yourself: {}.", missing.join(", ")),
    })
}

pub(super) fn summarize(
    role: roles::Model,
    patterns: Vec<String>,
    member_count: u64,
    workspace: Option<WorkspaceRef>,
) -> RoleSummary {
    let leaves = permissions::expand(patterns.iter().map(String::as_str).collect::<Vec<_>>());
    let modules = CATALOG
        .iter()
        .map(|m| ModuleCoverage {
            module: m.id.into(),
            label: m.label.into(),
            granted: m.leaves.iter().filter(|l| leaves.contains(&l.id)).count() as u32,
            total: m.leaves.len() as u32,
        })
        .collect();
    RoleSummary {
        id: role.id.into(),
        name: role.name,
        description: role.description,
        system: role.is_system,
        workspace,
        member_count,
        granted_leaves: leaves.len() as u32,
        total_leaves: permissions::all_leaves().count() as u32,
        leaves: leaves.into_iter().map(str::to_owned).collect(),
        patterns,
        modules,
    }
}

/// Member counts per role, within one customer.
pub(super) async fn member_counts<C: ConnectionTrait>(conn: &C, customer: Uuid) -> AppResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Uuid, i64)> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::RoleId)
        .column_as(user_roles::Column::UserId.count(), "n")
        .filter(user_roles::Column::CustomerId.eq(customer))
        .group_by(user_roles::Column::RoleId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(id, n)| (id, n as u64)).collect())
}

pub(super) async fn workspace_refs<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, WorkspaceRef>> {
    let rows = workspaces::Entity::find().filter(workspaces::Column::Id.is_in(ids.to_vec())).all(conn).await?;
    Ok(rows.into_iter().map(|w| (w.id, WorkspaceRef { id: w.id.into(), name: w.name })).collect())
}

pub(super) async fn summary_of<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    role: roles::Model,
) -> AppResult<RoleSummary> {
    let patterns = patterns_of(conn, &[role.id]).await?.remove(&role.id).unwrap_or_default();
    let count = member_counts(conn, actor.customer_id()).await?.get(&role.id).copied().unwrap_or(0);
    let workspace = match role.workspace_id {
        Some(ws) => workspace_refs(conn, &[ws]).await?.remove(&ws),
        None => None,
    };
    Ok(summarize(role, patterns, count, workspace))
}

/// Validates a role body: name, description, and each pattern against the catalog.
pub(super) fn validate(body: &RoleWrite) -> AppResult<(String, String, Vec<String>)> {
    let mut v = Validator::new();
    let name = v.text("name", &body.name, 1, 100);
    let description = v.text("description", &body.description, 0, 500);
    if body.patterns.len() > 500 {
        v.error("patterns", "must hold at most 500 patterns");
    }
    let mut patterns = BTreeSet::new();
    for (i, p) in body.patterns.iter().enumerate() {
        match permissions::validate_pattern(p.trim()) {
            Ok(()) => {
                patterns.insert(p.trim().to_owned());
            }
            Err(e) => v.error(&format!("patterns.{i}"), format!("`{}` {e}", p.chars().take(200).collect::<String>())),
        }
    }
    v.finish()?;
    Ok((name, description, patterns.into_iter().collect()))
}

pub(super) fn name_taken() -> AppError {
    AppError::Conflict {
        code: "role_name_taken",
        field: Some("name".into()),
        detail: "A role with this name already exists in this workspace.".into(),
    }
}

pub(super) fn read_only() -> AppError {
    AppError::Forbidden {
        code: "system_role_read_only",
        detail: "System roles ship with Steward and cannot be changed or deleted.".into(),
    }
}

pub(super) async fn name_in_use<C: ConnectionTrait>(
    conn: &C,
    workspace: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> AppResult<bool> {
    let mut q = roles::Entity::find()
        .filter(roles::Column::WorkspaceId.eq(workspace))
        .filter(Expr::expr(Func::lower(Expr::col(roles::Column::Name))).eq(name.to_lowercase()));
    if let Some(id) = except {
        q = q.filter(roles::Column::Id.ne(id));
    }
    Ok(q.count(conn).await? > 0)
}

pub(super) async fn replace_patterns<C: ConnectionTrait>(conn: &C, role: Uuid, patterns: &[String]) -> AppResult<()> {
    role_permissions::Entity::delete_many().filter(role_permissions::Column::RoleId.eq(role)).exec(conn).await?;
    if !patterns.is_empty() {
        let rows =
            patterns.iter().map(|p| role_permissions::ActiveModel { role_id: Set(role), pattern: Set(p.clone()) });
        role_permissions::Entity::insert_many(rows).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// A custom role the actor may change: visible, not a system role, and `require_in` its workspace.
pub(super) async fn editable<C: ConnectionTrait>(conn: &C, actor: &Actor, id: Uuid) -> AppResult<(roles::Model, Uuid)> {
    let role = visible(conn, actor, id).await?;
    if role.is_system {
        return Err(read_only());
    }
    let workspace = role.workspace_id.ok_or_else(|| AppError::internal("custom role without workspace"))?;
    actor.require_in(workspace)?;
    Ok((role, workspace))
}

// ---------------------------------------------------------------- handlers

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Only the system roles and the custom roles of this workspace.
    pub(super) workspace_id: Option<Uuid>,
}

/// Sets `user`'s role in `workspace` (insert or change), with every rule applied.
pub(super) async fn assign(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    workspace: &workspaces::Model,
    user: &users::Model,
    role_id: Uuid,
) -> AppResult<Membership> {
    let role = grantable(&state.db, actor, workspace, role_id).await?;
    let txn = crate::store::begin(&state.db).await?;
    grant(&txn, actor, meta, workspace, user, &role).await?;
    txn.commit().await?;
    Ok(Membership { user_id: user.id.into(), workspace_id: workspace.id.into(), role_id: role.id.into() })
}

/// The role, when `actor` may grant it in `workspace`: visible, fitting the workspace, and
/// holding nothing `actor` lacks there. Errors name the field `role_id`.
pub async fn grantable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    workspace: &workspaces::Model,
    role_id: Uuid,
) -> AppResult<roles::Model> {
    let role =
        visible(conn, actor, role_id).await.map_err(|_| AppError::field("role_id", "is not a role you can see"))?;
    if !fits_workspace(&role, workspace.id) {
        return Err(AppError::field("role_id", "must be a system role or a custom role of this workspace"));
    }
    let leaves = leaves_of(conn, role.id).await?;
    refuse_escalation(actor, workspace.id, &leaves, "grant a role with")?;
    Ok(role)
}

/// Inside a transaction: gives `user` the (already `grantable`) `role` in `workspace`,
/// refusing to strip a stronger membership, and records `membership.grant`.
pub async fn grant<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    meta: &RequestMeta,
    workspace: &workspaces::Model,
    user: &users::Model,
    role: &roles::Model,
) -> AppResult<()> {
    let existing = user_roles::Entity::find_by_id((workspace.id, user.id)).one(txn).await?;
    if let Some(old) = &existing {
        // Nobody strips a membership more powerful than their own.
        let old_leaves = leaves_of(txn, old.role_id).await?;
        refuse_escalation(actor, workspace.id, &old_leaves, "change a membership that holds")?;
        user_roles::Entity::update_many()
            .col_expr(user_roles::Column::RoleId, Expr::value(role.id))
            .filter(user_roles::Column::WorkspaceId.eq(workspace.id))
            .filter(user_roles::Column::UserId.eq(user.id))
            .exec(txn)
            .await?;
    } else {
        user_roles::ActiveModel {
            customer_id: Set(workspace.customer_id),
            workspace_id: Set(workspace.id),
            user_id: Set(user.id),
            role_id: Set(role.id),
            created_at: Set(Utc::now()),
        }
        .insert(txn)
        .await?;
    }
    let event = Event::new("membership.grant", "success").by(actor).target("user", user.id).summary(json!({
        "workspace_id": workspace.id,
        "before": existing.map(|m| m.role_id),
        "after": { "role_id": role.id, "role": role.name },
    }));
    audit::append(txn, meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    Ok(())
}

/// A user of the workspace's customer, or "not found".
pub(super) fn member_candidate(workspace: &workspaces::Model, user: Option<users::Model>) -> AppResult<users::Model> {
    user.filter(|u| u.customer_id == workspace.customer_id && u.erased_at.is_none())
        .ok_or_else(|| AppError::NotFound("No such user in this workspace's customer.".into()))
}
