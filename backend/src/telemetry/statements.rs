//! Slow statements, as sea-orm reports every statement it runs: those over the threshold are
//! aggregated per minute by their text (values are bound apart, so the text is the shape),
//! and the last 15 minutes are kept.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use steward_shared::ops::SlowStatement;

/// Minutes kept.
const KEEP_MINUTES: u64 = 15;
/// Distinct statements kept per minute; more are folded into the slowest kept.
const MAX_PER_MINUTE: usize = 200;
/// Statement text kept, in characters.
const MAX_TEXT: usize = 600;

pub struct SlowStatements {
    pub threshold: Duration,
    /// Every statement observed, slow or not.
    observed: AtomicU64,
    started: Instant,
    minutes: Mutex<VecDeque<(u64, HashMap<String, Aggregate>)>>,
}

#[derive(Default, Clone, Copy)]
struct Aggregate {
    count: u64,
    total: Duration,
    max: Duration,
}

impl SlowStatements {
    pub fn new(threshold: Duration) -> Self {
        Self { threshold, observed: AtomicU64::new(0), started: Instant::now(), minutes: Mutex::default() }
    }

    /// Called for every statement; cheap unless it was slow.
    pub fn observe(&self, sql: &str, elapsed: Duration) {
        self.observed.fetch_add(1, Ordering::Relaxed);
        if elapsed < self.threshold {
            return;
        }
        let minute = self.started.elapsed().as_secs() / 60;
        let Ok(mut minutes) = self.minutes.lock() else { return };
        if minutes.back().is_none_or(|(m, _)| *m != minute) {
            minutes.push_back((minute, HashMap::new()));
        }
        while minutes.front().is_some_and(|(m, _)| m + KEEP_MINUTES <= minute) {
            minutes.pop_front();
        }
        let Some((_, statements)) = minutes.back_mut() else { return };
        if statements.len() >= MAX_PER_MINUTE && !statements.contains_key(sql) {
            return;
        }
        let entry = statements.entry(sql.chars().take(MAX_TEXT).collect()).or_default();
        entry.count += 1;
        entry.total += elapsed;
        entry.max = entry.max.max(elapsed);
    }

    /// How many statements this replica has run: what a request costs in round trips, read
    /// before and after it.
    pub fn observed(&self) -> u64 {
        self.observed.load(Ordering::Relaxed)
    }

    /// The slowest statements (by their slowest run) of the last 15 minutes.
    pub fn slowest(&self, n: usize) -> Vec<SlowStatement> {
        let mut merged: HashMap<String, Aggregate> = HashMap::new();
        if let Ok(minutes) = self.minutes.lock() {
            for (_, statements) in minutes.iter() {
                for (sql, a) in statements {
                    let e = merged.entry(sql.clone()).or_default();
                    e.count += a.count;
                    e.total += a.total;
                    e.max = e.max.max(a.max);
                }
            }
        }
        let mut out: Vec<SlowStatement> = merged
            .into_iter()
            .map(|(statement, a)| {
                let total_ms = a.total.as_secs_f64() * 1000.0;
                SlowStatement {
                    statement,
                    count: a.count,
                    total_ms,
                    mean_ms: total_ms / a.count.max(1) as f64,
                    max_ms: a.max.as_secs_f64() * 1000.0,
                    source: "server".into(),
                }
            })
            .collect();
        out.sort_by(|a, b| b.max_ms.total_cmp(&a.max_ms));
        out.truncate(n);
        out
    }
}
