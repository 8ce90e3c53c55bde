//! Access routes: the permission catalog, explain, and the caller's scope.

pub mod permissions;
pub mod scope;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(permissions::router()).merge(scope::router())
}
