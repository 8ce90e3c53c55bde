//! Data routes: the explorer (super admins) and the data ops and hash warnings.

pub mod explorer;
pub mod ops;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(explorer::router()).merge(ops::router())
}
