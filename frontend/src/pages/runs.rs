//! Runs: what the worker pool executed, newest first.

use leptos::prelude::*;
use steward_shared::api::RunRow;

use crate::api;
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::{duration, pill, short_id, when};
use crate::scope::use_scope;

#[component]
pub fn RunsPage() -> impl IntoView {
    let scope = use_scope();
    let status = RwSignal::new(String::new());
    // A link (from the logs) may name one run or one flow's runs.
    let url = leptos_router::hooks::use_query_map();
    let paged = Paged::new(
        move || {
            scope.value.track();
            let (run, flow) = url.with(|q| (q.get("run_id"), q.get("flow_id")));
            api::query(&[("status", Some(status.get())), ("run_id", run), ("flow_id", flow)])
        },
        |q| async move { api::runs(&q).await },
    );
    let row = move |r: RunRow| {
        view! {
            <tr>
                <td>{short_id(r.id.to_string())}</td>
                <td>{short_id(r.flow_id.to_string())}</td>
                {move || scope.admin_mode().then(|| view! { <td>{short_id(r.customer_id.to_string())}</td> })}
                <td>{pill(r.status.clone())}</td>
                <td>{r.trigger.clone()}</td>
                <td>{when(Some(r.queued_at))}</td>
                <td class="num">{duration(r.duration_ms)}</td>
                <td class="muted small">{r.error.clone().unwrap_or_default()}</td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Runs"</h2>
                <div class="filters">
                    <select aria-label="Run status" on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="">"Any status"</option>
                        <option value="queued">"Queued"</option><option value="running">"Running"</option>
                        <option value="succeeded">"Succeeded"</option><option value="failed">"Failed"</option>
                    </select>
                    <button class="btn btn-small" on:click=move |_| paged.reload()>"Reload"</button>
                </div>
            </div>
            <table class="table" data-testid="runs-table">
                <thead><tr>
                    <th>"Run"</th><th>"Flow"</th>
                    {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                    <th>"Status"</th><th>"Trigger"</th><th>"Queued"</th><th class="num">"Duration"</th><th>"Error"</th>
                </tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table>
            <ListFooter paged=paged empty="No runs in this scope."/>
        </section>
    }
}
