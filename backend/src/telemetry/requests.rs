//! Request metrics, measured by the server itself: per operation a count, 4xx and 5xx apart,
//! requests in flight, and latency. Latency goes two ways: HDR histograms per minute, kept for
//! 15 minutes, give the System status page exact p50/p95/p99 over the last 1, 5 and 15
//! minutes; cumulative Prometheus histograms give `GET /metrics` what scrapers expect.

use hdrhistogram::Histogram;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use steward_shared::ops::{LatencyWindow, OperationStats};

/// The windows the status page reports, in minutes.
pub const WINDOWS: [u32; 3] = [1, 5, 15];
/// Operations tracked at most (the route table has fewer; the rest are counted as `other`).
const MAX_OPERATIONS: usize = 500;
/// Latencies above this (µs) are clamped into the top bucket.
const MAX_MICROS: u64 = 300_000_000;

/// Every operation's figures and the registry `/metrics` is rendered from.
pub struct RequestMetrics {
    started: Instant,
    ops: RwLock<HashMap<String, Arc<OperationMetrics>>>,
    in_flight: AtomicI64,
    pub registry: Registry,
    prom_requests: IntCounterVec,
    prom_latency: HistogramVec,
    prom_in_flight: IntGauge,
}

struct OperationMetrics {
    /// The Prometheus children of this operation, resolved once (no label lookup per request).
    prom_by_class: [prometheus::IntCounter; 4],
    prom_latency: prometheus::Histogram,
    count: AtomicU64,
    errors_4xx: AtomicU64,
    errors_5xx: AtomicU64,
    in_flight: AtomicI64,
    minutes: Mutex<VecDeque<Minute>>,
}

/// One minute of one operation's latencies.
struct Minute {
    index: u64,
    latencies: Histogram<u32>,
    errors: u64,
}

/// Held while a request is answered; dropping it (also on a cancelled request) ends it.
pub struct InFlight {
    metrics: Arc<RequestMetrics>,
    op: Arc<OperationMetrics>,
    started: Instant,
    finished: bool,
}

const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

impl RequestMetrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let prom_requests = IntCounterVec::new(
            Opts::new("steward_http_requests_total", "Requests answered, by operation and status class"),
            &["operation", "status"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let prom_latency = HistogramVec::new(
            HistogramOpts::new("steward_http_request_duration_seconds", "Time to answer a request, by operation")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["operation"],
        )
        .unwrap_or_else(|_| unreachable_metric());
        let prom_in_flight = IntGauge::new("steward_http_requests_in_flight", "Requests being answered")
            .unwrap_or_else(|_| unreachable_metric());
        for collector in [
            Box::new(prom_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(prom_latency.clone()),
            Box::new(prom_in_flight.clone()),
        ] {
            let _ = registry.register(collector);
        }
        Self {
            started: Instant::now(),
            ops: RwLock::default(),
            in_flight: AtomicI64::new(0),
            registry,
            prom_requests,
            prom_latency,
            prom_in_flight,
        }
    }

    fn operation(&self, name: &str) -> Arc<OperationMetrics> {
        if let Some(op) = self.ops.read().ok().and_then(|ops| ops.get(name).cloned()) {
            return op;
        }
        let new = |name: &str| Arc::new(OperationMetrics::new(&self.prom_requests, &self.prom_latency, name));
        let Ok(mut ops) = self.ops.write() else { return new(name) };
        let name = if ops.len() >= MAX_OPERATIONS && !ops.contains_key(name) { "other" } else { name };
        ops.entry(name.to_owned()).or_insert_with(|| new(name)).clone()
    }

    /// Starts measuring one request of `operation`.
    pub fn start(self: &Arc<Self>, operation: &str) -> InFlight {
        let op = self.operation(operation);
        op.in_flight.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.prom_in_flight.inc();
        InFlight { metrics: self.clone(), op, started: Instant::now(), finished: false }
    }

    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// (requests, 5xx answers) since start, over every operation.
    pub fn totals(&self) -> (u64, u64) {
        let Ok(ops) = self.ops.read() else { return (0, 0) };
        ops.values().fold((0, 0), |(n, e), op| {
            (n + op.count.load(Ordering::Relaxed), e + op.errors_5xx.load(Ordering::Relaxed))
        })
    }

    fn minute_now(&self) -> u64 {
        self.started.elapsed().as_secs() / 60
    }

    /// Every operation's figures, busiest first.
    pub fn snapshot(&self) -> Vec<OperationStats> {
        let now = self.minute_now();
        let ops: Vec<(String, Arc<OperationMetrics>)> = match self.ops.read() {
            Ok(ops) => ops.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(_) => Vec::new(),
        };
        let mut out: Vec<OperationStats> = ops
            .into_iter()
            .map(|(operation, op)| OperationStats {
                operation,
                count: op.count.load(Ordering::Relaxed),
                errors_4xx: op.errors_4xx.load(Ordering::Relaxed),
                errors_5xx: op.errors_5xx.load(Ordering::Relaxed),
                in_flight: op.in_flight.load(Ordering::Relaxed),
                windows: WINDOWS.iter().map(|&w| op.window(now, w)).collect(),
            })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.operation.cmp(&b.operation)));
        out
    }
}

impl Default for RequestMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The metric definitions above are constants that prometheus accepts; reaching this is a bug
/// in them, caught by the first test that builds a state.
fn unreachable_metric<T>() -> T {
    panic!("a request metric definition is invalid")
}

impl OperationMetrics {
    fn new(requests: &IntCounterVec, latency: &HistogramVec, name: &str) -> Self {
        Self {
            prom_by_class: CLASSES.map(|class| requests.with_label_values(&[name, class])),
            prom_latency: latency.with_label_values(&[name]),
            count: AtomicU64::new(0),
            errors_4xx: AtomicU64::new(0),
            errors_5xx: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
            minutes: Mutex::new(VecDeque::with_capacity(16)),
        }
    }

    fn record(&self, minute: u64, micros: u64, error: bool) {
        let Ok(mut minutes) = self.minutes.lock() else { return };
        if minutes.back().is_none_or(|m| m.index != minute) {
            let Ok(latencies) = Histogram::new_with_bounds(1, MAX_MICROS, 2) else { return };
            minutes.push_back(Minute { index: minute, latencies, errors: 0 });
        }
        while minutes.front().is_some_and(|m| m.index + u64::from(WINDOWS[2]) <= minute) {
            minutes.pop_front();
        }
        if let Some(m) = minutes.back_mut() {
            m.latencies.saturating_record(micros.clamp(1, MAX_MICROS));
            m.errors += u64::from(error);
        }
    }

    fn window(&self, now: u64, minutes_back: u32) -> LatencyWindow {
        let mut merged: Option<Histogram<u32>> = None;
        let mut errors = 0;
        if let Ok(minutes) = self.minutes.lock() {
            for m in minutes.iter().filter(|m| m.index + u64::from(minutes_back) > now) {
                errors += m.errors;
                match merged.as_mut() {
                    Some(h) => {
                        let _ = h.add(&m.latencies);
                    }
                    None => merged = Some(m.latencies.clone()),
                }
            }
        }
        let ms = |h: &Histogram<u32>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        let (count, p50, p95, p99) = match &merged {
            Some(h) => (h.len(), ms(h, 0.50), ms(h, 0.95), ms(h, 0.99)),
            None => (0, 0.0, 0.0, 0.0),
        };
        LatencyWindow {
            minutes: minutes_back,
            count,
            errors,
            error_rate: if count == 0 { 0.0 } else { errors as f64 / count as f64 },
            p50_ms: p50,
            p95_ms: p95,
            p99_ms: p99,
        }
    }
}

impl InFlight {
    /// Records the answer's status; the latency is measured from [`RequestMetrics::start`].
    pub fn finish(mut self, status: u16) {
        self.record(Some(status));
    }

    fn record(&mut self, status: Option<u16>) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let elapsed: Duration = self.started.elapsed();
        let m = &self.metrics;
        self.op.in_flight.fetch_sub(1, Ordering::Relaxed);
        m.in_flight.fetch_sub(1, Ordering::Relaxed);
        m.prom_in_flight.dec();
        // A request dropped before it was answered (the client went away) counts as a 499.
        let status = status.unwrap_or(499);
        self.op.count.fetch_add(1, Ordering::Relaxed);
        let class = match status {
            500.. => {
                self.op.errors_5xx.fetch_add(1, Ordering::Relaxed);
                3
            }
            400..=499 => {
                self.op.errors_4xx.fetch_add(1, Ordering::Relaxed);
                2
            }
            300..=399 => 1,
            _ => 0,
        };
        self.op.record(m.minute_now(), elapsed.as_micros() as u64, status >= 400);
        if let Some(counter) = self.op.prom_by_class.get(class) {
            counter.inc();
        }
        self.op.prom_latency.observe(elapsed.as_secs_f64());
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.record(None);
    }
}
