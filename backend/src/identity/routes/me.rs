//! `/api/me`: who the caller is and what the SPA shows them.

use axum::extract::State;
use axum::Json;
use steward_shared::api::Me;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Actor;
use crate::http::error::AppResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// The signed-in principal.
#[utoipa::path(
    get, path = "/api/me", tag = "auth", operation_id = "get_me",
    security(("bearer" = [])),
    responses((status = 200, description = "The signed-in principal", body = Me)),
)]
async fn me(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Me>> {
    crate::identity::me::me(&state, &actor).await.map(Json)
}
