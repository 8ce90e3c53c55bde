//! TOTP 2FA (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock skew):
//! enrolment with a secret and its QR code, verification that turns it on and hands out
//! recovery codes, disabling, and the instance policy that requires it of admins.
//!
//! Each TOTP code works once (the last accepted step is stored); recovery codes are stored
//! hashed and each works once. Wrong codes count towards the brute-force throttle.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use steward_shared::api::{RecoveryCodes, TotpCode, TotpEnrolment, TwoFactorPolicy};
use steward_shared::permissions::ADMIN_CROSS_TENANT;
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::request_meta::RequestMeta;
use crate::identity::runtime::{self, POLICY_KEY};
use crate::identity::throttle;
use crate::secrets::sha256_hex;
use crate::state::AppState;
use crate::store::entities::{recovery_codes, sessions, settings, users};

pub(super) const RECOVERY_CODES: usize = 10;
pub(super) const STEP: u64 = 30;

/// The operations a principal whom the policy blocks may still call: enough to enrol.
pub const ALLOWED_UNTIL_ENROLLED: &[&str] = &["get_me", "logout", "enrol_totp", "verify_totp"];

pub(super) fn totp(secret_b32: &str, account: &str) -> AppResult<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().map_err(|e| AppError::internal(format!("{e:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP, bytes, Some("Steward".into()), account.to_owned())
        .map_err(|e| AppError::internal(format!("{e:?}")))
}

/// Whether `code` is a current TOTP code not used before; records its step so it works once.
pub(super) async fn accept_totp<C: ConnectionTrait>(conn: &C, user: &users::Model, code: &str) -> AppResult<bool> {
    let Some(secret) = &user.totp_secret else { return Ok(false) };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let totp = totp(secret, &user.email)?;
    let now = Utc::now().timestamp().max(0) as u64;
    let current = now / STEP;
    let last = user.totp_last_step.unwrap_or(-1);
    for step in [current.saturating_sub(1), current, current + 1] {
        let matches = constant_eq(totp.generate(step * STEP).as_bytes(), code.as_bytes());
        if matches && step as i64 > last {
            // Compare-and-swap on the last step: a code replayed concurrently loses.
            let mut update = users::Entity::update_many()
                .col_expr(users::Column::TotpLastStep, Expr::value(Some(step as i64)))
                .filter(users::Column::Id.eq(user.id));
            update = match user.totp_last_step {
                Some(l) => update.filter(users::Column::TotpLastStep.eq(l)),
                None => update.filter(users::Column::TotpLastStep.is_null()),
            };
            return Ok(update.exec(conn).await?.rows_affected == 1);
        }
    }
    Ok(false)
}

pub(super) fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `code` is an unused recovery code of `user`; uses it up.
pub(super) async fn accept_recovery<C: ConnectionTrait>(conn: &C, user: &users::Model, code: &str) -> AppResult<bool> {
    let normalized: String = code.trim().to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if normalized.len() != 10 {
        return Ok(false);
    }
    let found = recovery_codes::Entity::find()
        .filter(recovery_codes::Column::UserId.eq(user.id))
        .filter(recovery_codes::Column::CodeHash.eq(sha256_hex(&normalized)))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .one(conn)
        .await?;
    let Some(found) = found else { return Ok(false) };
    let used = recovery_codes::Entity::update_many()
        .col_expr(recovery_codes::Column::UsedAt, Expr::value(Some(Utc::now())))
        .filter(recovery_codes::Column::Id.eq(found.id))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(used.rows_affected == 1)
}

/// Checks a second factor for `user` (a TOTP code, or a recovery code when `recovery` is
/// allowed), with the per-user throttle. The caller commits `conn` either way, so failures
/// are counted.
pub async fn check_code<C: ConnectionTrait>(
    conn: &C,
    user: &users::Model,
    code: &str,
    recovery: bool,
) -> AppResult<Result<(), AppError>> {
    let key = throttle::Key::totp(user.id);
    throttle::check(conn, std::slice::from_ref(&key)).await?;
    let code = code.trim();
    let ok = accept_totp(conn, user, code).await? || (recovery && accept_recovery(conn, user, code).await?);
    if ok {
        throttle::clear(conn, &key).await?;
        return Ok(Ok(()));
    }
    Ok(Err(match throttle::fail(conn, &key).await? {
        Some(until) => throttle::locked(until),
        None => AppError::unauthenticated("invalid_totp", "The 2FA code is wrong or was already used."),
    }))
}

/// Ten characters from an alphabet without look-alikes (about 49 bits).
pub(super) fn random_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(ALPHABET.get(rng.random_range(0..ALPHABET.len())).copied().unwrap_or(b'a'))).collect()
}

/// New recovery codes for `user` (the old ones stop working); returns them in clear, once.
pub(super) async fn new_recovery_codes<C: ConnectionTrait>(conn: &C, user: &users::Model) -> AppResult<Vec<String>> {
    recovery_codes::Entity::delete_many().filter(recovery_codes::Column::UserId.eq(user.id)).exec(conn).await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let raw = random_code();
        recovery_codes::ActiveModel {
            id: Set(Uuid::now_v7()),
            customer_id: Set(user.customer_id),
            user_id: Set(user.id),
            code_hash: Set(sha256_hex(&raw)),
            created_at: Set(Utc::now()),
            used_at: Set(None),
        }
        .insert(conn)
        .await?;
        codes.push(format!("{}-{}", raw.get(..5).unwrap_or_default(), raw.get(5..).unwrap_or_default()));
    }
    Ok(codes)
}

/// The 2FA policy as stored (default: not required).
pub async fn policy<C: ConnectionTrait>(conn: &C) -> AppResult<TwoFactorPolicy> {
    let row = settings::Entity::find_by_id(POLICY_KEY.to_owned()).one(conn).await?;
    Ok(row.and_then(|r| serde_json::from_value(r.value).ok()).unwrap_or(TwoFactorPolicy { require_for_admins: false }))
}

/// Whether the policy counts this principal (the real one while impersonating) as an admin.
pub fn is_admin(actor: &Actor) -> bool {
    let real = actor.impersonator.as_deref().unwrap_or(actor);
    real.user.super_admin || real.grants.iter().any(|g| g.leaves.contains(ADMIN_CROSS_TENANT))
}

/// Whether the policy blocks this principal until it enrols. It holds every credential of the
/// admin: a session, and API tokens too (minted before enrolment, they stop until then).
pub async fn blocked(state: &AppState, actor: &Actor) -> AppResult<bool> {
    let real = actor.impersonator.as_deref().unwrap_or(actor);
    if real.user.totp_enabled || !is_admin(actor) {
        return Ok(false);
    }
    // The run-time settings' one-second cache holds the policy with the other settings.
    Ok(runtime::effective(state).await?.two_factor_required_for_admins)
}

/// Refuses 2FA and token changes made through an impersonation or an API token: they act on
/// the signed-in person's own credentials.
pub fn own_session(actor: &Actor) -> AppResult<()> {
    if actor.impersonator.is_some() {
        return Err(AppError::Forbidden {
            code: "impersonating",
            detail: "Exit the impersonation first: this changes your own sign-in credentials.".into(),
        });
    }
    if actor.session.is_none() {
        return Err(AppError::Forbidden {
            code: "session_required",
            detail: "Sign in with a password for this; API tokens cannot change credentials.".into(),
        });
    }
    Ok(())
}

pub async fn notice<C: ConnectionTrait>(conn: &C, user: &users::Model, subject: &str, what: &str) -> AppResult<()> {
    let body = format!("Hello {},\n\n{what}\n\nIf this was not you, contact your administrator at once.\n", user.name);
    crate::mail::enqueue(conn, Some(user.customer_id), "two_factor", &user.email, subject, body).await?;
    Ok(())
}

/// Turns 2FA off for `user`: secret, last step and recovery codes gone.
pub async fn turn_off<C: ConnectionTrait>(conn: &C, user: Uuid) -> AppResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::TotpEnabled, Expr::value(false))
        .col_expr(users::Column::TotpSecret, Expr::value(Option::<String>::None))
        .col_expr(users::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(users::Column::Id.eq(user))
        .exec(conn)
        .await?;
    recovery_codes::Entity::delete_many().filter(recovery_codes::Column::UserId.eq(user)).exec(conn).await?;
    Ok(())
}

/// Start TOTP enrolment: a fresh secret, its `otpauth://` URL and QR code. 2FA is on once
/// `verify_totp` accepts a code from it.
pub async fn enrol_totp(state: &AppState, actor: &Actor) -> AppResult<TotpEnrolment> {
    own_session(actor)?;
    if actor.user.totp_enabled {
        return Err(AppError::Conflict {
            code: "already_enrolled",
            field: None,
            detail: "2FA is already on; disable it first to enrol a new device.".into(),
        });
    }
    let secret = Secret::generate_secret().to_encoded().to_string();
    let totp = totp(&secret, &actor.user.email)?;
    let url = totp.get_url();
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(AppError::internal)?;
    let svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    users::Entity::update_many()
        .col_expr(users::Column::TotpSecret, Expr::value(Some(secret.clone())))
        .col_expr(users::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(users::Column::Id.eq(actor.user.id))
        .filter(users::Column::TotpEnabled.eq(false))
        .exec(&state.db)
        .await?;
    Ok(TotpEnrolment { secret, otpauth_url: url, qr_svg: svg })
}

/// Finish enrolment with a code from the authenticator: 2FA is on, and the answer carries
/// the recovery codes (shown this once).
pub async fn verify_totp(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: TotpCode,
) -> AppResult<RecoveryCodes> {
    own_session(actor)?;
    let txn = crate::store::begin(&state.db).await?;
    let user = users::Entity::find_by_id(actor.user.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    if user.totp_enabled {
        return Err(AppError::Conflict { code: "already_enrolled", field: None, detail: "2FA is already on.".into() });
    }
    if user.totp_secret.is_none() {
        return Err(AppError::Conflict {
            code: "not_enrolling",
            field: None,
            detail: "Start with POST /api/me/2fa/enrol.".into(),
        });
    }
    if let Err(e) = check_code(&txn, &user, &body.code, false).await? {
        audit::append(&txn, meta, Event::new("user.2fa.enable", "failure").by(actor).target("user", user.id)).await?;
        txn.commit().await?;
        return Err(e);
    }
    users::Entity::update_many()
        .col_expr(users::Column::TotpEnabled, Expr::value(true))
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(users::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    if let Some(s) = &actor.session {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::TwoFactorVerified, Expr::value(true))
            .filter(sessions::Column::Id.eq(s.id))
            .exec(&txn)
            .await?;
    }
    let codes = new_recovery_codes(&txn, &user).await?;
    notice(&txn, &user, "Two-factor authentication is on", "2FA was turned on for your Steward account.").await?;
    audit::append(&txn, meta, Event::new("user.2fa.enable", "success").by(actor).target("user", user.id)).await?;
    txn.commit().await?;
    Ok(RecoveryCodes { codes })
}

/// Turn 2FA off, with a current code or a recovery code. Refused while the policy requires
/// 2FA of this account.
pub async fn disable_totp(state: &AppState, actor: &Actor, meta: &RequestMeta, body: TotpCode) -> AppResult<()> {
    own_session(actor)?;
    if !actor.user.totp_enabled {
        return Err(AppError::Conflict { code: "not_enrolled", field: None, detail: "2FA is not on.".into() });
    }
    if is_admin(actor) && policy(&state.db).await?.require_for_admins {
        return Err(AppError::Conflict {
            code: "required_by_policy",
            field: None,
            detail: "This instance requires 2FA of admins.".into(),
        });
    }
    let txn = crate::store::begin(&state.db).await?;
    if let Err(e) = check_code(&txn, &actor.user, &body.code, true).await? {
        txn.commit().await?;
        return Err(e);
    }
    turn_off(&txn, actor.user.id).await?;
    notice(&txn, &actor.user, "Two-factor authentication is off", "2FA was turned off for your Steward account.")
        .await?;
    audit::append(&txn, meta, Event::new("user.2fa.disable", "success").by(actor).target("user", actor.user.id))
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Replace the recovery codes (the old ones stop working), with a current TOTP code.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: TotpCode,
) -> AppResult<RecoveryCodes> {
    own_session(actor)?;
    if !actor.user.totp_enabled {
        return Err(AppError::Conflict { code: "not_enrolled", field: None, detail: "2FA is not on.".into() });
    }
    let txn = crate::store::begin(&state.db).await?;
    if let Err(e) = check_code(&txn, &actor.user, &body.code, false).await? {
        txn.commit().await?;
        return Err(e);
    }
    let codes = new_recovery_codes(&txn, &actor.user).await?;
    audit::append(&txn, meta, Event::new("user.2fa.recovery_codes", "success").by(actor).target("user", actor.user.id))
        .await?;
    txn.commit().await?;
    Ok(RecoveryCodes { codes })
}

/// The instance's 2FA policy.
pub async fn get_two_factor_policy(state: &AppState) -> AppResult<TwoFactorPolicy> {
    policy(&state.db).await
}

/// Set the 2FA policy. Admins without 2FA are then held to enrolment on their next request.
pub async fn set_two_factor_policy(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: TwoFactorPolicy,
) -> AppResult<TwoFactorPolicy> {
    let before = policy(&state.db).await?;
    let txn = crate::store::begin(&state.db).await?;
    let value = serde_json::to_value(&body).map_err(AppError::internal)?;
    let row = settings::ActiveModel { key: Set(POLICY_KEY.into()), value: Set(value), updated_at: Set(Utc::now()) };
    settings::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(settings::Column::Key)
                .update_columns([settings::Column::Value, settings::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    let event =
        Event::new("settings.two_factor", "success").by(actor).summary(json!({ "before": before, "after": body }));
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    state.runtime_settings.invalidate(&()).await;
    Ok(body)
}
