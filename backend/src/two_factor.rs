//! TOTP 2FA (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock skew):
//! enrolment with a secret and its QR code, verification that turns it on and hands out
//! recovery codes, disabling, and the instance policy that requires it of admins.
//!
//! Each TOTP code works once (the last accepted step is stored); recovery codes are stored
//! hashed and each works once. Wrong codes count towards the brute-force throttle.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde_json::json;
use steward_shared::api::{RecoveryCodes, TotpCode, TotpEnrolment, TwoFactorPolicy};
use steward_shared::permissions::{ADMIN_CROSS_TENANT, USERS_MANAGE};
use totp_rs::{Algorithm, Secret, TOTP};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::auth::{sha256_hex, Actor};
use crate::entities::{recovery_codes, sessions, settings, users};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::throttle;

const POLICY_KEY: &str = "two_factor_policy";
const RECOVERY_CODES: usize = 10;
const STEP: u64 = 30;

/// The operations a principal whom the policy blocks may still call: enough to enrol.
pub const ALLOWED_UNTIL_ENROLLED: &[&str] = &["get_me", "logout", "enrol_totp", "verify_totp"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enrol_totp))
        .routes(routes!(verify_totp))
        .routes(routes!(disable_totp))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(reset_user_two_factor))
        .routes(routes!(get_two_factor_policy, set_two_factor_policy))
}

fn totp(secret_b32: &str, account: &str) -> AppResult<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().map_err(|e| AppError::internal(format!("{e:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP, bytes, Some("Steward".into()), account.to_owned())
        .map_err(|e| AppError::internal(format!("{e:?}")))
}

/// Whether `code` is a current TOTP code not used before; records its step so it works once.
async fn accept_totp<C: ConnectionTrait>(conn: &C, user: &users::Model, code: &str) -> AppResult<bool> {
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

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `code` is an unused recovery code of `user`; uses it up.
async fn accept_recovery<C: ConnectionTrait>(conn: &C, user: &users::Model, code: &str) -> AppResult<bool> {
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
fn random_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(ALPHABET.get(rng.random_range(0..ALPHABET.len())).copied().unwrap_or(b'a'))).collect()
}

/// New recovery codes for `user` (the old ones stop working); returns them in clear, once.
async fn new_recovery_codes<C: ConnectionTrait>(conn: &C, user: &users::Model) -> AppResult<Vec<String>> {
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
fn is_admin(actor: &Actor) -> bool {
    let real = actor.impersonator.as_deref().unwrap_or(actor);
    real.user.super_admin || real.grants.iter().any(|g| g.leaves.contains(ADMIN_CROSS_TENANT))
}

/// Whether the policy blocks this principal until it enrols.
pub async fn blocked(state: &AppState, actor: &Actor) -> AppResult<bool> {
    let real = actor.impersonator.as_deref().unwrap_or(actor);
    if real.user.totp_enabled || real.session.is_none() || !is_admin(actor) {
        return Ok(false);
    }
    state
        .two_factor_policy
        .try_get_with((), async { policy(&state.db).await.map(|p| p.require_for_admins) })
        .await
        .map_err(|e| AppError::internal(e.to_string()))
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

/// Start TOTP enrolment: a fresh secret, its `otpauth://` URL and QR code. 2FA is on once
/// `verify_totp` accepts a code from it.
#[utoipa::path(
    post, path = "/api/me/2fa/enrol", tag = "two_factor", operation_id = "enrol_totp",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Scan this, then verify a code", body = TotpEnrolment),
        (status = 409, description = "2FA is already on (`already_enrolled`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn enrol_totp(State(state): State<AppState>, actor: Actor) -> AppResult<Json<TotpEnrolment>> {
    own_session(&actor)?;
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
    Ok(Json(TotpEnrolment { secret, otpauth_url: url, qr_svg: svg }))
}

/// Finish enrolment with a code from the authenticator: 2FA is on, and the answer carries
/// the recovery codes (shown this once).
#[utoipa::path(
    post, path = "/api/me/2fa/verify", tag = "two_factor", operation_id = "verify_totp",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, description = "2FA is on", body = RecoveryCodes),
        (status = 401, description = "Wrong or reused code (`invalid_totp`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enrolling (`not_enrolling`) or already on (`already_enrolled`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes (`too_many_attempts`), with Retry-After", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn verify_totp(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<TotpCode>,
) -> AppResult<Json<RecoveryCodes>> {
    own_session(&actor)?;
    let txn = state.db.begin().await?;
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
        audit::append(&txn, &meta, Event::new("user.2fa.enable", "failure").by(&actor).target("user", user.id)).await?;
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
    audit::append(&txn, &meta, Event::new("user.2fa.enable", "success").by(&actor).target("user", user.id)).await?;
    txn.commit().await?;
    Ok(Json(RecoveryCodes { codes }))
}

async fn notice<C: ConnectionTrait>(conn: &C, user: &users::Model, subject: &str, what: &str) -> AppResult<()> {
    let body = format!("Hello {},\n\n{what}\n\nIf this was not you, contact your administrator at once.\n", user.name);
    crate::mail::enqueue(conn, Some(user.customer_id), "two_factor", &user.email, subject, body).await?;
    Ok(())
}

/// Turn 2FA off, with a current code or a recovery code. Refused while the policy requires
/// 2FA of this account.
#[utoipa::path(
    post, path = "/api/me/2fa/disable", tag = "two_factor", operation_id = "disable_totp",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 204, description = "2FA is off"),
        (status = 401, description = "Wrong or reused code (`invalid_totp`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "2FA is not on (`not_enrolled`), or the policy requires it (`required_by_policy`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes (`too_many_attempts`), with Retry-After", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn disable_totp(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<TotpCode>,
) -> AppResult<StatusCode> {
    own_session(&actor)?;
    if !actor.user.totp_enabled {
        return Err(AppError::Conflict { code: "not_enrolled", field: None, detail: "2FA is not on.".into() });
    }
    if is_admin(&actor) && policy(&state.db).await?.require_for_admins {
        return Err(AppError::Conflict {
            code: "required_by_policy",
            field: None,
            detail: "This instance requires 2FA of admins.".into(),
        });
    }
    let txn = state.db.begin().await?;
    if let Err(e) = check_code(&txn, &actor.user, &body.code, true).await? {
        txn.commit().await?;
        return Err(e);
    }
    turn_off(&txn, actor.user.id).await?;
    notice(&txn, &actor.user, "Two-factor authentication is off", "2FA was turned off for your Steward account.")
        .await?;
    audit::append(&txn, &meta, Event::new("user.2fa.disable", "success").by(&actor).target("user", actor.user.id))
        .await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
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

/// Replace the recovery codes (the old ones stop working), with a current TOTP code.
#[utoipa::path(
    post, path = "/api/me/2fa/recovery-codes", tag = "two_factor", operation_id = "regenerate_recovery_codes",
    security(("bearer" = [])),
    request_body = TotpCode,
    responses(
        (status = 200, description = "New codes, shown once", body = RecoveryCodes),
        (status = 401, description = "Wrong or reused code (`invalid_totp`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "2FA is not on (`not_enrolled`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<TotpCode>,
) -> AppResult<Json<RecoveryCodes>> {
    own_session(&actor)?;
    if !actor.user.totp_enabled {
        return Err(AppError::Conflict { code: "not_enrolled", field: None, detail: "2FA is not on.".into() });
    }
    let txn = state.db.begin().await?;
    if let Err(e) = check_code(&txn, &actor.user, &body.code, false).await? {
        txn.commit().await?;
        return Err(e);
    }
    let codes = new_recovery_codes(&txn, &actor.user).await?;
    audit::append(
        &txn,
        &meta,
        Event::new("user.2fa.recovery_codes", "success").by(&actor).target("user", actor.user.id),
    )
    .await?;
    txn.commit().await?;
    Ok(Json(RecoveryCodes { codes }))
}

/// Turn off another user's 2FA (a lost device): they sign in with their password alone and
/// enrol again. Sessions of that user end.
#[utoipa::path(
    delete, path = "/api/users/{user_id}/2fa", tag = "two_factor", operation_id = "reset_user_two_factor",
    security(("bearer" = ["steward.access.users.manage"])),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 204, description = "2FA is off for that user"),
        (status = 409, description = "Yourself (`yourself`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn reset_user_two_factor(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let user = crate::directory::visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    let txn = state.db.begin().await?;
    // The same rules as deactivating: not yourself, not a super admin unless you are one.
    match crate::users::check(&txn, &actor, &user, steward_shared::api::BulkAction::AssignRole).await {
        Ok(()) => {}
        Err(r) => return Err(r.into()),
    }
    turn_off(&txn, user.id).await?;
    crate::auth::sessions::revoke_all_of(&txn, user.id).await?;
    notice(
        &txn,
        &user,
        "Two-factor authentication was reset",
        "An administrator turned 2FA off for your account; enrol again after signing in.",
    )
    .await?;
    let event = Event::new("user.2fa.reset", "success").by(&actor).target("user", user.id);
    audit::append(&txn, &meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The instance's 2FA policy.
#[utoipa::path(
    get, path = "/api/settings/two-factor", tag = "two_factor", operation_id = "get_two_factor_policy",
    security(("bearer" = ["steward.system.settings"])),
    responses((status = 200, description = "The policy", body = TwoFactorPolicy)),
)]
async fn get_two_factor_policy(State(state): State<AppState>) -> AppResult<Json<TwoFactorPolicy>> {
    policy(&state.db).await.map(Json)
}

/// Set the 2FA policy. Admins without 2FA are then held to enrolment on their next request.
#[utoipa::path(
    put, path = "/api/settings/two-factor", tag = "two_factor", operation_id = "set_two_factor_policy",
    security(("bearer" = ["steward.system.settings"])),
    request_body = TwoFactorPolicy,
    responses((status = 200, description = "The policy", body = TwoFactorPolicy)),
)]
async fn set_two_factor_policy(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<TwoFactorPolicy>,
) -> AppResult<Json<TwoFactorPolicy>> {
    let before = policy(&state.db).await?;
    let txn = state.db.begin().await?;
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
        Event::new("settings.two_factor", "success").by(&actor).summary(json!({ "before": before, "after": body }));
    audit::append(&txn, &meta, event).await?;
    txn.commit().await?;
    state.two_factor_policy.invalidate(&()).await;
    Ok(Json(body))
}
