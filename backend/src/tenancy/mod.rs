//! Tenancy: the customers (tenants) and their workspaces, the dashboard KPIs and their
//! cache, and the tenants' own data the console administers: flows, runs, connectors and
//! records. Every list applies the caller's scope.

pub mod connectors;
pub mod customers;
pub mod dashboard;
pub mod flows;
pub mod routes;
pub mod workspaces;
