//! Routes: tokens.

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::request_meta::RequestMeta;
#[allow(unused_imports)]
use crate::identity::tokens::*;
use crate::secrets::{random_token, sha256_hex};
use crate::state::AppState;
use crate::store::entities::api_tokens;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use steward_shared::api::{ApiTokenInfo, CreateApiToken, CreatedApiToken};
use steward_shared::permissions;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tokens, create_token)).routes(routes!(revoke_token))
}

/// Your API tokens, newest first (revoked and expired ones included, marked).
#[utoipa::path(
    get, path = "/api/me/tokens", tag = "tokens", operation_id = "list_tokens",
    security(("bearer" = [])),
    responses((status = 200, description = "Your tokens", body = Vec<ApiTokenInfo>)),
)]
async fn list_tokens(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Vec<ApiTokenInfo>>> {
    let rows = api_tokens::Entity::find()
        .filter(api_tokens::Column::CustomerId.eq(actor.customer_id()))
        .filter(api_tokens::Column::UserId.eq(actor.user.id))
        .order_by_desc(api_tokens::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(rows.into_iter().map(info).collect()))
}

/// Create an API token limited to `permissions` (each a leaf or subtree you hold yourself).
/// The answer carries the token this once; only its hash is stored.
#[utoipa::path(
    post, path = "/api/me/tokens", tag = "tokens", operation_id = "create_token",
    security(("bearer" = [])),
    request_body = CreateApiToken,
    responses((status = 201, description = "The new token, shown once", body = CreatedApiToken)),
)]
async fn create_token(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateApiToken>,
) -> AppResult<(StatusCode, Json<CreatedApiToken>)> {
    crate::identity::two_factor::own_session(&actor)?;
    let mut v = Validator::new();
    let name = v.text("name", &body.name, 1, 100);
    let days = body.expires_in_days.unwrap_or(90);
    if !(1..=366).contains(&days) {
        v.error("expires_in_days", "must be between 1 and 366");
    }
    if body.permissions.is_empty() || body.permissions.len() > 100 {
        v.error("permissions", "must list 1 to 100 leaves or patterns");
    }
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
            detail: format!("A token cannot hold permissions you do not hold yourself: {}.", missing.join(", ")),
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
        .by(&actor)
        .target("api_token", row.id)
        .summary(json!({ "name": row.name, "permissions": body.permissions, "expires_at": row.expires_at }));
    audit::append(&txn, &meta, event).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedApiToken { token: secret, info: info(row) })))
}

/// Revoke one of your API tokens; it stops working on its next request.
#[utoipa::path(
    delete, path = "/api/me/tokens/{token_id}", tag = "tokens", operation_id = "revoke_token",
    security(("bearer" = [])),
    extensions(("x-confirm" = json!("token"))),
    params(("token_id" = Uuid, Path, description = "The token")),
    responses((status = 204, description = "Revoked")),
)]
async fn revoke_token(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let token = api_tokens::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|t| t.user_id == actor.user.id)
        .ok_or_else(|| AppError::NotFound("No such token.".into()))?;
    let txn = crate::store::begin(&state.db).await?;
    api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::RevokedAt, Expr::value(Some(Utc::now())))
        .filter(api_tokens::Column::Id.eq(token.id))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    audit::append(&txn, &meta, Event::new("api_token.revoke", "success").by(&actor).target("api_token", token.id))
        .await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
