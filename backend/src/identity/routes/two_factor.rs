//! Routes: two_factor.

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
#[allow(unused_imports)]
use crate::identity::two_factor::*;
use crate::state::AppState;
use crate::store::entities::{sessions, settings, users};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use steward_shared::api::{RecoveryCodes, TotpCode, TotpEnrolment, TwoFactorPolicy};
use totp_rs::Secret;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enrol_totp))
        .routes(routes!(verify_totp))
        .routes(routes!(disable_totp))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(get_two_factor_policy, set_two_factor_policy))
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
    let txn = crate::store::begin(&state.db).await?;
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
    let txn = crate::store::begin(&state.db).await?;
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

/// The instance's 2FA policy.
#[utoipa::path(
    get, path = "/api/settings/two-factor", tag = "two_factor", operation_id = "get_two_factor_policy",
    security(("super_admin" = ["steward.system.settings"])),
    responses((status = 200, description = "The policy", body = TwoFactorPolicy)),
)]
async fn get_two_factor_policy(State(state): State<AppState>) -> AppResult<Json<TwoFactorPolicy>> {
    policy(&state.db).await.map(Json)
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
        Event::new("settings.two_factor", "success").by(&actor).summary(json!({ "before": before, "after": body }));
    audit::append(&txn, &meta, event).await?;
    txn.commit().await?;
    state.two_factor_policy.invalidate(&()).await;
    Ok(Json(body))
}
