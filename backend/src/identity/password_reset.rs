//! Password resets: an admin (or account creation without a password) mails a single-use,
//! expiring link; the link's holder sets a new password. Nobody ever sees or sets another
//! person's password. A completed reset ends every session of the account.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use steward_shared::api::CompletePasswordReset;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::request_meta::RequestMeta;
use crate::identity::{password, sessions};
use crate::secrets::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::entities::{password_resets, users};

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);

/// How long the first link of an account created without a password works.
pub const WELCOME_TTL: Duration = Duration::hours(72);

/// Inside the caller's transaction: a new single-use link for `user`, mailed via the outbox.
/// Earlier unused links of the account stop working.
pub async fn issue<C: ConnectionTrait>(
    conn: &C,
    state: &AppState,
    user: &users::Model,
    ttl: Duration,
    welcome: bool,
) -> AppResult<Uuid> {
    let (token, _) = new_link(conn, user, ttl).await?;
    let link = link(state, crate::mail::TOKEN_SLOT);
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
    crate::mail::enqueue_with_token(
        conn,
        state,
        Some(user.customer_id),
        "password_reset",
        &user.email,
        subject,
        body,
        &token,
    )
    .await
}

/// The reset page's address with `token` in it.
pub fn link(state: &AppState, token: &str) -> String {
    format!("{}/reset-password?token={token}", state.config.link_base())
}

/// Inside the caller's transaction: a new single-use token for `user` (only its hash is stored)
/// and when it expires. Earlier unused links of the account stop working.
pub async fn new_link<C: ConnectionTrait>(
    conn: &C,
    user: &users::Model,
    ttl: Duration,
) -> AppResult<(String, chrono::DateTime<Utc>)> {
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
    Ok((token, now + ttl))
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

pub(super) fn gone() -> AppError {
    AppError::Gone {
        code: "token_expired",
        detail: "This link was used, replaced or has expired; ask for a new one.".into(),
    }
}

/// Set a new password with a mailed reset token (single use; ends every session of the account).
pub async fn complete_password_reset(
    state: &AppState,
    meta: &RequestMeta,
    body: CompletePasswordReset,
) -> AppResult<()> {
    let mut v = Validator::new();
    if steward_shared::rules::ISSUED_TOKEN.refuse(&body.token).is_some() {
        v.error("token", "must be the token from the reset mail");
    }
    crate::identity::runtime::check_password_length(state, &mut v, "password", &body.password).await?;
    v.finish()?;
    let now = Utc::now();
    // The token before the common-passwords list: a password of an allowed length is refused
    // only for a link that can still be used.
    let reset = password_resets::Entity::find()
        .filter(password_resets::Column::TokenHash.eq(sha256_hex(&body.token)))
        .one(&state.db)
        .await?
        .filter(|r| r.used_at.is_none() && r.expires_at > now)
        .ok_or_else(gone)?;
    let mut policy = Validator::new();
    crate::identity::runtime::check_password(state, &mut policy, "password", &body.password).await?;
    policy.finish()?;
    let user = users::Entity::find_by_id(reset.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.erased_at.is_none() && u.status == "active")
        .ok_or_else(gone)?;
    let hash = password::hash(state, body.password).await?;
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
    audit::append(&txn, meta, event).await?;
    crate::identity::throttle::clear(&txn, &crate::identity::throttle::Key::account(&user.email)).await?;
    txn.commit().await?;
    let mut line = meta.log_line(
        "platform",
        "password_reset",
        "info",
        format!("{} set a new password with a reset link ({ended} sessions ended)", user.email),
    );
    line.user_id = Some(user.id);
    line.customer_id = Some(user.customer_id);
    state.logs.emit(line);
    Ok(())
}
