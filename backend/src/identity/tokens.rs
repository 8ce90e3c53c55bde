//! API tokens: long-lived bearer credentials for scripts and the CLI. A token is limited to
//! the leaves it was created with, which must be a subset of its owner's; at use it holds the
//! intersection of those and what the owner holds now. Stored as a SHA-256 hash, shown once,
//! revocable; an inactive or erased owner's tokens stop working.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::json;
use std::collections::BTreeSet;
use steward_shared::api::{ApiTokenInfo, CreateApiToken, CreatedApiToken, Page};
use steward_shared::permissions;
use steward_shared::rules;
use uuid::Uuid;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::pagination::{self, Cursor, PageQuery};
use crate::http::request_meta::RequestMeta;
use crate::secrets::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::entities::api_tokens;

/// Every API token starts with this, so a bearer credential tells its kind at a glance
/// (and secret scanners can find leaked ones).
pub const PREFIX: &str = "stw_";

pub(crate) fn info(t: api_tokens::Model) -> ApiTokenInfo {
    let permissions = serde_json::from_value(t.permissions).unwrap_or_default();
    ApiTokenInfo {
        id: t.id,
        name: t.name,
        prefix: t.prefix,
        permissions,
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
        revoked_at: t.revoked_at,
    }
}

/// Records that a token was used (at most once a minute, so reads stay reads).
pub(crate) async fn mark_used(state: &AppState, token: &api_tokens::Model, now: DateTime<Utc>) -> AppResult<()> {
    if token.last_used_at.is_none_or(|t| now - t > Duration::seconds(60)) {
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::LastUsedAt, Expr::value(Some(now)))
            .filter(api_tokens::Column::Id.eq(token.id))
            .exec(&state.db)
            .await?;
    }
    Ok(())
}

/// The leaves a token was created with.
pub fn leaves_of(token: &api_tokens::Model) -> BTreeSet<&'static str> {
    let patterns: Vec<String> = serde_json::from_value(token.permissions.clone()).unwrap_or_default();
    permissions::expand(patterns.iter().map(String::as_str).collect::<Vec<_>>()).into_iter().collect()
}

/// Your API tokens, newest first (revoked and expired ones included, marked).
pub async fn list_tokens(state: &AppState, actor: &Actor, q: PageQuery) -> AppResult<Page<ApiTokenInfo>> {
    page_of(state, actor.customer_id(), actor.user.id, q).await
}

/// A page of `user`'s tokens, newest first.
pub(crate) async fn page_of(
    state: &AppState,
    customer: Uuid,
    user: Uuid,
    q: PageQuery,
) -> AppResult<Page<ApiTokenInfo>> {
    let limit = pagination::limit(q.limit)?;
    let mut page = api_tokens::Entity::find()
        .filter(api_tokens::Column::CustomerId.eq(customer))
        .filter(api_tokens::Column::UserId.eq(user));
    if let Some(raw) = q.cursor.as_deref() {
        page = page.filter(api_tokens::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = page.order_by_desc(api_tokens::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |t| Cursor { key: None, id: t.id });
    Ok(Page { items: rows.into_iter().map(info).collect(), next_cursor })
}

/// Create an API token limited to `permissions` (each a leaf or subtree you hold yourself).
/// The answer carries the token this once; only its hash is stored.
pub async fn create_token(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: CreateApiToken,
) -> AppResult<CreatedApiToken> {
    crate::identity::two_factor::own_session(actor)?;
    let mut v = Validator::new();
    let name = v.text("name", &body.name, rules::SHORT_NAME);
    let days = body.expires_in_days.unwrap_or(90);
    v.range("expires_in_days", days, rules::TOKEN_DAYS);
    v.items("permissions", body.permissions.len(), rules::TOKEN_PERMISSIONS);
    for (i, p) in body.permissions.iter().enumerate() {
        if permissions::validate_pattern(p).is_err() {
            v.error(&format!("permissions[{i}]"), format!("`{p}` is not a leaf or pattern of the catalog"));
        }
    }
    v.finish()?;
    let leaves = permissions::expand(body.permissions.iter().map(String::as_str).collect::<Vec<_>>());
    let missing: Vec<&str> = leaves.iter().copied().filter(|l| !actor.holds(l)).collect();
    if !missing.is_empty() {
        return Err(AppError::Forbidden {
            code: "escalation_refused",
            detail: format!(
                "A token cannot hold permissions you do not hold yourself: {}.",
                permissions::describe_leaves(&missing)
            ),
        });
    }
    let secret = format!("{PREFIX}{}", random_token(32));
    let now = Utc::now();
    let txn = crate::store::begin(&state.db).await?;
    let row = api_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(actor.customer_id()),
        user_id: Set(actor.user.id),
        name: Set(name),
        prefix: Set(secret.chars().take(12).collect()),
        token_hash: Set(sha256_hex(&secret)),
        permissions: Set(json!(body.permissions)),
        created_at: Set(now),
        expires_at: Set(Some(now + Duration::days(i64::from(days)))),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = Event::new("api_token.create", "success")
        .by(actor)
        .target("api_token", row.id)
        .summary(json!({ "name": row.name, "permissions": body.permissions, "expires_at": row.expires_at }));
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    Ok(CreatedApiToken { token: secret, info: info(row) })
}

/// Marks a token revoked now; `false` when it already was (nothing changed, nothing to audit).
pub(crate) async fn mark_revoked<C: sea_orm::ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<bool> {
    let revoked = api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::RevokedAt, Expr::value(Some(Utc::now())))
        .filter(api_tokens::Column::Id.eq(id))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(revoked.rows_affected == 1)
}

/// Revoke one of your API tokens; it stops working on its next request.
pub async fn revoke_token(state: &AppState, actor: &Actor, meta: &RequestMeta, id: Uuid) -> AppResult<()> {
    let token = api_tokens::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|t| t.user_id == actor.user.id)
        .ok_or_else(|| AppError::NotFound("No such token.".into()))?;
    let txn = crate::store::begin(&state.db).await?;
    if !mark_revoked(&txn, token.id).await? {
        // Already revoked: the same answer, and no second event for a change that did not happen.
        return Ok(());
    }
    audit::append(&txn, meta, Event::new("api_token.revoke", "success").by(actor).target("api_token", token.id))
        .await?;
    txn.commit().await?;
    Ok(())
}
