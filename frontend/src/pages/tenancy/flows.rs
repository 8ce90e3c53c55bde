//! Flows: the tenants' automations in scope, with the operator actions.

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::FlowRow;

use crate::api;
use crate::components::list::{ListFooter, Paged};
use crate::components::scope_bar::use_toast;
use crate::pages::fmt::{holds, pill, when};
use crate::scope::use_scope;

#[component]
pub fn FlowsPage() -> impl IntoView {
    let scope = use_scope();
    let toast = use_toast();
    let status = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let paged = Paged::new(
        move || {
            scope.value.track();
            api::query(&[("status", Some(status.get())), ("state", Some(state.get())), ("search", Some(search.get()))])
        },
        |q| async move { api::flows(&q).await },
    );
    let (can_pause, can_trigger, can_publish) =
        (holds("steward.flows.pause"), holds("steward.flows.trigger"), holds("steward.flows.publish"));
    let act = move |id: String, action: &'static str| {
        spawn_local(async move {
            let result = if action == "runs" {
                api::trigger_run(&id).await.map(|_| "Run queued.".to_string())
            } else {
                api::flow_action(&id, action).await.map(|f| {
                    let now = if action == "publish" { f.status } else { f.state };
                    format!("“{}” is now {now}.", f.name)
                })
            };
            toast.0.set(Some(result));
            paged.reload();
        });
    };
    let row = move |f: FlowRow| {
        let id = f.id.to_string();
        let (id1, id2, id3) = (id.clone(), id.clone(), id.clone());
        let paused = f.state == "paused";
        // A flow with no steps is neither run nor published (the API refuses both, saying why).
        let stepless = f.steps == 0;
        let draft = f.status == "draft";
        let steps = match f.steps {
            0 => "no steps".to_string(),
            1 => "1 step".to_string(),
            n => format!("{n} steps"),
        };
        view! {
            <tr>
                <td class="row-title">{f.name.clone()}</td>
                {move || scope.admin_mode().then(|| view! { <td class="nowrap" title=f.customer_id.to_string()>{f.customer_name.clone()}</td> })}
                <td>{pill(f.status.clone())}</td>
                <td>{pill(f.state.clone())}</td>
                <td class=if stepless { "muted nowrap" } else { "nowrap" }
                    title=stepless.then_some("Made by hand, not from a template: nothing to run or publish")>{steps}</td>
                <td class="nowrap">{f.schedule.clone().unwrap_or_else(|| "manual".into())}</td>
                <td class="nowrap">{when(f.next_run_at)}</td>
                <td class="actions">
                    {(can_publish && draft && !stepless).then(|| view! {
                        <button class="btn btn-small" on:click=move |_| act(id3.clone(), "publish")>"Publish"</button>
                    })}
                    {can_trigger.then(|| view! {
                        <button class="btn btn-small" disabled=paused || stepless
                            title=stepless.then_some("This flow has no steps")
                            on:click=move |_| act(id1.clone(), "runs")>"Run now"</button>
                    })}
                    // Two actions a row: a draft is published (pausing a draft means nothing), a
                    // published flow paused or resumed.
                    {(can_pause && !draft).then(|| view! {
                        <button class="btn btn-small" on:click=move |_| act(id2.clone(), if paused { "resume" } else { "pause" })>
                            {if paused { "Resume" } else { "Pause" }}
                        </button>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Flows"</h2>
                <div class="filters">
                    <input type="search" placeholder="Search by name" aria-label="Search flows"
                        on:change=move |ev| search.set(event_target_value(&ev))/>
                    <select aria-label="Status" on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="">"Any status"</option><option value="published">"Published"</option><option value="draft">"Draft"</option>
                    </select>
                    <select aria-label="State" on:change=move |ev| state.set(event_target_value(&ev))>
                        <option value="">"Any state"</option><option value="active">"Active"</option><option value="paused">"Paused"</option>
                    </select>
                </div>
            </div>
            <div class="table-wrap"><table class="table" data-testid="flows-table">
                <thead><tr>
                    <th>"Name"</th>
                    {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                    <th>"Status"</th><th>"State"</th><th>"Steps"</th><th>"Schedule"</th><th>"Next run"</th><th></th>
                </tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table></div>
            <ListFooter paged=paged empty="No flows in this scope."/>
        </section>
    }
}
