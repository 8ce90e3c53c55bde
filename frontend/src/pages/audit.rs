//! The audit log: filter (action, outcome, dates; and by actor, target, customer or request,
//! picked from an event), browse (newest first), an event's detail in a drawer (who, as whom,
//! from where, before and after, its chain hash), export the filter as CSV, verify the chain.
//! The scope it shows is said above the table.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{AuditEvent, AuditVerification};

use crate::api::{self, ApiError};
use crate::components::form::ErrorBanner;
use crate::components::form_dialog::CopyId;
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::{holds, pill, when};
use crate::scope::use_scope;

/// An id-valued filter picked from an event: the query parameter, its value, and what to call it.
#[derive(Clone, PartialEq)]
struct Pick {
    param: &'static str,
    value: String,
    label: String,
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let scope = use_scope();
    // Links name an actor, a target, a customer, a request (the logs link the request a line
    // concerns) or a time span (impersonation history links a view's): each a removable filter.
    let url = leptos_router::hooks::use_query_map();
    let picks = RwSignal::new(Vec::<Pick>::new());
    Effect::new(move |_| {
        let from_url: Vec<Pick> = url.with(|q| {
            ["actor", "target_id", "customer_id", "request_id", "from", "to"]
                .into_iter()
                .filter_map(|param| {
                    q.get(param).map(|value| Pick {
                        param,
                        label: format!("{} {value}", param.replace('_', " ")),
                        value,
                    })
                })
                .collect()
        });
        picks.set(from_url);
    });
    let pick = move |p: Pick| {
        picks.update(|all| {
            all.retain(|x| x.param != p.param);
            all.push(p);
        })
    };
    let filter = move || {
        let day = |d: String, end: bool| {
            (!d.is_empty()).then(|| format!("{d}T{}Z", if end { "23:59:59" } else { "00:00:00" }))
        };
        let chosen = picks.get();
        let by = |param: &str| chosen.iter().find(|p| p.param == param).map(|p| p.value.clone());
        api::query(&[
            ("action", Some(action.get())),
            ("outcome", Some(outcome.get())),
            ("from", by("from").or_else(|| day(from.get(), false))),
            ("to", by("to").or_else(|| day(to.get(), true))),
            ("actor", by("actor")),
            ("target_id", by("target_id")),
            ("customer_id", by("customer_id")),
            ("request_id", by("request_id")),
        ])
    };
    let selected = RwSignal::new(None::<AuditEvent>);
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
    let row = move |e: AuditEvent| {
        let who = e.actor_email.clone().unwrap_or_else(|| "—".into());
        // By name where the target has one; the id is on hover.
        let target = match (&e.target_type, &e.target_name, &e.target_id) {
            (Some(t), Some(name), _) => format!("{t} {name}"),
            (Some(t), None, Some(id)) => format!("{t} {}", id.chars().take(8).collect::<String>()),
            _ => "—".into(),
        };
        let target_id = e.target_id.clone().unwrap_or_default();
        let event = e.clone();
        let open = move || selected.set(Some(event.clone()));
        view! {
            <tr class="clickable" tabindex="0" on:click={let open = open.clone(); move |_| open()}
                on:keydown=move |ev| if ev.key() == "Enter" { open() }>
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
                        <option value="throttled">"Throttled"</option>
                    </select>
                    <input type="date" aria-label="From" on:change=move |ev| from.set(event_target_value(&ev))/>
                    <input type="date" aria-label="To" on:change=move |ev| to.set(event_target_value(&ev))/>
                    {holds("steward.audit.export").then(|| view! { <button class="btn btn-small" on:click=export>"Export CSV"</button> })}
                    {holds("steward.audit.verify").then(|| view! { <button class="btn btn-small" on:click=verify>"Verify chain"</button> })}
                </div>
            </div>
            <div class="card-note audit-scope" data-testid="audit-scope">
                <span>{move || match scope.value.get().as_str() {
                    "tenant" => "Showing your organization's events.".to_string(),
                    "all" => "Showing every customer's events (admin mode).".to_string(),
                    _ => format!("Showing the events of {} (admin mode).", scope.customer_name.get().unwrap_or_else(|| "one customer".into())),
                }}</span>
                {move || picks.get().into_iter().map(|p| {
                    let param = p.param;
                    view! {
                        <span class="chip" data-testid="audit-filter">{p.label.clone()}
                            <button type="button" class="chip-remove" aria-label=format!("Remove the filter {}", p.label)
                                on:click=move |_| picks.update(|all| all.retain(|x| x.param != param))>"×"</button>
                        </span>
                    }
                }).collect_view()}
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
        <EventDrawer selected=selected on_pick=Callback::new(pick)/>
    }
}

/// One event in full, in a drawer (a modal `<dialog>`: Escape closes it), with buttons that
/// filter the log by its actor, target, customer or request.
#[component]
fn EventDrawer(selected: RwSignal<Option<AuditEvent>>, on_pick: Callback<Pick>) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        match selected.get() {
            Some(_) if !el.open() => {
                let _ = el.show_modal();
            }
            None if el.open() => el.close(),
            _ => {}
        }
    });
    // The list leaves out a long summary's long values: the drawer asks for the event whole.
    let whole = RwSignal::new(None::<Result<AuditEvent, ApiError>>);
    Effect::new(move |_| {
        whole.set(None);
        let Some(seq) = selected.with(|e| e.as_ref().filter(|e| !e.summary_omitted.is_empty()).map(|e| e.seq)) else {
            return;
        };
        spawn_local(async move {
            let answer = api::audit_event(seq).await;
            if selected.with_untracked(|e| e.as_ref().map(|e| e.seq)) == Some(seq) {
                whole.set(Some(answer));
            }
        });
    });
    let choose = move |p: Pick| {
        selected.set(None);
        on_pick.run(p);
    };
    view! {
        <dialog node_ref=dialog class="drawer" on:close=move |_| selected.set(None) aria-label="Audit event">
            {move || selected.get().map(|e| {
                let summary = serde_json::to_string_pretty(&e.summary).unwrap_or_default();
                let actor = e.actor_user_id.map(|id| Pick { param: "actor", value: id.to_string(), label: format!("actor {}", e.actor_email.clone().unwrap_or_default()) });
                let target = e.target_id.clone().map(|id| Pick {
                    param: "target_id",
                    label: format!("target {}", e.target_name.clone().unwrap_or_else(|| id.clone())),
                    value: id,
                });
                let customer = e.customer_id.map(|id| Pick { param: "customer_id", value: id.to_string(), label: format!("customer {}", e.customer_name.clone().unwrap_or_default()) });
                let request = e.request_id.clone().map(|id| Pick { param: "request_id", label: format!("request {id}"), value: id });
                view! {
                    <div class="drawer-head">
                        <h2><span class="mono">{e.action.clone()}</span>" "{pill(e.outcome.clone())}</h2>
                        <button class="btn btn-small btn-ghost" type="button" aria-label="Close" on:click=move |_| selected.set(None)>"×"</button>
                    </div>
                    <dl class="event-facts" data-testid="event-detail">
                        <dt>"Event"</dt><dd>{format!("#{} · {}", e.seq, when(Some(e.occurred_at)))}</dd>
                        <dt>"Actor"</dt><dd>{e.actor_email.clone().unwrap_or_else(|| "the platform".into())}
                            {e.impersonated_email.clone().map(|t| view! { " " <span class="badge badge-warn">{format!("viewing as {t}")}</span> })}</dd>
                        <dt>"Target"</dt><dd>{match (&e.target_type, &e.target_name) {
                            (Some(t), Some(n)) => format!("{t} {n}"),
                            (Some(t), None) => t.clone(),
                            _ => "—".into(),
                        }}{e.target_id.clone().map(|id| view! { <div><CopyId id=id/></div> })}</dd>
                        <dt>"Customer"</dt><dd>{e.customer_name.clone().unwrap_or_else(|| "— (platform)".into())}</dd>
                        <dt>"Request"</dt><dd>{match e.request_id.clone() { Some(id) => view! { <CopyId id=id/> }.into_any(), None => "—".into_any() }}</dd>
                        <dt>"From"</dt><dd>{e.ip.clone().unwrap_or_else(|| "—".into())}<div class="muted small">{e.user_agent.clone().unwrap_or_default()}</div></dd>
                        <dt>"Chain hash"</dt><dd class="mono small hash">{e.hash.clone()}</dd>
                    </dl>
                    <h3 class="drawer-sub">"Summary (before and after)"</h3>
                    {move || match (e.summary_omitted.is_empty(), whole.get()) {
                        (true, _) => view! { <pre class="mail-body" data-testid="event-summary">{summary.clone()}</pre> }.into_any(),
                        (false, Some(Ok(full))) => {
                            let text = serde_json::to_string_pretty(&full.summary).unwrap_or_default();
                            view! { <pre class="mail-body" data-testid="event-summary">{text}</pre> }.into_any()
                        }
                        (false, Some(Err(error))) => view! {
                            <p class="muted" role="alert">{format!("The full summary could not be loaded: {}", error.message())}</p>
                            <pre class="mail-body" data-testid="event-summary">{summary.clone()}</pre>
                        }.into_any(),
                        (false, None) => view! { <p class="muted" aria-busy="true" data-testid="event-summary-loading">"Loading the full summary…"</p> }.into_any(),
                    }}
                    <div class="drawer-actions">
                        {[actor, target, customer, request].into_iter().flatten().map(|p| {
                            let text = format!("Only {}", p.label);
                            view! { <button class="btn btn-small" type="button" on:click=move |_| choose(p.clone())>{text}</button> }
                        }).collect_view()}
                    </div>
                }
            })}
        </dialog>
    }
}
