//! `GET /api/health`: liveness, version, database kind and migration state.

use migration::{Migrator, MigratorTrait};
use steward_shared::api::Health;

use crate::http::error::{AppError, AppResult};
use crate::state::AppState;

/// Is the server up and its database reachable?
pub async fn health(state: &AppState) -> AppResult<Health> {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(AppError::ShuttingDown);
    }
    // One query answers both: the database is reachable, and which migrations it has.
    let applied =
        crate::store::applied_migrations(&state.db).await.map_err(|e| AppError::Unavailable(e.to_string()))?;
    let known = Migrator::migrations();
    let pending = known.iter().filter(|m| !applied.contains_key(m.name())).count();
    let applied = applied.len();
    Ok(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database: crate::store::kind(&state.db).into(),
        migrations_applied: applied as u32,
        migrations_pending: pending as u32,
    })
}
