//! People and what they may do: users, invitations, sessions, roles and their editor.

pub mod explain;
pub mod invitations;
pub mod role_editor;
pub mod roles;
pub mod sessions;
pub mod user_detail;
pub mod users;
