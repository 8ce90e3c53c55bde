//! Impersonation history (seed 001's "recent impersonation sessions"), read from the audit log:
//! each `impersonation.start` that succeeded, paired with the `impersonation.stop` that ended it
//! (exit, expiry, the target no longer impersonable) and the count of what the admin did while
//! viewing. A view that ended without a stop (its session signed out) ends at the admin's next
//! view or at its expiry.

use chrono::{DateTime, Utc};
use futures::future::try_join_all;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use steward_shared::api::{ImpersonationRow, Page};
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::http::error::{AppError, AppResult};
use crate::http::pagination;
use crate::state::AppState;
use crate::store::entities::audit_events;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImpersonationQuery {
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Views in scope (the target's customer), newest first.
pub async fn list_impersonations(
    state: &AppState,
    scope: &Scope,
    q: ImpersonationQuery,
) -> AppResult<Page<ImpersonationRow>> {
    let limit = pagination::limit(q.limit)?;
    let mut starts = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("impersonation.start"))
        .filter(audit_events::Column::Outcome.eq("success"))
        .filter(scope.condition(audit_events::Column::CustomerId));
    if let Some(raw) = &q.cursor {
        let seq: i64 = raw.parse().map_err(|_| pagination::foreign_cursor())?;
        starts = starts.filter(audit_events::Column::Seq.lt(seq));
    }
    let rows = starts.order_by_desc(audit_events::Column::Seq).limit(limit + 1).all(&state.db).await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = if more { rows.last().map(|e| e.seq.to_string()) } else { None };
    let emails = super::log::emails(&state.db, &rows).await?;
    let names = crate::access::names::Names::of(&state.db, rows.iter().filter_map(|e| e.customer_id), [], []).await?;
    let now = Utc::now();
    let items = try_join_all(rows.into_iter().map(|start| {
        let (emails, names) = (&emails, &names);
        async move {
            let (admin, target) = match (start.actor_user_id, start.impersonated_user_id) {
                (Some(a), Some(t)) => (a, t),
                _ => return Ok::<_, AppError>(None),
            };
            let (ended_at, ended_how, until) = end_of(&state.db, &start, admin, now).await?;
            let mut acts = audit_events::Entity::find()
                .filter(audit_events::Column::ActorUserId.eq(admin))
                .filter(audit_events::Column::ImpersonatedUserId.eq(target))
                .filter(audit_events::Column::Seq.gt(start.seq))
                .filter(audit_events::Column::Action.ne("impersonation.stop"));
            if let Some(until) = until {
                acts = acts.filter(audit_events::Column::Seq.lt(until));
            }
            let actions = acts.count(&state.db).await?;
            let text = |k: &str| start.summary.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            Ok(Some(ImpersonationRow {
                seq: start.seq,
                admin_user_id: admin.into(),
                admin_email: emails.get(&admin).cloned().unwrap_or_default(),
                target_user_id: target.into(),
                target_email: emails.get(&target).cloned().or_else(|| text("target_email")).unwrap_or_default(),
                customer_id: start.customer_id.map(Into::into),
                customer_name: start.customer_id.map(|c| names.customer(c)),
                reason: text("reason").unwrap_or_default(),
                started_at: start.occurred_at,
                ended_at,
                ended_how,
                actions,
            }))
        }
    }))
    .await?;
    Ok(Page { items: items.into_iter().flatten().collect(), next_cursor })
}

/// When and how the view that `start` opened ended, and the `seq` its actions stop before:
/// its stop event; else the admin's next view (its session ended unseen); else its expiry.
async fn end_of(
    db: &DatabaseConnection,
    start: &audit_events::Model,
    admin: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(Option<DateTime<Utc>>, String, Option<i64>)> {
    let after_by_admin = |actions: &[&str]| {
        audit_events::Entity::find()
            .filter(audit_events::Column::ActorUserId.eq(admin))
            .filter(audit_events::Column::Seq.gt(start.seq))
            .filter(audit_events::Column::Action.is_in(actions.iter().copied()))
            .filter(
                Condition::any()
                    .add(audit_events::Column::Action.ne("impersonation.start"))
                    .add(audit_events::Column::Outcome.eq("success")),
            )
            .order_by_asc(audit_events::Column::Seq)
    };
    let next = after_by_admin(&["impersonation.start", "impersonation.stop"]).one(db).await?;
    let expires = start
        .summary
        .get("expires_at")
        .and_then(|v| v.as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    Ok(match next {
        Some(stop) if stop.action == "impersonation.stop" => {
            let how = stop.summary.get("reason").and_then(|v| v.as_str()).unwrap_or("exit").to_owned();
            (Some(stop.occurred_at), how, Some(stop.seq))
        }
        Some(later) => (expires.map(|e| e.min(later.occurred_at)), "session_ended".into(), Some(later.seq)),
        None => match expires {
            Some(e) if e <= now => (Some(e), "expired".into(), None),
            _ => (None, "active".into(), None),
        },
    })
}
