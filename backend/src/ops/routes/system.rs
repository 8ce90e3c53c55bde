//! System status, `/metrics`, stats over time and the effective configuration.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use steward_shared::ops::{ConfigView, StatsSeries, SystemStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::scope::{Scope, ScopeHeader};
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_system_status))
        .routes(routes!(get_metrics))
        .routes(routes!(get_stats))
        .routes(routes!(get_config))
}

/// This replica's figures and every replica heard from: requests per operation (p50/p95/p99
/// over 1, 5 and 15 minutes), the database (round trip, pool, storage, migrations), the run
/// queue and workers, caches, sessions, the log pipeline and the slowest statements.
#[utoipa::path(
    get, path = "/api/system/status", tag = "system", operation_id = "get_system_status",
    security(("bearer" = ["steward.system.status"])),
    responses((status = 200, description = "The figures", body = SystemStatus)),
)]
async fn get_system_status(State(state): State<AppState>) -> AppResult<Json<SystemStatus>> {
    crate::ops::status::system_status(&state).await.map(Json)
}

/// The same figures in the Prometheus text format (0.0.4), for the scrapers operators run;
/// authenticate with an API token holding `steward.system.status` as a bearer token.
#[utoipa::path(
    get, path = "/metrics", tag = "system", operation_id = "get_metrics",
    security(("bearer" = ["steward.system.status"])),
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain; version=0.0.4", body = String)),
)]
async fn get_metrics(State(state): State<AppState>) -> AppResult<Response> {
    let text = crate::ops::metrics::render(&state).await?;
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// `24h` (hourly, the default), `7d` (hourly), `30d` (daily) or `1y` (daily).
    #[param(inline)]
    range: Option<StatsRange>,
}

/// The span of a stats series (its bucket follows from it).
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
pub enum StatsRange {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "1y")]
    Year,
}

impl StatsRange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Year => "1y",
        }
    }
}

/// Snapshots of the platform's figures over time for the current scope: the platform's
/// totals under `all`, else the customer's.
#[utoipa::path(
    get, path = "/api/stats", tag = "system", operation_id = "get_stats",
    security(("bearer" = ["steward.system.status"])),
    params(StatsQuery, ScopeHeader),
    responses((status = 200, description = "The series", body = StatsSeries)),
)]
async fn get_stats(
    State(state): State<AppState>,
    scope: Scope,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> AppResult<Json<StatsSeries>> {
    crate::ops::stats::series(&state, &scope, q.range.map(StatsRange::as_str)).await.map(Json)
}

/// The effective configuration of the replica that answers: every setting with the value in
/// effect and where it came from; secrets only as set or unset.
#[utoipa::path(
    get, path = "/api/system/config", tag = "system", operation_id = "get_config",
    security(("super_admin" = ["steward.system.settings"])),
    responses((status = 200, description = "The configuration", body = ConfigView)),
)]
async fn get_config(State(state): State<AppState>) -> AppResult<Json<ConfigView>> {
    crate::ops::config_view::config_view(&state).await.map(Json)
}
