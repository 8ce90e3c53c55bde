//! Connectors: their health, and key rotation (the new key is shown once).

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{ConnectorRow, RotatedKey};

use crate::api::{self, ApiError};
use crate::components::dialog::ConfirmDialog;
use crate::components::form::ErrorBanner;
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::{holds, impersonating, pill, short_id, when};
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
        view! {
            <tr>
                <td class="row-title">{c.name.clone()}</td>
                {move || scope.admin_mode().then(|| view! { <td>{short_id(c.customer_id.to_string())}</td> })}
                <td>{c.kind.clone()}</td>
                <td>{pill(c.health.clone())}</td>
                <td class="mono">{format!("{}…", c.api_key_prefix)}</td>
                <td>{when(c.key_rotated_at)}</td>
                <td class="actions">{can_rotate.then(|| view! {
                    <button class="btn btn-small" on:click=move |_| { target.set(Some(pick.clone())); confirm.set(true); }>"Rotate key"</button>
                })}</td>
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
                    </select>
                </div>
            </div>
            <table class="table" data-testid="connectors-table">
                <thead><tr>
                    <th>"Name"</th>
                    {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                    <th>"Kind"</th><th>"Health"</th><th>"Key"</th><th>"Rotated"</th><th></th>
                </tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table>
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
