//! Directory routes.

pub mod credentials;
pub mod invitations;
pub mod listing;
pub mod sessions;
pub mod setup;
pub mod users;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(setup::router())
        .merge(users::router())
        .merge(listing::router())
        .merge(invitations::router())
        .merge(sessions::router())
        .merge(credentials::router())
}
