//! The periodic task of a replica: stats snapshots, log retention and (SQLite) the planner's
//! statistics, each run a line in the system log's "periodic tasks" tab; and the heartbeat.

use chrono::Utc;
use std::time::{Duration, Instant};

use crate::http::error::AppResult;
use crate::state::AppState;

/// One turn: the snapshot of the current hour and day, then log retention, then the planner's
/// statistics of tables that grew or shrank many times over ([`crate::store::optimize`]).
pub async fn tick(state: &AppState) -> AppResult<()> {
    let started = Instant::now();
    let rows = crate::ops::stats::snapshot(state, Utc::now()).await?;
    let pruned = crate::ops::logs::prune(state).await?;
    tracing::info!(
        target: "steward::system",
        kind = "periodic",
        task = "stats_and_retention",
        snapshot_rows = rows,
        log_lines_pruned = pruned,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "stored {rows} stats snapshot rows, pruned {pruned} log lines"
    );
    if let Err(e) = crate::store::optimize(&state.db).await {
        tracing::warn!(target: "steward::system", kind = "periodic", error = %e, "refreshing the planner's statistics failed");
    }
    Ok(())
}

/// Starts the periodic task and the heartbeat; they run until the process ends.
pub fn spawn(state: AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let heartbeat = crate::ops::replicas::spawn(state.clone(), Duration::from_secs(state.config.heartbeat_secs.max(1)));
    let every = Duration::from_secs(state.config.stats_interval_secs.max(1));
    let periodic = tokio::spawn(async move {
        loop {
            if let Err(e) = tick(&state).await {
                tracing::warn!(target: "steward::system", kind = "periodic", error = %e, "the periodic task failed");
            }
            tokio::time::sleep(every).await;
        }
    });
    vec![heartbeat, periodic]
}
