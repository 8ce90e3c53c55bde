//! `GET /metrics`: the Prometheus text format. The request metrics are cumulative (kept by the
//! request layer); the rest is read when scraped, from this replica and from the database.

use prometheus::{Encoder, Gauge, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use std::sync::atomic::Ordering;

use crate::http::error::{AppError, AppResult};
use crate::ops::status::{secs_since, shared_figures};
use crate::state::AppState;

fn gauge(registry: &Registry, name: &str, help: &str, value: f64) -> AppResult<()> {
    let g = Gauge::new(name, help).map_err(internal)?;
    g.set(value);
    registry.register(Box::new(g)).map_err(internal)
}

fn int_gauge(registry: &Registry, name: &str, help: &str, value: i64) -> AppResult<()> {
    let g = IntGauge::new(name, help).map_err(internal)?;
    g.set(value);
    registry.register(Box::new(g)).map_err(internal)
}

fn internal(e: prometheus::Error) -> AppError {
    AppError::Internal(format!("rendering metrics failed: {e}"))
}

/// The whole exposition.
pub async fn render(state: &AppState) -> AppResult<String> {
    let shared = shared_figures(state).await?;
    let now = Registry::new();
    let pool = crate::ops::status::pool(state);
    int_gauge(&now, "steward_db_pool_max", "Pooled database connections allowed", i64::from(pool.max))?;
    int_gauge(&now, "steward_db_pool_size", "Pooled database connections open", i64::from(pool.size))?;
    int_gauge(&now, "steward_db_pool_idle", "Pooled database connections idle", i64::from(pool.idle))?;
    int_gauge(&now, "steward_db_pool_in_use", "Pooled database connections in use", i64::from(pool.in_use))?;
    int_gauge(
        &now,
        "steward_db_writers_waiting",
        "Write transactions of this process waiting for their turn (SQLite has one writer; 0 on PostgreSQL)",
        crate::store::writers_waiting(&state.db) as i64,
    )?;
    int_gauge(&now, "steward_run_queue_depth", "Runs waiting for a worker", shared.queue_depth as i64)?;
    int_gauge(&now, "steward_runs_running", "Runs being executed", shared.running as i64)?;
    gauge(
        &now,
        "steward_run_queue_oldest_seconds",
        "How long the oldest queued run has waited",
        shared.oldest_queued.map(secs_since).unwrap_or(0.0),
    )?;
    gauge(
        &now,
        "steward_scheduler_lag_seconds",
        "How late the most overdue scheduled flow is",
        shared.oldest_due.map(secs_since).unwrap_or(0.0),
    )?;
    let workers = IntGaugeVec::new(Opts::new("steward_workers", "This replica's run workers by state"), &["state"])
        .map_err(internal)?;
    let board = state.telemetry.workers.list();
    for s in ["busy", "idle"] {
        workers.with_label_values(&[s]).set(board.iter().filter(|w| w.state == s).count() as i64);
    }
    now.register(Box::new(workers)).map_err(internal)?;
    let cache = IntGaugeVec::new(Opts::new("steward_cache_lookups", "Cache lookups since start"), &["cache", "result"])
        .map_err(internal)?;
    cache.with_label_values(&["kpis", "hit"]).set(state.kpis.hits.load(Ordering::Relaxed) as i64);
    cache.with_label_values(&["kpis", "miss"]).set(state.kpis.misses.load(Ordering::Relaxed) as i64);
    cache.with_label_values(&["principals", "hit"]).set(state.principals.hits.load(Ordering::Relaxed) as i64);
    cache.with_label_values(&["principals", "miss"]).set(state.principals.misses.load(Ordering::Relaxed) as i64);
    now.register(Box::new(cache)).map_err(internal)?;
    int_gauge(&now, "steward_sessions_active", "Sessions neither revoked nor expired", shared.sessions_active as i64)?;
    int_gauge(&now, "steward_audit_events", "Events in the audit chain", shared.audit_events as i64)?;
    int_gauge(&now, "steward_outbox_pending", "Mail not yet delivered", shared.outbox_pending as i64)?;
    int_gauge(
        &now,
        "steward_log_lines_written",
        "Log lines written by this replica",
        state.logs.written.load(Ordering::Relaxed) as i64,
    )?;
    int_gauge(
        &now,
        "steward_log_lines_dropped",
        "Log lines dropped because the channel was full",
        state.logs.dropped.load(Ordering::Relaxed) as i64,
    )?;
    if let Some(rss) = crate::telemetry::rss_bytes() {
        int_gauge(&now, "steward_process_resident_memory_bytes", "Resident memory of this process", rss as i64)?;
    }
    gauge(
        &now,
        "steward_process_uptime_seconds",
        "Seconds since this replica started",
        state.telemetry.started.elapsed().as_secs_f64(),
    )?;
    let mut families = state.telemetry.requests.registry.gather();
    families.extend(now.gather());
    let mut out = Vec::new();
    TextEncoder::new().encode(&families, &mut out).map_err(internal)?;
    String::from_utf8(out).map_err(|e| AppError::Internal(e.to_string()))
}
