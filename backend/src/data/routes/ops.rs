//! Data ops and hash warnings routes.

use axum::extract::State;
use axum::Json;
use steward_shared::api::Page;
use steward_shared::data::{
    Confirmed, DuplicateGroup, HashWarning, MergeReport, MergeRequest, MergeRow, MigrationStatus, RefreshReport,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::data::ops::{GroupQuery, MergeQuery};
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_hash_warnings))
        .routes(routes!(list_duplicate_groups))
        .routes(routes!(merge_records))
        .routes(routes!(list_merges))
        .routes(routes!(unmerge_records))
        .routes(routes!(refresh_record))
        .routes(routes!(get_migration_status))
}

/// Per entity type: live records, distinct content hashes and the share that differ, worst
/// first (seed 004's Hash warnings).
#[utoipa::path(
    get, path = "/api/data/hash-warnings", tag = "data", operation_id = "get_hash_warnings",
    security(("bearer" = ["steward.data.view"])),
    params(ScopeHeader),
    responses((status = 200, description = "The warnings, worst first, on one page", body = Page<HashWarning>)),
)]
async fn get_hash_warnings(State(state): State<AppState>, scope: Scope) -> AppResult<Json<Page<HashWarning>>> {
    crate::data::hashes::hash_warnings(&state, &scope).await.map(|w| Json(Page::whole(w)))
}

/// Duplicate groups: live records of one customer and entity type sharing a content hash,
/// largest first, each with up to 20 of its records (oldest first).
#[utoipa::path(
    get, path = "/api/data/duplicates", tag = "data", operation_id = "list_duplicate_groups",
    security(("bearer" = ["steward.data.ops"])),
    params(GroupQuery, ScopeHeader),
    responses((status = 200, description = "A page of groups", body = Page<DuplicateGroup>)),
)]
async fn list_duplicate_groups(
    State(state): State<AppState>,
    scope: Scope,
    ApiQuery(q): ApiQuery<GroupQuery>,
) -> AppResult<Json<Page<DuplicateGroup>>> {
    crate::data::ops::duplicate_groups(&state, &scope, q).await.map(Json)
}

/// Merge duplicates into a survivor: the others are kept as `merged_into` it and every link
/// from or to them moves to it. `dry_run` shows what moves and the phrase to type.
#[utoipa::path(
    post, path = "/api/data/merge", tag = "data", operation_id = "merge_records",
    security(("bearer" = ["steward.data.ops"])),
    params(ScopeHeader),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "What moved (or would)", body = MergeReport),
        (status = 409, description = "The confirmation is not the phrase a dry run names now (`confirmation_mismatch`), or a record named is not in a state to merge: merged already, merged into, or another type or customer than the survivor (`merge_conflict`, naming the field)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn merge_records(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    scope: Scope,
    ApiJson(req): ApiJson<MergeRequest>,
) -> AppResult<Json<MergeReport>> {
    crate::data::ops::merge(&state, &actor, &meta, &scope, req).await.map(Json)
}

/// Past merges in scope, newest first, with whether each can still be undone.
#[utoipa::path(
    get, path = "/api/data/merges", tag = "data", operation_id = "list_merges",
    security(("bearer" = ["steward.data.ops"])),
    params(MergeQuery, ScopeHeader),
    responses((status = 200, description = "A page of merges", body = Page<MergeRow>)),
)]
async fn list_merges(
    State(state): State<AppState>,
    scope: Scope,
    ApiQuery(q): ApiQuery<MergeQuery>,
) -> AppResult<Json<Page<MergeRow>>> {
    crate::data::ops::list_merges(&state, &scope, q).await.map(Json)
}

/// Undo a merge within the window (`--unmerge-window-hours`): the merged records are live
/// again and the moved links point back.
#[utoipa::path(
    post, path = "/api/data/merges/{merge_id}/undo", tag = "data", operation_id = "unmerge_records",
    security(("bearer" = ["steward.data.ops"])),
    params(("merge_id" = Uuid, Path, description = "The merge"), ScopeHeader),
    request_body = Confirmed,
    responses(
        (status = 200, description = "What moved back (or would)", body = MergeReport),
        (status = 409, description = "Undone already (`already_undone`), or the confirmation is not the phrase a dry run names (`confirmation_mismatch`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 410, description = "Past the undo window (`undo_window_passed`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn unmerge_records(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    scope: Scope,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<Confirmed>,
) -> AppResult<Json<MergeReport>> {
    crate::data::ops::unmerge(&state, &actor, &meta, &scope, id, req).await.map(Json)
}

/// Force-refresh one record: recompute its content hash and normalized fields, invalidate
/// the caches holding it, record `refreshed_at`.
#[utoipa::path(
    post, path = "/api/records/{record_id}/refresh", tag = "data", operation_id = "refresh_record",
    security(("bearer" = ["steward.data.ops"])),
    params(("record_id" = Uuid, Path, description = "The record"), ScopeHeader),
    request_body = Confirmed,
    responses(
        (status = 200, description = "The record as refreshed (or as it would be)", body = RefreshReport),
        (status = 409, description = "The confirmation is not the phrase a dry run names (`confirmation_mismatch`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn refresh_record(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    scope: Scope,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<Confirmed>,
) -> AppResult<Json<RefreshReport>> {
    crate::data::ops::refresh(&state, &actor, &meta, &scope, id, req).await.map(Json)
}

/// The schema's migrations: applied (when, and the checksum of the source that ran) and
/// pending; `changed` when a migration's source differs from what ran.
#[utoipa::path(
    get, path = "/api/data/migrations", tag = "data", operation_id = "get_migration_status",
    security(("bearer" = ["steward.data.ops"])),
    responses((status = 200, description = "Every migration of the chain, on one page", body = Page<MigrationStatus>)),
)]
async fn get_migration_status(State(state): State<AppState>) -> AppResult<Json<Page<MigrationStatus>>> {
    crate::data::ops::migration_status(&state).await.map(|m| Json(Page::whole(m)))
}
