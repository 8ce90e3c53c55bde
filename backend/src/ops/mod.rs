//! Operations: the background work of a replica (the run worker pool and scheduler, the
//! periodic task, the heartbeat), demo data, health, and the observability pages' services:
//! system status and `/metrics`, stats over time, the logs, the effective configuration.

pub mod actions;
pub mod config_view;
pub mod health;
pub mod logs;
pub mod metrics;
pub mod periodic;
pub mod probes;
pub mod replicas;
pub mod routes;
pub mod seed;
pub mod stats;
pub mod status;
pub mod steps;
pub mod worker;
