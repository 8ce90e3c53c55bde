//! The tenants' flows and their runs: scoped, keyset-paginated lists, and the operator
//! actions (trigger, pause/resume, publish). Runs are queued here and executed by the
//! worker pool (`worker.rs`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Deserialize;
use serde_json::json;
use steward_shared::api::{CreateFlow, FlowRow, Page, RunRow};
use steward_shared::rules;
use uuid::Uuid;

use crate::access::names::Names;
use crate::access::scope::Scope;
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{applications, connectors, flow_templates, flows, runs};

pub fn flow_row(f: flows::Model, names: &Names) -> FlowRow {
    let steps = step_count(&f);
    FlowRow {
        id: f.id,
        customer_id: f.customer_id.into(),
        customer_name: names.customer(f.customer_id),
        workspace_id: f.workspace_id.into(),
        workspace_name: names.workspace(f.workspace_id),
        name: f.name,
        status: f.status,
        state: f.state,
        schedule: f.schedule,
        next_run_at: f.next_run_at,
        created_at: f.created_at,
        steps,
    }
}

/// How many steps the flow's runs execute: none for a flow made by hand (not from a template)
/// or one whose definition cannot be read.
pub fn step_count(f: &flows::Model) -> u32 {
    f.definition
        .as_ref()
        .and_then(|d| d.get("steps"))
        .and_then(serde_json::Value::as_array)
        .map_or(0, |steps| steps.len() as u32)
}

/// A flow with no steps would "succeed" at once having done nothing: it is neither published
/// nor run (422 on `steps`, saying why).
fn require_steps(f: &flows::Model, act: &str) -> AppResult<()> {
    if step_count(f) > 0 {
        return Ok(());
    }
    Err(AppError::field(
        "steps",
        format!(
            "the flow `{}` has no steps, so it cannot be {act}: make it from a flow template (`template_id`), whose steps its runs execute",
            f.name
        ),
    ))
}

pub fn run_row(r: runs::Model, names: &Names) -> RunRow {
    RunRow {
        id: r.id,
        customer_id: r.customer_id.into(),
        customer_name: names.customer(r.customer_id),
        flow_id: r.flow_id,
        flow_name: names.flow(r.flow_id),
        status: r.status,
        trigger: r.trigger,
        queued_at: r.queued_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        duration_ms: r.duration_ms,
        attempt: r.attempt,
        error: r.error,
        steps: r.steps.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default(),
        failed_step: r.failed_step.map(|i| i as u32),
        failed_record: r.failed_record,
        not_before: r.not_before,
        cancel_requested: r.cancel_requested,
        demo: r.demo,
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
    let flow = actor.tenant_row(
        flows::Entity::find_by_id(id).one(&state.db).await?,
        |f| Some(f.customer_id),
        "No such flow.",
    )?;
    match actor.workspaces_with("steward.flows.view") {
        Some(ws) if !ws.contains(&flow.workspace_id) => Err(AppError::NotFound("No such flow.".into())),
        _ => Ok(flow),
    }
}

pagination::closed_set! {
    /// A flow's lifecycle: `draft` or `published`.
    pub enum FlowStatus { Draft = "draft", Published = "published" }
}
pagination::closed_set! {
    /// Whether a published flow runs: `active` or `paused`.
    pub enum FlowState { Active = "active", Paused = "paused" }
}
pagination::closed_set! {
    /// `created`: newest first; `name`: A–Z.
    pub enum FlowSort { Created = "created", Name = "name" }
}
pagination::closed_set! {
    /// Where a run is.
    pub enum RunStatus { Queued = "queued", Running = "running", Succeeded = "succeeded", Failed = "failed", Cancelled = "cancelled" }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlowQuery {
    /// `draft` or `published`.
    #[param(inline)]
    pub status: Option<FlowStatus>,
    /// `active` or `paused`.
    #[param(inline)]
    pub state: Option<FlowState>,
    /// Case-insensitive match in the name.
    pub search: Option<String>,
    /// `created` (newest first, default) or `name`.
    #[param(inline)]
    pub sort: Option<FlowSort>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// One allowed change of a flow's `state` or `status`.
pub struct Transition {
    pub column: flows::Column,
    pub from: &'static str,
    pub to: &'static str,
    pub action: &'static str,
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
    let names = Names::of(&state.db, [updated.customer_id], [updated.workspace_id], []).await?;
    Ok(flow_row(updated, &names))
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
        steps: Set(None),
        failed_step: Set(None),
        failed_record: Set(None),
        not_before: Set(None),
        cancel_requested: Set(false),
        demo: Set(false),
    }
    .insert(conn)
    .await?)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    #[param(inline)]
    pub status: Option<RunStatus>,
    pub flow_id: Option<Uuid>,
    /// One run (the log's links name runs by id).
    pub run_id: Option<Uuid>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Flows in scope, newest first or by name.
pub async fn list_flows(state: &AppState, actor: &Actor, scope: &Scope, q: FlowQuery) -> AppResult<Page<FlowRow>> {
    let limit = pagination::limit(q.limit)?;
    let by_name = q.sort == Some(FlowSort::Name);
    let mut query = flows::Entity::find().filter(scope.condition(flows::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with("steward.flows.view") {
        query = query.filter(flows::Column::WorkspaceId.is_in(ws));
    }
    if let Some(s) = q.status {
        query = query.filter(flows::Column::Status.eq(s.as_str()));
    }
    if let Some(s) = q.state {
        query = query.filter(flows::Column::State.eq(s.as_str()));
    }
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = pagination::contains_pattern(&search.to_lowercase());
        query = query
            .filter(Expr::expr(Func::lower(Expr::col(flows::Column::Name))).like(LikeExpr::new(pattern).escape('\\')));
    }
    if let Some(raw) = &q.cursor {
        let c = Cursor::decode(raw)?;
        query = if by_name {
            let name = c.key.ok_or_else(|| AppError::unknown("cursor", "belongs to another sort order"))?;
            query.filter(pagination::after(
                Expr::col(flows::Column::Name),
                Expr::col(flows::Column::Id),
                name,
                c.id,
                false,
            ))
        } else {
            query.filter(flows::Column::Id.lt(c.id))
        };
    }
    query = if by_name {
        query.order_by_asc(flows::Column::Name).order_by_asc(flows::Column::Id)
    } else {
        query.order_by_desc(flows::Column::Id)
    };
    let rows = query.limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) =
        pagination::finish(rows, limit, |f| Cursor { key: by_name.then(|| f.name.clone()), id: f.id });
    let names =
        Names::of(&state.db, rows.iter().map(|f| f.customer_id), rows.iter().map(|f| f.workspace_id), []).await?;
    Ok(Page { items: rows.into_iter().map(|f| flow_row(f, &names)).collect(), next_cursor })
}

/// One flow, when this principal may see it.
pub async fn get_flow(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<FlowRow> {
    let flow = visible_flow(state, actor, id).await?;
    let names = Names::of(&state.db, [flow.customer_id], [flow.workspace_id], []).await?;
    Ok(flow_row(flow, &names))
}

/// Create a flow in a workspace.
pub async fn create_flow(state: &AppState, actor: &Actor, meta: &RequestMeta, body: CreateFlow) -> AppResult<FlowRow> {
    let mut v = Validator::new();
    let name = v.text("name", &body.name, rules::NAME);
    let schedule = body.schedule;
    if let Some(why) = schedule.as_deref().and_then(rules::refuse_schedule) {
        v.error("schedule", why);
    }
    v.finish()?;
    let ws = crate::access::workspaces::visible(&state.db, actor, body.workspace_id.0)
        .await
        .map_err(|e| e.or_miss(|| AppError::unknown("workspace_id", "is not a workspace you can see")))?;
    actor.require_in(ws.id)?;
    if body.publish && !actor.holds_in("steward.flows.publish", ws.id) {
        return Err(AppError::missing_leaf("steward.flows.publish"));
    }
    let template = match body.template_id {
        Some(id) => Some(usable_template(state, id).await?),
        None if body.publish => {
            return Err(AppError::field(
                "publish",
                "a flow made without a template has no steps, so it cannot be published: give `template_id`, or create a draft",
            ))
        }
        None => None,
    };
    let connector = match body.connector_id {
        Some(id) => Some(
            connectors::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .filter(|c| c.workspace_id == ws.id)
                .ok_or_else(|| AppError::unknown("connector_id", "is not a connector of this workspace"))?,
        ),
        None => None,
    };
    let now = Utc::now();
    let next = schedule.as_deref().and_then(parse_schedule).map(|d| now + d);
    let txn = crate::store::begin(&state.db).await?;
    let flow = flows::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(ws.customer_id),
        workspace_id: Set(ws.id),
        name: Set(name),
        status: Set(if body.publish { "published" } else { "draft" }.into()),
        state: Set("active".into()),
        schedule: Set(schedule),
        next_run_at: Set(next),
        created_at: Set(now),
        updated_at: Set(now),
        application_id: Set(template.as_ref().map(|t| t.application_id)),
        template_id: Set(template.as_ref().map(|t| t.id)),
        definition: Set(template.as_ref().map(|t| t.definition.clone())),
        connector_id: Set(connector.as_ref().map(|c| c.id)),
    }
    .insert(&txn)
    .await?;
    let event = Event::new("flow.create", "success").by(actor).target("flow", flow.id).summary(json!({ "after": {
            "name": flow.name, "schedule": flow.schedule, "status": flow.status,
            "template": template.as_ref().map(|t| t.name.clone()),
        } }));
    audit::append(&txn, meta, Event { customer_id: Some(flow.customer_id), ..event }).await?;
    txn.commit().await?;
    let names = Names::of(&state.db, [flow.customer_id], [flow.workspace_id], []).await?;
    Ok(flow_row(flow, &names))
}

/// A template of an active application's version in use.
async fn usable_template(state: &AppState, id: Uuid) -> AppResult<flow_templates::Model> {
    let unusable = || AppError::unknown("template_id", "is not a template of an active application");
    let t = flow_templates::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(unusable)?;
    let app = applications::Entity::find_by_id(t.application_id).one(&state.db).await?.ok_or_else(unusable)?;
    if app.active && app.current_version_id == Some(t.version_id) {
        Ok(t)
    } else {
        Err(unusable())
    }
}

/// Pause an active flow: the scheduler skips it and queued runs fail.
pub async fn pause_flow(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<FlowRow> {
    transition(state, actor, meta, id, PAUSE).await
}

/// Resume a paused flow.
pub async fn resume_flow(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<FlowRow> {
    transition(state, actor, meta, id, RESUME).await
}

/// Publish a draft flow.
pub async fn publish_flow(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<FlowRow> {
    let flow = visible_flow(state, actor, id).await?;
    actor.require_in(flow.workspace_id)?;
    require_steps(&flow, "published")?;
    transition(state, actor, meta, id, PUBLISH).await
}

/// Queue a manual run of a flow (the worker pool picks it up).
pub async fn trigger_run(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<RunRow> {
    let flow = visible_flow(state, actor, id).await?;
    actor.require_in(flow.workspace_id)?;
    if flow.state == "paused" {
        return Err(AppError::Conflict {
            code: "flow_paused",
            field: None,
            detail: format!("The flow `{}` is paused; resume it first.", flow.name),
        });
    }
    require_steps(&flow, "run")?;
    let txn = crate::store::begin(&state.db).await?;
    let run = enqueue(&txn, &flow, "manual", Some(actor.user_id()), Utc::now()).await?;
    let event =
        Event::new("flow.trigger", "success").by(actor).target("flow", flow.id).summary(json!({ "run_id": run.id }));
    audit::append(&txn, meta, Event { customer_id: Some(flow.customer_id), ..event }).await?;
    txn.commit().await?;
    let names = Names::of(&state.db, [run.customer_id], [], [run.flow_id]).await?;
    Ok(run_row(run, &names))
}

/// Runs in scope, newest first.
pub async fn list_runs(state: &AppState, actor: &Actor, scope: &Scope, q: RunQuery) -> AppResult<Page<RunRow>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = runs::Entity::find().filter(scope.condition(runs::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with("steward.runs.view") {
        let visible =
            flows::Entity::find().select_only().column(flows::Column::Id).filter(flows::Column::WorkspaceId.is_in(ws));
        query = query
            .filter(Condition::all().add(runs::Column::FlowId.in_subquery(sea_orm::QueryTrait::into_query(visible))));
    }
    if let Some(s) = q.status {
        query = query.filter(runs::Column::Status.eq(s.as_str()));
    }
    use crate::access::filters::{thing, Named};
    if let Some(f) = q.flow_id {
        thing(&state.db, actor, Some(scope), "flow_id", Named::Flow, f).await?;
        query = query.filter(runs::Column::FlowId.eq(f));
    }
    if let Some(r) = q.run_id {
        thing(&state.db, actor, Some(scope), "run_id", Named::Run, r).await?;
        query = query.filter(runs::Column::Id.eq(r));
    }
    if let Some(raw) = &q.cursor {
        query = query.filter(runs::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(runs::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |r| Cursor { key: None, id: r.id });
    let names = Names::of(&state.db, rows.iter().map(|r| r.customer_id), [], rows.iter().map(|r| r.flow_id)).await?;
    Ok(Page { items: rows.into_iter().map(|r| run_row(r, &names)).collect(), next_cursor })
}

/// Cancel a run: a queued one (or one waiting for a retry) at once; a running one stops at its
/// next batch of records, keeping what its finished batches wrote.
pub async fn cancel_run(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<RunRow> {
    let not_found = || AppError::NotFound("No such run.".into());
    let run = actor.tenant_row(
        runs::Entity::find_by_id(id).one(&state.db).await?,
        |r| Some(r.customer_id),
        "No such run.",
    )?;
    let flow = visible_flow(state, actor, run.flow_id).await.map_err(|e| e.or_miss(not_found))?;
    actor.require_in(flow.workspace_id)?;
    let txn = crate::store::begin(&state.db).await?;
    let now = Utc::now();
    let queued = runs::Entity::update_many()
        .col_expr(runs::Column::Status, Expr::value("cancelled"))
        .col_expr(runs::Column::FinishedAt, Expr::value(now))
        .col_expr(runs::Column::CancelRequested, Expr::value(true))
        .col_expr(runs::Column::Error, Expr::value("cancelled by an operator"))
        .filter(runs::Column::Id.eq(run.id))
        .filter(runs::Column::Status.eq("queued"))
        .exec(&txn)
        .await?;
    let running = if queued.rows_affected == 0 {
        runs::Entity::update_many()
            .col_expr(runs::Column::CancelRequested, Expr::value(true))
            .filter(runs::Column::Id.eq(run.id))
            .filter(runs::Column::Status.eq("running"))
            .exec(&txn)
            .await?
            .rows_affected
    } else {
        0
    };
    if queued.rows_affected == 0 && running == 0 {
        return Err(AppError::Conflict {
            code: "run_finished",
            field: None,
            detail: format!("The run has already {}.", run.status),
        });
    }
    let event = Event::new("run.cancel", "success").by(actor).target("run", run.id).summary(json!({
        "flow_id": flow.id, "before": if running == 1 { "running" } else { "queued" },
    }));
    audit::append(&txn, meta, Event { customer_id: Some(run.customer_id), ..event }).await?;
    let updated =
        runs::Entity::find_by_id(run.id).one(&txn).await?.ok_or_else(|| AppError::internal("run vanished"))?;
    txn.commit().await?;
    let names = Names::of(&state.db, [updated.customer_id], [], [updated.flow_id]).await?;
    Ok(run_row(updated, &names))
}
