//! "View as": a session records whom it impersonates; no token is swapped. While active, the
//! Actor is the target's (scoped and filtered as they see things), every check needs the leaf
//! of both, writes are authored by the real admin, and destructive requests need a typed
//! confirmation. It ends on exit, on expiry, or when the target stops being impersonable.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::audit::{self, Event};
use crate::http::error::AppResult;
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{sessions, users};

pub(super) fn impersonable(u: &users::Model) -> bool {
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
