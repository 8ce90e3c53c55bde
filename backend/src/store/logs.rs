//! The log sink: request paths hand log lines to a bounded channel and never wait on it; one
//! task per replica writes them to `log_entries` in batches and keeps the table under its row
//! cap. A full channel drops the line and counts it, so a flood (forged tokens, say) costs a
//! counter, not memory, and never reaches the audit chain.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use uuid::Uuid;

use crate::store::entities::log_entries;

/// One line for the platform (`platform`), authentication (`auth`) or system (`system`) log.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub stream: &'static str,
    pub kind: &'static str,
    pub level: &'static str,
    pub message: String,
    pub customer_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub fields: Value,
}

impl LogLine {
    pub fn new(stream: &'static str, kind: &'static str, level: &'static str, message: impl Into<String>) -> Self {
        Self {
            at: Utc::now(),
            stream,
            kind,
            level,
            message: message.into(),
            customer_id: None,
            user_id: None,
            request_id: None,
            ip: None,
            user_agent: None,
            fields: Value::Object(Default::default()),
        }
    }
}

/// Where log lines go. Cloning shares the channel and the counters.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<LogLine>,
    /// Lines dropped because the channel was full.
    pub dropped: Arc<AtomicU64>,
    /// Lines written to the table.
    pub written: Arc<AtomicU64>,
    /// Lines taken into the channel, and lines the writer is done with (written or failed):
    /// what `flush` waits on.
    accepted: Arc<AtomicU64>,
    handled: Arc<AtomicU64>,
    progress: Arc<Notify>,
}

impl LogSink {
    /// A sink holding at most `capacity` lines in flight, and the receiving end for its writer.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<LogLine>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let sink = Self {
            tx,
            dropped: Arc::default(),
            written: Arc::default(),
            accepted: Arc::default(),
            handled: Arc::default(),
            progress: Arc::default(),
        };
        (sink, rx)
    }

    /// Hands a line over without waiting; when the channel is full it is dropped and counted.
    pub fn emit(&self, line: LogLine) {
        match self.tx.try_send(line) {
            Ok(()) => {
                self.accepted.fetch_add(1, Ordering::SeqCst);
            }
            Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until every line emitted before the call has been written (or has failed to be),
    /// for at most `limit`; false when the writer did not catch up. A stopping replica calls
    /// it last, so the outcome lines of the runs it finished are not lost with the process.
    pub async fn flush(&self, limit: Duration) -> bool {
        let target = self.accepted.load(Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Created before the check, so a batch finished in between still wakes it.
            let progressed = self.progress.notified();
            if self.handled.load(Ordering::SeqCst) >= target {
                return true;
            }
            if tokio::time::timeout_at(deadline, progressed).await.is_err() {
                return false;
            }
        }
    }

    fn handled(&self, n: usize) {
        self.handled.fetch_add(n as u64, Ordering::SeqCst);
        self.progress.notify_waiters();
    }
}

/// Lines written in one insert, at most.
const BATCH: usize = 500;

/// Writes what the sink receives, in batches, and prunes the table to `max_rows` (oldest first).
pub fn spawn_writer(
    db: DatabaseConnection,
    sink: LogSink,
    mut rx: mpsc::Receiver<LogLine>,
    max_rows: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut since_prune = 0usize;
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(line) => batch.push(line),
                    Err(_) => break,
                }
            }
            let n = batch.len();
            let rows = batch.into_iter().map(|l| log_entries::ActiveModel {
                at: Set(l.at),
                stream: Set(l.stream.into()),
                kind: Set(l.kind.into()),
                level: Set(l.level.into()),
                message: Set(l.message),
                customer_id: Set(l.customer_id),
                user_id: Set(l.user_id),
                request_id: Set(l.request_id),
                ip: Set(l.ip),
                user_agent: Set(l.user_agent),
                fields: Set(l.fields),
                ..Default::default()
            });
            match log_entries::Entity::insert_many(rows).exec_without_returning(&db).await {
                Ok(_) => {
                    sink.written.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => tracing::error!(error = %e, lines = n, "could not write log lines"),
            }
            sink.handled(n);
            since_prune += n;
            if since_prune >= BATCH {
                since_prune = 0;
                if let Err(e) = prune(&db, max_rows).await {
                    tracing::error!(error = %e, "could not prune the log table");
                }
            }
        }
    })
}

/// Deletes the oldest lines beyond `max_rows`.
pub async fn prune(db: &DatabaseConnection, max_rows: u64) -> Result<u64, sea_orm::DbErr> {
    let newest: Option<i64> = log_entries::Entity::find()
        .select_only()
        .column(log_entries::Column::Seq)
        .order_by_desc(log_entries::Column::Seq)
        .into_tuple()
        .one(db)
        .await?;
    let Some(newest) = newest else { return Ok(0) };
    let keep_from = newest - i64::try_from(max_rows).unwrap_or(i64::MAX) + 1;
    let result = log_entries::Entity::delete_many().filter(log_entries::Column::Seq.lt(keep_from)).exec(db).await?;
    Ok(result.rows_affected)
}
