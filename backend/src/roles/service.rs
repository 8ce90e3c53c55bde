//! Roles and memberships: system roles (global, read-only), custom roles per workspace,
//! and who holds which role where. Anti-escalation applies wherever a role is granted,
//! created or edited: nobody grants a leaf they do not hold in that workspace.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use steward_shared::api::{
    AddMember, Membership, ModuleCoverage, Page, RoleMember, RoleMetrics, RoleSummary, RoleWrite, SetMemberRole,
    WorkspaceRef,
};
use steward_shared::permissions::{self, CATALOG};
use steward_shared::rules;
use uuid::Uuid;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::pagination::{self, Cursor, PageQuery};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{invitations, role_permissions, roles, user_roles, users, workspaces};

/// `admin`: everything, including cross-tenant views.
pub const SYSTEM_ADMIN_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);

/// `operator`: read all, trigger runs, pause flows, rotate keys.
pub const SYSTEM_OPERATOR_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0002);

/// `viewer`: read only.
pub const SYSTEM_VIEWER_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0003);

// ---------------------------------------------------------------- services

/// The role, when this principal may see it: system roles, and custom roles of its customer.
pub async fn visible<C: ConnectionTrait>(conn: &C, actor: &Actor, id: Uuid) -> AppResult<roles::Model> {
    let row = roles::Entity::find_by_id(id).one(conn).await?;
    actor.tenant_row(row, |r| if r.is_system { None } else { r.customer_id }, "No such role.")
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
        detail: format!(
            "You cannot {what} permissions you do not hold yourself: {}.",
            permissions::describe_leaves(&missing)
        ),
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
    let name = v.text("name", &body.name, rules::SHORT_NAME);
    let description = v.text("description", &body.description, rules::ROLE_DESCRIPTION);
    v.items("patterns", body.patterns.len(), rules::ROLE_PATTERNS);
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
pub struct ListQuery {
    /// Only the system roles and the custom roles of this workspace.
    pub workspace_id: Option<Uuid>,
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
    let role = visible(conn, actor, role_id)
        .await
        .map_err(|e| e.or_miss(|| AppError::unknown("role_id", "is not a role you can see")))?;
    if !fits_workspace(&role, workspace.id) {
        return Err(AppError::unknown("role_id", "is not a system role or a custom role of this workspace"));
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

/// The roles `q` asks for: the system roles first, then the custom roles of your customer (or
/// of one workspace), by name.
async fn roles_of(db: &DatabaseConnection, actor: &Actor, q: &ListQuery) -> AppResult<Vec<roles::Model>> {
    let mut custom =
        Condition::all().add(roles::Column::IsSystem.eq(false)).add(roles::Column::CustomerId.eq(actor.customer_id()));
    if let Some(ws) = q.workspace_id {
        crate::access::workspaces::filter(db, actor, None, ws).await?;
        custom = Condition::all().add(roles::Column::IsSystem.eq(false)).add(roles::Column::WorkspaceId.eq(ws));
    }
    Ok(roles::Entity::find()
        .filter(Condition::any().add(roles::Column::IsSystem.eq(true)).add(custom))
        .order_by_desc(roles::Column::IsSystem)
        .order_by_asc(roles::Column::Name)
        .all(db)
        .await?)
}

/// Roles: the system roles and your customer's custom roles, with coverage and member counts,
/// on one page (a customer's roles are few: they are made by hand).
pub async fn list_roles(state: &AppState, actor: &Actor, q: ListQuery) -> AppResult<Page<RoleSummary>> {
    let db = &state.db;
    let rows = roles_of(db, actor, &q).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut patterns = patterns_of(db, &ids).await?;
    let counts = member_counts(db, actor.customer_id()).await?;
    let ws_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.workspace_id).collect();
    let refs = workspace_refs(db, &ws_ids).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let p = patterns.remove(&r.id).unwrap_or_default();
            let count = counts.get(&r.id).copied().unwrap_or(0);
            let ws = r.workspace_id.and_then(|w| refs.get(&w).cloned());
            summarize(r, p, count, ws)
        })
        .collect();
    Ok(Page::whole(items))
}

/// The metrics strip of the roles page, over the roles `list_roles` answers for the same query.
pub async fn role_metrics(state: &AppState, actor: &Actor, q: ListQuery) -> AppResult<RoleMetrics> {
    let db = &state.db;
    let rows = roles_of(db, actor, &q).await?;
    let members_assigned =
        user_roles::Entity::find().filter(user_roles::Column::CustomerId.eq(actor.customer_id())).count(db).await?;
    Ok(RoleMetrics {
        leaves_in_catalog: permissions::all_leaves().count() as u32,
        total_roles: rows.len() as u32,
        custom_roles: rows.iter().filter(|r| !r.is_system).count() as u32,
        members_assigned,
    })
}

/// One role.
pub async fn get_role(state: &AppState, actor: &Actor, role_id: Uuid) -> AppResult<RoleSummary> {
    let role = visible(&state.db, actor, role_id).await?;
    summary_of(&state.db, actor, role).await
}

/// Create a custom role in a workspace.
///
/// Refused (`escalation_refused`) when it would grant a leaf you do not hold in that workspace.
pub async fn create_role(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    workspace_id: Uuid,
    body: RoleWrite,
) -> AppResult<RoleSummary> {
    let workspace = crate::access::workspaces::visible(&state.db, actor, workspace_id).await?;
    actor.require_in(workspace.id)?;
    let (name, description, patterns) = validate(&body)?;
    let leaves = permissions::expand(patterns.iter().map(String::as_str).collect::<Vec<_>>());
    refuse_escalation(actor, workspace.id, &leaves, "create a role with")?;

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
        .by(actor)
        .target("role", role.id)
        .summary(json!({ "after": { "name": role.name, "workspace_id": workspace.id, "patterns": patterns } }));
    audit::append(&txn, meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    let summary = summary_of(&txn, actor, role).await?;
    txn.commit().await?;
    Ok(summary)
}

/// Replace a custom role's name, description and patterns.
pub async fn update_role(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    role_id: Uuid,
    body: RoleWrite,
) -> AppResult<RoleSummary> {
    let (role, workspace) = editable(&state.db, actor, role_id).await?;
    let (name, description, patterns) = validate(&body)?;
    let leaves = permissions::expand(patterns.iter().map(String::as_str).collect::<Vec<_>>());
    refuse_escalation(actor, workspace, &leaves, "give a role")?;

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
    let event = Event::new("role.update", "success").by(actor).target("role", role.id).summary(
        json!({ "before": { "name": role.name, "patterns": before }, "after": { "name": name, "patterns": patterns } }),
    );
    audit::append(&txn, meta, Event { customer_id: role.customer_id, ..event }).await?;
    let summary = summary_of(&txn, actor, updated).await?;
    txn.commit().await?;
    Ok(summary)
}

/// Delete a custom role nobody holds.
pub async fn delete_role(state: &AppState, actor: &Actor, meta: &RequestMeta, role_id: Uuid) -> AppResult<()> {
    let (role, _) = editable(&state.db, actor, role_id).await?;
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
        .by(actor)
        .target("role", role.id)
        .summary(json!({ "before": { "name": role.name, "patterns": patterns } }));
    audit::append(&txn, meta, Event { customer_id: role.customer_id, ..event }).await?;
    txn.commit().await?;
    Ok(())
}

/// Who holds this role in your customer, by name: a page of people, each with every workspace
/// where they hold it (one row per membership).
pub async fn list_role_members(
    state: &AppState,
    actor: &Actor,
    role_id: Uuid,
    q: PageQuery,
) -> AppResult<Page<RoleMember>> {
    let role = visible(&state.db, actor, role_id).await?;
    let customer = role.customer_id.unwrap_or(actor.customer_id());
    let limit = pagination::limit(q.limit)?;
    let holders = Query::select()
        .column(user_roles::Column::UserId)
        .from(user_roles::Entity)
        .and_where(Expr::col(user_roles::Column::RoleId).eq(role.id))
        .and_where(Expr::col(user_roles::Column::CustomerId).eq(customer))
        .to_owned();
    let mut page = users::Entity::find()
        .filter(users::Column::CustomerId.eq(customer))
        .filter(users::Column::Id.in_subquery(holders))
        .order_by_asc(users::Column::Name)
        .order_by_asc(users::Column::Id)
        .limit(limit + 1);
    if let Some(raw) = q.cursor.as_deref() {
        let c = Cursor::decode(raw)?;
        let name = c.key.ok_or_else(pagination::foreign_cursor)?;
        page = page.filter(pagination::after(
            Expr::col(users::Column::Name),
            Expr::col(users::Column::Id),
            name,
            c.id,
            false,
        ));
    }
    let (people, next_cursor) =
        pagination::finish(page.all(&state.db).await?, limit, |u| Cursor { key: Some(u.name.clone()), id: u.id });
    let memberships = user_roles::Entity::find()
        .filter(user_roles::Column::RoleId.eq(role.id))
        .filter(user_roles::Column::CustomerId.eq(customer))
        .filter(user_roles::Column::UserId.is_in(people.iter().map(|u| u.id)))
        .all(&state.db)
        .await?;
    let ws_ids: Vec<Uuid> = memberships.iter().map(|m| m.workspace_id).collect();
    let refs = workspace_refs(&state.db, &ws_ids).await?;
    let mut items = Vec::with_capacity(memberships.len());
    for user in &people {
        let mut theirs: Vec<RoleMember> = memberships
            .iter()
            .filter(|m| m.user_id == user.id)
            .filter_map(|m| {
                Some(RoleMember {
                    user_id: user.id.into(),
                    name: user.name.clone(),
                    email: user.email.clone(),
                    workspace: refs.get(&m.workspace_id)?.clone(),
                    home: user.home_workspace_id == Some(m.workspace_id),
                })
            })
            .collect();
        theirs.sort_by(|a, b| a.workspace.name.cmp(&b.workspace.name));
        items.extend(theirs);
    }
    Ok(Page { items, next_cursor })
}

/// Give a user (by email) a role in a workspace.
pub async fn add_member(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    workspace_id: Uuid,
    body: AddMember,
) -> AppResult<Membership> {
    let workspace = crate::access::workspaces::visible(&state.db, actor, workspace_id).await?;
    actor.require_in(workspace.id)?;
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    v.finish()?;
    let user = users::Entity::find().filter(users::Column::Email.eq(email)).one(&state.db).await?;
    let user = member_candidate(&workspace, user)
        .map_err(|_| AppError::unknown("email", "is not a user of this workspace's customer"))?;
    assign(state, actor, meta, &workspace, &user, body.role_id.0).await
}

/// Change the role a user holds in a workspace (or give them one).
pub async fn set_member_role(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    (workspace_id, user_id): (Uuid, Uuid),
    body: SetMemberRole,
) -> AppResult<Membership> {
    let workspace = crate::access::workspaces::visible(&state.db, actor, workspace_id).await?;
    actor.require_in(workspace.id)?;
    let user = member_candidate(&workspace, users::Entity::find_by_id(user_id).one(&state.db).await?)?;
    assign(state, actor, meta, &workspace, &user, body.role_id.0).await
}

/// Remove a user's role in a workspace (not their home membership).
pub async fn remove_member(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    (workspace_id, user_id): (Uuid, Uuid),
) -> AppResult<()> {
    let workspace = crate::access::workspaces::visible(&state.db, actor, workspace_id).await?;
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
    refuse_escalation(actor, workspace.id, &old_leaves, "remove a membership that holds")?;
    user_roles::Entity::delete_many()
        .filter(user_roles::Column::WorkspaceId.eq(workspace.id))
        .filter(user_roles::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let event = Event::new("membership.revoke", "success")
        .by(actor)
        .target("user", user.id)
        .summary(json!({ "workspace_id": workspace.id, "before": { "role_id": membership.role_id } }));
    audit::append(&txn, meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(())
}
