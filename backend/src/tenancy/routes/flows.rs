//! The tenants' flows and runs: lists, create, publish, pause, trigger.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{CreateFlow, FlowRow, Page, RunRow};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::state::AppState;
use crate::tenancy::flows::*;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_flows, create_flow))
        .routes(routes!(get_flow))
        .routes(routes!(pause_flow))
        .routes(routes!(resume_flow))
        .routes(routes!(publish_flow))
        .routes(routes!(trigger_run))
        .routes(routes!(cancel_run))
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
    crate::tenancy::flows::list_flows(&state, &actor, &scope, q).await.map(Json)
}

/// Create a flow in a workspace.
#[utoipa::path(
    post, path = "/api/flows", tag = "flows", operation_id = "create_flow",
    security(("bearer" = ["steward.flows.edit"])),
    request_body = CreateFlow,
    responses((status = 201, description = "Created", body = FlowRow, headers(("Location" = String, description = "The new flow: `/api/flows/{id}`")))),
)]
async fn create_flow(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateFlow>,
) -> AppResult<Created<FlowRow>> {
    let flow = crate::tenancy::flows::create_flow(&state, &actor, &meta, body).await?;
    Ok(Created::at(format!("/api/flows/{}", flow.id), flow))
}

/// One flow (its customer's, in a workspace where you hold `steward.flows.view`).
#[utoipa::path(
    get, path = "/api/flows/{flow_id}", tag = "flows", operation_id = "get_flow",
    security(("bearer" = ["steward.flows.view"])),
    params(("flow_id" = Uuid, Path, description = "The flow")),
    responses(
        (status = 200, description = "The flow", body = FlowRow),
        (status = 404, description = "No such flow, or not yours to see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn get_flow(State(state): State<AppState>, actor: Actor, ApiPath(id): ApiPath<Uuid>) -> AppResult<Json<FlowRow>> {
    crate::tenancy::flows::get_flow(&state, &actor, id).await.map(Json)
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
    crate::tenancy::flows::pause_flow(&state, &actor, &meta, id).await.map(Json)
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
    crate::tenancy::flows::resume_flow(&state, &actor, &meta, id).await.map(Json)
}

/// Publish a draft flow.
#[utoipa::path(
    post, path = "/api/flows/{flow_id}/publish", tag = "flows", operation_id = "publish_flow",
    security(("bearer" = ["steward.flows.publish"])),
    params(("flow_id" = Uuid, Path, description = "The flow")),
    responses(
        (status = 200, description = "Published", body = FlowRow),
        (status = 409, description = "Already published (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The flow has no steps (`steps`): a flow made without a template cannot be published", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn publish_flow(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<FlowRow>> {
    crate::tenancy::flows::publish_flow(&state, &actor, &meta, id).await.map(Json)
}

/// Queue a manual run of a flow (the worker pool picks it up).
#[utoipa::path(
    post, path = "/api/flows/{flow_id}/runs", tag = "flows", operation_id = "trigger_run",
    security(("bearer" = ["steward.flows.trigger"])),
    params(("flow_id" = Uuid, Path, description = "The flow")),
    responses(
        (status = 202, description = "Queued", body = RunRow),
        (status = 409, description = "The flow is paused (`flow_paused`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The flow has no steps (`steps`): there is nothing to run", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn trigger_run(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<RunRow>)> {
    crate::tenancy::flows::trigger_run(&state, &actor, &meta, id).await.map(|v| (StatusCode::ACCEPTED, Json(v)))
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
    crate::tenancy::flows::list_runs(&state, &actor, &scope, q).await.map(Json)
}

/// Cancel a run: a queued run (or one waiting for a retry) is cancelled at once; a running one
/// stops before its next batch of records.
#[utoipa::path(
    post, path = "/api/runs/{run_id}/cancel", tag = "flows", operation_id = "cancel_run",
    security(("bearer" = ["steward.flows.trigger"])),
    params(("run_id" = Uuid, Path, description = "The run")),
    responses(
        (status = 200, description = "Cancelled, or asked to stop (`cancel_requested`)", body = RunRow),
        (status = 409, description = "The run has finished (`run_finished`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn cancel_run(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<RunRow>> {
    crate::tenancy::flows::cancel_run(&state, &actor, &meta, id).await.map(Json)
}
