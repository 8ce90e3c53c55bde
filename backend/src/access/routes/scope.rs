//! The scope the caller is looking at, resolved from the header or cookie.

use steward_shared::api::ScopeInfo;

use crate::access::scope::*;
use crate::state::AppState;

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(get_scope))
}

/// The scope a request is answered for: checks a scope choice before using it (beyond your
/// own customer it needs `steward.admin.cross_tenant`, else 403).
#[utoipa::path(
    get, path = "/api/scope", tag = "customers", operation_id = "get_scope",
    security(("bearer" = [])),
    params(ScopeHeader),
    responses((status = 200, description = "The scope in effect", body = ScopeInfo)),
)]
async fn get_scope(scope: Scope) -> axum::Json<ScopeInfo> {
    axum::Json(scope.info())
}
