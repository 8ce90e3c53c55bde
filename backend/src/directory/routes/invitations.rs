//! Routes: invitations.

use axum::extract::State;

#[allow(unused_imports)]
use crate::directory::invitations::*;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::identity::{password, sessions};
use crate::secrets::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::entities::{invitations, users};
use serde_json::json;
use steward_shared::api::{AcceptInvitation, CreateInvitation, Invitation, Page, TokenPair};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept_invitation))
}

/// Invite an email into a workspace with a role; the link is mailed (it is never shown here).
/// A pending invitation of the same email to the same workspace is replaced.
#[utoipa::path(
    post, path = "/api/invitations", tag = "invitations", operation_id = "create_invitation",
    security(("bearer" = ["steward.access.invitations.manage"])),
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "Invited; the link is in the outbox", body = Invitation),
        (status = 409, description = "The email already has an account (`conflict`, field `email`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create_invitation(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateInvitation>,
) -> AppResult<(StatusCode, Json<Invitation>)> {
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    let hours = body.expires_in_hours.unwrap_or(72);
    if !(1..=720).contains(&hours) {
        v.error("expires_in_hours", "must be between 1 and 720");
    }
    v.finish()?;
    let workspace = crate::access::workspaces::visible(&state.db, &actor, body.workspace_id.0)
        .await
        .map_err(|_| AppError::field("workspace_id", "is not a workspace you can see"))?;
    actor.require_in(workspace.id)?;
    let role = crate::roles::service::grantable(&state.db, &actor, &workspace, body.role_id.0).await?;
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
    let link = format!("{}/accept-invitation?token={token}", state.config.link_base());
    let body = format!(
        "Hello,\n\n{} invited you to the workspace \"{}\" on Steward as {}.\n\nAccept here (the link works once, for {hours} hours):\n\n{link}\n",
        actor.impersonator.as_deref().unwrap_or(&actor).user.name,
        workspace.name,
        role.name
    );
    crate::mail::enqueue(&txn, Some(workspace.customer_id), "invitation", &email, "You are invited to Steward", body)
        .await?;
    let event =
        Event::new("invitation.create", "success").by(&actor).target("invitation", invitation.id).summary(json!({
            "email": email, "workspace_id": workspace.id, "role": role.name, "expires_at": invitation.expires_at,
        }));
    audit::append(&txn, &meta, Event { customer_id: Some(workspace.customer_id), ..event }).await?;
    txn.commit().await?;
    let row = rows(&state, vec![invitation]).await?.pop().ok_or_else(|| AppError::internal("row vanished"))?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Invitations in scope, newest first; pending only unless asked for more.
#[utoipa::path(
    get, path = "/api/invitations", tag = "invitations", operation_id = "list_invitations",
    security(("bearer" = ["steward.access.invitations.manage"])),
    params(InvitationQuery, ScopeHeader),
    responses((status = 200, description = "A page of invitations", body = Page<Invitation>)),
)]
async fn list_invitations(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<InvitationQuery>,
) -> AppResult<Json<Page<Invitation>>> {
    let limit = pagination::limit(q.limit)?;
    let now = Utc::now();
    let mut query = invitations::Entity::find().filter(scope.condition(invitations::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with(LEAF) {
        query = query.filter(invitations::Column::WorkspaceId.is_in(ws));
    }
    if let Some(ws) = q.workspace_id {
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
    Ok(Json(Page { items: rows(&state, list).await?, next_cursor }))
}

/// Revoke a pending invitation; its link stops working. While impersonating, send the
/// invited email as `X-Steward-Confirm`.
#[utoipa::path(
    delete, path = "/api/invitations/{invitation_id}", tag = "invitations", operation_id = "revoke_invitation",
    security(("bearer" = ["steward.access.invitations.manage"])),
    extensions(("x-confirm" = json!("invitation"))),
    params(("invitation_id" = Uuid, Path, description = "The invitation")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 409, description = "Already accepted (`already_accepted`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn revoke_invitation(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let invitation = invitations::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|i| i.customer_id == actor.customer_id() || actor.cross_tenant())
        .ok_or_else(|| AppError::NotFound("No such invitation.".into()))?;
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
        .by(&actor)
        .target("invitation", invitation.id)
        .summary(json!({ "email": invitation.email }));
    audit::append(&txn, &meta, Event { customer_id: Some(invitation.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an invitation with the mailed token: creates the account (name and password of
/// your choosing) in the invited workspace and role, and signs you in.
#[utoipa::path(
    post, path = "/api/auth/accept-invitation", tag = "auth", operation_id = "accept_invitation",
    security(()),
    request_body = AcceptInvitation,
    responses(
        (status = 201, description = "Account created; signed in", body = TokenPair),
        (status = 409, description = "The email already has an account (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The invitation was used, revoked or has expired (`token_expired`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn accept_invitation(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> AppResult<(StatusCode, Json<TokenPair>)> {
    let mut v = Validator::new();
    if body.token.is_empty() || body.token.len() > 200 {
        v.error("token", "must be the token from the invitation mail");
    }
    let name = v.text("name", &body.name, 1, 200);
    v.password("password", &body.password);
    v.finish()?;
    let now = Utc::now();
    let gone = || AppError::Gone {
        code: "token_expired",
        detail: "This invitation was used, revoked or has expired; ask for a new one.".into(),
    };
    let invitation = invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(sha256_hex(&body.token)))
        .one(&state.db)
        .await?
        .filter(|i| status_of(i) == "pending")
        .ok_or_else(gone)?;
    if users::Entity::find().filter(users::Column::Email.eq(invitation.email.clone())).count(&state.db).await? > 0 {
        return Err(AppError::Conflict {
            code: "conflict",
            field: Some("email".into()),
            detail: "This email already has an account; sign in instead.".into(),
        });
    }
    let hash = password::hash(&state, body.password).await?;
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
    let pair = sessions::open(&state, &txn, &user, &meta).await?;
    let event = Event::new("invitation.accept", "success")
        .actor(user.id, user.customer_id)
        .target("invitation", invitation.id)
        .summary(json!({ "user_id": user.id, "workspace_id": invitation.workspace_id, "role_id": invitation.role_id }));
    audit::append(&txn, &meta, event).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(pair)))
}
