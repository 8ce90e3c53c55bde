//! Flows: the tenants' automations in scope, with the operator actions.

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{ConnectorRow, CreateFlow, FlowRow, WorkspaceSummary};
use steward_shared::apps::FlowTemplateRow;

use crate::api::{self, ApiError};
use crate::components::form::Field;
use crate::components::form_dialog::FormDialog;
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
    let creating = RwSignal::new(false);
    // A flow belongs to one customer: in admin mode across every customer, pick one first.
    let can_create = holds("steward.flows.edit");
    let all_customers = move || scope.value.get() == "all";
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Flows"</h2>
                <div class="filters">
                    {can_create.then(|| view! {
                        <button class="btn btn-primary btn-small" disabled=all_customers
                            title=move || all_customers().then_some("Pick a customer first: a flow belongs to one")
                            on:click=move |_| creating.set(true)>"New flow"</button>
                    })}
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
        {can_create.then(|| view! {
            <NewFlowDialog open=creating can_publish=can_publish on_created=Callback::new(move |message: String| {
                toast.0.set(Some(Ok(message)));
                paged.reload();
            })/>
        })}
    }
}

/// A new flow from a template of an active application, in a workspace of the scope, with an
/// optional connector and schedule; published at once if asked (and allowed).
#[component]
fn NewFlowDialog(open: RwSignal<bool>, can_publish: bool, on_created: Callback<String>) -> impl IntoView {
    let scope = use_scope();
    let workspaces = RwSignal::new(Vec::<WorkspaceSummary>::new());
    let templates = RwSignal::new(Vec::<FlowTemplateRow>::new());
    let connectors = RwSignal::new(Vec::<ConnectorRow>::new());
    let (workspace, name, template, connector, schedule) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let publish = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    // What the dialog offers is loaded as it opens, for the scope of that moment.
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        let value = scope.value.get_untracked();
        error.set(None);
        for field in [name, connector, schedule] {
            field.set(String::new());
        }
        publish.set(false);
        spawn_local(async move {
            let ws = api::scoped_workspaces(&value).await.unwrap_or_default();
            workspace.set(ws.first().map(|w| w.id.to_string()).unwrap_or_default());
            workspaces.set(ws);
            match api::flow_templates().await {
                Ok(t) => {
                    template.set(t.first().map(|t| t.id.to_string()).unwrap_or_default());
                    templates.set(t);
                }
                Err(e) => error.set(Some(e)),
            }
            connectors.set(api::connectors("?limit=200").await.map(|p| p.items).unwrap_or_default());
        });
    });
    let submit = Callback::new(move |()| {
        let Ok(workspace_id) = workspace.get_untracked().parse() else {
            error.set(Some(ApiError::local("Choose a workspace", "A flow belongs to a workspace.".into())));
            return;
        };
        let body = CreateFlow {
            workspace_id: steward_shared::WorkspaceId(workspace_id),
            name: name.get_untracked(),
            schedule: Some(schedule.get_untracked().trim().to_owned()).filter(|s| !s.is_empty()),
            publish: publish.get_untracked(),
            template_id: template.get_untracked().parse().ok(),
            connector_id: connector.get_untracked().parse().ok(),
        };
        busy.set(true);
        spawn_local(async move {
            let result = api::create_flow(&body).await;
            busy.set(false);
            match result {
                Ok(f) => {
                    open.set(false);
                    on_created.run(format!("“{}” was created as {}.", f.name, f.status));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    let chosen = move || templates.with(|all| all.iter().find(|t| t.id.to_string() == template.get()).cloned());
    view! {
        <FormDialog open=open title="New flow" submit_label="Create flow" error=error busy=busy on_submit=submit>
            <div class="field">
                <label for="flow-workspace">"Workspace"</label>
                <select id="flow-workspace" prop:value=move || workspace.get() on:change=move |ev| { workspace.set(event_target_value(&ev)); connector.set(String::new()); }>
                    {move || workspaces.get().into_iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                </select>
                {move || error.get().and_then(|e| e.field("workspace_id")).map(|m| view! { <p class="field-error">{m}</p> })}
            </div>
            <Field label="Name" name="name" value=name error=error autofocus=true/>
            <div class="field">
                <label for="flow-template">"Template"</label>
                <select id="flow-template" prop:value=move || template.get() on:change=move |ev| template.set(event_target_value(&ev))>
                    {move || templates.get().into_iter().map(|t| view! {
                        <option value=t.id.to_string()>{format!("{} ({})", t.label, t.application)}</option>
                    }).collect_view()}
                </select>
                {move || match chosen() {
                    Some(t) => view! { <p class="field-hint">{format!("Works on {} records: {}.", t.entity_type, t.steps.join(" → "))}</p> }.into_any(),
                    None => view! { <p class="field-hint">"No active application brings a flow template: install one under Applications first."</p> }.into_any(),
                }}
                {move || error.get().and_then(|e| e.field("template_id")).map(|m| view! { <p class="field-error">{m}</p> })}
            </div>
            <div class="field">
                <label for="flow-connector">"Connector (optional)"</label>
                <select id="flow-connector" prop:value=move || connector.get() on:change=move |ev| connector.set(event_target_value(&ev))>
                    <option value="">"None"</option>
                    {move || connectors.get().into_iter().filter(|c| c.workspace_id.to_string() == workspace.get()).map(|c| view! {
                        <option value=c.id.to_string()>{format!("{} ({})", c.name, c.kind)}</option>
                    }).collect_view()}
                </select>
                {move || error.get().and_then(|e| e.field("connector_id")).map(|m| view! { <p class="field-error">{m}</p> })}
            </div>
            <Field label="Schedule (optional)" name="schedule" value=schedule error=error hint="e.g. every 15m, every 1h, every 1d; empty runs it by hand only."/>
            {can_publish.then(|| view! {
                <label class="check-label">
                    <input type="checkbox" prop:checked=publish on:change=move |_| publish.update(|p| *p = !*p)/>
                    "Publish at once — scheduled runs start; otherwise it stays a draft."
                </label>
            })}
        </FormDialog>
    }
}
