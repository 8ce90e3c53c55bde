//! Health: the liveness and readiness answer.

use axum::extract::State;

use crate::http::error::{AppError, AppResult};
#[allow(unused_imports)]
use crate::ops::health::*;
use crate::state::AppState;
use axum::Json;
use migration::{Migrator, MigratorTrait};
use steward_shared::api::Health;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    state.db.ping().await.map_err(|e| AppError::Unavailable(e.to_string()))?;
    let applied = Migrator::get_applied_migrations(&state.db).await?.len();
    let pending = Migrator::get_pending_migrations(&state.db).await?.len();
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database: crate::store::kind(&state.db).into(),
        migrations_applied: applied as u32,
        migrations_pending: pending as u32,
    }))
}
