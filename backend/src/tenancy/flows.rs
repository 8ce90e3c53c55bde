//! The tenants' flows and their runs: scoped, keyset-paginated lists, and the operator
//! actions (trigger, pause/resume, publish). Runs are queued here and executed by the
//! worker pool (`worker.rs`).

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{flows, runs};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use steward_shared::api::{FlowRow, RunRow};
use uuid::Uuid;

pub fn flow_row(f: flows::Model) -> FlowRow {
    FlowRow {
        id: f.id,
        customer_id: f.customer_id.into(),
        workspace_id: f.workspace_id.into(),
        name: f.name,
        status: f.status,
        state: f.state,
        schedule: f.schedule,
        next_run_at: f.next_run_at,
        created_at: f.created_at,
    }
}

pub fn run_row(r: runs::Model) -> RunRow {
    RunRow {
        id: r.id,
        customer_id: r.customer_id.into(),
        flow_id: r.flow_id,
        status: r.status,
        trigger: r.trigger,
        queued_at: r.queued_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        duration_ms: r.duration_ms,
        attempt: r.attempt,
        error: r.error,
    }
}

/// Parses a schedule: `every <n><s|m|h|d>`, at least every 10 seconds.
pub fn parse_schedule(raw: &str) -> Option<chrono::Duration> {
    let body = raw.trim().strip_prefix("every ")?.trim();
    let unit = body.chars().last()?;
    let n: i64 = body.get(..body.len() - 1)?.trim().parse().ok()?;
    let d = match unit {
        's' => chrono::Duration::seconds(n),
        'm' => chrono::Duration::minutes(n),
        'h' => chrono::Duration::hours(n),
        'd' => chrono::Duration::days(n),
        _ => return None,
    };
    (n > 0 && d >= chrono::Duration::seconds(10) && d <= chrono::Duration::days(366)).then_some(d)
}

/// The flow, when this principal may see it (its customer, and a workspace where it holds
/// `steward.flows.view`); otherwise "not found".
pub(super) async fn visible_flow(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<flows::Model> {
    let flow = flows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|f| f.customer_id == actor.customer_id() || actor.cross_tenant())
        .ok_or_else(|| AppError::NotFound("No such flow.".into()))?;
    match actor.workspaces_with("steward.flows.view") {
        Some(ws) if !ws.contains(&flow.workspace_id) => Err(AppError::NotFound("No such flow.".into())),
        _ => Ok(flow),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FlowQuery {
    /// `draft` or `published`.
    pub(super) status: Option<String>,
    /// `active` or `paused`.
    pub(super) state: Option<String>,
    /// Case-insensitive match in the name.
    pub(super) search: Option<String>,
    /// `created` (newest first, default) or `name`.
    pub(super) sort: Option<String>,
    pub(super) limit: Option<u64>,
    pub(super) cursor: Option<String>,
}

/// One allowed change of a flow's `state` or `status`.
pub(super) struct Transition {
    pub(super) column: flows::Column,
    pub(super) from: &'static str,
    pub(super) to: &'static str,
    pub(super) action: &'static str,
}

pub(super) const PAUSE: Transition =
    Transition { column: flows::Column::State, from: "active", to: "paused", action: "flow.pause" };
pub(super) const RESUME: Transition =
    Transition { column: flows::Column::State, from: "paused", to: "active", action: "flow.resume" };
pub(super) const PUBLISH: Transition =
    Transition { column: flows::Column::Status, from: "draft", to: "published", action: "flow.publish" };

/// Applies a transition as a compare-and-swap, with the audit event; 409 when the flow is elsewhere.
pub(super) async fn transition(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    t: Transition,
) -> AppResult<FlowRow> {
    let Transition { column, from, to, action } = t;
    let flow = visible_flow(state, actor, id).await?;
    actor.require_in(flow.workspace_id)?;
    let txn = crate::store::begin(&state.db).await?;
    let now = Utc::now();
    let changed = flows::Entity::update_many()
        .col_expr(column, Expr::value(to))
        .col_expr(flows::Column::UpdatedAt, Expr::value(now))
        .filter(flows::Column::Id.eq(flow.id))
        .filter(column.eq(from))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::Conflict {
            code: "invalid_transition",
            field: None,
            detail: format!("The flow `{}` is not {from}, so it cannot become {to}.", flow.name),
        });
    }
    let event =
        Event::new(action, "success").by(actor).target("flow", flow.id).summary(json!({ "before": from, "after": to }));
    audit::append(&txn, meta, Event { customer_id: Some(flow.customer_id), ..event }).await?;
    let updated =
        flows::Entity::find_by_id(flow.id).one(&txn).await?.ok_or_else(|| AppError::internal("flow vanished"))?;
    txn.commit().await?;
    Ok(flow_row(updated))
}

/// Puts a run of `flow` on the queue.
pub async fn enqueue<C: sea_orm::ConnectionTrait>(
    conn: &C,
    flow: &flows::Model,
    trigger: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<runs::Model> {
    Ok(runs::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(flow.customer_id),
        flow_id: Set(flow.id),
        status: Set("queued".into()),
        trigger: Set(trigger.into()),
        triggered_by: Set(by),
        queued_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        duration_ms: Set(None),
        worker_id: Set(None),
        attempt: Set(0),
        error: Set(None),
    }
    .insert(conn)
    .await?)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct RunQuery {
    /// `queued`, `running`, `succeeded` or `failed`.
    pub(super) status: Option<String>,
    pub(super) flow_id: Option<Uuid>,
    pub(super) limit: Option<u64>,
    pub(super) cursor: Option<String>,
}
