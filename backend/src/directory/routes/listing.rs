//! Routes: listing.

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
#[allow(unused_imports)]
use crate::directory::listing::*;
use crate::http::error::AppResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::store::entities::users;
use axum::extract::State;
use axum::Json;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
use steward_shared::api::{DirectoryUser, Page, UserMetrics};
use steward_shared::permissions::USERS_VIEW;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

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
    directory_page(&state, &actor, &scope, q).await.map(Json)
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
    let base = scoped(&state, &actor, &scope, q.workspace_id).await?.filter(users::Column::ErasedAt.is_null());
    let total = base.clone().count(&state.db).await?;
    let active = base.clone().filter(users::Column::Status.eq("active")).count(&state.db).await?;
    let super_admins = base.filter(users::Column::SuperAdmin.eq(true)).count(&state.db).await?;
    Ok(Json(UserMetrics { total, active, super_admins, inactive: total.saturating_sub(active) }))
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
    let user = visible_user(&state.db, &actor, id, USERS_VIEW).await?;
    one_row(&state.db, user).await.map(Json)
}
