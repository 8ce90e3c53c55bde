//! Connectors: their measured health (the kind's probe: status, latency, last check and the
//! last error), the last run that used each, Check now, and key rotation (the new key is shown
//! once).

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{ConnectorRow, RotatedKey, WorkspaceSummary};
use steward_shared::apps::ConnectorKindRow;

use crate::api::{self, ApiError};
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{ErrorBanner, Field};
use crate::components::form_dialog::FormDialog;
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::{holds, impersonating, pill, when};
use crate::scope::use_scope;

#[component]
pub fn ConnectorsPage() -> impl IntoView {
    let scope = use_scope();
    let health = RwSignal::new(String::new());
    let paged = Paged::new(
        move || {
            scope.value.track();
            api::query(&[("health", Some(health.get()))])
        },
        |q| async move { api::connectors(&q).await },
    );
    let can_rotate = holds("steward.connectors.rotate_keys");
    let can_check = holds("steward.connectors.manage");
    let toast = crate::components::scope_bar::use_toast();
    let check = move |id: String| {
        spawn_local(async move {
            let result = api::check_connector(&id).await.map(|c| match c.health_error {
                Some(e) => format!("“{}” is {}: {e}", c.name, c.health),
                None => format!("“{}” is {}.", c.name, c.health),
            });
            toast.0.set(Some(result));
            paged.reload();
        });
    };
    let target = RwSignal::new(None::<(String, String)>);
    let confirm = RwSignal::new(false);
    let shown = RwSignal::new(None::<RotatedKey>);
    let error = RwSignal::new(None::<ApiError>);
    let rotate = Callback::new(move |confirm: Option<String>| {
        let Some((id, _)) = target.get_untracked() else { return };
        spawn_local(async move {
            match api::rotate_key(&id, confirm.as_deref()).await {
                Ok(key) => {
                    error.set(None);
                    shown.set(Some(key));
                    paged.reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    let row = move |c: ConnectorRow| {
        let pick = (c.id.to_string(), c.name.clone());
        let id = c.id.to_string();
        let probed = c.endpoint.is_some();
        let measured = match (c.health_latency_ms, c.health_checked_at) {
            (Some(ms), Some(at)) => format!("{ms} ms · {}", when(Some(at))),
            (None, Some(at)) => format!("no answer · {}", when(Some(at))),
            _ => "not measured".into(),
        };
        let error = c.health_error.clone().unwrap_or_default();
        view! {
            <tr>
                <td class="row-title">{c.name.clone()}
                    <div class="mono muted small truncate" title=c.endpoint.clone().unwrap_or_default()>{c.endpoint.clone().unwrap_or_else(|| "no endpoint".into())}</div></td>
                {move || scope.admin_mode().then(|| view! { <td title=c.customer_id.to_string()>{c.customer_name.clone()}</td> })}
                <td class="mono small">{c.kind.clone()}</td>
                <td class="nowrap">{pill(c.health.clone())}
                    <div class="muted small">{measured}</div></td>
                <td class="truncate narrow small muted" title=error.clone()>{error.clone()}</td>
                <td class="nowrap">{c.last_run_status.clone().map(pill)}<div class="muted small">{c.last_run_at.map(|t| when(Some(t)))}</div></td>
                <td class="mono">{format!("{}…", c.api_key_prefix)}</td>
                <td class="actions">
                    {(can_check && probed).then(|| view! {
                        <button class="btn btn-small" on:click=move |_| check(id.clone())>"Check now"</button>
                    })}
                    {can_rotate.then(|| view! {
                        <button class="btn btn-small" on:click=move |_| { target.set(Some(pick.clone())); confirm.set(true); }>"Rotate key"</button>
                    })}
                </td>
            </tr>
        }
    };
    let creating = RwSignal::new(false);
    let can_create = can_check;
    let all_customers = move || scope.value.get() == "all";
    view! {
        <ErrorBanner error=error.into()/>
        {move || shown.get().map(|k| view! {
            <div class="banner banner-ok key-once" role="status">
                <strong>"New key — copy it now, it is not shown again:"</strong>
                <code data-testid="new-key">{k.api_key}</code>
                <button class="btn btn-small" on:click=move |_| shown.set(None)>"Done"</button>
            </div>
        })}
        <section class="card">
            <div class="card-head">
                <h2>"Connectors"</h2>
                <div class="filters">
                    {can_create.then(|| view! {
                        <button class="btn btn-primary btn-small" disabled=all_customers
                            title=move || all_customers().then_some("Pick a customer first: a connector belongs to one")
                            on:click=move |_| creating.set(true)>"New connector"</button>
                    })}
                    <select aria-label="Health" on:change=move |ev| health.set(event_target_value(&ev))>
                        <option value="">"Any health"</option><option value="healthy">"Healthy"</option>
                        <option value="degraded">"Degraded"</option><option value="down">"Down"</option>
                        <option value="unknown">"Not measured"</option>
                    </select>
                </div>
            </div>
            <div class="table-wrap">
                <table class="table" data-testid="connectors-table">
                    <thead><tr>
                        <th>"Name"</th>
                        {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                        <th>"Kind"</th><th>"Health · latency · checked"</th><th>"Last error"</th>
                        <th>"Last run"</th><th>"Key"</th><th></th>
                    </tr></thead>
                    <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
            <ListFooter paged=paged empty="No connectors in this scope."/>
        </section>
        <ConfirmDialog
            open=confirm
            title="Rotate this key?"
            message=Signal::derive(move || format!("The current key of “{}” stops working at once.", target.get().map(|t| t.1).unwrap_or_default()))
            confirm_label="Rotate key"
            on_confirm=rotate
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| target.get().map(|t| t.1)).flatten())
        />
        {can_create.then(|| view! {
            <NewConnectorDialog open=creating on_created=Callback::new(move |key: RotatedKey| {
                shown.set(Some(key));
                paged.reload();
            })/>
        })}
    }
}

/// A new connector in a workspace of the scope: a kind an active application brings (probed by
/// its health check once it has an endpoint) or a free-form one. Its API key is shown once.
#[component]
fn NewConnectorDialog(open: RwSignal<bool>, on_created: Callback<RotatedKey>) -> impl IntoView {
    let scope = use_scope();
    let workspaces = RwSignal::new(Vec::<WorkspaceSummary>::new());
    let kinds = RwSignal::new(Vec::<ConnectorKindRow>::new());
    let (workspace, name, kind, endpoint) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        let value = scope.value.get_untracked();
        error.set(None);
        for field in [name, kind, endpoint] {
            field.set(String::new());
        }
        spawn_local(async move {
            let ws = api::scoped_workspaces(&value).await.unwrap_or_default();
            workspace.set(ws.first().map(|w| w.id.to_string()).unwrap_or_default());
            workspaces.set(ws);
            kinds.set(api::connector_kinds().await.unwrap_or_default());
        });
    });
    let submit = Callback::new(move |()| {
        let endpoint = Some(endpoint.get_untracked()).filter(|e| !e.trim().is_empty());
        let mut body = serde_json::json!({
            "workspace_id": workspace.get_untracked(),
            "name": name.get_untracked(),
            "kind": kind.get_untracked(),
        });
        // Left out, never null, when there is none.
        if let (Some(endpoint), Some(fields)) = (endpoint, body.as_object_mut()) {
            fields.insert("endpoint".into(), endpoint.into());
        }
        busy.set(true);
        spawn_local(async move {
            let result = api::create_connector(&body).await;
            busy.set(false);
            match result {
                Ok(key) => {
                    open.set(false);
                    on_created.run(key);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    let probe =
        move || kinds.with(|all| all.iter().find(|k| k.kind == kind.get()).map(|k| (k.label.clone(), k.probe.clone())));
    view! {
        <FormDialog open=open title="New connector" submit_label="Create connector" error=error busy=busy on_submit=submit>
            <div class="field">
                <label for="connector-workspace">"Workspace"</label>
                <select id="connector-workspace" prop:value=move || workspace.get() on:change=move |ev| workspace.set(event_target_value(&ev))>
                    {move || workspaces.get().into_iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                </select>
                {move || error.get().and_then(|e| e.field("workspace_id")).map(|m| view! { <p class="field-error">{m}</p> })}
            </div>
            <Field label="Name" name="name" value=name error=error autofocus=true/>
            <div class="field">
                <label for="connector-kind">"Kind"</label>
                <input id="connector-kind" list="connector-kinds" autocomplete="off" prop:value=move || kind.get()
                    on:input=move |ev| kind.set(event_target_value(&ev))/>
                <datalist id="connector-kinds">
                    {move || kinds.get().into_iter().map(|k| view! { <option value=k.kind.clone()>{format!("{} ({})", k.label, k.application)}</option> }).collect_view()}
                </datalist>
                {move || match probe() {
                    Some((label, probe)) => view! { <p class="field-hint">{format!("{label}: its health is probed with {probe} at the endpoint.")}</p> }.into_any(),
                    None => view! { <p class="field-hint">"Pick a kind an application brings, or type your own (e.g. salesforce): a kind of your own is never probed."</p> }.into_any(),
                }}
                {move || error.get().and_then(|e| e.field("kind")).map(|m| view! { <p class="field-error">{m}</p> })}
            </div>
            <Field label="Endpoint (optional)" name="endpoint" value=endpoint error=error hint="Where its service answers, e.g. https://crm.example.com/api"/>
        </FormDialog>
    }
}
