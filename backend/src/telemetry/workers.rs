//! The run workers of this replica as the status page shows them: busy or idle, runs done,
//! and the time of each one's last turn (a heartbeat that stops moving names a stuck worker).

use chrono::{DateTime, Utc};
use std::sync::Mutex;
use steward_shared::ops::WorkerStatus;

#[derive(Default)]
pub struct WorkerBoard {
    workers: Mutex<Vec<WorkerStatus>>,
    /// The scheduler's last tick.
    scheduler_tick: Mutex<Option<DateTime<Utc>>>,
}

impl WorkerBoard {
    /// Adds a worker; returns its place on the board.
    pub fn register(&self, name: &str) -> usize {
        let Ok(mut workers) = self.workers.lock() else { return usize::MAX };
        workers.push(WorkerStatus { name: name.into(), state: "idle".into(), runs: 0, heartbeat_at: Utc::now() });
        workers.len() - 1
    }

    /// The worker at `slot` took a run (`busy`), or finished one or found none (`idle`).
    pub fn beat(&self, slot: usize, busy: bool, finished_run: bool) {
        let Ok(mut workers) = self.workers.lock() else { return };
        if let Some(w) = workers.get_mut(slot) {
            w.state = if busy { "busy" } else { "idle" }.into();
            w.runs += u64::from(finished_run);
            w.heartbeat_at = Utc::now();
        }
    }

    /// Forgets every worker (the pool restarted; the new ones register again).
    pub fn clear(&self) {
        if let Ok(mut workers) = self.workers.lock() {
            workers.clear();
        }
    }

    pub fn scheduler_ticked(&self) {
        if let Ok(mut t) = self.scheduler_tick.lock() {
            *t = Some(Utc::now());
        }
    }

    pub fn scheduler_tick(&self) -> Option<DateTime<Utc>> {
        self.scheduler_tick.lock().ok().and_then(|t| *t)
    }

    pub fn list(&self) -> Vec<WorkerStatus> {
        self.workers.lock().map(|w| w.clone()).unwrap_or_default()
    }
}
