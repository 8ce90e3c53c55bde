//! Runs: what the worker pool executed, newest first. A row opens its step reports (what each
//! step read and changed, where it failed); queued and running runs can be cancelled.

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{RunRow, StepReport};

use crate::api;
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::{duration, holds, pill, short_id, when};
use crate::scope::use_scope;

#[component]
pub fn RunsPage() -> impl IntoView {
    let scope = use_scope();
    let toast = crate::components::scope_bar::use_toast();
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
    let can_cancel = holds("steward.flows.trigger");
    let open = RwSignal::new(None::<uuid::Uuid>);
    let cancel = move |id: uuid::Uuid| {
        spawn_local(async move {
            let result = api::cancel_run(&id.to_string()).await.map(|r| {
                if r.status == "cancelled" {
                    "Run cancelled.".to_string()
                } else {
                    "The run stops before its next batch of records.".to_string()
                }
            });
            toast.0.set(Some(result));
            paged.reload();
        });
    };
    let row = move |r: RunRow| {
        let id = r.id;
        let toggle = move || open.update(|o| *o = if *o == Some(id) { None } else { Some(id) });
        let cancellable = matches!(r.status.as_str(), "queued" | "running") && !r.cancel_requested;
        let status =
            if r.cancel_requested && r.status == "running" { "cancelling".to_string() } else { r.status.clone() };
        let retry = (r.status == "queued" && r.attempt > 0)
            .then(|| r.not_before.map(|t| format!("retry {} after {}", r.attempt + 1, when(Some(t)))))
            .flatten();
        let steps = r.steps.clone();
        let (error, failed_step, failed_record) = (r.error.clone(), r.failed_step, r.failed_record);
        let progress = steps_summary(&r.steps);
        view! {
            <tr class="clickable" tabindex="0" aria-expanded=move || (open.get() == Some(id)).to_string()
                on:click=move |_| toggle() on:keydown=move |ev| if ev.key() == "Enter" { toggle() }>
                <td class="mono">{short_id(r.id.to_string())}</td>
                <td title=r.flow_id.to_string()>{r.flow_name.clone()}</td>
                {move || scope.admin_mode().then(|| view! { <td title=r.customer_id.to_string()>{r.customer_name.clone()}</td> })}
                <td>{pill(status.clone())}{retry.map(|t| view! { <div class="muted small">{t}</div> })}</td>
                <td>{r.trigger.clone()}</td>
                <td class="nowrap">{when(Some(r.queued_at))}</td>
                <td class="num">{duration(r.duration_ms)}</td>
                <td class="muted small">{progress}</td>
                <td class="truncate muted small" title=r.error.clone().unwrap_or_default()>{r.error.clone().unwrap_or_default()}</td>
                <td class="actions">
                    {(can_cancel && cancellable).then(|| view! {
                        <button class="btn btn-small" on:click=move |ev| { ev.stop_propagation(); cancel(id) }>"Cancel"</button>
                    })}
                </td>
            </tr>
            {move || (open.get() == Some(id)).then(|| {
                let steps = steps.clone();
                let error = error.clone();
                view! {
                    <tr class="detail-row"><td colspan="10">
                        <div class="run-detail" data-testid="run-detail">
                            {error.clone().map(|e| view! {
                                <p class="run-error">
                                    <strong>{failed_step.map(|i| format!("Step {} failed. ", i + 1)).unwrap_or_default()}</strong>
                                    {e}
                                    {failed_record.map(|rec| view! { <span class="mono muted small">" record " {rec.to_string()}</span> })}
                                </p>
                            })}
                            {if steps.is_empty() {
                                view! { <p class="muted">"This flow has no steps: it was not made from an application's template."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap"><table class="table compact" data-testid="run-steps">
                                        <thead><tr><th>"#"</th><th>"Step"</th><th>"Status"</th><th class="num">"Read"</th>
                                            <th class="num">"Changed"</th><th class="num">"Groups"</th><th class="num">"Time"</th><th>"Error"</th></tr></thead>
                                        <tbody>{steps.into_iter().enumerate().map(step_row).collect_view()}</tbody>
                                    </table></div>
                                }.into_any()
                            }}
                        </div>
                    </td></tr>
                }
            })}
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
                        <option value="cancelled">"Cancelled"</option>
                    </select>
                    <button class="btn btn-small" on:click=move |_| paged.reload()>"Reload"</button>
                </div>
            </div>
            <div class="table-wrap">
                <table class="table" data-testid="runs-table">
                    <thead><tr>
                        <th>"Run"</th><th>"Flow"</th>
                        {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                        <th>"Status"</th><th>"Trigger"</th><th>"Queued"</th><th class="num">"Duration"</th><th>"Steps"</th><th>"Error"</th><th></th>
                    </tr></thead>
                    <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
            <ListFooter paged=paged empty="No runs in this scope."/>
        </section>
    }
}

/// `3/4 steps` and the records the last step read.
fn steps_summary(steps: &[StepReport]) -> String {
    if steps.is_empty() {
        return "—".into();
    }
    let done = steps.iter().filter(|s| s.status == "succeeded").count();
    let read = steps.iter().map(|s| s.records).max().unwrap_or(0);
    format!("{done}/{} steps · {read} records", steps.len())
}

fn step_row((i, s): (usize, StepReport)) -> impl IntoView {
    view! {
        <tr>
            <td class="num">{i + 1}</td>
            <td class="mono">{s.kind.clone()}</td>
            <td>{pill(s.status.clone())}</td>
            <td class="num">{s.records}</td>
            <td class="num">{s.changed}</td>
            <td class="num">{(s.kind == "dedupe").then_some(s.groups)}</td>
            <td class="num">{duration(Some(s.duration_ms as i64))}</td>
            <td class="small">{s.error.clone().unwrap_or_default()}</td>
        </tr>
    }
}
