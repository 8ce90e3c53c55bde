//! Logs: the platform log, the authentication log and the system log's tabs, filtered and
//! paged, with a live tail ("Follow") while the tab is open. Lines link to the audit events
//! of their request and to the run they concern.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use steward_shared::ops::LogEntry;

use crate::api::{self, ApiError};
use crate::components::form::ErrorBanner;
use crate::components::list::{ListFooter, Paged};

const STREAMS: &[(&str, &str)] = &[("platform", "Platform"), ("auth", "Authentication"), ("system", "System")];
const SYSTEM_TABS: &[(&str, &str)] = &[
    ("", "All"),
    ("startup", "Startup info"),
    ("periodic", "Periodic tasks"),
    ("startup_error", "Startup errors"),
    ("package_install", "Package installs"),
    ("user_task", "User tasks"),
    ("api_error", "API errors"),
];
/// Lines kept on screen while following.
const FOLLOW_KEEP: usize = 500;

fn level_badge(level: &str) -> &'static str {
    match level {
        "error" => "badge badge-bad",
        "warn" => "badge badge-warn",
        "info" => "badge badge-info",
        _ => "badge",
    }
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %:z").to_string()
}

#[component]
pub fn LogsPage() -> impl IntoView {
    let stream = RwSignal::new("platform");
    let kind = RwSignal::new("");
    let level = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let request_id = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let following = RwSignal::new(false);
    let live = RwSignal::new(Vec::<LogEntry>::new());
    let follow_error = RwSignal::new(None::<ApiError>);
    let filter = move || {
        api::query(&[
            ("stream", Some(stream.get().to_owned())),
            ("kind", Some(kind.get().to_owned())),
            ("level", Some(level.get())),
            ("q", Some(text.get())),
            ("request_id", Some(request_id.get())),
            ("from", (!from.get().is_empty()).then(|| format!("{}T00:00:00Z", from.get()))),
            ("to", (!to.get().is_empty()).then(|| format!("{}T23:59:59Z", to.get()))),
        ])
    };
    let paged = Paged::new(filter, |q| async move { api::logs(&q).await });
    let controller = StoredValue::new_local(None::<web_sys::AbortController>);
    let stop = move || {
        controller.update_value(|c| {
            if let Some(c) = c.take() {
                c.abort();
            }
        });
    };
    let start = move || {
        stop();
        let Ok(c) = web_sys::AbortController::new() else { return };
        let signal = c.signal();
        controller.set_value(Some(c));
        let q = filter();
        let after = paged.items.with_untracked(|items| items.first().map(|l| l.seq));
        let q = match after {
            Some(seq) => format!("{q}{}after={seq}", if q.is_empty() { "?" } else { "&" }),
            None => q,
        };
        follow_error.set(None);
        spawn_local(async move {
            let outcome = api::follow_logs(&q, &signal, move |line| {
                live.update(|l| {
                    l.insert(0, line);
                    l.truncate(FOLLOW_KEEP);
                })
            })
            .await;
            if !signal.aborted() {
                following.set(false);
                if let Err(e) = outcome {
                    follow_error.set(Some(e));
                }
            }
        });
    };
    // A change of filter (or turning Follow off) ends the tail; with Follow on it starts anew.
    Effect::new(move |_| {
        paged.track_query();
        live.set(Vec::new());
        if following.get() {
            start();
        } else {
            stop();
        }
    });
    on_cleanup(stop);
    let row = move |l: LogEntry| {
        let request = l.request_id.clone();
        view! {
            <tr>
                <td class="nowrap small">{stamp(l.at)}</td>
                <td><span class=level_badge(&l.level)>{l.level.clone()}</span></td>
                <td class="mono small">{l.kind.clone()}</td>
                <td class="log-message" title=l.message.clone()>{l.message.clone()}</td>
                <td class="small">
                    {l.ip.clone().map(|ip| view! { <div class="mono">{ip}</div> })}
                    {l.customer_id.map(|c| {
                        let id = c.to_string();
                        let name = l.customer_name.clone().unwrap_or_else(|| id.chars().take(8).collect());
                        view! { <div class="truncate" title=id>{name}</div> }
                    })}
                </td>
                <td class="small nowrap">
                    {request.map(|r| view! {
                        <A href=format!("/admin/audit?request_id={r}") attr:title=format!("Audit events of request {r}")>"audit"</A>
                    })}
                    {l.run_id.map(|r| view! {
                        <A href=format!("/runs?run_id={r}") attr:class="run-link" attr:title=format!("Run {r}")>" run"</A>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <div class="tabs" role="tablist" aria-label="Log">
                    {STREAMS.iter().map(|&(id, label)| view! {
                        <button class="tab" role="tab" class:active=move || stream.get() == id
                            aria-selected=move || (stream.get() == id).to_string()
                            on:click=move |_| { stream.set(id); kind.set(""); }>{label}</button>
                    }).collect_view()}
                </div>
                <div class="filters">
                    <select aria-label="Level" on:change=move |ev| level.set(event_target_value(&ev))>
                        <option value="">"Any level"</option><option value="error">"Error"</option>
                        <option value="warn">"Warning"</option><option value="info">"Info"</option><option value="debug">"Debug"</option>
                    </select>
                    <input type="search" placeholder="Search messages" aria-label="Search messages"
                        on:change=move |ev| text.set(event_target_value(&ev))/>
                    <input type="search" placeholder="Request id" aria-label="Request id" class="mono"
                        on:change=move |ev| request_id.set(event_target_value(&ev))/>
                    <input type="date" aria-label="From" on:change=move |ev| from.set(event_target_value(&ev))/>
                    <input type="date" aria-label="To" on:change=move |ev| to.set(event_target_value(&ev))/>
                    <label class="toggle">
                        <input type="checkbox" prop:checked=move || following.get()
                            on:change=move |ev| following.set(event_target_checked(&ev))/>
                        " Follow"
                    </label>
                    <button class="btn btn-small" on:click=move |_| paged.reload()>"Reload"</button>
                </div>
                {move || (stream.get() == "system").then(|| view! {
                    <div class="tabs subtabs" role="tablist" aria-label="System log">
                        {SYSTEM_TABS.iter().map(|&(id, label)| view! {
                            <button class="tab" role="tab" class:active=move || kind.get() == id
                                aria-selected=move || (kind.get() == id).to_string()
                                on:click=move |_| kind.set(id)>{label}</button>
                        }).collect_view()}
                    </div>
                })}
            </div>
            <ErrorBanner error=follow_error.into()/>
            {move || following.get().then(|| view! {
                <div class="banner banner-info" role="status" data-testid="following">
                    {move || format!("Following: new lines appear at the top ({} so far).", live.with(Vec::len))}
                </div>
            })}
            <div class="table-wrap">
                <table class="table" data-testid="logs-table">
                    <thead><tr><th>"Time"</th><th>"Level"</th><th>"Kind"</th><th>"Message"</th><th>"From"</th><th>"Links"</th></tr></thead>
                    <tbody>
                        {move || live.get().into_iter().map(row).collect_view()}
                        {move || paged.items.get().into_iter().map(row).collect_view()}
                    </tbody>
                </table>
            </div>
            <ListFooter paged=paged empty="No log lines match."/>
        </section>
    }
}
