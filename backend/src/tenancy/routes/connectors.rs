//! Routes: connectors.

use axum::extract::State;

#[allow(unused_imports)]
use crate::tenancy::connectors::*;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::secrets::sha256_hex;
use crate::state::AppState;
use crate::store::entities::{connectors, records};
use serde_json::json;
use steward_shared::api::{ConnectorRow, Page, RecordRow, RotatedKey};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connectors, create_connector))
        .routes(routes!(rotate_connector_key))
        .routes(routes!(list_records))
}

/// Connectors in scope, newest first.
#[utoipa::path(
    get, path = "/api/connectors", tag = "connectors", operation_id = "list_connectors",
    security(("bearer" = ["steward.connectors.view"])),
    params(ListQuery, ScopeHeader),
    responses((status = 200, description = "A page of connectors", body = Page<ConnectorRow>)),
)]
async fn list_connectors(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Page<ConnectorRow>>> {
    if q.health.as_deref().is_some_and(|h| !["healthy", "degraded", "down"].contains(&h)) {
        return Err(AppError::field("health", "must be one of: healthy, degraded, down"));
    }
    let limit = pagination::limit(q.limit)?;
    let mut query = connectors::Entity::find().filter(scope.condition(connectors::Column::CustomerId));
    if let Some(ws) = actor.workspaces_with("steward.connectors.view") {
        query = query.filter(connectors::Column::WorkspaceId.is_in(ws));
    }
    if let Some(h) = &q.health {
        query = query.filter(connectors::Column::Health.eq(h.clone()));
    }
    if let Some(raw) = &q.cursor {
        query = query.filter(connectors::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(connectors::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |c| Cursor { key: None, id: c.id });
    Ok(Json(Page { items: rows.into_iter().map(row).collect(), next_cursor }))
}

/// Create a connector; its first API key is returned this once.
#[utoipa::path(
    post, path = "/api/connectors", tag = "connectors", operation_id = "create_connector",
    security(("bearer" = ["steward.connectors.manage"])),
    request_body = CreateConnector,
    responses((status = 201, description = "Created; the key is shown once", body = RotatedKey)),
)]
async fn create_connector(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateConnector>,
) -> AppResult<(StatusCode, Json<RotatedKey>)> {
    let mut v = Validator::new();
    let name = v.text("name", &body.name, 1, 200);
    let kind = v.text("kind", &body.kind, 1, 50);
    v.finish()?;
    let ws = crate::access::workspaces::visible(&state.db, &actor, body.workspace_id)
        .await
        .map_err(|_| AppError::field("workspace_id", "is not a workspace you can see"))?;
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
        health: Set("healthy".into()),
        api_key_prefix: Set(prefix.clone()),
        api_key_hash: Set(sha256_hex(&key)),
        key_rotated_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = Event::new("connector.create", "success")
        .by(&actor)
        .target("connector", c.id)
        .summary(json!({ "after": { "name": c.name, "kind": c.kind, "key_prefix": prefix } }));
    audit::append(&txn, &meta, Event { customer_id: Some(c.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(RotatedKey { connector_id: c.id, api_key: key, api_key_prefix: prefix, rotated_at: now }),
    ))
}

/// Rotate a connector's API key: the old key stops working; the new one is shown this once.
#[utoipa::path(
    post, path = "/api/connectors/{connector_id}/rotate-key", tag = "connectors", operation_id = "rotate_connector_key",
    security(("bearer" = ["steward.connectors.rotate_keys"])),
    extensions(("x-confirm" = json!("connector"))),
    params(("connector_id" = Uuid, Path, description = "The connector")),
    responses(
        (status = 200, description = "The new key, shown once", body = RotatedKey),
        (status = 428, description = "Impersonating without typed confirmation (`confirmation_required`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn rotate_connector_key(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<RotatedKey>> {
    let c = connectors::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|c| c.customer_id == actor.customer_id() || actor.cross_tenant())
        .filter(|c| actor.workspaces_with("steward.connectors.view").is_none_or(|ws| ws.contains(&c.workspace_id)))
        .ok_or_else(|| AppError::NotFound("No such connector.".into()))?;
    actor.require_in(c.workspace_id)?;
    let (key, prefix) = new_key();
    let now = Utc::now();
    let txn = crate::store::begin(&state.db).await?;
    let old_prefix = c.api_key_prefix.clone();
    let mut active: connectors::ActiveModel = c.clone().into();
    active.api_key_hash = Set(sha256_hex(&key));
    active.api_key_prefix = Set(prefix.clone());
    active.key_rotated_at = Set(Some(now));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let event = Event::new("connector.rotate_key", "success")
        .by(&actor)
        .target("connector", c.id)
        .summary(json!({ "before": { "key_prefix": old_prefix }, "after": { "key_prefix": prefix } }));
    audit::append(&txn, &meta, Event { customer_id: Some(c.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(Json(RotatedKey { connector_id: c.id, api_key: key, api_key_prefix: prefix, rotated_at: now }))
}

/// Canonical data records in scope, newest first.
#[utoipa::path(
    get, path = "/api/records", tag = "data", operation_id = "list_records",
    security(("bearer" = ["steward.data.view"])),
    params(RecordQuery, ScopeHeader),
    responses((status = 200, description = "A page of records", body = Page<RecordRow>)),
)]
async fn list_records(
    State(state): State<AppState>,
    scope: Scope,
    ApiQuery(q): ApiQuery<RecordQuery>,
) -> AppResult<Json<Page<RecordRow>>> {
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
    Ok(Json(Page {
        items: rows
            .into_iter()
            .map(|r| RecordRow {
                id: r.id,
                customer_id: r.customer_id.into(),
                entity_type: r.entity_type,
                external_id: r.external_id,
                source: r.source,
                payload: r.payload,
                merged_into: r.merged_into,
                updated_at: r.updated_at,
            })
            .collect(),
        next_cursor,
    }))
}
