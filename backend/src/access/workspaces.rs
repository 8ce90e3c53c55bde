//! The tenant rule for workspaces: a principal sees its own customer's workspaces, and every
//! customer's with cross-tenant rights; anything else is "not found".

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::store::entities::workspaces;

/// The workspace, when this principal may see it; a foreign tenant's workspace is "not found".
pub async fn visible<C: ConnectionTrait>(conn: &C, actor: &Actor, id: Uuid) -> AppResult<workspaces::Model> {
    actor.tenant_row(workspaces::Entity::find_by_id(id).one(conn).await?, |w| Some(w.customer_id), "No such workspace.")
}

/// A `workspace_id` list filter: the workspace when this principal may see it and it lies in the
/// scope being listed; otherwise 422 naming the field (every list answers an unknown workspace
/// filter the same way, never with an empty page that looks like "no rows").
pub async fn filter<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    scope: Option<&crate::access::scope::Scope>,
    id: Uuid,
) -> AppResult<workspaces::Model> {
    let ws = visible(conn, actor, id)
        .await
        .map_err(|e| e.or_miss(|| AppError::unknown("workspace_id", "is not a workspace you can see")))?;
    if scope.and_then(|s| s.customer_id()).is_some_and(|c| c != ws.customer_id) {
        return Err(AppError::unknown("workspace_id", "belongs to another customer than the current scope"));
    }
    Ok(ws)
}
