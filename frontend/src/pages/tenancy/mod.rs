//! A tenant's workspace (the dashboard, flows, runs, connectors and data records) and the
//! tenants themselves (customers and their workspaces).

pub mod connectors;
pub mod customers;
pub mod dashboard;
pub mod data;
pub mod flows;
pub mod runs;
