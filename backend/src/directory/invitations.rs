//! Invitations: an admin invites an email into a workspace with a role; the invitee gets a
//! mailed link carrying a 256-bit single-use token (stored hashed) that expires, and accepts
//! it by choosing a name and a password — which creates the account and signs them in.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::json;
use steward_shared::api::{AcceptInvitation, CreateInvitation, Invitation, Page, TokenPair, WorkspaceRef};
use steward_shared::rules;
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::identity::{password, sessions};
use crate::secrets::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::entities::{invitations, roles, users, workspaces};

pub(super) const LEAF: &str = "steward.access.invitations.manage";

pub(super) fn status_of(i: &invitations::Model) -> &'static str {
    if i.accepted_at.is_some() {
        "accepted"
    } else if i.revoked_at.is_some() {
        "revoked"
    } else if i.expires_at <= Utc::now() {
        "expired"
    } else {
        "pending"
    }
}

pub(super) async fn rows(state: &AppState, list: Vec<invitations::Model>) -> AppResult<Vec<Invitation>> {
    let ws_ids: Vec<Uuid> = list.iter().map(|i| i.workspace_id).collect();
    let role_ids: Vec<Uuid> = list.iter().map(|i| i.role_id).collect();
    let ws: std::collections::HashMap<Uuid, String> = workspaces::Entity::find()
        .filter(workspaces::Column::Id.is_in(ws_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|w| (w.id, w.name))
        .collect();
    let role_names: std::collections::HashMap<Uuid, String> = roles::Entity::find()
        .filter(roles::Column::Id.is_in(role_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    Ok(list
        .into_iter()
        .map(|i| Invitation {
            id: i.id,
            customer_id: i.customer_id.into(),
            email: i.email.clone(),
            workspace: WorkspaceRef {
                id: i.workspace_id.into(),
                name: ws.get(&i.workspace_id).cloned().unwrap_or_default(),
            },
            role_id: i.role_id.into(),
            role_name: role_names.get(&i.role_id).cloned().unwrap_or_default(),
            invited_by: i.invited_by.map(Into::into),
            status: status_of(&i).into(),
            created_at: i.created_at,
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
            revoked_at: i.revoked_at,
        })
        .collect())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationQuery {
    /// Also list accepted invitations.
    #[serde(default)]
    pub include_accepted: bool,
    /// Also list expired and revoked invitations.
    #[serde(default)]
    pub include_expired: bool,
    /// Only invitations into this workspace.
    pub workspace_id: Option<Uuid>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Invite an email into a workspace with a role; the link is mailed (it is never shown here).
/// A pending invitation of the same email to the same workspace is replaced.
pub async fn create_invitation(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: CreateInvitation,
) -> AppResult<Invitation> {
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    let hours = body.expires_in_hours.unwrap_or(72);
    v.range("expires_in_hours", hours, rules::INVITATION_HOURS);
    v.finish()?;
    let workspace = crate::access::workspaces::visible(&state.db, actor, body.workspace_id.0)
        .await
        .map_err(|e| e.or_miss(|| AppError::unknown("workspace_id", "is not a workspace you can see")))?;
    actor.require_in(workspace.id)?;
    let role = crate::roles::service::grantable(&state.db, actor, &workspace, body.role_id.0).await?;
    if users::Entity::find().filter(users::Column::Email.eq(email.clone())).count(&state.db).await? > 0 {
        return Err(AppError::Conflict {
            code: "conflict",
            field: Some("email".into()),
            detail: "This email already has an account.".into(),
        });
    }
    let now = Utc::now();
    let token = random_token(32);
    let txn = crate::store::begin(&state.db).await?;
    invitations::Entity::update_many()
        .col_expr(invitations::Column::RevokedAt, Expr::value(Some(now)))
        .filter(invitations::Column::CustomerId.eq(workspace.customer_id))
        .filter(invitations::Column::Email.eq(email.clone()))
        .filter(invitations::Column::WorkspaceId.eq(workspace.id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let invitation = invitations::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(workspace.customer_id),
        workspace_id: Set(workspace.id),
        role_id: Set(role.id),
        email: Set(email.clone()),
        token_hash: Set(sha256_hex(&token)),
        invited_by: Set(Some(actor.author_id())),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(i64::from(hours))),
        accepted_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let link = format!("{}/accept-invitation?token={}", state.config.link_base(), crate::mail::TOKEN_SLOT);
    let body = format!(
        "Hello,\n\n{} invited you to the workspace \"{}\" on Steward as {}.\n\nAccept here (the link works once, for {hours} hours):\n\n{link}\n",
        actor.impersonator.as_deref().unwrap_or(actor).user.name,
        workspace.name,
        role.name
    );
    crate::mail::enqueue_with_token(
        &txn,
        state,
        Some(workspace.customer_id),
        "invitation",
        &email,
        "You are invited to Steward",
        body,
        &token,
    )
    .await?;
    let event =
        Event::new("invitation.create", "success").by(actor).target("invitation", invitation.id).summary(json!({
            "email": email, "workspace_id": workspace.id, "role": role.name, "expires_at": invitation.expires_at,
        }));
    audit::append(&txn, meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    txn.commit().await?;
    let row = rows(state, vec![invitation]).await?.pop().ok_or_else(|| AppError::internal("row vanished"))?;
    Ok(row)
}

/// Invitations in scope, newest first; pending only unless asked for more.
pub async fn list_invitations(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    q: InvitationQuery,
) -> AppResult<Page<Invitation>> {
    let limit = pagination::limit(q.limit)?;
    let now = Utc::now();
    let mut query = invitations::Entity::find().filter(scope.condition(invitations::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with(LEAF) {
        query = query.filter(invitations::Column::WorkspaceId.is_in(ws));
    }
    if let Some(ws) = q.workspace_id {
        crate::access::workspaces::filter(&state.db, actor, Some(scope), ws).await?;
        query = query.filter(invitations::Column::WorkspaceId.eq(ws));
    }
    let pending = Condition::all()
        .add(invitations::Column::AcceptedAt.is_null())
        .add(invitations::Column::RevokedAt.is_null())
        .add(invitations::Column::ExpiresAt.gt(now));
    let mut shown = Condition::any().add(pending);
    if q.include_accepted {
        shown = shown.add(invitations::Column::AcceptedAt.is_not_null());
    }
    if q.include_expired {
        shown = shown.add(
            Condition::all().add(invitations::Column::AcceptedAt.is_null()).add(
                Condition::any()
                    .add(invitations::Column::RevokedAt.is_not_null())
                    .add(invitations::Column::ExpiresAt.lte(now)),
            ),
        );
    }
    query = query.filter(shown);
    if let Some(raw) = &q.cursor {
        query = query.filter(invitations::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let list = query.order_by_desc(invitations::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (list, next_cursor) = pagination::finish(list, limit, |i| Cursor { key: None, id: i.id });
    Ok(Page { items: rows(state, list).await?, next_cursor })
}

/// Revoke a pending invitation; its link stops working. While impersonating, send the
/// invited email as `X-Steward-Confirm`.
pub async fn revoke_invitation(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<()> {
    let row = invitations::Entity::find_by_id(id).one(&state.db).await?;
    let invitation = actor.tenant_row(row, |i| Some(i.customer_id), "No such invitation.")?;
    actor.require_in(invitation.workspace_id).map_err(|_| AppError::NotFound("No such invitation.".into()))?;
    if invitation.accepted_at.is_some() {
        return Err(AppError::Conflict {
            code: "already_accepted",
            field: None,
            detail: "This invitation was already accepted.".into(),
        });
    }
    let txn = crate::store::begin(&state.db).await?;
    invitations::Entity::update_many()
        .col_expr(invitations::Column::RevokedAt, Expr::value(Some(Utc::now())))
        .filter(invitations::Column::Id.eq(invitation.id))
        .filter(invitations::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let event = Event::new("invitation.revoke", "success")
        .by(actor)
        .target("invitation", invitation.id)
        .summary(json!({ "email": invitation.email }));
    audit::append(&txn, meta, Event { customer_id: Some(invitation.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(())
}

/// Accept an invitation with the mailed token: creates the account (name and password of
/// your choosing) in the invited workspace and role, and signs you in.
pub async fn accept_invitation(state: &AppState, meta: &RequestMeta, body: AcceptInvitation) -> AppResult<TokenPair> {
    let mut v = Validator::new();
    if rules::ISSUED_TOKEN.refuse(&body.token).is_some() {
        v.error("token", "must be the token from the invitation mail");
    }
    let name = v.text("name", &body.name, rules::NAME);
    crate::identity::runtime::check_password_length(state, &mut v, "password", &body.password).await?;
    v.finish()?;
    let now = Utc::now();
    let gone = || AppError::Gone {
        code: "token_expired",
        detail: "This invitation was used, revoked or has expired; ask for a new one.".into(),
    };
    // The token before the common-passwords list: a password of an allowed length is refused
    // only for an invitation that can be accepted.
    let invitation = invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(sha256_hex(&body.token)))
        .one(&state.db)
        .await?
        .filter(|i| status_of(i) == "pending")
        .ok_or_else(gone)?;
    let mut policy = Validator::new();
    crate::identity::runtime::check_password(state, &mut policy, "password", &body.password).await?;
    policy.finish()?;
    if users::Entity::find().filter(users::Column::Email.eq(invitation.email.clone())).count(&state.db).await? > 0 {
        return Err(AppError::Conflict {
            code: "conflict",
            field: Some("email".into()),
            detail: "This email already has an account; sign in instead.".into(),
        });
    }
    let hash = password::hash(state, body.password).await?;
    let txn = crate::store::begin(&state.db).await?;
    let taken = invitations::Entity::update_many()
        .col_expr(invitations::Column::AcceptedAt, Expr::value(Some(now)))
        .filter(invitations::Column::Id.eq(invitation.id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(gone());
    }
    let account = crate::directory::users::NewAccount {
        customer_id: invitation.customer_id,
        workspace_id: invitation.workspace_id,
        role_id: invitation.role_id,
        email: invitation.email.clone(),
        name,
        locale: "en".into(),
        password_hash: Some(hash),
        super_admin: false,
        signed_in: true,
    };
    let user = crate::directory::users::insert_account(&txn, account).await?;
    let pair = sessions::open(state, &txn, &user, meta).await?;
    let event = Event::new("invitation.accept", "success")
        .actor(user.id, user.customer_id)
        .target("invitation", invitation.id)
        .summary(json!({ "user_id": user.id, "workspace_id": invitation.workspace_id, "role_id": invitation.role_id }));
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    Ok(pair)
}
