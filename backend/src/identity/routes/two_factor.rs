//! The caller's own TOTP 2FA and recovery codes, the instance's 2FA policy, and the settings
//! changed at run time (`identity::runtime`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{RecoveryCodes, SettingsView, TotpCode, TotpEnrolment, TwoFactorPolicy, UpdateSettings};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enrol_totp))
        .routes(routes!(verify_totp))
        .routes(routes!(disable_totp))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(get_two_factor_policy, set_two_factor_policy))
        .routes(routes!(get_settings, update_settings))
}

/// The settings changed at run time: those in effect, their boot values, and which are stored.
#[utoipa::path(
    get, path = "/api/settings", tag = "settings", operation_id = "get_settings",
    security(("super_admin" = ["steward.system.settings"])),
    responses((status = 200, description = "The settings", body = SettingsView)),
)]
async fn get_settings(State(state): State<AppState>) -> AppResult<Json<SettingsView>> {
    crate::identity::runtime::view(&state).await.map(Json)
}

/// Change settings at run time: a field given sets it, `null` returns it to its boot value.
/// Audited with before and after; every replica applies it within a second.
#[utoipa::path(
    patch, path = "/api/settings", tag = "settings", operation_id = "update_settings",
    security(("super_admin" = ["steward.system.settings"])),
    request_body = UpdateSettings,
    responses((status = 200, description = "The settings now", body = SettingsView)),
)]
async fn update_settings(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<UpdateSettings>,
) -> AppResult<Json<SettingsView>> {
    crate::identity::runtime::update(&state, &actor, &meta, body).await.map(Json)
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
    crate::identity::two_factor::enrol_totp(&state, &actor).await.map(Json)
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
    crate::identity::two_factor::verify_totp(&state, &actor, &meta, body).await.map(Json)
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
    crate::identity::two_factor::disable_totp(&state, &actor, &meta, body).await.map(|()| StatusCode::NO_CONTENT)
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
    crate::identity::two_factor::regenerate_recovery_codes(&state, &actor, &meta, body).await.map(Json)
}

/// The instance's 2FA policy.
#[utoipa::path(
    get, path = "/api/settings/two-factor", tag = "two_factor", operation_id = "get_two_factor_policy",
    security(("super_admin" = ["steward.system.settings"])),
    responses((status = 200, description = "The policy", body = TwoFactorPolicy)),
)]
async fn get_two_factor_policy(State(state): State<AppState>) -> AppResult<Json<TwoFactorPolicy>> {
    crate::identity::two_factor::get_two_factor_policy(&state).await.map(Json)
}

/// Set the 2FA policy. Admins without 2FA are then held to enrolment on their next request.
#[utoipa::path(
    put, path = "/api/settings/two-factor", tag = "two_factor", operation_id = "set_two_factor_policy",
    security(("super_admin" = ["steward.system.settings"])),
    request_body = TwoFactorPolicy,
    responses((status = 200, description = "The policy", body = TwoFactorPolicy)),
)]
async fn set_two_factor_policy(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<TwoFactorPolicy>,
) -> AppResult<Json<TwoFactorPolicy>> {
    crate::identity::two_factor::set_two_factor_policy(&state, &actor, &meta, body).await.map(Json)
}
