//! Admin actions on another user's credentials: mailing them a reset link, turning their 2FA
//! off (a lost device). Each needs strictly more rights than the account holds
//! ([`users::may_act_on_credentials`]).

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::directory::users;
use crate::http::error::{AppError, AppResult};
use crate::http::request_meta::RequestMeta;
use crate::identity::{password_reset, two_factor};
use crate::state::AppState;
use crate::store::entities::users as user_rows;
use steward_shared::api::{ApiTokenInfo, Page, ResetLink, ResetQueued};

/// Mails `user` a reset link, when `actor` may act on them.
pub async fn send_reset_link(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    user: user_rows::Model,
) -> AppResult<ResetQueued> {
    may_reset(state, actor, &user).await?;
    let txn = crate::store::begin(&state.db).await?;
    let mail_id = password_reset::issue(&txn, state, &user, password_reset::RESET_TTL, false).await?;
    let event = Event::new("user.password_reset.send", "success").by(actor).target("user", user.id);
    audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    txn.commit().await?;
    log_reset(state, actor, meta, &user, "sent a password reset link to");
    Ok(ResetQueued { mail_id, to: user.email, expires_at: chrono::Utc::now() + password_reset::RESET_TTL })
}

/// The platform log's line for a reset link made for `user`.
fn log_reset(state: &AppState, actor: &Actor, meta: &RequestMeta, user: &user_rows::Model, what: &str) {
    let mut line =
        meta.log_line("platform", "password_reset", "info", format!("{} {what} {}", actor.user.email, user.email));
    line.user_id = Some(actor.author_id());
    line.customer_id = Some(user.customer_id);
    line.fields = serde_json::json!({ "target_user_id": user.id });
    state.logs.emit(line);
}

/// Seed 004's "Generate reset password link", for an instance that cannot mail: a super admin
/// (not viewing as someone) gets the link itself, once — single use, expiring in an hour,
/// audited. With an SMTP server configured the link goes by mail only (409 `smtp_configured`).
pub async fn generate_reset_link(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    user: user_rows::Model,
) -> AppResult<ResetLink> {
    if !actor.is_super_admin() || actor.impersonator.is_some() {
        return Err(AppError::Forbidden {
            code: "super_admin_required",
            detail: "Only a super admin, not viewing as someone, may be handed a reset link.".into(),
        });
    }
    if state.config.smtp_server().is_some() {
        return Err(AppError::Conflict {
            code: "smtp_configured",
            field: None,
            detail:
                "This instance sends mail: mail the link to the account instead (POST /api/users/{id}/password-reset)."
                    .into(),
        });
    }
    may_reset(state, actor, &user).await?;
    let txn = crate::store::begin(&state.db).await?;
    let (token, expires_at) = password_reset::new_link(&txn, &user, password_reset::RESET_TTL).await?;
    let event = Event::new("user.password_reset.link_generated", "success")
        .by(actor)
        .target("user", user.id)
        .summary(serde_json::json!({ "expires_at": expires_at }));
    audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    txn.commit().await?;
    log_reset(state, actor, meta, &user, "generated a password reset link for");
    Ok(ResetLink { link: password_reset::link(state, &token), expires_at })
}

/// Who may have a reset link made for `user`, and only while the account is active.
async fn may_reset(state: &AppState, actor: &Actor, user: &user_rows::Model) -> AppResult<()> {
    // Your own account is yours; anyone else's needs strictly more rights than it holds. One
    // exception: super admins have nobody above them, so one may mail another a link. It goes
    // to the address on file, which no peer can change, so the owner confirms it by using it.
    if user.id != actor.author_id() && user.erased_at.is_none() {
        if user.super_admin && actor.super_admin_throughout() {
            users::may_act_on(&state.db, actor, user).await?;
        } else {
            users::may_act_on_credentials(&state.db, actor, user).await?;
        }
    }
    if user.erased_at.is_some() || user.status != "active" {
        return Err(AppError::Conflict {
            code: "account_inactive",
            field: None,
            detail: "This account is inactive; activate it before sending a reset link.".into(),
        });
    }
    Ok(())
}

/// Turns off `user`'s 2FA and ends their sessions; they enrol again after signing in.
pub async fn reset_two_factor(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    user: user_rows::Model,
) -> AppResult<()> {
    let txn = crate::store::begin(&state.db).await?;
    // The same rules as deactivating: not yourself, not a super admin unless you are one.
    users::may_act_on_credentials(&txn, actor, &user).await?;
    two_factor::turn_off(&txn, user.id).await?;
    crate::identity::sessions::revoke_all_of(&txn, user.id).await?;
    two_factor::notice(
        &txn,
        &user,
        "Two-factor authentication was reset",
        "An administrator turned 2FA off for your account; enrol again after signing in.",
    )
    .await?;
    let event = Event::new("user.2fa.reset", "success").by(actor).target("user", user.id);
    audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(())
}

/// That user's API tokens, newest first: name, prefix, leaves, expiry, last use — never the
/// secret (only its hash is stored).
pub async fn user_tokens(
    state: &AppState,
    user: &user_rows::Model,
    q: crate::http::pagination::PageQuery,
) -> AppResult<Page<ApiTokenInfo>> {
    crate::identity::tokens::page_of(state, user.customer_id, user.id, q).await
}

/// Revoke one of that user's API tokens: strictly stronger rights than that account's (the
/// same rule as its password and 2FA), audited; revoking a revoked token changes nothing.
pub async fn revoke_user_token(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    user: user_rows::Model,
    token_id: uuid::Uuid,
) -> AppResult<()> {
    use crate::store::entities::api_tokens;
    use sea_orm::EntityTrait;
    let token = api_tokens::Entity::find_by_id(token_id)
        .one(&state.db)
        .await?
        .filter(|t| t.user_id == user.id)
        .ok_or_else(|| AppError::NotFound("No such token.".into()))?;
    let txn = crate::store::begin(&state.db).await?;
    users::may_act_on_credentials(&txn, actor, &user).await?;
    if !crate::identity::tokens::mark_revoked(&txn, token.id).await? {
        return Ok(());
    }
    let event = Event::new("api_token.revoke", "success")
        .by(actor)
        .target("api_token", token.id)
        .summary(serde_json::json!({ "owner": user.email, "name": token.name }));
    audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(())
}
