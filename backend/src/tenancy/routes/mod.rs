//! Tenancy routes.

pub mod connectors;
pub mod customers;
pub mod dashboard;
pub mod flows;
pub mod workspaces;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(workspaces::router())
        .merge(customers::router())
        .merge(dashboard::router())
        .merge(flows::router())
        .merge(connectors::router())
}
