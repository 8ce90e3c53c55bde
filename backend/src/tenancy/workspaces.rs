//! Workspaces: looked up with the tenant rule applied, and listed for pickers.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Deserialize;
use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use steward_shared::api::{Page, WorkspaceSummary};
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::pagination::{self, Cursor};
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
    /// Rows per page, 1–200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The workspaces of your customer (or, across tenants, of `customer_id`), by name, each with
/// its member count.
pub async fn list_workspaces(state: &AppState, actor: &Actor, query: ListQuery) -> AppResult<Page<WorkspaceSummary>> {
    let customer = match query.customer_id {
        Some(c) => {
            crate::access::filters::customer(actor, "customer_id", c)?;
            c
        }
        None => actor.customer_id(),
    };
    let limit = pagination::limit(query.limit)?;
    let mut page = workspaces::Entity::find()
        .filter(workspaces::Column::CustomerId.eq(customer))
        .order_by_asc(workspaces::Column::Name)
        .order_by_asc(workspaces::Column::Id)
        .limit(limit + 1);
    if let Some(raw) = query.cursor.as_deref() {
        let c = Cursor::decode(raw)?;
        let name = c.key.ok_or_else(pagination::foreign_cursor)?;
        page = page.filter(pagination::after(
            Expr::col(workspaces::Column::Name),
            Expr::col(workspaces::Column::Id),
            name,
            c.id,
            false,
        ));
    }
    let (rows, next_cursor) =
        pagination::finish(page.all(&state.db).await?, limit, |w| Cursor { key: Some(w.name.clone()), id: w.id });
    let ids: Vec<Uuid> = rows.iter().map(|w| w.id).collect();
    let counts: HashMap<Uuid, i64> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::WorkspaceId)
        .column_as(user_roles::Column::UserId.count(), "n")
        .filter(user_roles::Column::CustomerId.eq(customer))
        .filter(user_roles::Column::WorkspaceId.is_in(ids))
        .group_by(user_roles::Column::WorkspaceId)
        .into_tuple::<(Uuid, i64)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let items = rows
        .into_iter()
        .map(|w| WorkspaceSummary {
            id: w.id.into(),
            customer_id: w.customer_id.into(),
            member_count: counts.get(&w.id).map(|n| u64::try_from(*n).unwrap_or(0)).unwrap_or(0),
            name: w.name,
        })
        .collect();
    Ok(Page { items, next_cursor })
}
