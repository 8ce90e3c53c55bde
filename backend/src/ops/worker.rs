//! The run queue's consumers and producer. Workers claim the oldest queued run with one
//! atomic statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers), so
//! several replicas on one database never execute a run twice. The scheduler enqueues due
//! flows with a compare-and-swap on `next_run_at`, so only one replica enqueues each tick.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

use crate::http::error::AppResult;
use crate::state::AppState;
use crate::store::entities::{flows, runs};
use crate::store::logs::LogLine;
use crate::tenancy::flows::{enqueue, parse_schedule};

/// Claims the oldest queued run for `worker`, marking it running.
pub async fn claim(state: &AppState, worker: &str) -> AppResult<Option<runs::Model>> {
    let backend = state.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE runs SET status = 'running', started_at = $1, worker_id = $2, attempt = attempt + 1 \
             WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING *"
        }
        _ => {
            "UPDATE runs SET status = 'running', started_at = ?, worker_id = ?, attempt = attempt + 1 \
             WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY queued_at, id LIMIT 1) AND status = 'queued' \
             RETURNING *"
        }
    };
    let stmt = Statement::from_sql_and_values(backend, sql, [Utc::now().into(), worker.into()]);
    Ok(runs::Entity::find().from_raw_sql(stmt).one(&state.db).await?)
}

/// Executes a claimed run and records its outcome. A run of a paused or deleted flow fails.
pub async fn execute(state: &AppState, run: runs::Model) -> AppResult<()> {
    let started = Instant::now();
    let flow = flows::Entity::find_by_id(run.flow_id).one(&state.db).await?;
    let outcome = match flow {
        None => Err("the flow no longer exists".to_string()),
        Some(f) if f.state == "paused" => Err(format!("the flow `{}` is paused", f.name)),
        Some(_) => {
            // The step executor: flows carry no step definitions in this schema yet, so a run is
            // one unit of work whose cost varies by run.
            let work = 5 + (run.id.as_u128() % 20) as u64;
            tokio::time::sleep(Duration::from_millis(work)).await;
            Ok(())
        }
    };
    let (status, error) = match outcome {
        Ok(()) => ("succeeded", None),
        Err(e) => ("failed", Some(e)),
    };
    let mut line = LogLine::new(
        "system",
        "user_task",
        if error.is_some() { "warn" } else { "info" },
        match &error {
            Some(e) => format!("run {} failed: {e}", run.id),
            None => format!("run {} succeeded", run.id),
        },
    );
    line.customer_id = Some(run.customer_id);
    line.fields = json!({
        "run_id": run.id, "flow_id": run.flow_id, "status": status, "attempt": run.attempt,
        "duration_ms": started.elapsed().as_millis() as u64, "worker": run.worker_id,
    });
    state.logs.emit(line);
    runs::Entity::update_many()
        .col_expr(runs::Column::Status, Expr::value(status))
        .col_expr(runs::Column::FinishedAt, Expr::value(Utc::now()))
        .col_expr(runs::Column::DurationMs, Expr::value(started.elapsed().as_millis() as i64))
        .col_expr(runs::Column::Error, Expr::value(error))
        .filter(runs::Column::Id.eq(run.id))
        .filter(runs::Column::Status.eq("running"))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Claims and executes queued runs until none is left; returns how many it ran.
pub async fn drain(state: &AppState, worker: &str) -> AppResult<usize> {
    let mut n = 0;
    while let Some(run) = claim(state, worker).await? {
        execute(state, run).await?;
        n += 1;
    }
    Ok(n)
}

/// Enqueues a run for every due, active, published flow; returns how many it enqueued.
pub async fn schedule_due(state: &AppState) -> AppResult<usize> {
    let now = Utc::now();
    let due = flows::Entity::find()
        .filter(flows::Column::State.eq("active"))
        .filter(flows::Column::Status.eq("published"))
        .filter(flows::Column::NextRunAt.lte(now))
        .limit(500)
        .all(&state.db)
        .await?;
    let mut enqueued = 0;
    for flow in due {
        let Some(every) = flow.schedule.as_deref().and_then(parse_schedule) else { continue };
        let txn = crate::store::begin(&state.db).await?;
        let moved = flows::Entity::update_many()
            .col_expr(flows::Column::NextRunAt, Expr::value(now + every))
            .filter(flows::Column::Id.eq(flow.id))
            .filter(flows::Column::NextRunAt.eq(flow.next_run_at))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 1 {
            enqueue(&txn, &flow, "schedule", None, now).await?;
            enqueued += 1;
        }
        txn.commit().await?;
    }
    Ok(enqueued)
}

/// Starts `workers` queue consumers and the scheduler; they run until the process ends.
pub fn spawn(state: AppState, workers: usize, poll: Duration) -> Vec<JoinHandle<()>> {
    let node = state.telemetry.replica_id.clone();
    let mut handles: Vec<JoinHandle<()>> = (0..workers)
        .map(|i| {
            let state = state.clone();
            let name = format!("{}-{i}", node.get(..8).unwrap_or("worker"));
            tokio::spawn(async move {
                let board = state.telemetry.workers.clone();
                let slot = board.register(&name);
                tracing::info!(target: "steward::platform", kind = "worker", worker = %name, "worker {name} started");
                loop {
                    match claim(&state, &name).await {
                        Ok(Some(run)) => {
                            board.beat(slot, true, false);
                            if let Err(e) = execute(&state, run).await {
                                tracing::error!(worker = %name, error = %e, "run failed to record");
                            }
                            board.beat(slot, false, true);
                        }
                        Ok(None) => {
                            board.beat(slot, false, false);
                            tokio::time::sleep(poll).await
                        }
                        Err(e) => {
                            tracing::warn!(worker = %name, error = %e, "claiming a run failed");
                            tokio::time::sleep(poll * 4).await;
                        }
                    }
                }
            })
        })
        .collect();
    handles.push(tokio::spawn(async move {
        loop {
            state.telemetry.workers.scheduler_ticked();
            if let Err(e) = schedule_due(&state).await {
                tracing::warn!(error = %e, "scheduling due flows failed");
            }
            tokio::time::sleep(poll * 4).await;
        }
    }));
    handles
}
