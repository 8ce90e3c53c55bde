//! Access routes: the permission catalog, explain, and the caller's scope.

pub mod permissions;
pub mod scope;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(permissions::router()).merge(scope::router())
}
