//! Tenancy routes.

pub mod connectors;
pub mod customers;
pub mod dashboard;
pub mod flows;
pub mod workspaces;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(workspaces::router())
        .merge(customers::router())
        .merge(dashboard::router())
        .merge(flows::router())
        .merge(connectors::router())
}
