//! Health: the liveness and readiness answer.

use axum::extract::State;
use axum::Json;
use steward_shared::api::Health;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::AppResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Is the server up and its database reachable?
#[utoipa::path(
    get, path = "/api/health", tag = "system", operation_id = "get_health",
    security(()),
    responses((status = 200, description = "Healthy", body = Health)),
)]
async fn health(State(state): State<AppState>) -> AppResult<Json<Health>> {
    crate::ops::health::health(&state).await.map(Json)
}
