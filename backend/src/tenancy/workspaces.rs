//! Workspaces: looked up with the tenant rule applied, and listed for pickers.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Deserialize;
use steward_shared::api::WorkspaceSummary;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::state::AppState;
use crate::store::entities::{user_roles, workspaces};

/// Inserts a workspace of `customer` (its name must be unique within the customer).
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    customer: Uuid,
    name: String,
) -> Result<workspaces::Model, sea_orm::DbErr> {
    let now = chrono::Utc::now();
    workspaces::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer),
        name: Set(name),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Another customer's workspaces (needs `steward.admin.cross_tenant`); default: your own.
    pub customer_id: Option<Uuid>,
}

/// The workspaces of your customer.
pub async fn list_workspaces(state: &AppState, actor: &Actor, query: ListQuery) -> AppResult<Vec<WorkspaceSummary>> {
    let customer = match query.customer_id {
        Some(c) => {
            crate::access::filters::customer(actor, "customer_id", c)?;
            c
        }
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
    Ok(rows
        .into_iter()
        .map(|w| WorkspaceSummary {
            id: w.id.into(),
            customer_id: w.customer_id.into(),
            member_count: counts.iter().find(|(id, _)| *id == w.id).map(|(_, n)| *n as u64).unwrap_or(0),
            name: w.name,
        })
        .collect())
}
