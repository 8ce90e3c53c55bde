//! Connecting to the database (SQLite by default, PostgreSQL by URL) and migrating it.

pub mod entities;
pub mod logs;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;

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
///
/// SQLite has one writer at a time, and its busy handler lets waiting writers poll with growing
/// sleeps (up to 100 ms): whoever polls at the right moment goes next, so under 16 concurrent
/// writers the p99 was 0.8–1.5 s while the median was 10 ms, and every waiting writer held a pool
/// connection that readers could not use. So on SQLite a writer of this process first waits for
/// its turn in a first-come-first-served queue (one per database file) and only then takes a
/// connection; the busy handler is left for writers of other processes (the CLI, a backup).
pub async fn begin(db: &DatabaseConnection) -> Result<Txn, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let turn = WriteTurns::of(db).take().await?;
            let inner = db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?;
            Ok(Txn { inner, _turn: Some(turn) })
        }
        _ => Ok(Txn { inner: db.begin().await?, _turn: None }),
    }
}

/// A write transaction from [`begin`]: a [`DatabaseTransaction`] that, on SQLite, also holds
/// this process's turn to write until it is committed, rolled back or dropped.
pub struct Txn {
    // Declared first, so it is dropped (its rollback started) before the turn is handed on.
    inner: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Txn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.inner.rollback().await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.inner.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.inner.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.inner.query_all_raw(stmt).await
    }
}

/// The queue of this process's SQLite writers for one database file.
struct WriteTurns {
    turn: Arc<tokio::sync::Mutex<()>>,
    waiting: Arc<AtomicUsize>,
}

impl WriteTurns {
    /// The queue of `db`'s file (in-memory databases have a name of their own each). A server
    /// has one database; a test process has one per test, a few hundred small entries.
    fn of(db: &DatabaseConnection) -> Self {
        static FILES: LazyLock<Mutex<HashMap<PathBuf, WriteTurns>>> = LazyLock::new(Default::default);
        let file = db.get_sqlite_connection_pool().connect_options().get_filename().to_path_buf();
        let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
        let turns = files.entry(file).or_insert_with(|| WriteTurns {
            turn: Arc::new(tokio::sync::Mutex::new(())),
            waiting: Arc::new(AtomicUsize::new(0)),
        });
        WriteTurns { turn: turns.turn.clone(), waiting: turns.waiting.clone() }
    }

    /// Waits for this writer's turn (tokio's mutex serves waiters in the order they came), as
    /// long as SQLite's own busy timeout; past it the request is answered 503, to be retried.
    /// The count of waiters goes down when the wait ends however it ends, also when the request
    /// that waits is dropped (its client went away) while it waits.
    async fn take(&self) -> Result<OwnedMutexGuard<()>, DbErr> {
        let _waiting = Waiting::count(&self.waiting);
        let turn = tokio::time::timeout(SQLITE_BUSY_TIMEOUT, self.turn.clone().lock_owned()).await;
        turn.map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))
    }
}

/// One writer counted in [`WriteTurns`]' waiters for as long as this lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::SeqCst);
        Self(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How many of this process's writers wait for their turn on `db` (0 on PostgreSQL).
pub fn writers_waiting(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        DbBackend::Sqlite => WriteTurns::of(db).waiting.load(Ordering::SeqCst),
        _ => 0,
    }
}

/// Brings the planner's statistics of `tables` up to date after a bulk write (`ANALYZE` on
/// both databases). Without it PostgreSQL plans a freshly filled table as if it were empty until
/// autovacuum gets to it: a search measured at 1.3 s before and 31 ms after, on a million users.
pub async fn analyze(db: &DatabaseConnection, tables: &[&str]) -> Result<(), DbErr> {
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

/// Refreshes SQLite's planner statistics of each table whose size has changed many times over
/// since they were taken (`PRAGMA optimize`: 25-fold, sampling as [`after_bulk_write`] does, and
/// nothing when no table qualifies). Tables filled a row at a time — the audit log, sessions,
/// users made one by one — never pass through a bulk write: analysed when the seed had left one
/// audit event, the audit log was planned as a one-row table at 24,000 events, and a lookup of a
/// page's events by `seq` scanned them all. PostgreSQL's autovacuum does this there. Each pooled
/// connection reads the new statistics when it next loads the schema (a new connection, a
/// migration). Run by each replica's periodic tick.
pub async fn optimize(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002").await?;
    }
    Ok(())
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
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};
    use std::time::Duration;

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

    /// Writers of one process take their turns in the order they asked, and a writer waiting
    /// for its turn holds no pool connection: with two connections, one writing and five
    /// writers waiting, a reader still gets the other connection at once.
    #[tokio::test]
    async fn sqlite_writers_take_turns_in_order_and_leave_connections_to_readers() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()));
        options.max_connections(2).acquire_timeout(Duration::from_secs(20)).sqlx_logging(false).map_sqlx_sqlite_opts(
            |o| o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal).busy_timeout(super::SQLITE_BUSY_TIMEOUT),
        );
        let db = Database::connect(options).await.unwrap();
        db.execute_unprepared("CREATE TABLE turns (n INTEGER)").await.unwrap();
        let first = super::begin(&db).await.unwrap();
        let mut writers = Vec::new();
        for n in 1..=5 {
            let writer = db.clone();
            writers.push(tokio::spawn(async move {
                let txn = super::begin(&writer).await.unwrap();
                txn.execute_unprepared(&format!("INSERT INTO turns VALUES ({n})")).await.unwrap();
                txn.commit().await.unwrap();
            }));
            let queued = async {
                while super::writers_waiting(&db) < n {
                    tokio::task::yield_now().await;
                }
            };
            tokio::time::timeout(Duration::from_secs(5), queued).await.expect("the writer waits for its turn");
        }
        let count = Statement::from_string(DbBackend::Sqlite, "SELECT count(*) FROM turns");
        let read = tokio::time::timeout(Duration::from_secs(5), db.query_one_raw(count)).await;
        assert!(matches!(read, Ok(Ok(Some(_)))), "a reader waited behind the waiting writers: {read:?}");
        first.commit().await.unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        let rows =
            db.query_all_raw(Statement::from_string(DbBackend::Sqlite, "SELECT n FROM turns ORDER BY rowid")).await;
        let order: Vec<i64> = rows.unwrap().iter().map(|r| r.try_get_by_index(0).unwrap()).collect();
        assert_eq!(order, [1, 2, 3, 4, 5]);
        assert_eq!(super::writers_waiting(&db), 0);
        // A writer given up while it waits (its request dropped) is no longer counted.
        let holder = super::begin(&db).await.unwrap();
        let given_up = tokio::time::timeout(Duration::from_millis(50), super::begin(&db)).await;
        assert!(given_up.is_err(), "the second writer had to wait");
        assert_eq!(super::writers_waiting(&db), 0);
        holder.rollback().await.unwrap();
    }
}
