//! Routes: flows.

use axum::extract::State;

#[allow(unused_imports)]
use crate::tenancy::flows::*;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{flows, runs};
use serde_json::json;
use steward_shared::api::{CreateFlow, FlowRow, Page, RunRow};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_flows, create_flow))
        .routes(routes!(pause_flow))
        .routes(routes!(resume_flow))
        .routes(routes!(publish_flow))
        .routes(routes!(trigger_run))
        .routes(routes!(list_runs))
}

/// Flows in scope, newest first or by name.
#[utoipa::path(
    get, path = "/api/flows", tag = "flows", operation_id = "list_flows",
    security(("bearer" = ["steward.flows.view"])),
    params(FlowQuery, ScopeHeader),
    responses((status = 200, description = "A page of flows", body = Page<FlowRow>)),
)]
async fn list_flows(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<FlowQuery>,
) -> AppResult<Json<Page<FlowRow>>> {
    pagination::one_of("status", &q.status, &["draft", "published"])?;
    pagination::one_of("state", &q.state, &["active", "paused"])?;
    pagination::one_of("sort", &q.sort, &["created", "name"])?;
    let limit = pagination::limit(q.limit)?;
    let by_name = q.sort.as_deref() == Some("name");
    let mut query = flows::Entity::find().filter(scope.condition(flows::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with("steward.flows.view") {
        query = query.filter(flows::Column::WorkspaceId.is_in(ws));
    }
    if let Some(s) = &q.status {
        query = query.filter(flows::Column::Status.eq(s.clone()));
    }
    if let Some(s) = &q.state {
        query = query.filter(flows::Column::State.eq(s.clone()));
    }
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = pagination::contains_pattern(&search.to_lowercase());
        query = query
            .filter(Expr::expr(Func::lower(Expr::col(flows::Column::Name))).like(LikeExpr::new(pattern).escape('\\')));
    }
    if let Some(raw) = &q.cursor {
        let c = Cursor::decode(raw)?;
        query = if by_name {
            let name = c.key.ok_or_else(|| AppError::field("cursor", "belongs to another sort order"))?;
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
    Ok(Json(Page { items: rows.into_iter().map(flow_row).collect(), next_cursor }))
}

/// Create a flow in a workspace.
#[utoipa::path(
    post, path = "/api/flows", tag = "flows", operation_id = "create_flow",
    security(("bearer" = ["steward.flows.edit"])),
    request_body = CreateFlow,
    responses((status = 201, description = "Created", body = FlowRow)),
)]
async fn create_flow(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateFlow>,
) -> AppResult<(StatusCode, Json<FlowRow>)> {
    let mut v = Validator::new();
    let name = v.text("name", &body.name, 1, 200);
    let schedule = body.schedule.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if schedule.as_deref().is_some_and(|s| parse_schedule(s).is_none()) {
        v.error("schedule", "must look like `every 15m` (s, m, h or d; at least 10 seconds)");
    }
    v.finish()?;
    let ws = crate::access::workspaces::visible(&state.db, &actor, body.workspace_id.0)
        .await
        .map_err(|_| AppError::field("workspace_id", "is not a workspace you can see"))?;
    actor.require_in(ws.id)?;
    if body.publish && !actor.holds_in("steward.flows.publish", ws.id) {
        return Err(AppError::missing_leaf("steward.flows.publish"));
    }
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
    }
    .insert(&txn)
    .await?;
    let event = Event::new("flow.create", "success")
        .by(&actor)
        .target("flow", flow.id)
        .summary(json!({ "after": { "name": flow.name, "schedule": flow.schedule, "status": flow.status } }));
    audit::append(&txn, &meta, Event { customer_id: Some(flow.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(flow_row(flow))))
}

/// Pause an active flow: the scheduler skips it and queued runs fail.
#[utoipa::path(
    post, path = "/api/flows/{flow_id}/pause", tag = "flows", operation_id = "pause_flow",
    security(("bearer" = ["steward.flows.pause"])),
    params(("flow_id" = Uuid, Path, description = "The flow")),
    responses(
        (status = 200, description = "Paused", body = FlowRow),
        (status = 409, description = "Already paused (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn pause_flow(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<FlowRow>> {
    transition(&state, &actor, &meta, id, PAUSE).await.map(Json)
}

/// Resume a paused flow.
#[utoipa::path(
    post, path = "/api/flows/{flow_id}/resume", tag = "flows", operation_id = "resume_flow",
    security(("bearer" = ["steward.flows.pause"])),
    params(("flow_id" = Uuid, Path, description = "The flow")),
    responses(
        (status = 200, description = "Active again", body = FlowRow),
        (status = 409, description = "Not paused (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn resume_flow(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<FlowRow>> {
    transition(&state, &actor, &meta, id, RESUME).await.map(Json)
}

/// Publish a draft flow.
#[utoipa::path(
    post, path = "/api/flows/{flow_id}/publish", tag = "flows", operation_id = "publish_flow",
    security(("bearer" = ["steward.flows.publish"])),
    params(("flow_id" = Uuid, Path, description = "The flow")),
    responses(
        (status = 200, description = "Published", body = FlowRow),
        (status = 409, description = "Already published (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn publish_flow(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<FlowRow>> {
    transition(&state, &actor, &meta, id, PUBLISH).await.map(Json)
}

/// Queue a manual run of a flow (the worker pool picks it up).
#[utoipa::path(
    post, path = "/api/flows/{flow_id}/runs", tag = "flows", operation_id = "trigger_run",
    security(("bearer" = ["steward.flows.trigger"])),
    params(("flow_id" = Uuid, Path, description = "The flow")),
    responses(
        (status = 202, description = "Queued", body = RunRow),
        (status = 409, description = "The flow is paused (`flow_paused`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn trigger_run(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<RunRow>)> {
    let flow = visible_flow(&state, &actor, id).await?;
    actor.require_in(flow.workspace_id)?;
    if flow.state == "paused" {
        return Err(AppError::Conflict {
            code: "flow_paused",
            field: None,
            detail: format!("The flow `{}` is paused; resume it first.", flow.name),
        });
    }
    let txn = crate::store::begin(&state.db).await?;
    let run = enqueue(&txn, &flow, "manual", Some(actor.user_id()), Utc::now()).await?;
    let event =
        Event::new("flow.trigger", "success").by(&actor).target("flow", flow.id).summary(json!({ "run_id": run.id }));
    audit::append(&txn, &meta, Event { customer_id: Some(flow.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(run_row(run))))
}

/// Runs in scope, newest first.
#[utoipa::path(
    get, path = "/api/runs", tag = "flows", operation_id = "list_runs",
    security(("bearer" = ["steward.runs.view"])),
    params(RunQuery, ScopeHeader),
    responses((status = 200, description = "A page of runs", body = Page<RunRow>)),
)]
async fn list_runs(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> AppResult<Json<Page<RunRow>>> {
    pagination::one_of("status", &q.status, &["queued", "running", "succeeded", "failed"])?;
    let limit = pagination::limit(q.limit)?;
    let mut query = runs::Entity::find().filter(scope.condition(runs::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with("steward.runs.view") {
        let visible =
            flows::Entity::find().select_only().column(flows::Column::Id).filter(flows::Column::WorkspaceId.is_in(ws));
        query = query
            .filter(Condition::all().add(runs::Column::FlowId.in_subquery(sea_orm::QueryTrait::into_query(visible))));
    }
    if let Some(s) = &q.status {
        query = query.filter(runs::Column::Status.eq(s.clone()));
    }
    if let Some(f) = q.flow_id {
        query = query.filter(runs::Column::FlowId.eq(f));
    }
    if let Some(raw) = &q.cursor {
        query = query.filter(runs::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(runs::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |r| Cursor { key: None, id: r.id });
    Ok(Json(Page { items: rows.into_iter().map(run_row).collect(), next_cursor }))
}
