//! Dashboard KPIs for the scope, and Refresh.

use axum::extract::State;
use axum::Json;
use steward_shared::api::Kpis;
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_dashboard)).routes(routes!(refresh_cache))
}

/// Dashboard KPIs for the current scope.
#[utoipa::path(
    get, path = "/api/dashboard", tag = "dashboard", operation_id = "get_dashboard",
    security(("bearer" = ["steward.flows.view"])),
    params(ScopeHeader),
    responses((status = 200, description = "KPIs of the scope", body = Kpis)),
)]
async fn get_dashboard(State(state): State<AppState>, scope: Scope) -> AppResult<Json<Kpis>> {
    crate::tenancy::dashboard::get_dashboard(&state, &scope).await.map(Json)
}

/// Rebuild the KPI cache of the customer in scope (refused under "all customers").
#[utoipa::path(
    post, path = "/api/cache/refresh", tag = "dashboard", operation_id = "refresh_cache",
    security(("bearer" = ["steward.cache.refresh"])),
    params(ScopeHeader),
    responses(
        (status = 200, description = "Rebuilt; the fresh KPIs", body = Kpis),
        (status = 409, description = "The scope is all customers (`customer_scope_required`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn refresh_cache(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    scope: Scope,
) -> AppResult<Json<Kpis>> {
    crate::tenancy::dashboard::refresh_cache(&state, &actor, &meta, &scope).await.map(Json)
}
