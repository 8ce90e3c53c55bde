//! The directory: the users across the caller's scope, their lifecycle (create, edit,
//! activate, erase, bulk), the admin actions on another user's credentials (reset link, 2FA
//! reset, sessions), invitations, and first-launch setup.

pub mod credentials;
pub mod invitations;
pub mod listing;
pub mod routes;
pub mod sessions;
pub mod setup;
pub mod users;
