//! Operations → Outbox: the mail the platform sent or holds, newest first — status, attempts,
//! the last error — with a failed mail's Resend. A row opens the body as stored (super admins
//! only; a link's single-use token is never in it).

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::OutboxMail;

use crate::api;
use crate::components::list::{ListFooter, Paged};
use crate::components::scope_bar::use_toast;
use crate::pages::fmt::{holds, when};
use crate::scope::use_scope;

fn status_badge(status: &str) -> impl IntoView {
    let class = match status {
        "sent" => "badge badge-ok",
        "failed" => "badge badge-bad",
        "retrying" => "badge badge-warn",
        _ => "badge badge-info",
    };
    view! { <span class=class>{status.to_owned()}</span> }
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let scope = use_scope();
    let toast = use_toast();
    let pending = RwSignal::new(false);
    let paged = Paged::new(
        move || {
            scope.value.track();
            api::query(&[("pending", pending.get().then(|| "true".into()))])
        },
        |q| async move { api::outbox(&q).await },
    );
    let can_resend = holds("steward.system.mail") || holds("steward.console.logs.write");
    let open = RwSignal::new(None::<uuid::Uuid>);
    let resend = move |id: uuid::Uuid| {
        spawn_local(async move {
            let result = api::resend_mail(&id.to_string())
                .await
                .map(|m| format!("The mail to {} will be sent again.", m.to_address));
            toast.0.set(Some(result));
            paged.reload();
        });
    };
    let row = move |m: OutboxMail| {
        let id = m.id;
        let toggle = move || open.update(|o| *o = if *o == Some(id) { None } else { Some(id) });
        let body = m.body_text.clone();
        let failed = m.status == "failed";
        view! {
            <tr class="clickable" tabindex="0" aria-expanded=move || (open.get() == Some(id)).to_string()
                on:click=move |_| toggle() on:keydown=move |ev| if ev.key() == "Enter" { toggle() }>
                <td class="nowrap">{m.to_address.clone()}</td>
                <td class="truncate" title=m.subject.clone()>{m.subject.clone()}</td>
                <td class="nowrap muted small">{m.kind.replace('_', " ")}</td>
                {move || scope.admin_mode().then(|| view! { <td class="nowrap">{m.customer_name.clone().unwrap_or_else(|| "Platform".into())}</td> })}
                // The one action sits with the status it answers, so it is in view on a narrow window.
                <td class="nowrap">{status_badge(&m.status)}
                    {(can_resend && failed).then(|| view! {
                        <button class="btn btn-small inline-action" on:click=move |ev| { ev.stop_propagation(); resend(id) }>"Resend"</button>
                    })}
                </td>
                <td class="num">{m.attempts}</td>
                <td class="nowrap small" title=format!("queued {}", when(Some(m.created_at)))>
                    {match m.sent_at { Some(t) => format!("sent {}", when(Some(t))), None => format!("queued {}", when(Some(m.created_at))) }}
                </td>
                <td class="truncate muted small" title=m.last_error.clone().unwrap_or_default()>{m.last_error.clone().unwrap_or_default()}</td>
            </tr>
            {move || (open.get() == Some(id)).then(|| view! {
                <tr class="detail-row"><td colspan="9">
                    {match body.clone() {
                        Some(text) => view! { <pre class="mail-body" data-testid="mail-body">{text}</pre> }.into_any(),
                        None => view! { <p class="muted">"Mail bodies are shown to super admins only."</p> }.into_any(),
                    }}
                </td></tr>
            })}
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2>"Outbox"</h2>
                    <p class="muted small">"Mail is stored before it is sent; a link's single-use token is added only when it leaves."</p>
                </div>
                <div class="filters">
                    <label class="check-label"><input type="checkbox" on:change=move |ev| pending.set(event_target_checked(&ev))/>"Not sent yet"</label>
                    <button class="btn btn-small" on:click=move |_| paged.reload()>"Reload"</button>
                </div>
            </div>
            <div class="table-wrap"><table class="table" data-testid="outbox-table">
                <thead><tr>
                    <th>"To"</th><th>"Subject"</th><th>"Kind"</th>
                    {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                    <th>"Status"</th><th class="num">"Attempts"</th><th>"When"</th><th>"Last error"</th>
                </tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table></div>
            <ListFooter paged=paged empty="No mail in this scope."/>
        </section>
    }
}
