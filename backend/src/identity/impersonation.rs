//! "View as": a session records whom it impersonates; no token is swapped. While active, the
//! Actor is the target's (scoped and filtered as they see things), every check needs the leaf
//! of both, writes are authored by the real admin, and destructive requests need a typed
//! confirmation. It ends on exit, on expiry, or when the target stops being impersonable.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use steward_shared::api::{Me, StartImpersonation};
use steward_shared::rules;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{sessions, users};

pub(crate) fn impersonable(u: &users::Model) -> bool {
    u.status == "active" && u.erased_at.is_none() && !u.super_admin
}

/// The user a session currently impersonates. An expired impersonation, or one whose target
/// was deactivated, erased or made super admin, ends here and is recorded.
pub async fn target_of(
    state: &AppState,
    session: &sessions::Model,
    now: DateTime<Utc>,
) -> AppResult<Option<users::Model>> {
    let Some(target_id) = session.impersonated_user_id else { return Ok(None) };
    let target = users::Entity::find_by_id(target_id).one(&state.db).await?;
    let expired = session.impersonation_expires_at.is_none_or(|t| t <= now);
    match target {
        Some(t) if !expired && impersonable(&t) => Ok(Some(t)),
        other => {
            let reason = if expired { "expired" } else { "target_not_impersonable" };
            let txn = crate::store::begin(&state.db).await?;
            if clear(&txn, session.id, Some(target_id)).await? {
                let mut event = Event::new("impersonation.stop", "success")
                    .target("user", target_id)
                    .summary(json!({ "reason": reason }));
                event.actor_user_id = Some(session.user_id);
                event.impersonated_user_id = Some(target_id);
                event.customer_id = other.map(|t| t.customer_id);
                audit::append(
                    &txn,
                    &RequestMeta {
                        request_id: crate::http::request_id::current(),
                        audit_keys: Some(state.audit_keys.clone()),
                        ..Default::default()
                    },
                    event,
                )
                .await?;
            }
            txn.commit().await?;
            Ok(None)
        }
    }
}

fn already_impersonating() -> AppError {
    AppError::Conflict {
        code: "already_impersonating",
        field: None,
        detail: "You are already viewing as someone: exit that view first.".into(),
    }
}

fn not_impersonating() -> AppError {
    AppError::Conflict {
        code: "not_impersonating",
        field: None,
        detail: "This session is not impersonating anyone.".into(),
    }
}

/// Clears a session's impersonation (if it is still the one we saw); true when it did.
pub(super) async fn clear<C: sea_orm::ConnectionTrait>(
    conn: &C,
    session: uuid::Uuid,
    target: Option<uuid::Uuid>,
) -> AppResult<bool> {
    let mut q = sessions::Entity::update_many()
        .col_expr(sessions::Column::ImpersonatedUserId, Expr::value(Option::<uuid::Uuid>::None))
        .col_expr(sessions::Column::ImpersonationReason, Expr::value(Option::<String>::None))
        .col_expr(sessions::Column::ImpersonationStartedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(sessions::Column::ImpersonationExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(sessions::Column::Id.eq(session));
    if let Some(t) = target {
        q = q.filter(sessions::Column::ImpersonatedUserId.eq(t));
    }
    Ok(q.exec(conn).await?.rows_affected == 1)
}

/// Start viewing as another user. The admin stays signed in as themself.
pub async fn start_impersonation(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: StartImpersonation,
) -> AppResult<sessions::Model> {
    let mut v = Validator::new();
    let reason = v.text("reason", &body.reason, rules::REASON);
    v.finish()?;
    if actor.impersonator.is_some() {
        return Err(already_impersonating());
    }
    let session = actor.session.clone().ok_or_else(|| AppError::Forbidden {
        code: "session_required",
        detail: "Impersonation belongs to a signed-in session, not an API token.".into(),
    })?;
    let target = users::Entity::find_by_id(body.user_id.0)
        .one(&state.db)
        .await?
        .filter(|u| u.customer_id == actor.customer_id() || actor.cross_tenant())
        .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    // Only a user of a workspace where the admin may view as people.
    if let Some(home) = target.home_workspace_id {
        actor.require_in(home)?;
    }
    let refuse = |detail: &str| AppError::Conflict {
        code: "cannot_impersonate",
        field: Some("user_id".into()),
        detail: detail.into(),
    };
    let refusal = if target.id == actor.user_id() {
        Some("You cannot impersonate yourself.")
    } else if target.super_admin {
        Some("Super admins cannot be impersonated.")
    } else if target.status != "active" || target.erased_at.is_some() {
        Some("Inactive users cannot be impersonated.")
    } else {
        None
    };
    let txn = crate::store::begin(&state.db).await?;
    if let Some(detail) = refusal {
        let event = Event::new("impersonation.start", "refused")
            .by(actor)
            .target("user", target.id)
            .summary(json!({ "reason": reason, "refused": detail }));
        audit::append(&txn, meta, event).await?;
        txn.commit().await?;
        return Err(refuse(detail));
    }
    let now = Utc::now();
    let minutes = crate::identity::runtime::effective(state).await?.impersonation_minutes;
    let expires = now + chrono::Duration::minutes(minutes as i64);
    let started = sessions::Entity::update_many()
        .col_expr(sessions::Column::ImpersonatedUserId, Expr::value(Some(target.id)))
        .col_expr(sessions::Column::ImpersonationReason, Expr::value(Some(reason.clone())))
        .col_expr(sessions::Column::ImpersonationStartedAt, Expr::value(Some(now)))
        .col_expr(sessions::Column::ImpersonationExpiresAt, Expr::value(Some(expires)))
        .filter(sessions::Column::Id.eq(session.id))
        // Compare-and-set: two starts racing on one session (a double submit, two tabs) must
        // not both win and write two events; the loser is told, and nothing of it is kept.
        .filter(sessions::Column::ImpersonatedUserId.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if started != 1 {
        txn.rollback().await?;
        return Err(already_impersonating());
    }
    let mut event = Event::new("impersonation.start", "success").by(actor).target("user", target.id).summary(json!({
        "reason": reason, "target_email": target.email, "expires_at": expires,
    }));
    event.impersonated_user_id = Some(target.id);
    event.customer_id = Some(target.customer_id);
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    Ok(session)
}

/// Stop impersonating; the session is the admin's own again.
pub async fn exit_impersonation(state: &AppState, actor: &Actor, meta: &RequestMeta) -> AppResult<Me> {
    let (Some(real), Some(session)) = (&actor.impersonator, &actor.session) else {
        return Err(not_impersonating());
    };
    let txn = crate::store::begin(&state.db).await?;
    // Only the exit that actually ends this view records it: a second one racing it (a double
    // click, two tabs) finds the view already gone and is told so, with nothing written.
    if !clear(&txn, session.id, Some(actor.user.id)).await? {
        txn.rollback().await?;
        return Err(not_impersonating());
    }
    let event = Event::new("impersonation.stop", "success")
        .by(actor)
        .target("user", actor.user.id)
        .summary(json!({ "reason": "exit" }));
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    crate::identity::me::me_of(state, real).await
}
