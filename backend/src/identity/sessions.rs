//! Session rows: created at login, rotated on refresh, revoked at logout.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use steward_shared::api::TokenPair;
use uuid::Uuid;

use crate::http::error::{AppError, AppResult};
use crate::http::request_meta::RequestMeta;
use crate::secrets::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::entities::{sessions, users};

/// Opens a session for `user` and issues its first token pair.
pub async fn open<C: ConnectionTrait>(
    state: &AppState,
    conn: &C,
    user: &users::Model,
    meta: &RequestMeta,
) -> AppResult<TokenPair> {
    let now = Utc::now();
    let refresh = random_token(32);
    let session = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(user.customer_id),
        user_id: Set(user.id),
        refresh_hash: Set(sha256_hex(&refresh)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(state.config.session_ttl_secs as i64)),
        ip: Set(meta.ip.clone()),
        user_agent: Set(meta.user_agent.clone()),
        revoked_at: Set(None),
        two_factor_verified: Set(user.totp_enabled),
        admin_mode: Set(false),
        customer_scope: Set(None),
        impersonated_user_id: Set(None),
        impersonation_reason: Set(None),
        impersonation_started_at: Set(None),
        impersonation_expires_at: Set(None),
    }
    .insert(conn)
    .await?;
    token_pair(state, &session, refresh, now)
}

/// Exchanges a refresh credential for a new pair; the old credential stops working.
pub async fn refresh(state: &AppState, refresh_token: &str) -> AppResult<TokenPair> {
    let now = Utc::now();
    let ended = || AppError::unauthenticated("session_ended", "This session has ended; sign in again.");
    let session = sessions::Entity::find()
        .filter(sessions::Column::RefreshHash.eq(sha256_hex(refresh_token)))
        .one(&state.db)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
        .ok_or_else(ended)?;
    let user = users::Entity::find_by_id(session.user_id).one(&state.db).await?;
    if !user.is_some_and(|u| u.status == "active" && u.erased_at.is_none()) {
        return Err(AppError::unauthenticated("account_inactive", "This account is deactivated."));
    }
    let fresh = random_token(32);
    // Compare-and-swap on the old hash: of two concurrent refreshes with one credential, one wins.
    let result = sessions::Entity::update_many()
        .col_expr(sessions::Column::RefreshHash, sea_orm::sea_query::Expr::value(sha256_hex(&fresh)))
        .col_expr(sessions::Column::LastSeenAt, sea_orm::sea_query::Expr::value(now))
        .filter(sessions::Column::Id.eq(session.id))
        .filter(sessions::Column::RefreshHash.eq(session.refresh_hash.clone()))
        .exec(&state.db)
        .await?;
    if result.rows_affected != 1 {
        return Err(ended());
    }
    token_pair(state, &session, fresh, now)
}

/// Ends a session now; its access tokens stop working on the next request.
pub async fn revoke<C: ConnectionTrait>(conn: &C, session: Uuid) -> AppResult<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, sea_orm::sea_query::Expr::value(Some(Utc::now())))
        .filter(sessions::Column::Id.eq(session))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every live session of `user`; returns how many.
pub async fn revoke_all_of<C: ConnectionTrait>(conn: &C, user: Uuid) -> AppResult<u64> {
    let result = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, sea_orm::sea_query::Expr::value(Some(Utc::now())))
        .filter(sessions::Column::UserId.eq(user))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Records activity (at most about once a minute per session, by the caller).
pub async fn touch<C: ConnectionTrait>(conn: &C, session: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::LastSeenAt, sea_orm::sea_query::Expr::value(now))
        .filter(sessions::Column::Id.eq(session))
        .exec(conn)
        .await?;
    Ok(())
}

fn token_pair(
    state: &AppState,
    session: &sessions::Model,
    refresh: String,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let ttl = state.config.access_token_ttl_secs;
    let access =
        state.jwt.issue(session.user_id, session.id, now.timestamp().max(0) as u64, ttl).map_err(AppError::internal)?;
    Ok(TokenPair {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh_token: refresh,
        session_id: session.id.into(),
    })
}
