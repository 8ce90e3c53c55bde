//! API tokens: long-lived bearer credentials for scripts and the CLI. A token is limited to
//! the leaves it was created with, which must be a subset of its owner's; at use it holds the
//! intersection of those and what the owner holds now. Stored as a SHA-256 hash, shown once,
//! revocable; an inactive or erased owner's tokens stop working.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use steward_shared::api::ApiTokenInfo;
use steward_shared::permissions;

use crate::http::error::{AppError, AppResult};
use crate::secrets::sha256_hex;
use crate::state::AppState;
use crate::store::entities::{api_tokens, users};

/// Every API token starts with this, so a bearer credential tells its kind at a glance
/// (and secret scanners can find leaked ones).
pub const PREFIX: &str = "stw_";

pub(super) fn info(t: api_tokens::Model) -> ApiTokenInfo {
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

/// The live token behind a bearer credential, and its owner (active, not erased).
pub async fn resolve(state: &AppState, credential: &str) -> AppResult<(api_tokens::Model, users::Model)> {
    let now = Utc::now();
    let invalid = || AppError::unauthenticated("invalid_token", "This API token is not valid, revoked or expired.");
    let token = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(sha256_hex(credential)))
        .one(&state.db)
        .await?
        .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now))
        .ok_or_else(invalid)?;
    let user = users::Entity::find_by_id(token.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.status == "active" && u.erased_at.is_none())
        .ok_or_else(|| AppError::unauthenticated("account_inactive", "This account is deactivated."))?;
    if token.last_used_at.is_none_or(|t| now - t > Duration::seconds(60)) {
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::LastUsedAt, Expr::value(Some(now)))
            .filter(api_tokens::Column::Id.eq(token.id))
            .exec(&state.db)
            .await?;
    }
    Ok((token, user))
}

/// The leaves a token was created with.
pub fn leaves_of(token: &api_tokens::Model) -> BTreeSet<&'static str> {
    let patterns: Vec<String> = serde_json::from_value(token.permissions.clone()).unwrap_or_default();
    permissions::expand(patterns.iter().map(String::as_str).collect::<Vec<_>>()).into_iter().collect()
}
