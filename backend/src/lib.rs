//! Steward's backend: the REST API, its OpenAPI contract, and the server of its SPA.
//!
//! The modules form layers; each may use only the ones listed before it (a test,
//! `tests/it/layout.rs`, fails on an import that points up the list):
//!
//! 1. `config`: the one clap struct.
//! 2. `secrets`, `store`, `telemetry`: keys kept outside the database; entities and the
//!    connection; what the replica measures of itself (requests, statements, workers).
//! 3. `http`: problems, extractors, request id and metadata, keyset pagination, SPA files.
//! 4. `state`: the one `AppState`.
//! 5. `access`: the `Actor` and its checks, the scope, the tenant rule for workspaces.
//! 6. `audit`: the hash-chained event log.
//! 7. `mail`: the outbox and its delivery.
//! 8. `identity`: credentials and sessions: login, JWT, API tokens, 2FA, throttling,
//!    password reset, impersonation, resolving a bearer into an `Actor`.
//! 9. `roles`: system and custom roles, memberships, anti-escalation.
//! 10. `tenancy`: customers, workspaces, KPIs, flows, runs, connectors, records.
//! 11. `data`: the tables explorer and its registry, data ops on canonical records, hash
//!     warnings, the change feed.
//! 12. `apps`: applications from archives and Git, their versions, import errors, packages.
//! 13. `directory`: the users directory and lifecycle, invitations, sessions, first setup.
//! 14. `ops`: background work (worker pool, scheduler), demo data, health.
//! 15. `api`: the router, the contract post-processor, and the one authorization gate.
//!
//! Inside an area, services (rules and queries: an `Actor` or plain ids and a connection, no
//! HTTP) live apart from `routes` (the `#[utoipa::path]` handlers: extract, call, map), and
//! only `api` assembles routes.

pub mod access;
pub mod api;
pub mod apps;
pub mod audit;
pub mod config;
pub mod data;
pub mod directory;
pub mod http;
pub mod identity;
pub mod mail;
pub mod ops;
pub mod roles;
pub mod secrets;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tenancy;
pub use api::app;
pub use config::Config;
pub use state::AppState;

/// Connects, migrates and builds the state for this configuration.
pub async fn prepare(config: Config) -> anyhow::Result<AppState> {
    let mut db = store::connect(&config).await?;
    let telemetry = telemetry::Telemetry::new(config.telemetry, config.slow_statement_ms);
    let statements = telemetry.statements.clone();
    store::migrate(&db).await?;
    data::ops::record_checksums(&db).await.map_err(|e| anyhow::anyhow!("recording migration checksums: {e}"))?;
    // Measured from here: the migrations' few hundred DDL statements would fill the first
    // minute's slow-statement slots before the server answered anything.
    db.set_metric_callback(move |info| statements.observe(&info.statement.sql, info.elapsed));
    let secret = secrets::load_secret(&config)?;
    let jwt = secrets::JwtKeys::from_secret(&secret)?;
    let audit_keys = secrets::load_audit_keys(&config)?;
    Ok(AppState::new(db, config, jwt, audit_keys, telemetry))
}
