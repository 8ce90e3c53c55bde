//! The outbox's API: mail the platform sent or holds.

use axum::extract::State;
use axum::Json;
use steward_shared::api::{OutboxMail, Page};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::scope::{Scope, ScopeHeader};
use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::request_meta::RequestMeta;
use crate::mail::outbox::*;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_outbox)).routes(routes!(resend_mail))
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
    crate::mail::outbox::list_outbox(&state, &actor, &scope, q).await.map(Json)
}

/// Resend a mail the outbox gave up on (`failed`): its attempts start again at the next
/// delivery pass.
#[utoipa::path(
    post, path = "/api/outbox/{mail_id}/resend", tag = "mail", operation_id = "resend_mail",
    security(("bearer" = ["steward.system.mail"])),
    params(("mail_id" = Uuid, Path, description = "The mail"), ScopeHeader),
    responses(
        (status = 200, description = "Queued again", body = OutboxMail),
        (status = 409, description = "Not failed (`not_failed`), or no SMTP server (`smtp_not_configured`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn resend_mail(
    State(state): State<AppState>,
    actor: Actor,
    scope: Scope,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<OutboxMail>> {
    crate::mail::outbox::resend_mail(&state, &actor, &scope, &meta, id).await.map(Json)
}
