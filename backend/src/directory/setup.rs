//! First launch: while no user exists, one call creates the platform customer, its workspace
//! and the first super admin; after that the endpoint answers 409.

use sea_orm::{EntityTrait, PaginatorTrait};

use crate::http::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::entities::users;

pub(super) async fn needs_setup(state: &AppState) -> AppResult<bool> {
    Ok(users::Entity::find().count(&state.db).await? == 0)
}

pub(super) fn already_done() -> AppError {
    AppError::Conflict { code: "setup_done", field: None, detail: "Steward is already set up; sign in instead.".into() }
}
