//! Password resets: an admin (or account creation without a password) mails a single-use,
//! expiring link; the link's holder sets a new password. Nobody ever sees or sets another
//! person's password. A completed reset ends every session of the account.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde_json::json;
use steward_shared::api::{CompletePasswordReset, PasswordResetRequest};
use steward_shared::permissions::USERS_MANAGE;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::auth::{password, random_token, sessions, sha256_hex, Actor};
use crate::entities::{password_resets, users};
use crate::error::{AppError, AppResult, Validator};
use crate::extract::{ApiJson, ApiPath};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);
/// How long the first link of an account created without a password works.
pub const WELCOME_TTL: Duration = Duration::hours(72);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_password_reset))
        .routes(routes!(request_password_reset))
        .routes(routes!(complete_password_reset))
}

/// Inside the caller's transaction: a new single-use link for `user`, mailed via the outbox.
/// Earlier unused links of the account stop working.
pub async fn issue<C: ConnectionTrait>(
    conn: &C,
    state: &AppState,
    user: &users::Model,
    ttl: Duration,
    welcome: bool,
) -> AppResult<()> {
    let now = Utc::now();
    expire_links(conn, user.id).await?;
    let token = random_token(32);
    password_resets::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(user.customer_id),
        user_id: Set(user.id),
        token_hash: Set(sha256_hex(&token)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    let link = format!("{}/reset-password?token={token}", state.config.link_base());
    let hours = ttl.num_hours();
    let (subject, intro) = if welcome {
        ("Your Steward account", format!("Hello {},\n\nAn account was created for you on Steward.", user.name))
    } else {
        (
            "Reset your Steward password",
            format!("Hello {},\n\nA password reset was requested for your account.", user.name),
        )
    };
    let body = format!(
        "{intro}\n\nSet your password here (the link works once, for {hours} hours):\n\n{link}\n\n\
         If you did not expect this mail, ignore it.\n"
    );
    crate::mail::enqueue(conn, Some(user.customer_id), "password_reset", &user.email, subject, body).await?;
    Ok(())
}

/// Every unused reset link of `user` stops working.
pub async fn expire_links<C: ConnectionTrait>(conn: &C, user: Uuid) -> AppResult<()> {
    password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Expr::value(Some(Utc::now())))
        .filter(password_resets::Column::UserId.eq(user))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Mail a reset link to a user.
#[utoipa::path(
    post, path = "/api/users/{user_id}/password-reset", tag = "users", operation_id = "send_password_reset",
    security(("bearer" = ["steward.access.users.manage"])),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 202, description = "The link is in the outbox"),
        (status = 409, description = "The account is erased or inactive (`account_inactive`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn send_password_reset(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let user = crate::directory::visible_user(&state.db, &actor, id, USERS_MANAGE).await?;
    reset_for(&state, &actor, &meta, user).await
}

/// Mail a reset link to the account with this email.
#[utoipa::path(
    post, path = "/api/password-resets", tag = "users", operation_id = "request_password_reset",
    security(("bearer" = ["steward.access.users.manage"])),
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "The link is in the outbox"),
        (status = 409, description = "The account is erased or inactive (`account_inactive`)", body = steward_shared::problem::Problem, content_type = "application/problem+json"),
    ),
)]
async fn request_password_reset(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> AppResult<StatusCode> {
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    v.finish()?;
    let found = users::Entity::find().filter(users::Column::Email.eq(email)).one(&state.db).await?;
    let missing = || AppError::field("email", "is not the email of a user you can see");
    let user = crate::directory::visible_user(&state.db, &actor, found.ok_or_else(missing)?.id, USERS_MANAGE)
        .await
        .map_err(|_| missing())?;
    reset_for(&state, &actor, &meta, user).await
}

async fn reset_for(state: &AppState, actor: &Actor, meta: &RequestMeta, user: users::Model) -> AppResult<StatusCode> {
    if let Some(home) = user.home_workspace_id {
        actor.require_in(home)?;
    }
    if user.super_admin && !actor.is_super_admin() {
        return Err(AppError::Forbidden {
            code: "super_admin",
            detail: "Only a super admin can act on a super admin.".into(),
        });
    }
    crate::users::not_stronger(&state.db, actor, &user).await?;
    if user.erased_at.is_some() || user.status != "active" {
        return Err(AppError::Conflict {
            code: "account_inactive",
            field: None,
            detail: "This account is inactive; activate it before sending a reset link.".into(),
        });
    }
    let txn = state.db.begin().await?;
    issue(&txn, state, &user, RESET_TTL, false).await?;
    let event = Event::new("user.password_reset.send", "success").by(actor).target("user", user.id);
    audit::append(&txn, meta, Event { customer_id: Some(user.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(StatusCode::ACCEPTED)
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
    let txn = state.db.begin().await?;
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
    crate::throttle::clear(&txn, &crate::throttle::Key::account(&user.email)).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn gone() -> AppError {
    AppError::Gone {
        code: "token_expired",
        detail: "This link was used, replaced or has expired; ask for a new one.".into(),
    }
}
