//! One module per route, by area as the backend is (and the sidebar groups them): signing in
//! and one's own account, access (people and roles), a tenant's workspace, operations, data,
//! applications, and the audit log. `fmt` holds the small formatters they share.

pub mod access;
pub mod applications;
pub mod audit;
pub mod data;
pub mod fmt;
pub mod identity;
pub mod impersonations;
pub mod not_found;
pub mod operations;
pub mod tenancy;
