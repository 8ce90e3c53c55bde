//! The tenants' connectors (health, and an API key stored hashed and shown once on rotation)
//! and canonical data records: scoped, keyset-paginated lists.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Deserialize;
use serde_json::json;
use steward_shared::api::{ConnectorRow, Page, RecordRow, RotatedKey};
use steward_shared::rules;
use uuid::Uuid;

use crate::access::names::Names;
use crate::access::scope::Scope;
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::secrets::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::entities::{connectors, records};

pub fn row(c: connectors::Model, names: &Names) -> ConnectorRow {
    ConnectorRow {
        id: c.id,
        customer_id: c.customer_id.into(),
        customer_name: names.customer(c.customer_id),
        workspace_id: c.workspace_id.into(),
        workspace_name: names.workspace(c.workspace_id),
        name: c.name,
        kind: c.kind,
        health: c.health,
        api_key_prefix: c.api_key_prefix,
        key_rotated_at: c.key_rotated_at,
        created_at: c.created_at,
        endpoint: c.endpoint,
        health_checked_at: c.health_checked_at,
        health_latency_ms: c.health_latency_ms,
        health_error: c.health_error,
        last_run_at: c.last_run_at,
        last_run_status: c.last_run_status,
    }
}

/// An endpoint ([`rules::refuse_url`]), taken as sent; stored without a trailing slash.
pub fn check_endpoint(v: &mut Validator, raw: Option<&str>) -> Option<String> {
    let raw = raw?;
    if let Some(why) = rules::refuse_url(raw) {
        v.error("endpoint", why);
        return None;
    }
    Some(raw.trim_end_matches('/').to_owned())
}

/// A new connector key: `stc_` and 32 random bytes; the prefix is what lists show.
pub(super) fn new_key() -> (String, String) {
    let key = format!("stc_{}", random_token(32));
    let prefix: String = key.chars().take(12).collect();
    (key, prefix)
}

pagination::closed_set! {
    /// A connector's last known health.
    pub enum ConnectorHealth { Healthy = "healthy", Degraded = "degraded", Down = "down", Unknown = "unknown" }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `healthy`, `degraded`, `down` or `unknown`.
    #[param(inline)]
    pub health: Option<ConnectorHealth>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Create a connector.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnector {
    pub workspace_id: Uuid,
    pub name: String,
    /// A connector kind of an active application (`crm_api`, as `list_connector_kinds` names
    /// it; probed by its health check) or a free-form kind (`salesforce`, `http`: never probed).
    pub kind: String,
    /// Where its service answers (`https://crm.example.com/api`): http(s), a host name whose
    /// labels start with a letter or an IPv4 address, an optional port and path.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "steward_shared::absent::not_null")]
    #[schema(nullable = false)]
    pub endpoint: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    pub entity_type: Option<String>,
    pub source: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Connectors in scope, newest first.
pub async fn list_connectors(
    state: &AppState,
    actor: &Actor,
    scope: &Scope,
    q: ListQuery,
) -> AppResult<Page<ConnectorRow>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = connectors::Entity::find().filter(scope.condition(connectors::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with("steward.connectors.view") {
        query = query.filter(connectors::Column::WorkspaceId.is_in(ws));
    }
    if let Some(h) = q.health {
        query = query.filter(connectors::Column::Health.eq(h.as_str()));
    }
    if let Some(raw) = &q.cursor {
        query = query.filter(connectors::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(connectors::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |c| Cursor { key: None, id: c.id });
    let names =
        Names::of(&state.db, rows.iter().map(|c| c.customer_id), rows.iter().map(|c| c.workspace_id), []).await?;
    Ok(Page { items: rows.into_iter().map(|c| row(c, &names)).collect(), next_cursor })
}

/// The connector, when this principal may see it (its customer, and a workspace where it holds
/// `steward.connectors.view`); otherwise "not found".
pub async fn visible_connector(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<connectors::Model> {
    let missing = "No such connector.";
    let row = connectors::Entity::find_by_id(id).one(&state.db).await?;
    actor
        .tenant_row(row, |c| Some(c.customer_id), missing)
        .map(|c| {
            actor.workspaces_with("steward.connectors.view").is_none_or(|ws| ws.contains(&c.workspace_id)).then_some(c)
        })?
        .ok_or_else(|| AppError::NotFound(missing.into()))
}

/// One connector, when this principal may see it.
pub async fn get_connector(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<ConnectorRow> {
    let c = visible_connector(state, actor, id).await?;
    let names = Names::of(&state.db, [c.customer_id], [c.workspace_id], []).await?;
    Ok(row(c, &names))
}

/// Rotate a connector's API key: the old key stops working; the new one is shown this once.
pub async fn rotate_connector_key(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
) -> AppResult<RotatedKey> {
    let c = visible_connector(state, actor, id).await?;
    actor.require_in(c.workspace_id)?;
    let (key, prefix) = new_key();
    let now = Utc::now();
    let txn = crate::store::begin(&state.db).await?;
    let old_prefix = c.api_key_prefix.clone();
    let mut active: connectors::ActiveModel = c.clone().into();
    active.api_key_hash = Set(sha256_hex(&key));
    active.api_key_prefix = Set(prefix.clone());
    active.api_key_sealed = Set(Some(state.jwt.seal(&key)));
    active.key_rotated_at = Set(Some(now));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let event = Event::new("connector.rotate_key", "success")
        .by(actor)
        .target("connector", c.id)
        .summary(json!({ "before": { "key_prefix": old_prefix }, "after": { "key_prefix": prefix } }));
    audit::append(&txn, meta, Event { customer_id: Some(c.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(RotatedKey { connector_id: c.id, api_key: key, api_key_prefix: prefix, rotated_at: now })
}

/// Canonical data records in scope, newest first.
pub async fn list_records(state: &AppState, scope: &Scope, q: RecordQuery) -> AppResult<Page<RecordRow>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = records::Entity::find().filter(scope.condition(records::Column::CustomerId));
    if let Some(t) = &q.entity_type {
        query = query.filter(records::Column::EntityType.eq(t.clone()));
    }
    if let Some(s) = &q.source {
        query = query.filter(records::Column::Source.eq(s.clone()));
    }
    if let Some(raw) = &q.cursor {
        query = query.filter(records::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(records::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |r| Cursor { key: None, id: r.id });
    let names = Names::of(&state.db, rows.iter().map(|r| r.customer_id), [], []).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| RecordRow {
                id: r.id,
                customer_id: r.customer_id.into(),
                customer_name: names.customer(r.customer_id),
                entity_type: r.entity_type,
                external_id: r.external_id,
                source: r.source,
                payload: r.payload,
                merged_into: r.merged_into,
                updated_at: r.updated_at,
            })
            .collect(),
        next_cursor,
    })
}

/// Create a connector; its first API key is returned this once.
pub async fn create_connector(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: CreateConnector,
) -> AppResult<RotatedKey> {
    let mut v = Validator::new();
    let name = v.text("name", &body.name, rules::NAME);
    let kind = v.text("kind", &body.kind, rules::CONNECTOR_KIND);
    let endpoint = check_endpoint(&mut v, body.endpoint.as_deref());
    v.finish()?;
    let ws = crate::access::workspaces::visible(&state.db, actor, body.workspace_id)
        .await
        .map_err(|e| e.or_miss(|| AppError::unknown("workspace_id", "is not a workspace you can see")))?;
    actor.require_in(ws.id)?;
    let (key, prefix) = new_key();
    let now = Utc::now();
    let txn = crate::store::begin(&state.db).await?;
    let c = connectors::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(ws.customer_id),
        workspace_id: Set(ws.id),
        name: Set(name),
        kind: Set(kind),
        // Unknown until a probe has measured it.
        health: Set("unknown".into()),
        api_key_prefix: Set(prefix.clone()),
        api_key_hash: Set(sha256_hex(&key)),
        key_rotated_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        endpoint: Set(endpoint),
        api_key_sealed: Set(Some(state.jwt.seal(&key))),
        health_checked_at: Set(None),
        health_latency_ms: Set(None),
        health_error: Set(None),
        last_run_at: Set(None),
        last_run_status: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = Event::new("connector.create", "success")
        .by(actor)
        .target("connector", c.id)
        .summary(json!({ "after": { "name": c.name, "kind": c.kind, "endpoint": c.endpoint, "key_prefix": prefix } }));
    audit::append(&txn, meta, Event { customer_id: Some(c.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(RotatedKey { connector_id: c.id, api_key: key, api_key_prefix: prefix, rotated_at: now })
}
