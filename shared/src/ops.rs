//! Wire types of the operations pages: system status, stats over time, logs and the
//! effective configuration.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "server")]
use utoipa::ToSchema;

/// `GET /api/system/status`: this replica's own figures, and every replica heard from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct SystemStatus {
    /// The replica that answered.
    pub replica: ReplicaInfo,
    pub requests: RequestStatus,
    pub database: DatabaseStatus,
    pub queue: QueueStatus,
    pub caches: Vec<CacheStatus>,
    /// Sessions neither revoked nor expired, on every replica.
    pub sessions_active: u64,
    /// Events in the audit chain.
    pub audit_events: u64,
    /// Mail not yet delivered.
    pub outbox_pending: u64,
    pub logs: LogPipeline,
    /// Resident memory of this replica's process, in bytes (absent where the OS does not say).
    pub rss_bytes: Option<u64>,
    /// The slowest statements of the last minutes.
    pub slow_statements: Vec<SlowStatement>,
    /// Every replica that wrote a heartbeat in the last day, newest first.
    pub replicas: Vec<ReplicaRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ReplicaInfo {
    pub id: String,
    pub host: String,
    pub version: String,
    /// The git commit the binary was built from (`unknown` outside a checkout).
    pub build: String,
    pub started_at: DateTime<Utc>,
    pub uptime_secs: u64,
}

/// Requests measured by the server itself, per operation (operationId).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RequestStatus {
    /// Requests being answered right now on this replica.
    pub in_flight: i64,
    /// Operations with any request since start, busiest first.
    pub operations: Vec<OperationStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct OperationStats {
    /// The operationId (`spa` for the console's files, `unmatched` for unknown paths).
    pub operation: String,
    /// Since this replica started.
    pub count: u64,
    pub errors_4xx: u64,
    pub errors_5xx: u64,
    pub in_flight: i64,
    /// The last 1, 5 and 15 minutes.
    pub windows: Vec<LatencyWindow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct LatencyWindow {
    pub minutes: u32,
    pub count: u64,
    /// 4xx and 5xx answers in the window.
    pub errors: u64,
    /// `errors / count`, 0 when there was no request.
    pub error_rate: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DatabaseStatus {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The server's own version string.
    pub version: String,
    /// A `SELECT 1` timed from this replica, in milliseconds.
    pub round_trip_ms: f64,
    pub pool: PoolStatus,
    /// The database's size on disk, in bytes.
    pub size_bytes: Option<i64>,
    /// The largest tables by rows.
    pub largest_tables: Vec<TableSize>,
    pub migrations_applied: u32,
    pub migrations_pending: u32,
    pub migrations: Vec<MigrationInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct PoolStatus {
    /// The configured maximum.
    pub max: u32,
    /// Connections open now.
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    /// How long taking a connection from the pool took for the timed round trip, in
    /// milliseconds: it grows when requests wait for connections (sqlx does not count waiters).
    pub acquire_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TableSize {
    pub name: String,
    pub rows: i64,
    /// Bytes on disk, where the database says (PostgreSQL; SQLite with the dbstat table).
    pub bytes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct MigrationInfo {
    pub name: String,
    pub applied: bool,
    /// When it ran (absent while pending).
    pub applied_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct QueueStatus {
    /// Runs waiting for a worker.
    pub depth: u64,
    pub running: u64,
    /// How long the oldest queued run has waited, in seconds.
    pub oldest_queued_secs: Option<f64>,
    /// How late the most overdue scheduled flow is, in seconds (0 when none is due).
    pub scheduler_lag_secs: f64,
    /// This replica's workers.
    pub workers: Vec<WorkerStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct WorkerStatus {
    pub name: String,
    /// `busy` or `idle`.
    pub state: String,
    pub runs: u64,
    /// The worker's last turn of its loop.
    pub heartbeat_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CacheStatus {
    pub name: String,
    pub hits: u64,
    pub misses: u64,
    /// `hits / (hits + misses)`, absent before the first lookup.
    pub hit_rate: Option<f64>,
    pub entries: u64,
}

/// The log pipeline of this replica: what was written and what a full channel dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct LogPipeline {
    pub written: u64,
    pub dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct SlowStatement {
    /// The statement's text with its values left out.
    pub statement: String,
    pub count: u64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
    /// `server` (measured here, over the threshold) or `pg_stat_statements`.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ReplicaRow {
    pub id: String,
    pub host: String,
    pub version: String,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Not heard from within the last minute.
    pub silent: bool,
    /// The figures it reported with its last heartbeat.
    pub figures: ReplicaFigures,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ReplicaFigures {
    #[serde(default)]
    pub in_flight: i64,
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub errors_5xx: u64,
    #[serde(default)]
    pub workers: u32,
    #[serde(default)]
    pub workers_busy: u32,
    #[serde(default)]
    pub rss_bytes: Option<u64>,
}

/// `GET /api/stats`: snapshots over a range, for the current scope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct StatsSeries {
    /// `24h`, `7d`, `30d` or `1y`.
    pub range: String,
    /// `hour` or `day`.
    pub bucket: String,
    /// The customer, or absent for the platform's totals.
    pub customer_id: Option<Uuid>,
    /// Oldest first.
    pub points: Vec<StatPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct StatPoint {
    /// Start of the hour or day.
    pub at: DateTime<Utc>,
    /// Counts at the end of the bucket (or now, for the current one).
    pub users: i64,
    pub active_users: i64,
    pub customers: i64,
    pub flows: i64,
    pub records: i64,
    /// Events within the bucket.
    pub runs_succeeded: i64,
    pub runs_failed: i64,
    pub audit_events: i64,
    pub sign_ins: i64,
    /// Invented by `steward-server seed` (demo history), not measured by the platform.
    #[serde(default)]
    pub demo: bool,
}

/// One line of the platform, authentication or system log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct LogEntry {
    /// Increases with every line; the `after` of a follow.
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// `platform`, `auth` or `system`.
    pub stream: String,
    /// The tab within a stream (`startup`, `periodic`, `startup_error`, `package_install`,
    /// `user_task`, `api_error` for system; `sign_in`, `sign_in_failed`, … for auth).
    pub kind: String,
    /// `error`, `warn`, `info` or `debug`.
    pub level: String,
    pub message: String,
    pub customer_id: Option<Uuid>,
    /// The customer's name, read with the page.
    pub customer_name: Option<String>,
    pub user_id: Option<Uuid>,
    /// The request it concerns: the audit events of that request share it.
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The run it concerns, if any.
    pub run_id: Option<Uuid>,
    /// Structured detail.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub fields: serde_json::Value,
}

/// `GET /api/system/config`: the effective configuration of this replica.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ConfigView {
    pub version: String,
    pub build: String,
    pub database_backend: String,
    pub database_version: String,
    pub settings: Vec<ConfigSetting>,
    pub migrations: Vec<MigrationInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ConfigSetting {
    /// The setting's name (the flag without dashes, or the settings-table key).
    pub name: String,
    /// `--flag`, for settings that are flags.
    pub flag: Option<String>,
    /// The environment variable, for settings that are flags.
    pub env: Option<String>,
    /// The value in effect; never shown for a secret.
    pub value: Option<String>,
    pub secret: bool,
    /// Whether any value is in effect (for secrets: set or unset).
    pub set: bool,
    /// `default`, `flag`, `environment`, `settings` (changed at run time) or `unset`.
    pub source: String,
    pub description: String,
}

/// A platform action to carry out (super admin, typed confirmation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestAction {
    /// `restart_workers`, `reload_applications`, `purge_demo_data` or `delete_public_objects`.
    pub action: String,
    /// The tenant whose demo data to purge (`purge_demo_data` only).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub customer_id: Option<Uuid>,
    /// What must be typed: `restart workers`, `reload applications`, the customer's name, or
    /// `delete all public objects`.
    pub confirm: String,
}

/// A platform action and each replica's acknowledgement of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CommandRow {
    pub id: Uuid,
    pub action: String,
    /// `customer_id` and `customer_name` for a purge.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub params: serde_json::Value,
    pub requested_by: Uuid,
    pub requested_by_email: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// What the database work did (purges): `status` (`running`, `done`, `failed`) and rows
    /// deleted per table.
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub outcome: Option<serde_json::Value>,
    pub acks: Vec<CommandAck>,
    /// Replicas heard from since the action was requested that have not acknowledged it yet.
    pub waiting_for: Vec<String>,
}

/// One replica's acknowledgement of a platform action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CommandAck {
    pub replica_id: String,
    pub host: Option<String>,
    pub acked_at: DateTime<Utc>,
    /// `done` or `failed`.
    pub status: String,
    /// What the replica did (`restarted 4 workers; 1 run in flight finished first`).
    pub detail: String,
}
