//! The Data explorer's routes. Reads are `x-view-as: target_rows`: a super admin viewing as
//! someone sees exactly that user's rows; writes need a super admin acting as themself.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;
use steward_shared::data::{
    BatchReport, BatchRequest, EditedRow, ExplorerCatalog, ExplorerPage, ExplorerQuery, RowEdit,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::data::feed::Followed;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_explorer_tables))
        .routes(routes!(query_explorer_rows))
        .routes(routes!(update_explorer_row))
        .routes(routes!(batch_explorer_rows))
        .routes(routes!(follow_explorer_changes))
}

/// The tables the explorer shows, their columns, types, operators and what is editable.
/// While viewing as someone: only the tables that user may see.
#[utoipa::path(
    get, path = "/api/explorer/tables", tag = "explorer", operation_id = "list_explorer_tables",
    security(("super_admin" = ["steward.console.data_explorer.read"])),
    extensions(("x-view-as" = json!("target_rows"))),
    responses((status = 200, description = "The explorer's tables", body = ExplorerCatalog)),
)]
async fn list_explorer_tables(actor: Actor) -> Json<ExplorerCatalog> {
    Json(crate::data::explorer::catalog(&actor))
}

/// A page of a table's rows: typed filters (all must hold), search over the searchable
/// columns, a sort on an indexed column (keyset-paged: pass `next_cursor` back with the same
/// query), and a column chooser. Names outside the registry are 422s naming the field.
#[utoipa::path(
    post, path = "/api/explorer/tables/{table}/query", tag = "explorer", operation_id = "query_explorer_rows",
    security(("super_admin" = ["steward.console.data_explorer.read"])),
    extensions(("x-view-as" = json!("target_rows"))),
    params(("table" = String, Path, description = "A table of `list_explorer_tables`"), ScopeHeader),
    request_body = ExplorerQuery,
    responses((status = 200, description = "A page of rows", body = ExplorerPage)),
)]
async fn query_explorer_rows(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiPath(table): ApiPath<String>,
    ApiJson(q): ApiJson<ExplorerQuery>,
) -> AppResult<Json<ExplorerPage>> {
    crate::data::explorer::query_rows(&state, &actor, &scope, &table, q).await.map(Json)
}

/// Edit one row: `set` the new values, `expect` the values you read. A value changed since is
/// a 409 (`stale_edit`) naming the column; a record's payload is checked against its entity
/// type's JSON Schema. Audited with before and after.
#[utoipa::path(
    patch, path = "/api/explorer/tables/{table}/rows/{row_id}", tag = "explorer", operation_id = "update_explorer_row",
    security(("super_admin" = ["steward.console.data_explorer.write"])),
    params(
        ("table" = String, Path, description = "A table of `list_explorer_tables`"),
        ("row_id" = Uuid, Path, description = "The row's id"),
        ScopeHeader,
    ),
    request_body = RowEdit,
    responses(
        (status = 200, description = "The row as it is now", body = EditedRow),
        (status = 409, description = "A value changed since it was read (`stale_edit`), or a unique value is taken (`duplicate_value`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn update_explorer_row(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    scope: Scope,
    ApiPath((table, id)): ApiPath<(String, Uuid)>,
    ApiJson(edit): ApiJson<RowEdit>,
) -> AppResult<Json<EditedRow>> {
    crate::data::explorer::update_row(&state, &actor, &meta, &scope, &table, id, edit).await.map(Json)
}

/// Edit or delete many rows at once (by ids, or every row a selection matches, at most
/// 10,000) in one transaction. Send `dry_run: true` first: the report lists what would change,
/// what is skipped and why, and the `confirm_phrase` the real run needs.
#[utoipa::path(
    post, path = "/api/explorer/tables/{table}/batch", tag = "explorer", operation_id = "batch_explorer_rows",
    security(("super_admin" = ["steward.console.data_explorer.write"])),
    params(("table" = String, Path, description = "A table of `list_explorer_tables`"), ScopeHeader),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "What changed (or would)", body = BatchReport),
        (status = 409, description = "A unique value is taken (`duplicate_value`), or the confirmation is not the phrase a dry run names now (`confirmation_mismatch`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn batch_explorer_rows(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    scope: Scope,
    ApiPath(table): ApiPath<String>,
    ApiJson(req): ApiJson<BatchRequest>,
) -> AppResult<Json<BatchReport>> {
    crate::data::explorer::batch(&state, &actor, &meta, &scope, &table, req).await.map(Json)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// Only this table's changes.
    pub table: Option<String>,
}

crate::http::pagination::closed_set! {
    /// What a change-feed event carries.
    pub enum ChangeStreamEventName { Change = "change", Lagged = "lagged", End = "end" }
}

/// One event of `follow_explorer_changes`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the shape of the stream, for the spec; the events are written by axum's Sse
pub struct ChangeStreamEvent {
    #[schema(inline)]
    event: ChangeStreamEventName,
    /// `change`: the change as JSON (`{table, id, customer_id, op}`); `lagged`: how many were
    /// missed; `end`: why the feed stopped.
    data: String,
}

/// Changes to the explorer's tables, live, from every replica: server-sent events, one
/// `change` per row written ({table, id, customer_id, op}), `lagged` when changes came faster
/// than read (reload), and `end` when the credential may no longer read.
#[utoipa::path(
    get, path = "/api/explorer/changes", tag = "explorer", operation_id = "follow_explorer_changes",
    security(("super_admin" = ["steward.console.data_explorer.read"])),
    extensions(("x-view-as" = json!("target_rows"))),
    params(ChangesQuery, ScopeHeader),
    responses((status = 200, description = "An event stream of changes (the schema is one event's)", content_type = "text/event-stream", body = ChangeStreamEvent)),
)]
async fn follow_explorer_changes(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> AppResult<Response> {
    let changes = crate::data::feed::follow(state, &actor, &scope, q.table, headers).await?;
    let events = changes.map(|followed| {
        Ok::<_, std::convert::Infallible>(match followed {
            Followed::Change(c) => Event::default().event("change").data(serde_json::to_string(&c).unwrap_or_default()),
            Followed::Lagged(n) => Event::default().event("lagged").data(n.to_string()),
            Followed::Ended(why) => Event::default().event("end").data(why),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}
