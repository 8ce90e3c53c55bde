//! A connector's health probe, on demand.

use axum::extract::State;
use axum::Json;
use steward_shared::api::ConnectorRow;
use steward_shared::problem::Problem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::ApiPath;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check_connector))
}

/// Probe a connector now, as its kind's health check declares, and record what it found
/// (health, latency, the error). The periodic probe does the same every interval.
#[utoipa::path(
    post, path = "/api/connectors/{connector_id}/check", tag = "connectors", operation_id = "check_connector",
    security(("bearer" = ["steward.connectors.manage"])),
    params(("connector_id" = Uuid, Path, description = "The connector")),
    responses(
        (status = 200, description = "Probed; the connector with its new health", body = ConnectorRow),
        (status = 409, description = "Nothing to probe: no endpoint, or no active application declares its kind (`not_probed`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn check_connector(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ConnectorRow>> {
    let c = crate::tenancy::connectors::visible_connector(&state, &actor, id).await?;
    actor.require_in(c.workspace_id)?;
    let kinds = crate::ops::probes::probes(&state).await?;
    if crate::ops::probes::check(&state, &c, &kinds).await?.is_none() {
        return Err(AppError::Conflict {
            code: "not_probed",
            field: None,
            detail: match c.endpoint {
                None => format!("The connector `{}` has no endpoint to probe.", c.name),
                Some(_) => format!("No active application declares the connector kind `{}`.", c.kind),
            },
        });
    }
    let c = crate::tenancy::connectors::visible_connector(&state, &actor, id).await?;
    let names = crate::access::names::Names::of(&state.db, [c.customer_id], [c.workspace_id], []).await?;
    Ok(Json(crate::tenancy::connectors::row(c, &names)))
}
