//! A tenant's workspace: the dashboard, flows, runs, connectors and data records.

pub mod connectors;
pub mod dashboard;
pub mod data;
pub mod flows;
pub mod runs;
