//! `steward-server`: reads the configuration, migrates the database and serves.

use clap::Parser;
use std::net::SocketAddr;
use std::time::Duration;
use steward_backend::config::Command;
use steward_backend::{app, prepare, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let bind = config.bind;
    let url = steward_backend::store::redact(&config.effective_database_url());
    let command = config.command.clone();
    let (workers, poll) = (config.workers, Duration::from_millis(config.worker_poll_ms.max(10)));
    let state = prepare(config).await?;
    tracing::info!(database = %url, kind = steward_backend::store::kind(&state.db), "database ready");
    if let Some(Command::RotateAuditKey) = command {
        let id = steward_backend::secrets::rotate_audit_key(&state.config)?;
        println!("the audit keyring's current key is now `{id}`; older keys stay to verify older events");
        return Ok(());
    }
    if let Some(Command::Seed(args)) = command {
        let seeded = steward_backend::ops::seed::run(&state, &args).await?;
        println!("seeded {seeded:?}; every demo user's password is {:?}", args.password);
        return Ok(());
    }
    let router = app(state.clone())?;
    let _mail = steward_backend::mail::spawn(state.clone(), Duration::from_secs(2));
    let _checkpoints = steward_backend::audit::chain::spawn_checkpoints(
        state.db.clone(),
        state.audit_keys.clone(),
        steward_backend::audit::chain::checkpoints_file(&state.config),
        Duration::from_secs(state.config.audit_checkpoint_secs.max(1)),
    );
    let _workers = steward_backend::ops::worker::spawn(state, workers, poll);
    let listener =
        tokio::net::TcpListener::bind(bind).await.map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    tracing::info!("Steward listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
