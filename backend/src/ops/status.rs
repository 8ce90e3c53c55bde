//! System status: the figures a replica knows of itself (requests, workers, pool, process)
//! beside those every replica shares through the database (queue, sessions, audit, outbox,
//! storage, migrations, heartbeats). The same figures feed `GET /metrics`.

use chrono::{DateTime, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, QueryOrder, QuerySelect};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use std::sync::atomic::Ordering;
use std::time::Instant;
use steward_shared::ops::{
    CacheStatus, DatabaseStatus, LogPipeline, MigrationInfo, PoolStatus, QueueStatus, ReplicaInfo, RequestStatus,
    SlowStatement, SystemStatus, TableSize,
};

use crate::http::error::AppResult;
use crate::state::AppState;
use crate::store::entities::{audit_events, flows, outbox_mail, runs, sessions};

/// What every replica shares through the database, read in a few cheap queries.
pub struct SharedFigures {
    pub queue_depth: u64,
    pub running: u64,
    pub oldest_queued: Option<DateTime<Utc>>,
    pub oldest_due: Option<DateTime<Utc>>,
    pub sessions_active: u64,
    pub audit_events: u64,
    pub outbox_pending: u64,
}

pub async fn shared_figures(state: &AppState) -> AppResult<SharedFigures> {
    let db = &state.db;
    let now = Utc::now();
    let queued = runs::Entity::find().filter(runs::Column::Status.eq("queued"));
    let queue_depth = queued.clone().count(db).await?;
    let running = runs::Entity::find().filter(runs::Column::Status.eq("running")).count(db).await?;
    let oldest_queued: Option<DateTime<Utc>> = queued
        .select_only()
        .column(runs::Column::QueuedAt)
        .order_by_asc(runs::Column::QueuedAt)
        .into_tuple()
        .one(db)
        .await?;
    let oldest_due: Option<Option<DateTime<Utc>>> = flows::Entity::find()
        .select_only()
        .column(flows::Column::NextRunAt)
        .filter(flows::Column::State.eq("active"))
        .filter(flows::Column::Status.eq("published"))
        .filter(flows::Column::NextRunAt.lte(now))
        .order_by_asc(flows::Column::NextRunAt)
        .into_tuple()
        .one(db)
        .await?;
    let sessions_active = sessions::Entity::find()
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .count(db)
        .await?;
    let audit_events: Option<Option<i64>> = audit_events::Entity::find()
        .select_only()
        .column_as(audit_events::Column::Seq.max(), "seq")
        .into_tuple()
        .one(db)
        .await?;
    let outbox_pending = outbox_mail::Entity::find().filter(outbox_mail::Column::SentAt.is_null()).count(db).await?;
    Ok(SharedFigures {
        queue_depth,
        running,
        oldest_queued,
        oldest_due: oldest_due.flatten(),
        sessions_active,
        audit_events: audit_events.flatten().unwrap_or(0).max(0) as u64,
        outbox_pending,
    })
}

/// The pool of this replica's connections.
pub fn pool(state: &AppState) -> PoolStatus {
    let max = state.config.db_max_connections;
    let (size, idle) = match state.db.get_database_backend() {
        DbBackend::Postgres => {
            let p = state.db.get_postgres_connection_pool();
            (p.size(), p.num_idle() as u32)
        }
        DbBackend::Sqlite => {
            let p = state.db.get_sqlite_connection_pool();
            (p.size(), p.num_idle() as u32)
        }
        _ => (0, 0),
    };
    PoolStatus { max, size, idle, in_use: size.saturating_sub(idle), acquire_ms: 0.0 }
}

/// A connection taken from the pool and a `SELECT 1` over it, timed apart.
pub async fn round_trip(state: &AppState) -> AppResult<(f64, f64)> {
    let backend = state.db.get_database_backend();
    let started = Instant::now();
    let (acquire, trip) = match backend {
        DbBackend::Postgres => {
            let mut conn = state.db.get_postgres_connection_pool().acquire().await.map_err(sqlx_err)?;
            let acquired = started.elapsed();
            sea_orm::sqlx::query("SELECT 1").execute(&mut *conn).await.map_err(sqlx_err)?;
            (acquired, started.elapsed() - acquired)
        }
        _ => {
            let mut conn = state.db.get_sqlite_connection_pool().acquire().await.map_err(sqlx_err)?;
            let acquired = started.elapsed();
            sea_orm::sqlx::query("SELECT 1").execute(&mut *conn).await.map_err(sqlx_err)?;
            (acquired, started.elapsed() - acquired)
        }
    };
    Ok((acquire.as_secs_f64() * 1000.0, trip.as_secs_f64() * 1000.0))
}

fn sqlx_err(e: sea_orm::sqlx::Error) -> crate::http::error::AppError {
    crate::http::error::AppError::Unavailable(format!("the database did not answer: {e}"))
}

/// The database server's version.
pub async fn database_version(state: &AppState) -> AppResult<String> {
    let backend = state.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT current_setting('server_version') AS v",
        _ => "SELECT sqlite_version() AS v",
    };
    let row = state.db.query_one_raw(Statement::from_string(backend, sql)).await?;
    Ok(row.and_then(|r| r.try_get::<String>("", "v").ok()).unwrap_or_default())
}

/// Every migration of the chain, with when it ran.
pub async fn migrations(state: &AppState) -> AppResult<Vec<MigrationInfo>> {
    let applied = crate::store::applied_migrations(&state.db).await?;
    Ok(Migrator::migrations()
        .iter()
        .map(|m| {
            let name = m.name().to_owned();
            let at = applied.get(&name).and_then(|t| DateTime::from_timestamp(*t, 0));
            MigrationInfo { applied: applied.contains_key(&name), applied_at: at, name }
        })
        .collect())
}

/// The database's size and its largest tables (row counts on SQLite are exact, on
/// PostgreSQL the planner's live-row estimate).
pub async fn storage(state: &AppState) -> AppResult<(Option<i64>, Vec<TableSize>)> {
    let backend = state.db.get_database_backend();
    let db = &state.db;
    match backend {
        DbBackend::Postgres => {
            let size = db
                .query_one_raw(Statement::from_string(backend, "SELECT pg_database_size(current_database()) AS n"))
                .await?
                .and_then(|r| r.try_get::<i64>("", "n").ok());
            let rows = db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT relname AS name, n_live_tup AS n, pg_total_relation_size(relid) AS bytes \
                     FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 10",
                ))
                .await?;
            let tables = rows
                .iter()
                .filter_map(|r| {
                    Some(TableSize {
                        name: r.try_get("", "name").ok()?,
                        rows: r.try_get("", "n").ok()?,
                        bytes: r.try_get("", "bytes").ok(),
                    })
                })
                .collect();
            Ok((size, tables))
        }
        _ => {
            let size = db
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()",
                ))
                .await?
                .and_then(|r| r.try_get::<i64>("", "n").ok());
            let names = db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                ))
                .await?;
            let mut tables = Vec::new();
            for name in names.iter().filter_map(|r| r.try_get::<String>("", "name").ok()) {
                // Names come from the schema itself, never from a request.
                let sql = format!("SELECT count(*) AS n FROM \"{}\"", name.replace('"', "\"\""));
                let rows = db
                    .query_one_raw(Statement::from_string(backend, sql))
                    .await?
                    .and_then(|r| r.try_get::<i64>("", "n").ok())
                    .unwrap_or(0);
                tables.push(TableSize { name, rows, bytes: None });
            }
            tables.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.name.cmp(&b.name)));
            tables.truncate(10);
            Ok((size, tables))
        }
    }
}

/// The slowest statements from PostgreSQL's `pg_stat_statements`, where the extension is there.
async fn pg_slowest(state: &AppState) -> Vec<SlowStatement> {
    let backend = state.db.get_database_backend();
    if backend != DbBackend::Postgres {
        return Vec::new();
    }
    let sql = "SELECT query, calls, total_exec_time AS total, mean_exec_time AS mean, max_exec_time AS max \
               FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               ORDER BY mean_exec_time DESC LIMIT 10";
    let Ok(rows) = state.db.query_all_raw(Statement::from_string(backend, sql)).await else { return Vec::new() };
    rows.iter()
        .filter_map(|r| {
            Some(SlowStatement {
                statement: r.try_get::<String>("", "query").ok()?.chars().take(600).collect(),
                count: r.try_get::<i64>("", "calls").ok()?.max(0) as u64,
                total_ms: r.try_get("", "total").ok()?,
                mean_ms: r.try_get("", "mean").ok()?,
                max_ms: r.try_get("", "max").ok()?,
                source: "pg_stat_statements".into(),
            })
        })
        .collect()
}

pub fn replica_info(state: &AppState) -> ReplicaInfo {
    let t = &state.telemetry;
    ReplicaInfo {
        id: t.replica_id.clone(),
        host: t.host.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
        build: crate::telemetry::BUILD.into(),
        started_at: t.started_at,
        uptime_secs: t.started.elapsed().as_secs(),
    }
}

pub fn caches(state: &AppState) -> Vec<CacheStatus> {
    let hits = state.kpis.hits.load(Ordering::Relaxed);
    let misses = state.kpis.misses.load(Ordering::Relaxed);
    vec![CacheStatus {
        name: "kpis".into(),
        hits,
        misses,
        hit_rate: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
        entries: state.kpis.cache.entry_count(),
    }]
}

/// Seconds from `earlier` to now, never negative.
pub fn secs_since(earlier: DateTime<Utc>) -> f64 {
    ((Utc::now() - earlier).num_milliseconds().max(0) as f64) / 1000.0
}

/// Everything the System status page shows.
pub async fn system_status(state: &AppState) -> AppResult<SystemStatus> {
    let shared = shared_figures(state).await?;
    let (acquire_ms, round_trip_ms) = round_trip(state).await?;
    let (size_bytes, largest_tables) = storage(state).await?;
    let migrations = migrations(state).await?;
    let applied = migrations.iter().filter(|m| m.applied).count() as u32;
    let mut pool = pool(state);
    pool.acquire_ms = acquire_ms;
    let mut slow_statements = state.telemetry.statements.slowest(10);
    slow_statements.extend(pg_slowest(state).await);
    Ok(SystemStatus {
        replica: replica_info(state),
        requests: RequestStatus {
            in_flight: state.telemetry.requests.in_flight(),
            operations: state.telemetry.requests.snapshot(),
        },
        database: DatabaseStatus {
            backend: crate::store::kind(&state.db).into(),
            version: database_version(state).await?,
            round_trip_ms,
            pool,
            size_bytes,
            largest_tables,
            migrations_applied: applied,
            migrations_pending: migrations.len() as u32 - applied,
            migrations,
        },
        queue: QueueStatus {
            depth: shared.queue_depth,
            running: shared.running,
            oldest_queued_secs: shared.oldest_queued.map(secs_since),
            scheduler_lag_secs: shared.oldest_due.map(secs_since).unwrap_or(0.0),
            workers: state.telemetry.workers.list(),
        },
        caches: caches(state),
        sessions_active: shared.sessions_active,
        audit_events: shared.audit_events,
        outbox_pending: shared.outbox_pending,
        logs: LogPipeline {
            written: state.logs.written.load(Ordering::Relaxed),
            dropped: state.logs.dropped.load(Ordering::Relaxed),
        },
        rss_bytes: crate::telemetry::rss_bytes(),
        slow_statements,
        replicas: crate::ops::replicas::list(state).await?,
    })
}
