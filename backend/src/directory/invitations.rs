//! Invitations: an admin invites an email into a workspace with a role; the invitee gets a
//! mailed link carrying a 256-bit single-use token (stored hashed) that expires, and accepts
//! it by choosing a name and a password — which creates the account and signs them in.

use crate::http::error::AppResult;
use crate::state::AppState;
use crate::store::entities::{invitations, roles, workspaces};
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use steward_shared::api::{Invitation, WorkspaceRef};
use uuid::Uuid;

pub(super) const LEAF: &str = "steward.access.invitations.manage";

pub(super) fn status_of(i: &invitations::Model) -> &'static str {
    if i.accepted_at.is_some() {
        "accepted"
    } else if i.revoked_at.is_some() {
        "revoked"
    } else if i.expires_at <= Utc::now() {
        "expired"
    } else {
        "pending"
    }
}

pub(super) async fn rows(state: &AppState, list: Vec<invitations::Model>) -> AppResult<Vec<Invitation>> {
    let ws_ids: Vec<Uuid> = list.iter().map(|i| i.workspace_id).collect();
    let role_ids: Vec<Uuid> = list.iter().map(|i| i.role_id).collect();
    let ws: std::collections::HashMap<Uuid, String> = workspaces::Entity::find()
        .filter(workspaces::Column::Id.is_in(ws_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|w| (w.id, w.name))
        .collect();
    let role_names: std::collections::HashMap<Uuid, String> = roles::Entity::find()
        .filter(roles::Column::Id.is_in(role_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    Ok(list
        .into_iter()
        .map(|i| Invitation {
            id: i.id,
            customer_id: i.customer_id.into(),
            email: i.email.clone(),
            workspace: WorkspaceRef {
                id: i.workspace_id.into(),
                name: ws.get(&i.workspace_id).cloned().unwrap_or_default(),
            },
            role_id: i.role_id.into(),
            role_name: role_names.get(&i.role_id).cloned().unwrap_or_default(),
            invited_by: i.invited_by.map(Into::into),
            status: status_of(&i).into(),
            created_at: i.created_at,
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
            revoked_at: i.revoked_at,
        })
        .collect())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InvitationQuery {
    /// Also list accepted invitations.
    #[serde(default)]
    pub(super) include_accepted: bool,
    /// Also list expired and revoked invitations.
    #[serde(default)]
    pub(super) include_expired: bool,
    /// Only invitations into this workspace.
    pub(super) workspace_id: Option<Uuid>,
    pub(super) limit: Option<u64>,
    pub(super) cursor: Option<String>,
}
