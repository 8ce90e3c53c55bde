//! The tenant rule for workspaces: a principal sees its own customer's workspaces, and every
//! customer's with cross-tenant rights; anything else is "not found".

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::store::entities::workspaces;

/// The workspace, when this principal may see it; a foreign tenant's workspace is "not found".
pub async fn visible<C: ConnectionTrait>(conn: &C, actor: &Actor, id: Uuid) -> AppResult<workspaces::Model> {
    workspaces::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|w| w.customer_id == actor.customer_id() || actor.cross_tenant())
        .ok_or_else(|| AppError::NotFound("No such workspace.".into()))
}
