//! Sign in, refresh and sign out.

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
#[allow(unused_imports)]
use crate::identity::login::*;
use crate::identity::throttle;
use crate::identity::{password, sessions};
use crate::state::AppState;
use crate::store::entities::users;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;
use steward_shared::api::{LoginRequest, RefreshRequest, TokenPair};
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
        (status = 401, description = "Unknown email or wrong password (`invalid_credentials`); 2FA is on and `totp_code` is missing (`totp_required`), wrong or already used (`invalid_totp`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is deactivated (`account_inactive`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts for this account or address (`too_many_attempts`); see Retry-After", body = Problem, content_type = "application/problem+json"),
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

    // Throttled keys are refused before the password is even checked.
    let account_key = throttle::Key::account(&email);
    let mut keys = vec![account_key.clone()];
    keys.extend(meta.ip.as_deref().map(throttle::Key::ip));
    if let Err(refusal) = throttle::check(&state.db, &keys).await {
        let txn = crate::store::begin(&state.db).await?;
        let event = Event::new("auth.login", "throttled").summary(json!({ "email": email }));
        audit::append(&txn, &meta, event).await?;
        txn.commit().await?;
        return Err(refusal);
    }

    let user = users::Entity::find().filter(users::Column::Email.eq(email.clone())).one(&state.db).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let valid = password::verify(&state, body.password, stored).await?;
    let txn = crate::store::begin(&state.db).await?;
    let Some(user) = user.filter(|_| valid) else {
        let mut locked = None;
        for key in &keys {
            locked = locked.max(throttle::fail(&txn, key).await?);
        }
        let mut event =
            Event::new("auth.login", "failure").summary(json!({ "email": email, "reason": "invalid_credentials" }));
        if let Some(u) = users::Entity::find().filter(users::Column::Email.eq(email.clone())).one(&txn).await? {
            event = event.target("user", u.id);
            event.customer_id = Some(u.customer_id);
        }
        audit::append(&txn, &meta, event).await?;
        if let Some(until) = locked {
            let event = Event::new("auth.lockout", "refused").summary(json!({ "email": email, "until": until }));
            audit::append(&txn, &meta, event).await?;
        }
        txn.commit().await?;
        return Err(match locked {
            Some(until) => throttle::locked(until),
            None => AppError::unauthenticated("invalid_credentials", "The email or password is incorrect."),
        });
    };
    if user.status != "active" || user.erased_at.is_some() {
        let event = Event::new("auth.login", "refused")
            .target("user", user.id)
            .summary(json!({ "email": user.email, "reason": "account_inactive" }));
        audit::append(&txn, &meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
        txn.commit().await?;
        return Err(AppError::Forbidden { code: "account_inactive", detail: "This account is deactivated.".into() });
    }
    if user.totp_enabled {
        let Some(code) = body.totp_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
            txn.commit().await?;
            return Err(AppError::unauthenticated(
                "totp_required",
                "This account has 2FA: send the current code from your authenticator (or a recovery code) as `totp_code`.",
            ));
        };
        if let Err(e) = crate::identity::two_factor::check_code(&txn, &user, code, true).await? {
            let event = Event::new("auth.login", "failure")
                .target("user", user.id)
                .summary(json!({ "email": user.email, "reason": "invalid_totp" }));
            audit::append(&txn, &meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
            txn.commit().await?;
            return Err(e);
        }
    }
    throttle::clear(&txn, &account_key).await?;
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
        (status = 401, description = "The credential was revoked or expired (`session_ended`, `account_inactive`), or was already used, which ends the whole session (`refresh_reused`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> AppResult<Json<TokenPair>> {
    if body.refresh_token.is_empty() || body.refresh_token.len() > 200 {
        return Err(AppError::field("refresh_token", "must be a refresh credential issued by login"));
    }
    sessions::refresh(&state, &meta, &body.refresh_token).await.map(Json)
}

/// Sign out: end the current session.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth", operation_id = "logout",
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out")),
)]
async fn logout(State(state): State<AppState>, meta: RequestMeta, actor: Actor) -> AppResult<StatusCode> {
    let txn = crate::store::begin(&state.db).await?;
    if let Some(session) = &actor.session {
        sessions::revoke(&txn, session.id).await?;
        let event = Event::new("auth.logout", "success").by(&actor).target("session", session.id);
        audit::append(&txn, &meta, event).await?;
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
