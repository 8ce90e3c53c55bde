//! Identity routes: sign-in, the caller's own account, its tokens and 2FA, password reset
//! completion, and View as.

pub mod auth;
pub mod impersonation;
pub mod me;
pub mod password_reset;
pub mod tokens;
pub mod two_factor;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(me::router())
        .merge(password_reset::router())
        .merge(two_factor::router())
        .merge(tokens::router())
        .merge(impersonation::router())
}
