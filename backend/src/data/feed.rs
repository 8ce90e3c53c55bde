//! The change feed behind the explorer's live updates. Triggers in the database report every
//! row written to the explorer's tables, whichever replica or task wrote it: on PostgreSQL as
//! `NOTIFY steward_data` (one listening connection per replica), on SQLite as rows of
//! `data_changes` (one poller per replica, pruned after ten minutes). Each replica fans the
//! changes out to its open streams through one broadcast channel.

use futures::Stream;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::time::Duration;
use steward_shared::data::DataChange;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::registry::{self, Rows};
use crate::access::scope::Scope;
use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::entities::data_changes;

/// How often SQLite's change table is read.
const POLL: Duration = Duration::from_millis(250);

/// How long SQLite keeps a change.
const KEEP_SECS: i64 = 600;

/// How often a stream checks that its credential still may read.
const RECHECK: Duration = Duration::from_secs(5);

pub const CHANNEL: &str = "steward_data";

/// Starts this replica's reader of the database's changes, once; returns when it listens (on
/// PostgreSQL) or knows where the change table ends (on SQLite), so nothing written after a
/// stream opened is missed.
pub async fn start(state: &AppState) -> AppResult<()> {
    let state = state.clone();
    state
        .changes
        .started
        .get_or_try_init(|| async {
            let (ready, listening) = tokio::sync::oneshot::channel::<Result<(), String>>();
            let task = state.clone();
            tokio::spawn(async move {
                match task.db.get_database_backend() {
                    DbBackend::Postgres => listen(task, ready).await,
                    _ => poll(task, ready).await,
                }
            });
            match listening.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(AppError::Unavailable(format!("the change feed cannot start: {e}"))),
                Err(_) => Err(AppError::internal("the change feed stopped")),
            }
        })
        .await
        .map(|_| ())
}

async fn listen(state: AppState, ready: tokio::sync::oneshot::Sender<Result<(), String>>) {
    let mut ready = Some(ready);
    loop {
        let pool = state.db.get_postgres_connection_pool().clone();
        let result: Result<(), sea_orm::sqlx::Error> = async {
            let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            if let Some(ready) = ready.take() {
                let _ = ready.send(Ok(()));
            }
            loop {
                let n = listener.recv().await?;
                if let Ok(change) = serde_json::from_str::<DataChange>(n.payload()) {
                    let _ = state.changes.tx.send(change);
                }
            }
        }
        .await;
        if let Err(e) = result {
            if let Some(ready) = ready.take() {
                let _ = ready.send(Err(e.to_string()));
                return;
            }
            tracing::warn!(target: "steward::system", error = %e, "the change feed's listener dropped; reconnecting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn newest(state: &AppState) -> Result<i64, sea_orm::DbErr> {
    let m = data_changes::Entity::find()
        .select_only()
        .column_as(data_changes::Column::Seq.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(&state.db)
        .await?;
    Ok(m.flatten().unwrap_or(0))
}

async fn poll(state: AppState, ready: tokio::sync::oneshot::Sender<Result<(), String>>) {
    let mut last = match newest(&state).await {
        Ok(m) => m,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let mut pruned = std::time::Instant::now();
    loop {
        tokio::time::sleep(POLL).await;
        if state.changes.tx.receiver_count() > 0 {
            let rows = data_changes::Entity::find()
                .filter(data_changes::Column::Seq.gt(last))
                .order_by_asc(data_changes::Column::Seq)
                .limit(1000)
                .all(&state.db)
                .await;
            if let Ok(rows) = rows {
                for r in rows {
                    last = r.seq;
                    let change = DataChange { table: r.table_name, id: r.row_id, customer_id: r.customer_id, op: r.op };
                    let _ = state.changes.tx.send(change);
                }
            }
        } else if let Ok(m) = newest(&state).await {
            // Nobody listens: skip what was written meanwhile.
            last = m;
        }
        if pruned.elapsed() > Duration::from_secs(60) {
            pruned = std::time::Instant::now();
            let cutoff = chrono::Utc::now().timestamp() - KEEP_SECS;
            let _ =
                data_changes::Entity::delete_many().filter(data_changes::Column::At.lt(cutoff)).exec(&state.db).await;
        }
    }
}

/// What a stream sends.
pub enum Followed {
    Change(DataChange),
    /// Changes came faster than this stream read them: reload.
    Lagged(u64),
    Ended(String),
}

/// The changes the caller may see, live: in the scope's customers, of the tables it may see,
/// and under View as only rows of the target's workspaces (checked row by row; deletes of
/// workspace-limited rows cannot be checked and are left out).
pub async fn follow(
    state: AppState,
    actor: &Actor,
    scope: &Scope,
    table: Option<String>,
    headers: axum::http::HeaderMap,
) -> AppResult<impl Stream<Item = Followed>> {
    let tables: Vec<&'static registry::Table> = match table.as_deref() {
        Some(name) => {
            vec![registry::table(name).ok_or_else(|| AppError::unknown("table", "is not a table of the explorer"))?]
        }
        None => registry::TABLES.iter().collect(),
    };
    let mut allowed = Vec::new();
    for t in tables {
        match super::explorer::visible(t, actor, scope) {
            Ok(cond) => {
                let limited = t.leaf.is_some_and(|l| actor.workspaces_with(l).is_some()) && t.rows != Rows::Tenant;
                allowed.push((t, limited.then_some(cond)));
            }
            Err(e) if table.is_some() => return Err(e),
            Err(_) => {}
        }
    }
    let customer = scope.customer_id();
    struct Follow {
        state: AppState,
        rx: broadcast::Receiver<DataChange>,
        allowed: Vec<(&'static registry::Table, Option<sea_orm::sea_query::Cond>)>,
        customer: Option<Uuid>,
        headers: axum::http::HeaderMap,
        checked: std::time::Instant,
        ended: bool,
    }
    let rx = state.changes.tx.subscribe();
    start(&state).await?;
    let f = Follow { state, rx, allowed, customer, headers, checked: std::time::Instant::now(), ended: false };
    Ok(futures::stream::unfold(f, |mut f| async move {
        if f.ended {
            return None;
        }
        loop {
            if f.checked.elapsed() >= RECHECK {
                f.checked = std::time::Instant::now();
                if let Err(why) =
                    crate::identity::principal::still_allowed(&f.state, &f.headers, "follow_explorer_changes").await
                {
                    f.ended = true;
                    return Some((Followed::Ended(why), f));
                }
            }
            let change = match tokio::time::timeout(RECHECK, f.rx.recv()).await {
                Err(_) => continue,
                Ok(Ok(change)) => change,
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => return Some((Followed::Lagged(n), f)),
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    f.ended = true;
                    return Some((Followed::Ended("the server is stopping".into()), f));
                }
            };
            if f.customer.is_some_and(|c| c != change.customer_id) {
                continue;
            }
            let Some((table, limited)) = f.allowed.iter().find(|(t, _)| t.name == change.table) else { continue };
            if let Some(cond) = limited {
                if change.op == "delete" {
                    continue;
                }
                let mut stmt = Query::select();
                stmt.expr(Expr::val(1))
                    .from(Alias::new(table.name))
                    .cond_where(cond.clone())
                    .and_where(Expr::col(Alias::new("id")).eq(change.id));
                match f.state.db.query_one(&stmt).await {
                    Ok(Some(_)) => {}
                    _ => continue,
                }
            }
            return Some((Followed::Change(change), f));
        }
    }))
}
