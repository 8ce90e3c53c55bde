//! Routes: workspaces.

use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use crate::store::entities::{user_roles, workspaces};
#[allow(unused_imports)]
use crate::tenancy::workspaces::*;
use axum::extract::State;
use axum::Json;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use steward_shared::api::WorkspaceSummary;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_workspaces))
}

/// The workspaces of your customer.
#[utoipa::path(
    get, path = "/api/workspaces", tag = "workspaces", operation_id = "list_workspaces",
    security(("bearer" = ["steward.customers.view"])),
    params(ListQuery),
    responses((status = 200, description = "Workspaces, by name", body = Vec<WorkspaceSummary>)),
)]
async fn list_workspaces(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<Vec<WorkspaceSummary>>> {
    let customer = match query.customer_id {
        Some(c) if c != actor.customer_id() && !actor.cross_tenant() => {
            return Err(AppError::Forbidden {
                code: "cross_tenant_denied",
                detail: "Seeing another customer needs `steward.admin.cross_tenant`.".into(),
            })
        }
        Some(c) => c,
        None => actor.customer_id(),
    };
    let rows = workspaces::Entity::find()
        .filter(workspaces::Column::CustomerId.eq(customer))
        .order_by_asc(workspaces::Column::Name)
        .all(&state.db)
        .await?;
    let counts: Vec<(Uuid, i64)> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::WorkspaceId)
        .column_as(user_roles::Column::UserId.count(), "n")
        .filter(user_roles::Column::CustomerId.eq(customer))
        .group_by(user_roles::Column::WorkspaceId)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|w| WorkspaceSummary {
                id: w.id.into(),
                customer_id: w.customer_id.into(),
                member_count: counts.iter().find(|(id, _)| *id == w.id).map(|(_, n)| *n as u64).unwrap_or(0),
                name: w.name,
            })
            .collect(),
    ))
}
