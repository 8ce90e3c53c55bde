//! Session rows: created at login, rotated on refresh, revoked at logout.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use steward_shared::api::TokenPair;
use uuid::Uuid;

use crate::audit::Event;
use crate::http::error::{AppError, AppResult};
use crate::http::request_meta::RequestMeta;
use crate::secrets::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::entities::{sessions, spent_refresh_credentials, users};

/// Opens a session for `user` and issues its first token pair.
pub async fn open<C: ConnectionTrait>(
    state: &AppState,
    conn: &C,
    user: &users::Model,
    meta: &RequestMeta,
) -> AppResult<TokenPair> {
    let settings = crate::identity::runtime::effective(state).await?;
    let now = Utc::now();
    let refresh = random_token(32);
    let session = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(user.customer_id),
        user_id: Set(user.id),
        refresh_hash: Set(sha256_hex(&refresh)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(settings.session_ttl_secs as i64)),
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
    prune_spent(conn, now).await?;
    token_pair(state, &session, refresh, now, settings.access_token_ttl_secs)
}

/// Exchanges a refresh credential for a new pair; the old credential stops working. Presenting
/// a spent credential again means the chain leaked (RFC 9700 §4.14.2): the whole session ends,
/// and the reuse is an audit event.
pub async fn refresh(state: &AppState, meta: &RequestMeta, refresh_token: &str) -> AppResult<TokenPair> {
    let now = Utc::now();
    let ended = || AppError::unauthenticated("session_ended", "This session has ended; sign in again.");
    let hash = sha256_hex(refresh_token);
    let Some(session) =
        sessions::Entity::find().filter(sessions::Column::RefreshHash.eq(hash.clone())).one(&state.db).await?
    else {
        return match spent_refresh_credentials::Entity::find_by_id(hash).one(&state.db).await? {
            Some(spent) => Err(end_on_reuse(state, meta, spent.session_id).await?),
            None => Err(ended()),
        };
    };
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(ended());
    }
    let user = users::Entity::find_by_id(session.user_id).one(&state.db).await?;
    if !user.is_some_and(|u| u.status == "active" && u.erased_at.is_none()) {
        return Err(AppError::unauthenticated("account_inactive", "This account is deactivated."));
    }
    let fresh = random_token(32);
    let txn = crate::store::begin(&state.db).await?;
    // Compare-and-swap on the old hash: of two refreshes with one credential, one wins and the
    // other is a reuse.
    let result = sessions::Entity::update_many()
        .col_expr(sessions::Column::RefreshHash, sea_orm::sea_query::Expr::value(sha256_hex(&fresh)))
        .col_expr(sessions::Column::LastSeenAt, sea_orm::sea_query::Expr::value(now))
        .filter(sessions::Column::Id.eq(session.id))
        .filter(sessions::Column::RefreshHash.eq(session.refresh_hash.clone()))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        txn.rollback().await?;
        return Err(end_on_reuse(state, meta, session.id).await?);
    }
    spent_refresh_credentials::ActiveModel {
        hash: Set(session.refresh_hash.clone()),
        customer_id: Set(session.customer_id),
        session_id: Set(session.id),
        spent_at: Set(now),
        expires_at: Set(session.expires_at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let ttl = crate::identity::runtime::effective(state).await?.access_token_ttl_secs;
    token_pair(state, &session, fresh, now, ttl)
}

/// Ends the session whose spent refresh credential came back, records it, and gives the error
/// to answer with.
async fn end_on_reuse(state: &AppState, meta: &RequestMeta, session_id: Uuid) -> AppResult<AppError> {
    let txn = crate::store::begin(&state.db).await?;
    if let Some(session) = sessions::Entity::find_by_id(session_id).one(&txn).await? {
        revoke(&txn, session.id).await?;
        let event = Event {
            customer_id: Some(session.customer_id),
            actor_user_id: Some(session.user_id),
            ..Event::new("auth.refresh_reuse", "refused")
        }
        .target("session", session.id)
        .summary(json!({ "session_ended": true }));
        crate::audit::append(&txn, meta, event).await?;
        tracing::warn!(session = %session.id, user = %session.user_id, ip = meta.ip.as_deref().unwrap_or("-"),
            "a spent refresh credential was presented again: the session is ended");
    }
    txn.commit().await?;
    Ok(AppError::unauthenticated(
        "refresh_reused",
        "This refresh credential was already used, so it may have leaked: the session is ended. Sign in again.",
    ))
}

/// Forgets spent refresh credentials whose session has expired anyway.
pub async fn prune_spent<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> AppResult<u64> {
    let result = spent_refresh_credentials::Entity::delete_many()
        .filter(spent_refresh_credentials::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
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
    ttl: u64,
) -> AppResult<TokenPair> {
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
