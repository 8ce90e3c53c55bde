//! The audit log: filter, browse (newest first), export the filter as CSV, verify the chain.

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{AuditEvent, AuditVerification};

use crate::api::{self, ApiError};
use crate::components::form::ErrorBanner;
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::{holds, pill, when};

#[component]
pub fn AuditPage() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    // The logs link here with the request a line concerns.
    let url = leptos_router::hooks::use_query_map();
    let filter = move || {
        let day = |d: String, end: bool| {
            (!d.is_empty()).then(|| format!("{d}T{}Z", if end { "23:59:59" } else { "00:00:00" }))
        };
        api::query(&[
            ("action", Some(action.get())),
            ("outcome", Some(outcome.get())),
            ("from", day(from.get(), false)),
            ("to", day(to.get(), true)),
            ("request_id", url.with(|q| q.get("request_id"))),
        ])
    };
    let paged = Paged::new(filter, |q| async move { api::audit(&q).await });
    let error = RwSignal::new(None::<ApiError>);
    let verified = RwSignal::new(None::<AuditVerification>);
    let export = move |_| {
        let q = filter();
        spawn_local(async move {
            if let Err(e) = api::export_audit(&q).await {
                error.set(Some(e));
            }
        });
    };
    let verify = move |_| {
        spawn_local(async move {
            match api::verify_audit().await {
                Ok(v) => verified.set(Some(v)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let row = |e: AuditEvent| {
        let who = e.actor_email.clone().unwrap_or_else(|| "—".into());
        // By name where the target has one; the id is on hover.
        let target = match (&e.target_type, &e.target_name, &e.target_id) {
            (Some(t), Some(name), _) => format!("{t} {name}"),
            (Some(t), None, Some(id)) => format!("{t} {}", id.chars().take(8).collect::<String>()),
            _ => "—".into(),
        };
        let target_id = e.target_id.clone().unwrap_or_default();
        view! {
            <tr>
                <td class="num mono">{e.seq}</td>
                <td>{when(Some(e.occurred_at))}</td>
                <td>
                    <div>{who}</div>
                    {e.impersonated_email.clone().map(|t| view! { <div class="badge badge-warn">{format!("as {t}")}</div> })}
                </td>
                <td class="mono action">{e.action.clone()}</td>
                <td>{pill(e.outcome.clone())}</td>
                <td class="small" title=target_id>{target}</td>
                <td title=e.customer_id.map(|c| c.to_string()).unwrap_or_default()>{e.customer_name.clone().unwrap_or_else(|| "—".into())}</td>
                <td class="mono muted small">{e.request_id.clone().unwrap_or_default().chars().take(13).collect::<String>()}</td>
            </tr>
        }
    };
    view! {
        <ErrorBanner error=error.into()/>
        {move || verified.get().map(|v| if v.ok {
            view! { <div class="banner banner-ok" role="status">{format!("Chain verified: {} events, every link holds.", v.events_checked)}</div> }.into_any()
        } else {
            view! { <div class="banner banner-error" role="alert">
                {format!("Chain broken at event {}: {}", v.first_broken_seq.unwrap_or_default(), v.problem.unwrap_or_default())}
            </div> }.into_any()
        })}
        <section class="card">
            <div class="card-head">
                <h2>"Audit log"</h2>
                <div class="filters">
                    <input type="search" placeholder="Action, e.g. role. or auth.login" aria-label="Action"
                        on:change=move |ev| action.set(event_target_value(&ev))/>
                    <select aria-label="Outcome" on:change=move |ev| outcome.set(event_target_value(&ev))>
                        <option value="">"Any outcome"</option><option value="success">"Success"</option>
                        <option value="failure">"Failure"</option><option value="refused">"Refused"</option>
                    </select>
                    <input type="date" aria-label="From" on:change=move |ev| from.set(event_target_value(&ev))/>
                    <input type="date" aria-label="To" on:change=move |ev| to.set(event_target_value(&ev))/>
                    {holds("steward.audit.export").then(|| view! { <button class="btn btn-small" on:click=export>"Export CSV"</button> })}
                    {holds("steward.audit.verify").then(|| view! { <button class="btn btn-small" on:click=verify>"Verify chain"</button> })}
                </div>
            </div>
            <div class="table-wrap"><table class="table" data-testid="audit-table" aria-busy=move || paged.loading.get().to_string()>
                <thead><tr>
                    <th class="num">"#"</th><th>"Time"</th><th>"Actor"</th><th>"Action"</th><th>"Outcome"</th>
                    <th>"Target"</th><th>"Customer"</th><th>"Request"</th>
                </tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table></div>
            <ListFooter paged=paged empty="No events match."/>
        </section>
    }
}
