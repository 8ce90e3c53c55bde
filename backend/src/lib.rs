//! Steward's backend: the REST API, its OpenAPI contract, and the server of the SPA.

pub mod access;
pub mod api_doc;
pub mod api_tokens;
pub mod app;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod config;
pub mod connectors;
pub mod customers;
pub mod dashboard;
pub mod db;
pub mod directory;
pub mod entities;
pub mod error;
pub mod extract;
pub mod flows;
pub mod health;
pub mod impersonation;
pub mod invitations;
pub mod mail;
pub mod me;
pub mod pagination;
pub mod password_reset;
pub mod request_id;
pub mod request_meta;
pub mod roles;
pub mod scope;
pub mod seed;
pub mod session_admin;
pub mod setup;
pub mod spa;
pub mod state;
pub mod throttle;
pub mod two_factor;
pub mod users;
pub mod worker;
pub mod workspaces;

pub use app::app;
pub use config::Config;
pub use state::AppState;

/// Connects, migrates and builds the state for this configuration.
pub async fn prepare(config: Config) -> anyhow::Result<AppState> {
    let db = db::connect(&config).await?;
    db::migrate(&db).await?;
    let secret = auth::jwt::load_secret(&config)?;
    let jwt = auth::jwt::JwtKeys::from_secret(&secret)?;
    Ok(AppState::new(db, config, jwt))
}
