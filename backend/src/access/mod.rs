//! Access: who the principal is allowed to be and see. The [`Actor`] and its permission
//! checks, the customer scope (admin mode), the tenant rule for workspaces, and explaining
//! why someone holds a permission.

pub mod actor;
pub mod confirm;
pub mod explain;
pub mod filters;
pub mod names;
pub mod pages;
pub mod routes;
pub mod scope;
pub mod workspaces;
pub use actor::Actor;
