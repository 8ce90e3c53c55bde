//! The outbox's API: mail the platform sent or holds.

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::http::pagination::{self, Cursor};
#[allow(unused_imports)]
use crate::mail::outbox::*;
use crate::state::AppState;
use crate::store::entities::outbox_mail;
use axum::extract::State;
use axum::Json;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use steward_shared::api::{OutboxMail, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_outbox))
}

/// The outbox in scope, newest first: what was sent, what waits, what failed.
///
/// Bodies carry single-use links and are shown to super admins only.
#[utoipa::path(
    get, path = "/api/outbox", tag = "mail", operation_id = "list_outbox",
    security(("bearer" = ["steward.system.logs"])),
    params(OutboxQuery, ScopeHeader),
    responses((status = 200, description = "A page of mail", body = Page<OutboxMail>)),
)]
async fn list_outbox(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> AppResult<Json<Page<OutboxMail>>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = outbox_mail::Entity::find().filter(scope.condition(outbox_mail::Column::CustomerId));
    if q.pending {
        query = query.filter(outbox_mail::Column::SentAt.is_null());
    }
    if let Some(raw) = &q.cursor {
        query = query.filter(outbox_mail::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(outbox_mail::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |m| Cursor { key: None, id: m.id });
    let bodies = actor.is_super_admin() && actor.impersonator.is_none();
    let items = rows
        .into_iter()
        .map(|m| OutboxMail {
            id: m.id,
            customer_id: m.customer_id.map(Into::into),
            kind: m.kind,
            to_address: m.to_address,
            subject: m.subject,
            body_text: bodies.then_some(m.body_text),
            created_at: m.created_at,
            sent_at: m.sent_at,
            attempts: m.attempts,
            last_error: m.last_error,
        })
        .collect();
    Ok(Json(Page { items, next_cursor }))
}
