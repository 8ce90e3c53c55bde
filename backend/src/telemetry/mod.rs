//! What a replica measures of itself: request metrics per operation, slow statements, its
//! workers' heartbeats, and the tracing layer that hands notable events to the logs. Kept
//! beside the store (below `http` and `state`) so every layer above can record into it.

pub mod capture;
pub mod requests;
pub mod statements;
pub mod workers;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

/// One replica's recorders, shared by the state.
#[derive(Clone)]
pub struct Telemetry {
    pub replica_id: String,
    pub host: String,
    pub started_at: DateTime<Utc>,
    pub started: Instant,
    /// `false`: the request layer records nothing (see `--telemetry`).
    pub enabled: bool,
    pub requests: Arc<requests::RequestMetrics>,
    pub statements: Arc<statements::SlowStatements>,
    pub workers: Arc<workers::WorkerBoard>,
}

impl Telemetry {
    pub fn new(enabled: bool, slow_statement_ms: u64) -> Self {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "localhost".into());
        Self {
            // Random, not time-ordered: replicas started together must not share a prefix.
            replica_id: uuid::Uuid::new_v4().simple().to_string(),
            host,
            started_at: Utc::now(),
            started: Instant::now(),
            enabled,
            requests: Arc::new(requests::RequestMetrics::new()),
            statements: Arc::new(statements::SlowStatements::new(std::time::Duration::from_millis(slow_statement_ms))),
            workers: Arc::default(),
        }
    }
}

/// The git commit this binary was built from.
pub const BUILD: &str = match option_env!("STEWARD_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// The resident memory of this process, in bytes.
pub fn rss_bytes() -> Option<u64> {
    memory_stats::memory_stats().map(|m| m.physical_mem as u64)
}
