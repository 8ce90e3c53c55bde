//! `/api/auth/*`: login, refresh, logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait};
use serde_json::json;
use steward_shared::api::{LoginRequest, RefreshRequest, TokenPair};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::{self, Event};
use crate::auth::{password, sessions, Actor};
use crate::entities::users;
use crate::error::{AppError, AppResult, Validator};
use crate::extract::ApiJson;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(refresh)).routes(routes!(logout))
}

/// Sign in with email and password.
///
/// Unknown email and wrong password get the same answer.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth", operation_id = "login",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "Unknown email or wrong password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is deactivated (`account_inactive`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<LoginRequest>,
) -> AppResult<Json<TokenPair>> {
    let mut v = Validator::new();
    let email = v.text("email", &body.email, 1, 254).to_lowercase();
    if body.password.is_empty() {
        v.error("password", "must not be empty");
    } else if body.password.chars().count() > 256 {
        v.error("password", "must be at most 256 characters");
    }
    v.finish()?;

    let user = users::Entity::find().filter(users::Column::Email.eq(email.clone())).one(&state.db).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let valid = password::verify(&state, body.password, stored).await?;
    let txn = state.db.begin().await?;
    let Some(user) = user.filter(|_| valid) else {
        let mut event =
            Event::new("auth.login", "failure").summary(json!({ "email": email, "reason": "invalid_credentials" }));
        if let Some(u) = users::Entity::find().filter(users::Column::Email.eq(email)).one(&txn).await? {
            event = event.target("user", u.id);
            event.customer_id = Some(u.customer_id);
        }
        audit::append(&txn, &meta, event).await?;
        txn.commit().await?;
        return Err(AppError::unauthenticated("invalid_credentials", "The email or password is incorrect."));
    };
    if user.status != "active" || user.erased_at.is_some() {
        let event = Event::new("auth.login", "refused")
            .target("user", user.id)
            .summary(json!({ "email": user.email, "reason": "account_inactive" }));
        audit::append(&txn, &meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
        txn.commit().await?;
        return Err(AppError::Forbidden { code: "account_inactive", detail: "This account is deactivated.".into() });
    }
    let pair = sessions::open(&state, &txn, &user, &meta).await?;
    let mut active = user.clone().into_active_model();
    active.last_login_at = Set(Some(Utc::now()));
    active.update(&txn).await?;
    let event = Event::new("auth.login", "success")
        .actor(user.id, user.customer_id)
        .target("session", pair.session_id)
        .summary(json!({ "email": user.email }));
    audit::append(&txn, &meta, event).await?;
    txn.commit().await?;
    Ok(Json(pair))
}

/// Exchange a refresh credential for a new token pair.
///
/// Each refresh credential works once; the response carries its successor.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth", operation_id = "refresh_session",
    security(()),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        (status = 401, description = "The credential was used, revoked or expired (`session_ended`, `account_inactive`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn refresh(State(state): State<AppState>, ApiJson(body): ApiJson<RefreshRequest>) -> AppResult<Json<TokenPair>> {
    if body.refresh_token.is_empty() || body.refresh_token.len() > 200 {
        return Err(AppError::field("refresh_token", "must be a refresh credential issued by login"));
    }
    sessions::refresh(&state, &body.refresh_token).await.map(Json)
}

/// Sign out: end the current session.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth", operation_id = "logout",
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out")),
)]
async fn logout(State(state): State<AppState>, meta: RequestMeta, actor: Actor) -> AppResult<StatusCode> {
    let txn = state.db.begin().await?;
    if let Some(session) = &actor.session {
        sessions::revoke(&txn, session.id).await?;
        let event = Event::new("auth.logout", "success").by(&actor).target("session", session.id);
        audit::append(&txn, &meta, event).await?;
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
