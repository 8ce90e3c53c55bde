//! Operations routes: health, system status and `/metrics`, stats over time, the logs and
//! their live tail, and the effective configuration.

pub mod actions;
pub mod health;
pub mod logs;
pub mod probes;
pub mod system;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(system::router())
        .merge(logs::router())
        .merge(actions::router())
        .merge(probes::router())
}
