//! The audit log's API: list with filters, CSV export (streamed), chain verification.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use steward_shared::api::{AuditEvent, AuditVerification, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::audit::log::*;
use crate::http::error::AppResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(get_audit_event))
        .routes(routes!(verify_audit))
        .routes(routes!(export_audit))
        .routes(routes!(list_impersonations))
}

/// Audit events in scope, newest first.
#[utoipa::path(
    get, path = "/api/audit", tag = "audit", operation_id = "list_audit",
    security(("bearer" = ["steward.audit.view"])),
    params(AuditFilter, AuditPage, ScopeHeader),
    responses((status = 200, description = "A page of events", body = Page<AuditEvent>)),
)]
async fn list_audit(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(f): ApiQuery<AuditFilter>,
    ApiQuery(page): ApiQuery<AuditPage>,
) -> AppResult<Json<Page<AuditEvent>>> {
    crate::audit::log::list_audit(&state, &actor, &scope, f, page).await.map(Json)
}

/// One audit event in full: its whole `summary` (the list leaves out long values, naming them
/// in `summary_omitted`). Your own customer's events; any with `steward.admin.cross_tenant`.
#[utoipa::path(
    get, path = "/api/audit/{seq}", tag = "audit", operation_id = "get_audit_event",
    security(("bearer" = ["steward.audit.view"])),
    params(("seq" = i64, Path, description = "The event's position in the chain (`seq` in the list)")),
    responses((status = 200, description = "The event", body = AuditEvent)),
)]
async fn get_audit_event(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(seq): ApiPath<i64>,
) -> AppResult<Json<AuditEvent>> {
    crate::audit::log::get_event(&state, &actor, seq).await.map(Json)
}

/// Recompute the hash chain and report the first broken link.
#[utoipa::path(
    get, path = "/api/audit/verify", tag = "audit", operation_id = "verify_audit",
    security(("bearer" = ["steward.audit.verify"])),
    responses((status = 200, description = "The verification", body = AuditVerification)),
)]
async fn verify_audit(State(state): State<AppState>) -> AppResult<Json<AuditVerification>> {
    crate::audit::log::verify_audit(&state).await.map(Json)
}

/// Export the current filter scope as CSV, oldest first, streamed.
#[utoipa::path(
    get, path = "/api/audit/export", tag = "audit", operation_id = "export_audit",
    security(("bearer" = ["steward.audit.export"])),
    params(AuditFilter, ScopeHeader),
    responses((status = 200, description = "CSV (RFC 4180, UTF-8), streamed, oldest first; every event matching the filter (no paging). Header row and columns: `seq` (position in the chain), `occurred_at` (RFC 3339, UTC), `customer_id`, `actor_user_id` (who acted), `impersonated_user_id` (whom they were viewing as, or empty), `action` (`user.create`), `outcome` (`success`, `failure` or `refused`), `target_type`, `target_id`, `request_id`, `ip`, `user_agent`, `summary` (the event's JSON summary), `hash` (the chain hash of this event). `X-Steward-Audit-Checkpoint` names the newest signed checkpoint of the chain when the export began (`seq=<n>; head=<hash>; at=<time>`), which `GET /api/audit/verify` holds the chain against.", content_type = "text/csv", body = String)),
)]
async fn export_audit(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> AppResult<Response> {
    f.check(&state.db, &scope, &actor).await?;
    let condition = f.condition(&scope)?;
    let checkpoint = crate::audit::chain::newest_checkpoint(&state.db).await?;
    let body = crate::audit::log::export_csv(state.db.clone(), condition);
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"steward-audit.csv\""));
    if let Some(c) = checkpoint {
        let value = format!("seq={}; head={}; at={}", c.seq, c.head_hash, c.created_at.to_rfc3339());
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert("x-steward-audit-checkpoint", v);
        }
    }
    Ok(response)
}

/// Impersonation history: who viewed as whom, when, why, for how long, how it ended, and how
/// many things were done meanwhile (from the audit log, in scope: the target's customer).
#[utoipa::path(
    get, path = "/api/impersonations", tag = "audit", operation_id = "list_impersonations",
    security(("bearer" = ["steward.audit.view"])),
    params(crate::audit::impersonations::ImpersonationQuery, ScopeHeader),
    responses((status = 200, description = "A page of views, newest first", body = Page<steward_shared::api::ImpersonationRow>)),
)]
async fn list_impersonations(
    State(state): State<AppState>,
    scope: Scope,
    ApiQuery(q): ApiQuery<crate::audit::impersonations::ImpersonationQuery>,
) -> AppResult<Json<Page<steward_shared::api::ImpersonationRow>>> {
    crate::audit::impersonations::list_impersonations(&state, &scope, q).await.map(Json)
}
