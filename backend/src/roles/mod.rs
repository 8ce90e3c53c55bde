//! Roles and memberships: system roles (global, read-only), custom roles per workspace, and
//! who holds which role where. Anti-escalation applies wherever a role is granted, created or
//! edited: nobody grants a leaf they do not hold in that workspace.

pub mod routes;
pub mod service;

pub use service::{SYSTEM_ADMIN_ROLE, SYSTEM_OPERATOR_ROLE, SYSTEM_VIEWER_ROLE};
