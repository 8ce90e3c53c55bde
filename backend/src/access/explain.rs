//! The permission catalog, and "why can X do Y": explaining a user's access.

use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ExplainQuery {
    /// The user whose access to explain.
    pub(super) user: Uuid,
    /// A leaf of the catalog.
    pub(super) permission: String,
    /// Only this workspace; default: any of the user's workspaces.
    pub(super) workspace: Option<Uuid>,
}
