//! The run queue's consumers and producer. Workers claim the oldest queued run whose backoff
//! has passed with one atomic statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite
//! serialises writers), so several replicas on one database never execute a run twice. A run's
//! outcome is written only by the worker holding that attempt (`worker_id` and `attempt` in the
//! compare-and-swap), so a run re-queued by the reaper is never recorded twice. The scheduler
//! enqueues due flows with a compare-and-swap on `next_run_at`, so only one replica enqueues
//! each tick.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use steward_shared::api::StepReport;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::apps::manifest::FlowDefinition;
use crate::http::error::AppResult;
use crate::ops::steps::{Execution, Stop};
use crate::state::AppState;
use crate::store::entities::{flows, runs};
use crate::store::logs::LogLine;
use crate::tenancy::flows::{enqueue, parse_schedule};

/// A run of a flow without a definition is bounded by this.
const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// A running run is orphaned when it has run this much longer than its timeout (its worker's
/// replica died).
const ORPHAN_GRACE_SECS: i64 = 60;
/// The longest wait between retries.
const MAX_BACKOFF_SECS: u64 = 3_600;

/// Claims the oldest queued run for `worker`, marking it running.
pub async fn claim(state: &AppState, worker: &str) -> AppResult<Option<runs::Model>> {
    let backend = state.db.get_database_backend();
    // SQLite has no row locks: the `status = 'queued'` re-check makes a lost race claim nothing.
    let lock = if backend == DbBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE runs SET status = 'running', started_at = $1, worker_id = $2, attempt = attempt + 1 \
         WHERE id = (SELECT id FROM runs WHERE status = 'queued' AND (not_before IS NULL OR not_before <= $1) \
         ORDER BY queued_at, id LIMIT 1 {lock}) AND status = 'queued' \
         RETURNING *"
    );
    let stmt = crate::store::statement(backend, &sql, [Utc::now().into(), worker.into()]);
    Ok(runs::Entity::find().from_raw_sql(stmt).one(&state.db).await?)
}

/// How an attempt ended.
enum Outcome {
    Succeeded,
    Cancelled,
    /// Failed; `retry` when the flow's definition allows another attempt.
    Failed {
        error: String,
        step: Option<usize>,
        record: Option<uuid::Uuid>,
        retry: bool,
    },
}

/// Executes a claimed run and records its outcome: its flow's steps under the definition's
/// timeout; a failure is queued again after its backoff while retries remain.
pub async fn execute(state: &AppState, run: runs::Model) -> AppResult<()> {
    let started = Instant::now();
    let flow = flows::Entity::find_by_id(run.flow_id).one(&state.db).await?;
    let connector = flow.as_ref().and_then(|f| f.connector_id);
    let mut reports: Vec<StepReport> = Vec::new();
    let mut definition: Option<FlowDefinition> = None;
    let outcome = match flow {
        None => Outcome::Failed { error: "the flow no longer exists".into(), step: None, record: None, retry: false },
        Some(f) if f.state == "paused" => Outcome::Failed {
            error: format!("the flow `{}` is paused", f.name),
            step: None,
            record: None,
            retry: false,
        },
        Some(f) => match f.definition.map(serde_json::from_value::<FlowDefinition>) {
            // A flow made by hand has no steps: it is neither published nor triggered, and a
            // run queued before that rule does not pretend to have done something.
            None => Outcome::Failed {
                error: format!("the flow `{}` has no steps: there is nothing to run", f.name),
                step: None,
                record: None,
                retry: false,
            },
            Some(Err(e)) => Outcome::Failed {
                error: format!("the flow's definition cannot be read: {e}"),
                step: None,
                record: None,
                retry: false,
            },
            Some(Ok(def)) => {
                let timeout = Duration::from_secs(u64::from(def.timeout_seconds.max(1)));
                let retries_left = run.attempt <= def.retries as i32;
                let exec = Execution { state, run: &run, definition: &def };
                let result = tokio::time::timeout(timeout, exec.run(&mut reports)).await;
                let outcome = match result {
                    Ok(Ok(())) => Outcome::Succeeded,
                    Ok(Err(Stop::Cancelled)) => Outcome::Cancelled,
                    Ok(Err(Stop::Failed { step, record, message })) => Outcome::Failed {
                        error: format!("step {} ({}) failed: {message}", step + 1, kind_of(&def, step)),
                        step: Some(step),
                        record,
                        retry: retries_left,
                    },
                    Ok(Err(Stop::Store(e))) => {
                        let step = reports.iter().position(|r| r.status == "failed");
                        Outcome::Failed {
                            error: format!("storage failed: {e}"),
                            step,
                            record: None,
                            retry: retries_left,
                        }
                    }
                    Err(_) => {
                        let step = reports.iter().position(|r| r.status == "running");
                        if let Some(r) = step.and_then(|i| reports.get_mut(i)) {
                            r.status = "failed".into();
                            r.error = Some("timed out".into());
                        }
                        let place =
                            step.map(|i| format!(" in step {} ({})", i + 1, kind_of(&def, i))).unwrap_or_default();
                        Outcome::Failed {
                            error: format!("timed out after {} s{place}", timeout.as_secs()),
                            step,
                            record: None,
                            retry: retries_left,
                        }
                    }
                };
                definition = Some(def);
                outcome
            }
        },
    };
    let status = record(state, &run, outcome, reports, definition.as_ref(), started).await?;
    if let (Some(connector), Some(status)) = (connector, status) {
        crate::ops::probes::record_run(state, connector, status, Utc::now()).await?;
    }
    Ok(())
}

fn kind_of(def: &FlowDefinition, step: usize) -> &'static str {
    def.steps.get(step).map(|s| s.kind()).unwrap_or("?")
}

/// Writes the attempt's outcome, when this worker still holds it; returns the run's final
/// status when it has one (not when it is queued for a retry, nor when it was not ours).
async fn record(
    state: &AppState,
    run: &runs::Model,
    outcome: Outcome,
    reports: Vec<StepReport>,
    definition: Option<&FlowDefinition>,
    started: Instant,
) -> AppResult<Option<&'static str>> {
    let now = Utc::now();
    let elapsed = started.elapsed().as_millis() as i64;
    let (status, error, step, record, not_before) = match &outcome {
        Outcome::Succeeded => ("succeeded", None, None, None, None),
        Outcome::Cancelled => ("cancelled", Some("cancelled by an operator".to_string()), None, None, None),
        Outcome::Failed { error, step, record, retry } => {
            let backoff = definition.map(|d| u64::from(d.backoff_seconds)).unwrap_or(0);
            let wait = backoff.saturating_mul(1 << (run.attempt.clamp(1, 20) - 1)).min(MAX_BACKOFF_SECS);
            let not_before = retry.then(|| now + chrono::Duration::seconds(wait as i64));
            (if *retry { "queued" } else { "failed" }, Some(error.clone()), *step, *record, not_before)
        }
    };
    let done = status != "queued";
    let steps = serde_json::to_value(&reports).unwrap_or_default();
    let written = runs::Entity::update_many()
        .col_expr(runs::Column::Status, Expr::value(status))
        .col_expr(runs::Column::FinishedAt, Expr::value(done.then_some(now)))
        .col_expr(runs::Column::DurationMs, Expr::value(elapsed))
        .col_expr(runs::Column::Error, Expr::value(error.clone()))
        .col_expr(runs::Column::Steps, Expr::value(steps))
        .col_expr(runs::Column::FailedStep, Expr::value(step.map(|i| i as i32)))
        .col_expr(runs::Column::FailedRecord, Expr::value(record))
        .col_expr(runs::Column::NotBefore, Expr::value(not_before))
        .col_expr(runs::Column::WorkerId, Expr::value(if done { run.worker_id.clone() } else { None }))
        .filter(runs::Column::Id.eq(run.id))
        .filter(runs::Column::Status.eq("running"))
        .filter(runs::Column::Attempt.eq(run.attempt))
        .filter(runs::Column::WorkerId.eq(run.worker_id.clone()))
        .exec(&state.db)
        .await?;
    let message = match (&outcome, written.rows_affected) {
        (_, 0) => {
            format!("run {} attempt {} ended but was no longer this worker's; nothing recorded", run.id, run.attempt)
        }
        (Outcome::Succeeded, _) => format!("run {} succeeded", run.id),
        (Outcome::Cancelled, _) => format!("run {} cancelled", run.id),
        (Outcome::Failed { error, retry: true, .. }, _) => format!(
            "run {} attempt {} failed: {error}; retrying after {}",
            run.id,
            run.attempt,
            not_before.map(|t| t.to_rfc3339()).unwrap_or_default()
        ),
        (Outcome::Failed { error, .. }, _) => format!("run {} failed: {error}", run.id),
    };
    let level = if matches!(outcome, Outcome::Succeeded) && written.rows_affected == 1 { "info" } else { "warn" };
    let mut line = LogLine::new("system", "user_task", level, message);
    line.customer_id = Some(run.customer_id);
    line.fields = json!({
        "run_id": run.id, "flow_id": run.flow_id, "status": status, "attempt": run.attempt,
        "duration_ms": elapsed, "worker": run.worker_id, "failed_step": step.map(|i| i + 1),
        "failed_record": record,
    });
    state.logs.emit(line);
    Ok((done && written.rows_affected == 1).then_some(status))
}

/// Puts back on the queue (or fails, when no retry is left) the runs whose worker went away:
/// still `running` long after their timeout. Returns how many it moved.
pub async fn reap_orphans(state: &AppState) -> AppResult<u64> {
    let now = Utc::now();
    let candidates = runs::Entity::find()
        .filter(runs::Column::Status.eq("running"))
        .filter(runs::Column::StartedAt.lt(now - chrono::Duration::seconds(ORPHAN_GRACE_SECS)))
        .limit(200)
        .all(&state.db)
        .await?;
    let mut moved = 0;
    for run in candidates {
        let def = flows::Entity::find_by_id(run.flow_id)
            .one(&state.db)
            .await?
            .and_then(|f| f.definition)
            .and_then(|d| serde_json::from_value::<FlowDefinition>(d).ok());
        let timeout = def.as_ref().map(|d| u64::from(d.timeout_seconds)).unwrap_or(DEFAULT_TIMEOUT_SECS);
        let started = run.started_at.unwrap_or(run.queued_at);
        if started + chrono::Duration::seconds(timeout as i64 + ORPHAN_GRACE_SECS) > now {
            continue;
        }
        let retry = def.as_ref().is_some_and(|d| run.attempt <= d.retries as i32);
        let error = format!(
            "worker {} stopped answering during attempt {}",
            run.worker_id.as_deref().unwrap_or("?"),
            run.attempt
        );
        let written = runs::Entity::update_many()
            .col_expr(runs::Column::Status, Expr::value(if retry { "queued" } else { "failed" }))
            .col_expr(runs::Column::FinishedAt, Expr::value((!retry).then_some(now)))
            .col_expr(runs::Column::Error, Expr::value(error.clone()))
            .col_expr(runs::Column::WorkerId, Expr::value(Option::<String>::None))
            .filter(runs::Column::Id.eq(run.id))
            .filter(runs::Column::Status.eq("running"))
            .filter(runs::Column::Attempt.eq(run.attempt))
            .exec(&state.db)
            .await?;
        if written.rows_affected == 1 {
            moved += 1;
            let mut line = LogLine::new(
                "system",
                "user_task",
                "warn",
                format!("run {}: {error}; {}", run.id, if retry { "queued again" } else { "failed" }),
            );
            line.customer_id = Some(run.customer_id);
            line.fields = json!({ "run_id": run.id, "flow_id": run.flow_id, "attempt": run.attempt });
            state.logs.emit(line);
        }
    }
    Ok(moved)
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
        .filter(flows::Column::Definition.is_not_null())
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

/// This replica's run workers. A restart stops taking runs, lets each worker finish the run it
/// holds (its outcome is recorded as usual), then starts a fresh set: no run is dropped and
/// none runs twice.
pub struct Pool {
    state: AppState,
    size: usize,
    poll: Duration,
    current: Mutex<Generation>,
}

struct Generation {
    number: u64,
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

/// What a restart did.
#[derive(Debug, Clone, Copy)]
pub struct Restarted {
    pub generation: u64,
    pub workers: usize,
    /// Runs that were executing when the restart began and finished before the old workers left.
    pub finished_in_flight: usize,
    pub waited_ms: u64,
}

impl Pool {
    /// Starts `size` workers.
    pub fn start(state: AppState, size: usize, poll: Duration) -> Arc<Self> {
        let first = spawn_generation(&state, 1, size, poll);
        Arc::new(Self { state, size, poll, current: Mutex::new(first) })
    }

    /// Stops the workers after their current run and starts new ones.
    pub async fn restart(&self) -> Restarted {
        let started = Instant::now();
        let mut current = self.current.lock().await;
        let busy = self.state.telemetry.workers.list().iter().filter(|w| w.state == "busy").count();
        let _ = current.stop.send(true);
        for h in current.handles.drain(..) {
            let _ = h.await;
        }
        self.state.telemetry.workers.clear();
        let number = current.number + 1;
        *current = spawn_generation(&self.state, number, self.size, self.poll);
        tracing::info!(
            target: "steward::platform",
            kind = "worker_restart",
            generation = number,
            workers = self.size,
            finished_in_flight = busy,
            "worker pool restarted: {} workers, {busy} runs finished first",
            self.size
        );
        Restarted {
            generation: number,
            workers: self.size,
            finished_in_flight: busy,
            waited_ms: started.elapsed().as_millis() as u64,
        }
    }

    /// Stops the workers after their current run (at shutdown).
    pub async fn stop(&self) {
        let mut current = self.current.lock().await;
        let _ = current.stop.send(true);
        for h in current.handles.drain(..) {
            let _ = h.await;
        }
    }
}

fn spawn_generation(state: &AppState, number: u64, size: usize, poll: Duration) -> Generation {
    let (stop, watching) = watch::channel(false);
    let node = state.telemetry.replica_id.clone();
    let handles = (0..size)
        .map(|i| {
            let state = state.clone();
            let mut stop = watching.clone();
            let name = format!("{}-{number}.{i}", node.get(..8).unwrap_or("worker"));
            tokio::spawn(async move {
                let board = state.telemetry.workers.clone();
                let slot = board.register(&name);
                tracing::info!(target: "steward::platform", kind = "worker", worker = %name, "worker {name} started");
                while !*stop.borrow() {
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
                            tokio::select! {
                                _ = tokio::time::sleep(poll) => {}
                                _ = stop.changed() => {}
                            }
                        }
                        Err(e) => {
                            tracing::warn!(worker = %name, error = %e, "claiming a run failed");
                            tokio::select! {
                                _ = tokio::time::sleep(poll * 4) => {}
                                _ = stop.changed() => {}
                            }
                        }
                    }
                }
            })
        })
        .collect();
    Generation { number, stop, handles }
}

/// Starts the scheduler and the orphan reaper; they run until the process ends.
pub fn spawn_scheduler(state: AppState, poll: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_reap = Instant::now();
        loop {
            state.telemetry.workers.scheduler_ticked();
            if let Err(e) = schedule_due(&state).await {
                tracing::warn!(error = %e, "scheduling due flows failed");
            }
            if last_reap.elapsed() >= Duration::from_secs(15) {
                last_reap = Instant::now();
                if let Err(e) = reap_orphans(&state).await {
                    tracing::warn!(error = %e, "re-queueing orphaned runs failed");
                }
            }
            tokio::time::sleep(poll * 4).await;
        }
    })
}
