//! The users directory: list, metrics, one user.

use axum::extract::State;
use axum::Json;
use steward_shared::api::{DirectoryUser, Page, UserMetrics};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::directory::listing::*;
use crate::http::error::AppResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users)).routes(routes!(user_metrics)).routes(routes!(get_user))
}

/// The users directory for the current scope.
#[utoipa::path(
    get, path = "/api/users", tag = "users", operation_id = "list_users",
    security(("bearer" = ["steward.access.users.view"])),
    params(DirectoryQuery, ScopeHeader),
    responses((status = 200, description = "A page of users", body = Page<DirectoryUser>)),
)]
async fn list_users(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<DirectoryQuery>,
) -> AppResult<Json<Page<DirectoryUser>>> {
    crate::directory::listing::list_users(&state, &actor, &scope, q).await.map(Json)
}

/// The metrics strip: total, active, super admins and inactive users in the scope (erased
/// accounts left out).
#[utoipa::path(
    get, path = "/api/users/metrics", tag = "users", operation_id = "user_metrics",
    security(("bearer" = ["steward.access.users.view"])),
    params(MetricsQuery, ScopeHeader),
    responses((status = 200, description = "Counts for the scope", body = UserMetrics)),
)]
async fn user_metrics(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> AppResult<Json<UserMetrics>> {
    crate::directory::listing::user_metrics(&state, &actor, &scope, q).await.map(Json)
}

/// One user, as the directory shows them.
#[utoipa::path(
    get, path = "/api/users/{user_id}", tag = "users", operation_id = "get_user",
    security(("bearer" = ["steward.access.users.view"])),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses((status = 200, description = "The user", body = DirectoryUser)),
)]
async fn get_user(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<DirectoryUser>> {
    crate::directory::listing::get_user(&state, &actor, id).await.map(Json)
}
