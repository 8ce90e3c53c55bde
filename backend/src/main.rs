//! `steward-server`: reads the configuration, migrates the database and serves.

use std::net::SocketAddr;
use std::time::Duration;
use steward_backend::config::Command;
use steward_backend::{app, prepare, Config};
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load();
    let capture = steward_backend::telemetry::capture::LogCapture::default();
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // The logs' capture sees Steward's own log targets and every error, whatever the filter.
    // Exactly the three log targets (a prefix such as `steward` would also enable every
    // `steward_backend` span and event, and their cost on each request).
    let captured = Targets::new()
        .with_default(Level::ERROR)
        .with_target("steward::platform", Level::INFO)
        .with_target("steward::auth", Level::INFO)
        .with_target("steward::system", Level::INFO);
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(filter))
        .with(config.telemetry.then(|| capture.clone().with_filter(captured)))
        .init();
    let bind = config.bind;
    let url = steward_backend::store::redact(&config.effective_database_url());
    let command = config.command.clone();
    let (workers, poll) = (config.workers, Duration::from_millis(config.worker_poll_ms.max(10)));
    let state = prepare(config).await?;
    capture.attach(state.logs.clone());
    let kind = steward_backend::store::kind(&state.db);
    tracing::info!(target: "steward::system", kind = "startup", database = %url, "database ready ({kind}), migrations applied");
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
    let _periodic = steward_backend::ops::periodic::spawn(state.clone());
    // Records written before content hashes existed get theirs, in batches, while serving.
    let backfill = state.clone();
    tokio::spawn(async move {
        match steward_backend::data::records::backfill(&backfill).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(target: "steward::system", kind = "startup", records = n, "filled in the derived fields of older records")
            }
            Err(e) => {
                tracing::warn!(target: "steward::system", kind = "startup_error", error = %e, "filling in older records' derived fields failed")
            }
        }
    });
    // Packages installed by another replica (or before this data directory existed) are
    // unpacked here from the bundles in the database.
    let packages = state.clone();
    tokio::spawn(async move {
        match steward_backend::apps::install::ensure_packages(&packages).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(target: "steward::system", kind = "package_install", packages = n, "unpacked {n} packages")
            }
            Err(e) => {
                tracing::warn!(target: "steward::system", kind = "startup_error", error = %e, "unpacking the installed packages failed")
            }
        }
    });
    match &state.config.assets_dir {
        Some(dir) if !dir.join("index.html").exists() => tracing::warn!(
            target: "steward::system",
            kind = "startup_error",
            assets = %dir.display(),
            "the console's files are missing: only the API is served"
        ),
        None if !steward_backend::http::spa::embedded() => tracing::warn!(
            target: "steward::system",
            kind = "startup_error",
            "this server was built without the console (no dist/index.html at compile time): only the API is served"
        ),
        _ => {}
    }
    let pool = steward_backend::ops::worker::Pool::start(state.clone(), workers, poll);
    let _scheduler = steward_backend::ops::worker::spawn_scheduler(state.clone(), poll);
    let _actions = steward_backend::ops::actions::spawn(state.clone(), pool.clone());
    let _probes = steward_backend::ops::probes::spawn(state.clone());
    let listener =
        tokio::net::TcpListener::bind(bind).await.map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    tracing::info!(
        target: "steward::system",
        kind = "startup",
        version = env!("CARGO_PKG_VERSION"),
        build = steward_backend::telemetry::BUILD,
        replica = %state.telemetry.replica_id,
        "Steward {} listening on http://{}",
        env!("CARGO_PKG_VERSION"),
        listener.local_addr()?
    );
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown(state.clone()))
        .await?;
    // Runs in flight finish (bounded by their own timeouts); the rest stay queued.
    if tokio::time::timeout(Duration::from_secs(30), pool.stop()).await.is_err() {
        tracing::warn!("runs were still executing at shutdown; the reaper will queue them again");
    }
    // The lines of what this replica did last (run outcomes, the shutdown itself) reach the
    // table before the process ends.
    if !state.logs.flush(Duration::from_secs(5)).await {
        tracing::warn!("some log lines were not written before shutdown");
    }
    Ok(())
}

/// Resolves when the listener should close: after a stop signal and, with `--drain-secs`, a
/// drain during which health checks fail (a balancer stops sending here) while every request
/// that still arrives is served. Closing at once instead loses the requests a balancer sends in
/// the moment before it notices: a connection accepted but not yet read is dropped.
async fn shutdown(state: steward_backend::AppState) {
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
    let drain = Duration::from_secs(state.config.drain_secs);
    if !drain.is_zero() {
        state.draining.store(true, std::sync::atomic::Ordering::Relaxed);
        tracing::info!("draining for {} s before closing: /api/health answers 503", drain.as_secs());
        tokio::time::sleep(drain).await;
    }
    tracing::info!("shutting down");
}
