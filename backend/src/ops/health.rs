//! `GET /api/health`: liveness, version, database kind and migration state.

use migration::{Migrator, MigratorTrait};
use steward_shared::api::Health;

use crate::http::error::{AppError, AppResult};
use crate::state::AppState;

/// Is the server up and its database reachable?
pub async fn health(state: &AppState) -> AppResult<Health> {
    state.db.ping().await.map_err(|e| AppError::Unavailable(e.to_string()))?;
    let applied = Migrator::get_applied_migrations(&state.db).await?.len();
    let pending = Migrator::get_pending_migrations(&state.db).await?.len();
    Ok(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database: crate::store::kind(&state.db).into(),
        migrations_applied: applied as u32,
        migrations_pending: pending as u32,
    })
}
