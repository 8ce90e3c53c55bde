//! The user lifecycle: create, edit, activate/deactivate, erase, super admin, and the bulk
//! actions over many users. Every change is an audit event in the same transaction.
//!
//! The rules that decide whether an action may touch a user live in one place,
//! [`check`], used by the single-user routes and by the bulk route alike.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Set, Statement,
};
use serde_json::json;
use steward_shared::api::{
    BulkAction, BulkOutcome, BulkUsers, CreateUser, DirectoryUser, SetSuperAdmin, SkippedUser, UpdateUser,
};
use steward_shared::permissions::{self, USERS_MANAGE};
use steward_shared::rules;
use uuid::Uuid;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::directory::listing::{one_row, visible_user};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::request_meta::RequestMeta;
use crate::identity::sessions::revoke_all_of;
use crate::identity::{password, password_reset};
use crate::state::AppState;
use crate::store::entities::{api_tokens, invitations, user_roles, users};

/// Serialises changes to the set of super admins on PostgreSQL (SQLite has one writer).
pub(super) const SUPER_ADMIN_LOCK: i64 = 0x0053_5550_4552_4144;

/// The most ids one bulk call takes.
pub const BULK_MAX: usize = rules::BULK_USERS.max;

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

/// A new account: its home workspace and the role it holds there.
pub struct NewAccount {
    pub customer_id: Uuid,
    pub workspace_id: Uuid,
    pub role_id: Uuid,
    pub email: String,
    pub name: String,
    pub locale: String,
    pub password_hash: Option<String>,
    pub super_admin: bool,
    /// Set when the account signs in as it is created (setup, an accepted invitation).
    pub signed_in: bool,
}

/// Inside a transaction: inserts the user and their home membership. A taken email is the
/// `email` field's conflict.
pub async fn insert_account<C: ConnectionTrait>(conn: &C, account: NewAccount) -> AppResult<users::Model> {
    let now = Utc::now();
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(account.customer_id),
        home_workspace_id: Set(Some(account.workspace_id)),
        email: Set(account.email),
        name: Set(account.name),
        locale: Set(account.locale),
        status: Set("active".into()),
        super_admin: Set(account.super_admin),
        password_hash: Set(account.password_hash),
        totp_secret: Set(None),
        totp_enabled: Set(false),
        totp_last_step: Set(None),
        last_login_at: Set(account.signed_in.then_some(now)),
        erased_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => email_taken(),
        other => other,
    })?;
    user_roles::ActiveModel {
        customer_id: Set(account.customer_id),
        workspace_id: Set(account.workspace_id),
        user_id: Set(user.id),
        role_id: Set(account.role_id),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(user)
}

pub(super) fn email_taken() -> AppError {
    AppError::Conflict {
        code: "conflict",
        field: Some("email".into()),
        detail: "A user with this email already exists.".into(),
    }
}

/// Why an action may not touch a user.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: &'static str,
    pub detail: String,
}

impl Refusal {
    fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        Self { reason, detail: detail.into() }
    }

    /// A rule that could not be decided: the database went away (503), or a fault (500).
    fn failed(err: AppError) -> Self {
        match err {
            AppError::Unavailable(detail) => Self::new("unavailable", detail),
            other => Self::new("internal", other.to_string()),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r.reason {
            "permission_denied" | "super_admin" | "stronger_account" | "peer_account" => {
                AppError::Forbidden { code: r.reason, detail: r.detail }
            }
            "internal" => AppError::Internal(r.detail),
            "unavailable" => AppError::Unavailable(r.detail),
            "not_found" => AppError::NotFound(r.detail),
            reason => AppError::Conflict { code: reason, field: None, detail: r.detail },
        }
    }
}

/// The rules of acting on another user, whatever the action: not an erased account, not
/// yourself, a super admin only by a super admin, the current route's leaf in the target's home
/// workspace, and never a stronger account. Every action on another user goes through it.
pub async fn may_act_on<C: ConnectionTrait>(conn: &C, actor: &Actor, target: &users::Model) -> Result<(), Refusal> {
    if target.erased_at.is_some() {
        return Err(Refusal::new("erased", "This account is erased."));
    }
    if target.id == actor.user.id || target.id == actor.author_id() {
        return Err(Refusal::new("yourself", "You cannot do this to your own account."));
    }
    if target.super_admin && !actor.is_super_admin() {
        return Err(Refusal::new("super_admin", "Only a super admin can act on a super admin."));
    }
    match target.home_workspace_id {
        Some(home) if actor.require_in(home).is_err() => {
            let leaf = actor.route_leaves.first().copied().unwrap_or("steward.access.users.manage");
            return Err(Refusal::new(
                "permission_denied",
                format!("You do not hold `{leaf}` in this user's home workspace."),
            ));
        }
        None if !actor.is_super_admin() && !actor.cross_tenant() => {
            return Err(Refusal::new(
                "permission_denied",
                "This user has no home workspace; only platform admins manage them.",
            ))
        }
        _ => {}
    }
    not_stronger(conn, actor, target).await
}

/// The rules of a lifecycle action on `target`: [`may_act_on`], then the action's own (inside the action's transaction, so the
/// last-super-admin count sees earlier changes of the same bulk call).
pub async fn check<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    target: &users::Model,
    action: BulkAction,
) -> Result<(), Refusal> {
    may_act_on(conn, actor, target).await?;
    match action {
        BulkAction::Activate if target.status == "active" => Err(Refusal::new("already_active", "Already active.")),
        BulkAction::Deactivate if target.status != "active" => {
            Err(Refusal::new("already_inactive", "Already inactive."))
        }
        BulkAction::Deactivate | BulkAction::Delete if target.super_admin && target.status == "active" => {
            lock_super_admins(conn).await.map_err(Refusal::failed)?;
            match other_active_super_admins(conn, target.id).await {
                Ok(0) => Err(Refusal::new("last_super_admin", "This is the last active super admin.")),
                Ok(_) => Ok(()),
                Err(e) => Err(Refusal::failed(e)),
            }
        }
        _ => Ok(()),
    }
}

/// Refuses when `target` holds, in any of their workspaces, a leaf `actor` does not hold there:
/// otherwise a workspace admin could take over a stronger account (change its email, mail
/// themselves a reset link) or lock it out.
pub async fn not_stronger<C: ConnectionTrait>(conn: &C, actor: &Actor, target: &users::Model) -> Result<(), Refusal> {
    if actor.is_super_admin() && actor.impersonator.is_none() {
        return Ok(());
    }
    let grants = crate::access::actor::grants_of(conn, target.id).await.map_err(Refusal::failed)?;
    for g in &grants {
        if let Some(leaf) = g.leaves.iter().find(|l| !actor.holds_in(l, g.workspace_id)) {
            return Err(Refusal::new(
                "stronger_account",
                format!("This user holds `{leaf}` in a workspace where you do not; ask someone who holds it."),
            ));
        }
    }
    Ok(())
}

/// Acting on another account's credentials or on the address they are mailed to (an email
/// change, a reset link, a 2FA reset) needs strictly more than the account holds: [`may_act_on`],
/// and something beyond it. An admin holding the same role could otherwise re-address a peer
/// and mail the reset link there. More means: a super admin over anyone who is not one; or, in
/// one of the account's workspaces, a leaf it lacks; or cross-tenant rights it does not hold.
pub async fn may_act_on_credentials<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    target: &users::Model,
) -> Result<(), Refusal> {
    may_act_on(conn, actor, target).await?;
    if actor.is_super_admin() && actor.impersonator.is_none() && !target.super_admin {
        return Ok(());
    }
    let grants = crate::access::actor::grants_of(conn, target.id).await.map_err(Refusal::failed)?;
    let target_crosses = grants.iter().any(|g| g.leaves.contains(permissions::ADMIN_CROSS_TENANT));
    let more = !target.super_admin
        && (grants.is_empty()
            || (actor.cross_tenant() && !target_crosses)
            || grants.iter().any(|g| actor.leaves_in(g.workspace_id).len() > g.leaves.len()));
    if more {
        return Ok(());
    }
    Err(Refusal::new(
        "peer_account",
        "This account holds as much as you do: its email and credentials are changed by someone who holds more, \
         or by the user themselves.",
    ))
}

/// Inside a transaction: sets the status, ending every session when deactivating.
pub(super) async fn set_status<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    meta: &RequestMeta,
    user: &users::Model,
    active: bool,
) -> AppResult<()> {
    let status = if active { "active" } else { "inactive" };
    users::Entity::update_many()
        .col_expr(users::Column::Status, Expr::value(status))
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(users::Column::Id.eq(user.id))
        .exec(conn)
        .await?;
    let ended = if active { 0 } else { revoke_all_of(conn, user.id).await? };
    let event = Event::new(if active { "user.activate" } else { "user.deactivate" }, "success")
        .by(actor)
        .target("user", user.id)
        .summary(
            json!({ "before": { "status": user.status }, "after": { "status": status }, "sessions_ended": ended }),
        );
    audit::append(conn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    Ok(())
}

/// Inside a transaction: the anonymizing erasure. Memberships dropped, sessions, tokens,
/// reset links, recovery codes and pending invitations ended, identity scrubbed; the row stays
/// so the audit log's references stay intact.
pub(super) async fn erase<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    meta: &RequestMeta,
    user: &users::Model,
) -> AppResult<()> {
    let now = Utc::now();
    let memberships =
        user_roles::Entity::delete_many().filter(user_roles::Column::UserId.eq(user.id)).exec(conn).await?;
    let sessions = revoke_all_of(conn, user.id).await?;
    api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::RevokedAt, Expr::value(Some(now)))
        .filter(api_tokens::Column::UserId.eq(user.id))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    password_reset::expire_links(conn, user.id).await?;
    crate::identity::two_factor::turn_off(conn, user.id).await?;
    invitations::Entity::update_many()
        .col_expr(invitations::Column::RevokedAt, Expr::value(Some(now)))
        .filter(invitations::Column::CustomerId.eq(user.customer_id))
        .filter(invitations::Column::Email.eq(user.email.clone()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    users::Entity::update_many()
        .col_expr(users::Column::Email, Expr::value(format!("erased-{}@erased.invalid", user.id.simple())))
        .col_expr(users::Column::Name, Expr::value("Erased user"))
        .col_expr(users::Column::Status, Expr::value("inactive"))
        .col_expr(users::Column::SuperAdmin, Expr::value(false))
        .col_expr(users::Column::PasswordHash, Expr::value(Option::<String>::None))
        .col_expr(users::Column::HomeWorkspaceId, Expr::value(Option::<Uuid>::None))
        .col_expr(users::Column::LastLoginAt, Expr::value(Option::<chrono::DateTime<Utc>>::None))
        .col_expr(users::Column::ErasedAt, Expr::value(Some(now)))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .exec(conn)
        .await?;
    // The event names the user by id only: the point of erasure is that the identity is gone.
    let event = Event::new("user.erase", "success").by(actor).target("user", user.id).summary(json!({
        "memberships_dropped": memberships.rows_affected, "sessions_ended": sessions,
    }));
    audit::append(conn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    Ok(())
}

/// Activates or deactivates a user (asking for the state it is in is not an error).
pub(super) async fn change_status(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    active: bool,
) -> AppResult<DirectoryUser> {
    let user = visible_user(&state.db, actor, id, USERS_MANAGE).await?;
    let txn = crate::store::begin(&state.db).await?;
    let action = if active { BulkAction::Activate } else { BulkAction::Deactivate };
    match check(&txn, actor, &user, action).await {
        Ok(()) => set_status(&txn, actor, meta, &user, active).await?,
        // Asking for the state it is already in is not an error.
        Err(r) if r.reason == "already_active" || r.reason == "already_inactive" => {}
        Err(r) => return Err(r.into()),
    }
    let fresh = users::Entity::find_by_id(user.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    let row = one_row(&txn, fresh).await?;
    txn.commit().await?;
    Ok(row)
}

/// Create a user with a home workspace and a role there.
///
/// With a password, it is used directly (argon2id); without one, the user is mailed a
/// single-use link to set their own. The role is checked against your own permissions in
/// that workspace (anti-escalation); only a super admin creates a super admin.
pub async fn create_user(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: CreateUser,
) -> AppResult<DirectoryUser> {
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    let name = v.text("name", &body.name, rules::NAME);
    if let Some(p) = &body.password {
        crate::identity::runtime::check_password(state, &mut v, "password", p).await?;
    }
    let locale = v.text("locale", body.locale.as_deref().unwrap_or("en"), rules::LOCALE);
    v.finish()?;
    let workspace = crate::access::workspaces::visible(&state.db, actor, body.home_workspace_id.0)
        .await
        .map_err(|e| e.or_miss(|| AppError::unknown("home_workspace_id", "is not a workspace you can see")))?;
    actor.require_in(workspace.id)?;
    let role = crate::roles::service::grantable(&state.db, actor, &workspace, body.role_id.0).await?;
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
        Some(p) => Some(password::hash(state, p).await?),
        None => None,
    };
    // An inactive account cannot sign in: a link to set a password would only wait.
    let (has_password, mailed) = (hash.is_some(), hash.is_none() && body.active);
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
    let mut user = insert_account(&txn, account).await?;
    if !body.active {
        let mut inactive: users::ActiveModel = user.into();
        inactive.status = Set("inactive".into());
        user = inactive.update(&txn).await?;
    }
    if mailed {
        password_reset::issue(&txn, state, &user, password_reset::WELCOME_TTL, true).await?;
    }
    let event = Event::new("user.create", "success").by(actor).target("user", user.id).summary(json!({ "after": {
        "email": user.email, "name": user.name, "workspace_id": workspace.id, "role": role.name,
        "super_admin": user.super_admin, "status": user.status,
        "password": if mailed { "reset link mailed" } else if has_password { "set by admin" } else { "none yet (inactive)" },
    }}));
    audit::append(&txn, meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    let row = one_row(&txn, user).await?;
    txn.commit().await?;
    Ok(row)
}

/// Edit a user: email, name, locale, home workspace and role. Only the fields given change.
pub async fn update_user(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    body: UpdateUser,
) -> AppResult<DirectoryUser> {
    let mut v = Validator::new();
    let email = body.email.as_deref().map(|e| v.email("email", e));
    let name = body.name.as_deref().map(|n| v.text("name", n, rules::NAME));
    let locale = body.locale.as_deref().map(|l| v.text("locale", l, rules::LOCALE));
    if body.home_workspace_id.is_some() != body.role_id.is_some() {
        v.error(
            if body.role_id.is_none() { "role_id" } else { "home_workspace_id" },
            "home_workspace_id and role_id go together",
        );
    }
    v.finish()?;
    let user = visible_user(&state.db, actor, id, USERS_MANAGE).await?;
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
    not_stronger(&state.db, actor, &user).await?;
    let target = match (body.home_workspace_id, body.role_id) {
        (Some(ws), Some(role)) => {
            let workspace = crate::access::workspaces::visible(&state.db, actor, ws.0)
                .await
                .map_err(|e| e.or_miss(|| AppError::unknown("home_workspace_id", "is not a workspace you can see")))?;
            if workspace.customer_id != user.customer_id {
                return Err(AppError::unknown("home_workspace_id", "is not a workspace of the user's customer"));
            }
            actor.require_in(workspace.id)?;
            let role = crate::roles::service::grantable(&state.db, actor, &workspace, role.0).await?;
            Some((workspace, role))
        }
        _ => None,
    };
    if email.as_ref().is_some_and(|e| *e != user.email) && user.id != actor.author_id() {
        may_act_on_credentials(&state.db, actor, &user).await?;
    }
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
        crate::roles::service::grant(&txn, actor, meta, workspace, &user, role).await?;
        active.home_workspace_id = Set(Some(workspace.id));
    }
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await.map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => email_taken(),
        other => other,
    })?;
    let event = Event::new("user.update", "success").by(actor).target("user", user.id).summary(json!({
        "before": { "email": user.email, "name": user.name, "locale": user.locale, "home_workspace_id": user.home_workspace_id },
        "after": { "email": updated.email, "name": updated.name, "locale": updated.locale, "home_workspace_id": updated.home_workspace_id },
    }));
    audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    let row = one_row(&txn, updated).await?;
    txn.commit().await?;
    Ok(row)
}

/// Activate a user.
pub async fn activate_user(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<DirectoryUser> {
    change_status(state, actor, meta, id, true).await
}

/// Deactivate a user: they can no longer sign in, and every live session ends at once.
pub async fn deactivate_user(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
) -> AppResult<DirectoryUser> {
    change_status(state, actor, meta, id, false).await
}

/// Erase a user: the anonymizing delete. Memberships are dropped, sessions and tokens end,
/// the identity is scrubbed; the row stays so the audit log stays intact.
///
/// While impersonating, send the user's email as `X-Steward-Confirm`.
pub async fn erase_user(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<()> {
    let user = visible_user(&state.db, actor, id, USERS_MANAGE).await?;
    let txn = crate::store::begin(&state.db).await?;
    check(&txn, actor, &user, BulkAction::Delete).await?;
    erase(&txn, actor, meta, &user).await?;
    txn.commit().await?;
    Ok(())
}

/// Activate, deactivate, erase or assign a role to many users in one call.
///
/// Each id that cannot be acted on is skipped and reported with its reason; the others are
/// done, all in one transaction. With `dry_run` nothing changes and the answer says what
/// would. While impersonating, `delete` needs `X-Steward-Confirm: <n> users`.
pub async fn bulk_users(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: BulkUsers,
) -> AppResult<BulkOutcome> {
    if body.ids.is_empty() || body.ids.len() > BULK_MAX {
        return Err(AppError::field("ids", format!("must hold 1 to {BULK_MAX} user ids")));
    }
    let grant = match (body.action, body.workspace_id, body.role_id) {
        (BulkAction::AssignRole, Some(ws), Some(role)) => {
            let workspace = crate::access::workspaces::visible(&state.db, actor, ws.0)
                .await
                .map_err(|e| e.or_miss(|| AppError::unknown("workspace_id", "is not a workspace you can see")))?;
            actor.require_in(workspace.id)?;
            let role = crate::roles::service::grantable(&state.db, actor, &workspace, role.0).await?;
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
        let Ok(user) = visible_user(&txn, actor, id, USERS_MANAGE).await else {
            skipped.push(skip("not_found", "No such user visible to you."));
            continue;
        };
        if let Err(r) = check(&txn, actor, &user, body.action).await {
            skipped.push(skip(r.reason, &r.detail));
            continue;
        }
        let done = match (&body.action, &grant) {
            (BulkAction::Activate, _) => set_status(&txn, actor, meta, &user, true).await,
            (BulkAction::Deactivate, _) => set_status(&txn, actor, meta, &user, false).await,
            (BulkAction::Delete, _) => erase(&txn, actor, meta, &user).await,
            (BulkAction::AssignRole, Some((workspace, role))) => {
                if user.customer_id != workspace.customer_id {
                    skipped.push(skip("other_customer", "The user belongs to another customer than the workspace."));
                    continue;
                }
                crate::roles::service::grant(&txn, actor, meta, workspace, &user, role).await
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
    Ok(BulkOutcome { action: body.action, dry_run: body.dry_run, applied, skipped })
}

/// Grant or take away super admin (super admins only). The last active super admin stays one.
pub async fn set_super_admin(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    user_id: Uuid,
    body: SetSuperAdmin,
) -> AppResult<DirectoryUser> {
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
            .by(actor)
            .target("user", user.id)
            .summary(
                json!({ "before": { "super_admin": user.super_admin }, "after": { "super_admin": body.super_admin } }),
            );
    audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    let row = one_row(&txn, users::Model { super_admin: body.super_admin, ..user }).await?;
    txn.commit().await?;
    Ok(row)
}
