//! The permission catalog, and "why can X do Y".

use axum::extract::State;
use axum::Json;
use steward_shared::api::{ConsolePageInfo, Explanation, LeafInfo, ModuleInfo, PermissionCatalog};
use steward_shared::permissions::{self, CATALOG, CONSOLE_PAGES};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::explain::*;
use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_permissions)).routes(routes!(explain_access))
}

/// The permission catalog: modules and their leaves, and the console pages.
#[utoipa::path(
    get, path = "/api/permissions", tag = "access", operation_id = "list_permissions",
    security(("bearer" = [])),
    responses((status = 200, description = "The catalog", body = PermissionCatalog)),
)]
async fn list_permissions() -> Json<PermissionCatalog> {
    Json(PermissionCatalog {
        total_leaves: permissions::all_leaves().count() as u32,
        modules: CATALOG
            .iter()
            .map(|m| ModuleInfo {
                id: m.id.into(),
                label: m.label.into(),
                leaves: m.leaves.iter().map(|l| LeafInfo { id: l.id.into(), label: l.label.into() }).collect(),
            })
            .collect(),
        console_pages: CONSOLE_PAGES
            .iter()
            .map(|p| ConsolePageInfo {
                id: p.id.into(),
                label: p.label.into(),
                delegable: p.delegable,
                read_leaf: p.read_leaf().into(),
                write_leaf: p.write_leaf().into(),
                read_operations: p.reads.iter().map(|s| (*s).into()).collect(),
                write_operations: p.writes.iter().map(|s| (*s).into()).collect(),
            })
            .collect(),
    })
}

/// Whether a user holds a leaf, and through which role and pattern (or super admin).
#[utoipa::path(
    get, path = "/api/access/explain", tag = "access", operation_id = "explain_access",
    security(("bearer" = ["steward.access.roles.view"])),
    params(ExplainQuery),
    responses(
        (status = 200, description = "The answer and its reasons", body = Explanation),
        (status = 404, description = "No such user visible to you (`not_found`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn explain_access(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ExplainQuery>,
) -> AppResult<Json<Explanation>> {
    crate::access::explain::explain_access(&state, &actor, q).await.map(Json)
}
