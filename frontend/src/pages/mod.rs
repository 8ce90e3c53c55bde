//! One module per route.

pub mod login;
pub mod not_found;
pub mod overview;
pub mod role_editor;
pub mod roles;
pub mod setup;
pub mod system;
