//! Workspaces of a customer, for pickers.

use axum::extract::State;
use axum::Json;
use steward_shared::api::{Page, WorkspaceSummary};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use crate::tenancy::workspaces::*;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_workspaces))
}

/// The workspaces of your customer (or, with `steward.admin.cross_tenant`, of `customer_id`),
/// by name, each with its member count.
#[utoipa::path(
    get, path = "/api/workspaces", tag = "workspaces", operation_id = "list_workspaces",
    security(("bearer" = ["steward.customers.view"])),
    params(ListQuery),
    responses((status = 200, description = "A page of workspaces by name", body = Page<WorkspaceSummary>)),
)]
async fn list_workspaces(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<WorkspaceSummary>>> {
    crate::tenancy::workspaces::list_workspaces(&state, &actor, query).await.map(Json)
}
