//! Routes: password_reset.

use axum::extract::State;

use crate::audit::{self, Event};
use crate::http::error::{AppResult, Validator};
use crate::http::extract::ApiJson;
use crate::http::request_meta::RequestMeta;
#[allow(unused_imports)]
use crate::identity::password_reset::*;
use crate::identity::{password, sessions};
use crate::secrets::sha256_hex;
use crate::state::AppState;
use crate::store::entities::{password_resets, users};
use axum::http::StatusCode;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use steward_shared::api::CompletePasswordReset;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(complete_password_reset))
}

/// Set a new password with a mailed reset token (single use; ends every session of the account).
#[utoipa::path(
    post, path = "/api/auth/password-reset", tag = "auth", operation_id = "complete_password_reset",
    security(()),
    request_body = CompletePasswordReset,
    responses(
        (status = 204, description = "The password is set; sign in with it"),
        (status = 410, description = "The link was used, replaced or has expired (`token_expired`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn complete_password_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CompletePasswordReset>,
) -> AppResult<StatusCode> {
    let mut v = Validator::new();
    if body.token.is_empty() || body.token.len() > 200 {
        v.error("token", "must be the token from the reset mail");
    }
    v.password("password", &body.password);
    v.finish()?;
    let now = Utc::now();
    let reset = password_resets::Entity::find()
        .filter(password_resets::Column::TokenHash.eq(sha256_hex(&body.token)))
        .one(&state.db)
        .await?
        .filter(|r| r.used_at.is_none() && r.expires_at > now)
        .ok_or_else(gone)?;
    let user = users::Entity::find_by_id(reset.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.erased_at.is_none() && u.status == "active")
        .ok_or_else(gone)?;
    let hash = password::hash(&state, body.password).await?;
    let txn = crate::store::begin(&state.db).await?;
    // Single use: of two concurrent completions, one wins the compare-and-swap.
    let used = password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Expr::value(Some(now)))
        .filter(password_resets::Column::Id.eq(reset.id))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 {
        return Err(gone());
    }
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(Some(hash)))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    let ended = sessions::revoke_all_of(&txn, user.id).await?;
    let event = Event::new("user.password_reset.complete", "success")
        .actor(user.id, user.customer_id)
        .target("user", user.id)
        .summary(json!({ "sessions_ended": ended }));
    audit::append(&txn, &meta, event).await?;
    crate::identity::throttle::clear(&txn, &crate::identity::throttle::Key::account(&user.email)).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
