//! The audit log's API: list with filters, CSV export (streamed), chain verification.

use axum::body::Body;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
#[allow(unused_imports)]
use crate::audit::log::*;
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::http::pagination::{self};
use crate::state::AppState;
use crate::store::entities::audit_events;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use steward_shared::api::{AuditEvent, AuditVerification, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit)).routes(routes!(verify_audit)).routes(routes!(export_audit))
}

/// Audit events in scope, newest first.
#[utoipa::path(
    get, path = "/api/audit", tag = "audit", operation_id = "list_audit",
    security(("bearer" = ["steward.audit.view"])),
    params(AuditFilter, ScopeHeader),
    responses((status = 200, description = "A page of events", body = Page<AuditEvent>)),
)]
async fn list_audit(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> AppResult<Json<Page<AuditEvent>>> {
    let limit = pagination::limit(f.limit)?;
    let mut q = audit_events::Entity::find().filter(f.condition(&scope, &actor)?);
    if let Some(seq) = f.cursor()? {
        q = q.filter(audit_events::Column::Seq.lt(seq));
    }
    let rows = q.order_by_desc(audit_events::Column::Seq).limit(limit + 1).all(&state.db).await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = if more { rows.last().map(|e| e.seq.to_string()) } else { None };
    let emails = emails(&state.db, &rows).await?;
    Ok(Json(Page { items: rows.into_iter().map(|e| dto(e, &emails)).collect(), next_cursor }))
}

/// Recompute the hash chain and report the first broken link.
#[utoipa::path(
    get, path = "/api/audit/verify", tag = "audit", operation_id = "verify_audit",
    security(("bearer" = ["steward.audit.verify"])),
    responses((status = 200, description = "The verification", body = AuditVerification)),
)]
async fn verify_audit(State(state): State<AppState>) -> AppResult<Json<AuditVerification>> {
    let file = crate::audit::chain::checkpoints_file(&state.config);
    crate::audit::chain::verify(&state.db, &state.audit_keys, &file).await.map(Json)
}

/// Export the current filter scope as CSV, oldest first, streamed.
#[utoipa::path(
    get, path = "/api/audit/export", tag = "audit", operation_id = "export_audit",
    security(("bearer" = ["steward.audit.export"])),
    params(AuditFilter, ScopeHeader),
    responses((status = 200, description = "CSV (RFC 4180), streamed. `X-Steward-Audit-Checkpoint` names the newest signed checkpoint of the chain when the export began (`seq=<n>; head=<hash>; at=<time>`), which `GET /api/audit/verify` holds the chain against.", content_type = "text/csv", body = String)),
)]
async fn export_audit(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> AppResult<Response> {
    let condition = f.condition(&scope, &actor)?;
    let checkpoint = crate::audit::chain::newest_checkpoint(&state.db).await?;
    let db = state.db.clone();
    let batches = futures::stream::unfold(Some(0i64), move |after| {
        let (db, condition) = (db.clone(), condition.clone());
        async move {
            let after = after?;
            use audit_events::Column as C;
            let rows = audit_events::Entity::find()
                .select_only()
                .columns([
                    C::Seq,
                    C::OccurredAt,
                    C::CustomerId,
                    C::ActorUserId,
                    C::ImpersonatedUserId,
                    C::Action,
                    C::Outcome,
                ])
                .columns([C::TargetType, C::TargetId, C::RequestId, C::Ip, C::UserAgent, C::Hash])
                .column_as(sea_orm::sea_query::Expr::cust("CAST(summary AS TEXT)"), "summary")
                .filter(condition)
                .filter(C::Seq.gt(after))
                .order_by_asc(C::Seq)
                .limit(1000)
                .into_model::<CsvRow>()
                .all(&db)
                .await;
            match rows {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows.last().map(|e| e.seq);
                    let mut chunk = String::with_capacity(rows.len() * 400);
                    for row in &rows {
                        push_row(&mut chunk, row);
                    }
                    Some((Ok::<_, std::io::Error>(chunk), next))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let body = futures::stream::once(async { Ok::<_, std::io::Error>(CSV_HEADER.to_string()) }).chain(batches);
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
