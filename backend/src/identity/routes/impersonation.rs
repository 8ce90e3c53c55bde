//! Routes: impersonation.

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
#[allow(unused_imports)]
use crate::identity::impersonation::*;
use crate::state::AppState;
use crate::store::entities::{sessions, users};
use axum::extract::State;
use axum::Json;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use steward_shared::api::{Me, StartImpersonation};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(start_impersonation)).routes(routes!(exit_impersonation))
}

/// Start viewing as another user. The admin stays signed in as themself.
#[utoipa::path(
    post, path = "/api/impersonation", tag = "impersonation", operation_id = "start_impersonation",
    security(("bearer" = ["steward.access.users.impersonate"])),
    request_body = StartImpersonation,
    responses(
        (status = 200, description = "Impersonating; what the SPA now shows", body = Me),
        (status = 409, description = "Yourself, a super admin, or an inactive user (`cannot_impersonate`); already viewing as someone (`already_impersonating`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn start_impersonation(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<StartImpersonation>,
) -> AppResult<Json<Me>> {
    let mut v = Validator::new();
    let reason = v.text("reason", &body.reason, 3, 500);
    v.finish()?;
    if actor.impersonator.is_some() {
        return Err(AppError::Conflict {
            code: "already_impersonating",
            field: None,
            detail: "You are already viewing as someone: exit that view first.".into(),
        });
    }
    let session = actor.session.clone().ok_or_else(|| AppError::Forbidden {
        code: "session_required",
        detail: "Impersonation belongs to a signed-in session, not an API token.".into(),
    })?;
    let target = users::Entity::find_by_id(body.user_id.0)
        .one(&state.db)
        .await?
        .filter(|u| u.customer_id == actor.customer_id() || actor.cross_tenant())
        .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    // Only a user of a workspace where the admin may view as people.
    if let Some(home) = target.home_workspace_id {
        actor.require_in(home)?;
    }
    let refuse = |detail: &str| AppError::Conflict {
        code: "cannot_impersonate",
        field: Some("user_id".into()),
        detail: detail.into(),
    };
    let refusal = if target.id == actor.user_id() {
        Some("You cannot impersonate yourself.")
    } else if target.super_admin {
        Some("Super admins cannot be impersonated.")
    } else if target.status != "active" || target.erased_at.is_some() {
        Some("Inactive users cannot be impersonated.")
    } else {
        None
    };
    let txn = crate::store::begin(&state.db).await?;
    if let Some(detail) = refusal {
        let event = Event::new("impersonation.start", "refused")
            .by(&actor)
            .target("user", target.id)
            .summary(json!({ "reason": reason, "refused": detail }));
        audit::append(&txn, &meta, event).await?;
        txn.commit().await?;
        return Err(refuse(detail));
    }
    let now = Utc::now();
    let expires = now + chrono::Duration::minutes(state.config.impersonation_minutes as i64);
    sessions::Entity::update_many()
        .col_expr(sessions::Column::ImpersonatedUserId, Expr::value(Some(target.id)))
        .col_expr(sessions::Column::ImpersonationReason, Expr::value(Some(reason.clone())))
        .col_expr(sessions::Column::ImpersonationStartedAt, Expr::value(Some(now)))
        .col_expr(sessions::Column::ImpersonationExpiresAt, Expr::value(Some(expires)))
        .filter(sessions::Column::Id.eq(session.id))
        .exec(&txn)
        .await?;
    let mut event = Event::new("impersonation.start", "success").by(&actor).target("user", target.id).summary(json!({
        "reason": reason, "target_email": target.email, "expires_at": expires,
    }));
    event.impersonated_user_id = Some(target.id);
    event.customer_id = Some(target.customer_id);
    audit::append(&txn, &meta, event).await?;
    txn.commit().await?;
    let effective = crate::identity::principal::reload(&state, &session).await?;
    crate::identity::me::me_of(&state, &effective).await.map(Json)
}

/// Stop impersonating; the session is the admin's own again.
#[utoipa::path(
    post, path = "/api/impersonation/exit", tag = "impersonation", operation_id = "exit_impersonation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Back as yourself", body = Me),
        (status = 409, description = "Not impersonating (`not_impersonating`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn exit_impersonation(State(state): State<AppState>, actor: Actor, meta: RequestMeta) -> AppResult<Json<Me>> {
    let (Some(real), Some(session)) = (&actor.impersonator, &actor.session) else {
        return Err(AppError::Conflict {
            code: "not_impersonating",
            field: None,
            detail: "This session is not impersonating anyone.".into(),
        });
    };
    let txn = crate::store::begin(&state.db).await?;
    clear(&txn, session.id, None).await?;
    let event = Event::new("impersonation.stop", "success")
        .by(&actor)
        .target("user", actor.user.id)
        .summary(json!({ "reason": "exit" }));
    audit::append(&txn, &meta, event).await?;
    txn.commit().await?;
    crate::identity::me::me_of(&state, real).await.map(Json)
}
