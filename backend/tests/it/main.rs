//! Steward's backend integration tests: one binary, every test on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod apps;
mod audit;
mod auth;
mod contract;
mod credentials;
mod data;
mod examples;
mod hardening;
mod harness;
mod layout;
mod observability;
mod probes;
mod resilience;
mod roles;
mod runs;
mod settings;
mod setup;
mod tenancy;
mod transfer;
mod user_admin;
