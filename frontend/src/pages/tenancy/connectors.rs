//! Connectors: their measured health (the kind's probe: status, latency, last check and the
//! last error), the last run that used each, Check now, and key rotation (the new key is shown
//! once).

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{ConnectorRow, RotatedKey};

use crate::api::{self, ApiError};
use crate::components::dialog::ConfirmDialog;
use crate::components::form::ErrorBanner;
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
    }
}
