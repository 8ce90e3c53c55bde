//! `/api/auth/*`: login, refresh, logout.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;
use steward_shared::api::{LoginRequest, RefreshRequest, TokenPair};
use steward_shared::rules;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::request_meta::RequestMeta;
use crate::identity::{password, sessions, throttle};
use crate::state::AppState;
use crate::store::entities::users;

/// Sign in with email and password.
///
/// Unknown email and wrong password get the same answer.
pub async fn login(state: &AppState, meta: &RequestMeta, body: LoginRequest) -> AppResult<TokenPair> {
    let mut v = Validator::new();
    let email = v.text("email", &body.email, rules::LOGIN_EMAIL).to_lowercase();
    v.secret("password", &body.password, rules::LOGIN_PASSWORD);
    v.finish()?;

    // Throttled keys are refused before the password is even checked.
    let account_key = throttle::Key::account(&email);
    let mut keys = vec![account_key.clone()];
    keys.extend(meta.ip.as_deref().map(throttle::Key::ip));
    if let Err(refusal) = throttle::check(&state.db, &keys).await {
        // The first refusal of an account from an address in a minute is audited, saying how
        // many went unaudited before it; the rest only count (a flood against a locked account
        // would otherwise be one chained audit write per request).
        let pair = format!("{}|{}", account_key.key, meta.ip.as_deref().unwrap_or(""));
        let entry = state.audited_once_a_minute.entry(pair).or_insert_with(async { std::sync::Arc::default() }).await;
        if entry.is_fresh() {
            let txn = crate::store::begin(&state.db).await?;
            // `audited_once_per_seconds`: later refusals of the pair in that time are not events.
            let event = Event::new("auth.login", "throttled")
                .summary(json!({ "email": email, "audited_once_per_seconds": 60 }));
            audit::append(&txn, meta, event).await?;
            txn.commit().await?;
            auth_line(state, meta, "lockout", "warn", format!("sign-in of {email} throttled"), None);
        } else {
            let n = entry.value().fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                auth_line(
                    state,
                    meta,
                    "lockout",
                    "warn",
                    format!("sign-in of {email} throttled ({n} more this minute)"),
                    None,
                );
            }
        }
        return Err(refusal);
    }

    let user = users::Entity::find().filter(users::Column::Email.eq(email.clone())).one(&state.db).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let valid = password::verify(state, body.password, stored).await?;
    let txn = crate::store::begin(&state.db).await?;
    let Some(user) = user.filter(|_| valid) else {
        let mut locked = None;
        for key in &keys {
            locked = locked.max(throttle::fail(&txn, key).await?);
        }
        let mut event =
            Event::new("auth.login", "failure").summary(json!({ "email": email, "reason": "invalid_credentials" }));
        let mut failed_user = None;
        if let Some(u) = users::Entity::find().filter(users::Column::Email.eq(email.clone())).one(&txn).await? {
            event = event.target("user", u.id);
            event.customer_id = Some(u.customer_id);
            failed_user = Some((u.id, u.customer_id));
        }
        audit::append(&txn, meta, event).await?;
        if let Some(until) = locked {
            let event = Event::new("auth.lockout", "refused").summary(json!({ "email": email, "until": until }));
            audit::append(&txn, meta, event).await?;
        }
        txn.commit().await?;
        auth_line(state, meta, "sign_in_failed", "warn", format!("failed sign-in as {email}"), failed_user);
        if locked.is_some() {
            auth_line(state, meta, "lockout", "warn", format!("{email} locked out after failed sign-ins"), failed_user);
        }
        return Err(match locked {
            Some(until) => throttle::locked(until),
            None => AppError::unauthenticated("invalid_credentials", "The email or password is incorrect."),
        });
    };
    if user.status != "active" || user.erased_at.is_some() {
        let event = Event::new("auth.login", "refused")
            .target("user", user.id)
            .summary(json!({ "email": user.email, "reason": "account_inactive" }));
        audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
        txn.commit().await?;
        let who = Some((user.id, user.customer_id));
        auth_line(
            state,
            meta,
            "sign_in_failed",
            "warn",
            format!("{} is deactivated: sign-in refused", user.email),
            who,
        );
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
            audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
            txn.commit().await?;
            let who = Some((user.id, user.customer_id));
            auth_line(state, meta, "sign_in_failed", "warn", format!("{} gave a wrong 2FA code", user.email), who);
            return Err(e);
        }
    }
    throttle::clear(&txn, &account_key).await?;
    let pair = sessions::open(state, &txn, &user, meta).await?;
    let mut active = user.clone().into_active_model();
    active.last_login_at = Set(Some(Utc::now()));
    active.update(&txn).await?;
    let event = Event::new("auth.login", "success")
        .actor(user.id, user.customer_id)
        .target("session", pair.session_id)
        .summary(json!({ "email": user.email }));
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    auth_line(state, meta, "sign_in", "info", format!("{} signed in", user.email), Some((user.id, user.customer_id)));
    Ok(pair)
}

/// A line for the authentication log: who, from where, with which request.
fn auth_line(
    state: &AppState,
    meta: &RequestMeta,
    kind: &'static str,
    level: &'static str,
    message: String,
    user: Option<(uuid::Uuid, uuid::Uuid)>,
) {
    let mut line = meta.log_line("auth", kind, level, message);
    line.user_id = user.map(|u| u.0);
    line.customer_id = user.map(|u| u.1);
    state.logs.emit(line);
}

/// Exchange a refresh credential for a new token pair.
///
/// Each refresh credential works once; the response carries its successor.
pub async fn refresh(state: &AppState, meta: &RequestMeta, body: RefreshRequest) -> AppResult<TokenPair> {
    if rules::ISSUED_TOKEN.refuse(&body.refresh_token).is_some() {
        return Err(AppError::field("refresh_token", "must be a refresh credential issued by login"));
    }
    sessions::refresh(state, meta, &body.refresh_token).await
}

/// Sign out: end the current session.
pub async fn logout(state: &AppState, meta: &RequestMeta, actor: &Actor) -> AppResult<()> {
    let txn = crate::store::begin(&state.db).await?;
    if let Some(session) = &actor.session {
        sessions::revoke(&txn, session.id).await?;
        let event = Event::new("auth.logout", "success").by(actor).target("session", session.id);
        audit::append(&txn, meta, event).await?;
    }
    txn.commit().await?;
    let who = Some((actor.user_id(), actor.customer_id()));
    auth_line(state, meta, "sign_out", "info", format!("{} signed out", actor.user.email), who);
    Ok(())
}
