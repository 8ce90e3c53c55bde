//! Workspaces: looked up with the tenant rule applied, and listed for pickers.

use crate::store::entities::workspaces;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;
use uuid::Uuid;

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
pub(super) struct ListQuery {
    /// Another customer's workspaces (needs `steward.admin.cross_tenant`); default: your own.
    pub(super) customer_id: Option<Uuid>,
}
