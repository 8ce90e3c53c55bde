//! Connecting to the database (SQLite by default, PostgreSQL by URL) and migrating it.

pub mod entities;
pub mod logs;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::time::Duration;

use crate::config::Config;

/// Connects with bounded timeouts, so an unreachable database fails fast with a clear message.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.effective_database_url();
    if url.starts_with("sqlite:") && config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| anyhow::anyhow!("cannot create data dir {}: {e}", config.data_dir.display()))?;
    }
    let timeout = Duration::from_secs(config.db_timeout_secs);
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        .sqlx_logging(false)
        // Every pooled SQLite connection (not only the first): WAL lets readers run beside the
        // one writer, and a writer waits its turn for up to the busy timeout instead of failing
        // with "database is locked".
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    let db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database at {}: {e}", redact(&url)))?;
    Ok(db)
}

/// How long an SQLite writer waits for the lock before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken at
/// the start, so writers queue under the busy timeout; a deferred transaction that reads first
/// and writes later fails at once ("database is locked") when another writer got in between,
/// which once lost an audit event.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}

/// Brings the planner's statistics of `tables` up to date after a bulk write (`ANALYZE` on
/// both databases). Without it PostgreSQL plans a freshly filled table as if it were empty until
/// autovacuum gets to it: a search measured at 1.3 s before and 31 ms after, on a million users.
pub async fn analyze(db: &DatabaseConnection, tables: &[&str]) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    for table in tables {
        db.execute_unprepared(&format!("ANALYZE {table}")).await?;
    }
    Ok(())
}

/// Rows one write must change before [`after_bulk_write`] refreshes its table's statistics.
pub const ANALYZE_AFTER_ROWS: u64 = 1_000;

/// After a write that changed `rows` rows of `table` (a batch edit, a purge, a run's steps):
/// once it is large, brings the planner's statistics of the table up to date, so the next
/// query is planned for what the table holds now (PostgreSQL's autovacuum gets there only
/// later, SQLite never on its own). On SQLite the analysis reads a sample of each index
/// (`analysis_limit`), so a table of millions costs milliseconds. The write is done either way:
/// a failure here is logged, not returned.
pub async fn after_bulk_write(db: &DatabaseConnection, table: &str, rows: u64) {
    use sea_orm::ConnectionTrait;
    if rows < ANALYZE_AFTER_ROWS {
        return;
    }
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => format!("PRAGMA analysis_limit = 1000; ANALYZE {table}"),
        _ => format!("ANALYZE {table}"),
    };
    if let Err(e) = db.execute_unprepared(&sql).await {
        tracing::warn!(table, rows, error = %e, "refreshing the planner's statistics after a bulk write failed");
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.map_err(|e| anyhow::anyhow!("migrating the database failed: {e}"))
}

/// The applied migrations: version → when it ran (Unix seconds).
pub async fn applied_migrations<C: sea_orm::ConnectionTrait>(
    conn: &C,
) -> Result<std::collections::HashMap<String, i64>, DbErr> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(backend, "SELECT version, applied_at FROM seaql_migrations"))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((r.try_get::<String>("", "version").ok()?, r.try_get::<i64>("", "applied_at").ok()?)))
        .collect())
}

/// `sqlite` or `postgres`.
pub fn kind(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgres",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A raw statement written with PostgreSQL's numbered placeholders (`$1`, `$2`, …), for the
/// connection's backend: SQLite reads the same numbers as `?1`, `?2`.
pub fn statement(
    backend: DbBackend,
    sql: &str,
    values: impl IntoIterator<Item = sea_orm::Value>,
) -> sea_orm::Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => {
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(c) = chars.next() {
                let numbered = c == '$' && chars.peek().is_some_and(char::is_ascii_digit);
                out.push(if numbered { '?' } else { c });
            }
            out
        }
    };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

/// `alias."column" AS "prefixcolumn", …` for every column of an entity, so one row of a join
/// reads back as that entity's model with `FromQueryResult::from_query_result(row, prefix)`.
pub fn columns_as<E: sea_orm::EntityTrait>(alias: &str, prefix: &str) -> String {
    use sea_orm::{IdenStatic, Iterable};
    E::Column::iter().map(|c| format!("{alias}.\"{0}\" AS \"{prefix}{0}\"", c.as_str())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

    /// The bundled SQLite carries the two options `.cargo/config.toml` gives it: without QPSG a
    /// statement is re-prepared whenever a bound value changes once `ANALYZE` has filled
    /// `sqlite_stat4` (a third of `/api/me`'s CPU on a million users).
    #[tokio::test]
    async fn sqlite_plans_without_bound_values_and_counts_no_memory() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let rows = db.query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA compile_options")).await.unwrap();
        let options: Vec<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
        for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0", "ENABLE_STAT4"] {
            assert!(options.iter().any(|o| o == wanted), "{wanted} not in {options:?}");
        }
    }
}
