//! The caller's own API tokens: mint, list, revoke.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use steward_shared::api::{ApiTokenInfo, CreateApiToken, CreatedApiToken, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::PageQuery;
use crate::http::request_meta::RequestMeta;
use crate::http::Created;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tokens, create_token)).routes(routes!(revoke_token))
}

/// Your API tokens, newest first (revoked and expired ones included, marked).
#[utoipa::path(
    get, path = "/api/me/tokens", tag = "tokens", operation_id = "list_tokens",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of your tokens", body = Page<ApiTokenInfo>)),
)]
async fn list_tokens(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<ApiTokenInfo>>> {
    crate::identity::tokens::list_tokens(&state, &actor, q).await.map(Json)
}

/// Create an API token limited to `permissions` (each a leaf or subtree you hold yourself).
/// The answer carries the token this once; only its hash is stored.
#[utoipa::path(
    post, path = "/api/me/tokens", tag = "tokens", operation_id = "create_token",
    security(("bearer" = [])),
    request_body = CreateApiToken,
    responses((status = 201, description = "The new token, shown once", body = CreatedApiToken, headers(("Location" = String, description = "The token: `/api/me/tokens/{id}` (revoked with `DELETE`)")))),
)]
async fn create_token(
    State(state): State<AppState>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateApiToken>,
) -> AppResult<Created<CreatedApiToken>> {
    let created = crate::identity::tokens::create_token(&state, &actor, &meta, body).await?;
    Ok(Created::at(format!("/api/me/tokens/{}", created.info.id), created))
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
    crate::identity::tokens::revoke_token(&state, &actor, &meta, id).await.map(|()| StatusCode::NO_CONTENT)
}
