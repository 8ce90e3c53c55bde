//! The tenants' connectors (health, and an API key stored hashed and shown once on rotation)
//! and canonical data records: scoped, keyset-paginated lists.

use crate::secrets::random_token;
use crate::store::entities::connectors;
use serde::Deserialize;
use steward_shared::api::ConnectorRow;
use uuid::Uuid;

pub(super) fn row(c: connectors::Model) -> ConnectorRow {
    ConnectorRow {
        id: c.id,
        customer_id: c.customer_id.into(),
        workspace_id: c.workspace_id.into(),
        name: c.name,
        kind: c.kind,
        health: c.health,
        api_key_prefix: c.api_key_prefix,
        key_rotated_at: c.key_rotated_at,
        created_at: c.created_at,
    }
}

/// A new connector key: `stc_` and 32 random bytes; the prefix is what lists show.
pub(super) fn new_key() -> (String, String) {
    let key = format!("stc_{}", random_token(32));
    let prefix: String = key.chars().take(12).collect();
    (key, prefix)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// `healthy`, `degraded` or `down`.
    pub(super) health: Option<String>,
    pub(super) limit: Option<u64>,
    pub(super) cursor: Option<String>,
}

/// Create a connector.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateConnector {
    pub(super) workspace_id: Uuid,
    pub(super) name: String,
    /// e.g. `salesforce`, `postgres`, `http`.
    pub(super) kind: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct RecordQuery {
    pub(super) entity_type: Option<String>,
    pub(super) source: Option<String>,
    pub(super) limit: Option<u64>,
    pub(super) cursor: Option<String>,
}
