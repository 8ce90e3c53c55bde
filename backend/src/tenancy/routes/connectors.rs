//! The tenants' connectors and records: lists, create, rotate a key.

use axum::extract::State;
use axum::Json;
use steward_shared::api::{ConnectorRow, Page, RecordRow, RotatedKey};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::state::AppState;
use crate::tenancy::connectors::*;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connectors, create_connector))
        .routes(routes!(get_connector))
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
    crate::tenancy::connectors::list_connectors(&state, &actor, &scope, q).await.map(Json)
}

/// Create a connector; its first API key is returned this once.
#[utoipa::path(
    post, path = "/api/connectors", tag = "connectors", operation_id = "create_connector",
    security(("bearer" = ["steward.connectors.manage"])),
    request_body = CreateConnector,
    responses((status = 201, description = "Created; the key is shown once", body = RotatedKey, headers(("Location" = String, description = "The new connector: `/api/connectors/{id}`")))),
)]
async fn create_connector(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateConnector>,
) -> AppResult<Created<RotatedKey>> {
    let key = crate::tenancy::connectors::create_connector(&state, &actor, &meta, body).await?;
    Ok(Created::at(format!("/api/connectors/{}", key.connector_id), key))
}

/// One connector (its customer's, in a workspace where you hold `steward.connectors.view`).
#[utoipa::path(
    get, path = "/api/connectors/{connector_id}", tag = "connectors", operation_id = "get_connector",
    security(("bearer" = ["steward.connectors.view"])),
    params(("connector_id" = Uuid, Path, description = "The connector")),
    responses(
        (status = 200, description = "The connector", body = ConnectorRow),
        (status = 404, description = "No such connector, or not yours to see (`not_found`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn get_connector(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ConnectorRow>> {
    crate::tenancy::connectors::get_connector(&state, &actor, id).await.map(Json)
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
    crate::tenancy::connectors::rotate_connector_key(&state, &actor, &meta, id).await.map(Json)
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
    crate::tenancy::connectors::list_records(&state, &scope, q).await.map(Json)
}
