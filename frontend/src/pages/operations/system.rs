//! System status: the platform's own health as the server measures it — requests per
//! operation, the database, the run queue and workers, caches, replicas and slow statements.
//! Refreshed every five seconds while open.

use leptos::prelude::*;
use steward_shared::ops::{OperationStats, SystemStatus};

use crate::api::{self, ApiError};
use crate::components::form::{ErrorBanner, Loading};
use crate::pages::fmt::when;

/// Refresh period of the page.
const EVERY_MS: u64 = 5000;

pub fn bytes(n: Option<u64>) -> String {
    match n {
        None => "—".into(),
        Some(n) if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30)),
        Some(n) if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        Some(n) if n >= 1 << 10 => format!("{:.0} KiB", n as f64 / 1024.0),
        Some(n) => format!("{n} B"),
    }
}

pub fn secs(s: Option<f64>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s < 1.0 => format!("{:.0} ms", s * 1000.0),
        Some(s) if s < 120.0 => format!("{s:.1} s"),
        Some(s) if s < 7200.0 => format!("{:.0} min", s / 60.0),
        Some(s) if s < 172_800.0 => format!("{:.1} h", s / 3600.0),
        Some(s) => format!("{:.1} d", s / 86400.0),
    }
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

#[component]
pub fn SystemPage() -> impl IntoView {
    let status = RwSignal::new(None::<SystemStatus>);
    let error = RwSignal::new(None::<ApiError>);
    let window = RwSignal::new(1usize);
    let load = move || {
        leptos::task::spawn_local(async move {
            match api::system_status().await {
                Ok(s) => {
                    error.set(None);
                    status.set(Some(s));
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    load();
    let handle = set_interval_with_handle(load, std::time::Duration::from_millis(EVERY_MS)).ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    view! {
        <ErrorBanner error=error.into()/>
        {move || match status.get() {
            None => view! { <Loading/> }.into_any(),
            Some(s) => view! { <StatusView s=s window=window/> }.into_any(),
        }}
    }
}

#[component]
fn StatusView(s: SystemStatus, window: RwSignal<usize>) -> impl IntoView {
    let db = s.database.clone();
    let q = s.queue.clone();
    let busy = q.workers.iter().filter(|w| w.state == "busy").count();
    let kpi = |label: &'static str, value: String, sub: String| {
        view! { <div class="kpi"><span class="kpi-label">{label}</span><span class="kpi-value small">{value}</span><span class="kpi-sub">{sub}</span></div> }
    };
    let ops = s.requests.operations.clone();
    let op_row = move |o: OperationStats| {
        let w = o.windows.get(window.get()).cloned().or_else(|| o.windows.first().cloned());
        let (count, rate, p50, p95, p99) = w
            .map(|w| (w.count, w.error_rate, ms(w.p50_ms), ms(w.p95_ms), ms(w.p99_ms)))
            .unwrap_or((0, 0.0, "—".into(), "—".into(), "—".into()));
        let rate_class = if rate >= 0.05 { "num bad" } else { "num" };
        view! {
            <tr>
                <td class="mono">{o.operation.clone()}</td>
                <td class="num">{o.count}</td>
                <td class="num">{o.errors_4xx}</td>
                <td class={if o.errors_5xx > 0 { "num bad" } else { "num" }}>{o.errors_5xx}</td>
                <td class="num">{count}</td>
                <td class=rate_class>{format!("{:.1}%", rate * 100.0)}</td>
                <td class="num">{p50}</td><td class="num">{p95}</td><td class="num">{p99}</td>
            </tr>
        }
    };
    view! {
        <div class="kpis" data-testid="system-kpis">
            {kpi("Uptime", secs(Some(s.replica.uptime_secs as f64)), format!("{} resident", bytes(s.rss_bytes)))}
            {kpi("In flight", s.requests.in_flight.to_string(), "on this replica".into())}
            {kpi("Database round trip", ms(db.round_trip_ms), format!("pool wait {}", ms(db.pool.acquire_ms)))}
            {kpi("Run queue", q.depth.to_string(), format!("{} running, oldest {}", q.running, secs(q.oldest_queued_secs)))}
            {kpi("Scheduler lag", secs(Some(q.scheduler_lag_secs)), format!("{busy}/{} workers busy", q.workers.len()))}
            {kpi("Active sessions", s.sessions_active.to_string(), format!("{} audit events · {} mail pending", s.audit_events, s.outbox_pending))}
        </div>

        <section class="card">
            <div class="card-head">
                <h2>"Requests by operation"</h2>
                <div class="tabs" role="tablist" aria-label="Window">
                    {[(0usize, "1 min"), (1, "5 min"), (2, "15 min")].into_iter().map(|(i, label)| view! {
                        <button class="tab" role="tab" class:active=move || window.get() == i
                            aria-selected=move || (window.get() == i).to_string()
                            on:click=move |_| window.set(i)>{label}</button>
                    }).collect_view()}
                </div>
            </div>
            <div class="table-wrap">
                <table class="table" data-testid="operations-table">
                    <thead><tr>
                        <th>"Operation"</th><th class="num">"Since start"</th><th class="num">"4xx"</th><th class="num">"5xx"</th>
                        <th class="num">"In window"</th><th class="num">"Errors"</th>
                        <th class="num">"p50"</th><th class="num">"p95"</th><th class="num">"p99"</th>
                    </tr></thead>
                    <tbody>{move || ops.clone().into_iter().map(op_row).collect_view()}</tbody>
                </table>
            </div>
        </section>

        <div class="grid-2 gap">
            <section class="card">
                <div class="card-head"><h2>"Database"</h2><span class="badge">{format!("{} {}", db.backend, db.version)}</span></div>
                <dl class="facts">
                    <div><dt>"Pool"</dt><dd>{format!("{} in use · {} idle · {} max", db.pool.in_use, db.pool.idle, db.pool.max)}</dd></div>
                    <div><dt>"Size"</dt><dd>{bytes(db.size_bytes.map(|b| b.max(0) as u64))}</dd></div>
                    <div><dt>"Migrations"</dt><dd>{format!("{} applied · {} pending", db.migrations_applied, db.migrations_pending)}</dd></div>
                </dl>
                <div class="table-wrap"><table class="table">
                    <thead><tr><th>"Largest tables"</th><th class="num">"Rows"</th><th class="num">"Size"</th></tr></thead>
                    <tbody>{db.largest_tables.iter().map(|t| view! {
                        <tr><td class="mono">{t.name.clone()}</td><td class="num">{t.rows}</td><td class="num">{bytes(t.bytes.map(|b| b.max(0) as u64))}</td></tr>
                    }).collect_view()}</tbody>
                </table></div>
            </section>
            <section class="card">
                <div class="card-head"><h2>"Workers and caches"</h2></div>
                <div class="table-wrap"><table class="table">
                    <thead><tr><th>"Worker"</th><th>"State"</th><th class="num">"Runs"</th><th>"Heartbeat"</th></tr></thead>
                    <tbody>{q.workers.iter().map(|w| view! {
                        <tr><td class="mono">{w.name.clone()}</td>
                            <td><span class=if w.state == "busy" { "badge badge-info" } else { "badge" }>{w.state.clone()}</span></td>
                            <td class="num">{w.runs}</td><td>{when(Some(w.heartbeat_at))}</td></tr>
                    }).collect_view()}</tbody>
                </table></div>
                {q.workers.is_empty().then(|| view! { <p class="empty">"This replica runs no workers (--workers 0)."</p> })}
                <div class="table-wrap"><table class="table">
                    <thead><tr><th>"Cache"</th><th class="num">"Hit rate"</th><th class="num">"Hits"</th><th class="num">"Misses"</th><th class="num">"Entries"</th></tr></thead>
                    <tbody>{s.caches.iter().map(|c| view! {
                        <tr><td>{c.name.clone()}</td>
                            <td class="num">{c.hit_rate.map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_else(|| "—".into())}</td>
                            <td class="num">{c.hits}</td><td class="num">{c.misses}</td><td class="num">{c.entries}</td></tr>
                    }).collect_view()}</tbody>
                </table></div>
                <dl class="facts">
                    <div><dt>"Log lines written"</dt><dd>{s.logs.written}</dd></div>
                    <div><dt>"Log lines dropped"</dt><dd class={if s.logs.dropped > 0 { "bad" } else { "" }}>{s.logs.dropped}</dd></div>
                </dl>
            </section>
        </div>

        <section class="card">
            <div class="card-head"><h2>"Replicas"</h2><p class="muted small">"Every replica writes a heartbeat; one not heard from in the last minute is marked silent."</p></div>
            <div class="table-wrap">
                <table class="table" data-testid="replicas-table">
                    <thead><tr><th>"Replica"</th><th>"Host"</th><th>"Version"</th><th>"State"</th><th>"Started"</th><th>"Last heard"</th>
                        <th class="num">"Requests"</th><th class="num">"Busy workers"</th><th class="num">"Memory"</th></tr></thead>
                    <tbody>{s.replicas.iter().map(|r| {
                        let this = r.id == s.replica.id;
                        view! {
                            <tr>
                                <td class="mono" title=r.id.clone()>{r.id.chars().take(12).collect::<String>()}{this.then(|| view! { <span class="badge badge-custom">"this one"</span> })}</td>
                                <td>{r.host.clone()}</td><td class="mono">{r.version.clone()}</td>
                                <td>{if r.silent { view! { <span class="badge badge-bad">"silent"</span> }.into_any() } else { view! { <span class="badge badge-ok">"live"</span> }.into_any() }}</td>
                                <td>{when(Some(r.started_at))}</td><td>{when(Some(r.last_seen_at))}</td>
                                <td class="num">{r.figures.requests}</td>
                                <td class="num">{format!("{} / {}", r.figures.workers_busy, r.figures.workers)}</td>
                                <td class="num">{bytes(r.figures.rss_bytes)}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            </div>
        </section>

        <section class="card">
            <div class="card-head"><h2>"Slowest statements"</h2><p class="muted small">"The last 15 minutes: statements over the server's threshold, and pg_stat_statements where PostgreSQL has it."</p></div>
            <div class="table-wrap">
                <table class="table" data-testid="slow-table">
                    <thead><tr><th>"Statement"</th><th>"Source"</th><th class="num">"Count"</th><th class="num">"Mean"</th><th class="num">"Max"</th><th class="num">"Total"</th></tr></thead>
                    <tbody>{s.slow_statements.iter().map(|st| view! {
                        <tr><td class="mono small truncate" title=st.statement.clone()>{st.statement.clone()}</td><td>{st.source.clone()}</td>
                            <td class="num">{st.count}</td><td class="num">{ms(st.mean_ms)}</td><td class="num">{ms(st.max_ms)}</td><td class="num">{ms(st.total_ms)}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            </div>
            {s.slow_statements.is_empty().then(|| view! { <p class="empty">"No statement crossed the threshold lately."</p> })}
        </section>

        <p class="muted small footnote">{format!("Steward {} · build {} · replica {} on {}", s.replica.version, s.replica.build, s.replica.id, s.replica.host)}</p>
    }
}
