//! Platform actions (seed 004 "Actions"): restart the worker pool, reload the applications,
//! purge a tenant's demo data, delete all public objects. Each asks for its phrase to be
//! typed; below, every action requested and what each replica did with it, refreshed while a
//! replica has yet to acknowledge. And the transfer token another platform fetches
//! applications with.

use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{CustomerSummary, Page};
use steward_shared::ops::{CommandRow, RequestAction};

use crate::api::{self, ApiError};
use crate::components::form::ErrorBanner;
use crate::components::scope_bar::use_toast;
use crate::pages::fmt::{pill, when};

/// Refresh period while an action is still being carried out.
const EVERY_MS: u64 = 2000;

struct Action {
    id: &'static str,
    title: &'static str,
    what: &'static str,
    /// `None`: the customer's name.
    phrase: Option<&'static str>,
    danger: bool,
}

const ACTIONS: &[Action] = &[
    Action {
        id: "restart_workers",
        title: "Restart the worker pool",
        what: "Every replica stops taking runs, lets each run in flight finish, and starts fresh workers. No run is lost or run twice.",
        phrase: Some("restart workers"),
        danger: false,
    },
    Action {
        id: "reload_applications",
        title: "Reload applications",
        what: "Every replica drops its cached data models and unpacks any package its disk lacks.",
        phrase: Some("reload applications"),
        danger: false,
    },
    Action {
        id: "purge_demo_data",
        title: "Purge a tenant's demo data",
        what: "Deletes one customer's flows, runs, connectors and records. Its users, roles, workspaces and audit trail stay.",
        phrase: None,
        danger: true,
    },
    Action {
        id: "delete_public_objects",
        title: "Delete all public objects",
        what: "Deletes every tenant's flows, runs, connectors and records. Customers, users, roles and the audit log stay.",
        phrase: Some("delete all public objects"),
        danger: true,
    },
];

#[component]
pub fn PlatformActionsPage() -> impl IntoView {
    let history = RwSignal::new(None::<Vec<CommandRow>>);
    let error = RwSignal::new(None::<ApiError>);
    let load = move || {
        spawn_local(async move {
            match api::get::<Page<CommandRow>>("/api/platform/actions?limit=20").await {
                Ok(p) => {
                    error.set(None);
                    history.set(Some(p.items));
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    load();
    let handle = set_interval_with_handle(
        move || {
            let pending = history.with_untracked(|h| {
                h.as_ref().is_some_and(|rows| {
                    rows.iter().any(|c| {
                        !c.waiting_for.is_empty()
                            || c.outcome
                                .as_ref()
                                .is_some_and(|o| o.get("status").and_then(|v| v.as_str()) == Some("running"))
                    })
                })
            });
            if pending {
                load();
            }
        },
        std::time::Duration::from_millis(EVERY_MS),
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    view! {
        <ErrorBanner error=error.into()/>
        <section class="actions-grid">
            {ACTIONS.iter().map(|a| view! { <ActionCard action=a on_done=move || load()/> }).collect_view()}
            <TransferCard/>
        </section>
        <section class="card">
            <div class="card-head"><h2>"Requested actions"</h2>
                <button class="btn btn-small" on:click=move |_| load()>"Reload"</button></div>
            {move || match history.get() {
                None => view! { <p class="muted pad">"Loading…"</p> }.into_any(),
                Some(rows) if rows.is_empty() => view! { <p class="muted pad">"No platform action has been requested yet."</p> }.into_any(),
                Some(rows) => view! {
                    <div class="table-wrap"><table class="table" data-testid="actions-table">
                        <thead><tr><th>"Action"</th><th>"Requested"</th><th>"By"</th><th>"Database work"</th><th>"Replicas"</th></tr></thead>
                        <tbody>{rows.into_iter().map(command_row).collect_view()}</tbody>
                    </table></div>
                }.into_any(),
            }}
        </section>
    }
}

fn title_of(id: &str) -> &'static str {
    ACTIONS.iter().find(|a| a.id == id).map(|a| a.title).unwrap_or("Unknown action")
}

fn command_row(c: CommandRow) -> impl IntoView {
    let target = c.params.get("customer_name").and_then(|v| v.as_str()).map(|n| format!(" · {n}"));
    let outcome = match &c.outcome {
        None => "—".to_string(),
        Some(o) if o.get("status").and_then(|v| v.as_str()) == Some("done") => {
            let deleted = o.get("deleted").and_then(|v| v.as_object()).map(|m| {
                m.iter()
                    .filter(|(_, n)| n.as_u64().unwrap_or(0) > 0)
                    .map(|(t, n)| format!("{n} {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            match deleted.filter(|d| !d.is_empty()) {
                Some(d) => format!("deleted {d}"),
                None => "nothing to delete".into(),
            }
        }
        Some(o) if o.get("status").and_then(|v| v.as_str()) == Some("failed") => {
            format!("failed: {}", o.get("error").and_then(|v| v.as_str()).unwrap_or(""))
        }
        Some(_) => "running…".into(),
    };
    let waiting = c.waiting_for.clone();
    view! {
        <tr>
            <td class="row-title nowrap">{title_of(&c.action)}<span class="muted">{target}</span></td>
            <td class="nowrap">{when(Some(c.requested_at))}</td>
            <td class="truncate narrow">{c.requested_by_email.clone().unwrap_or_default()}</td>
            <td class="small">{outcome}</td>
            <td>
                <ul class="acks">
                    {c.acks.into_iter().map(|a| view! {
                        <li>{pill(a.status.clone())} " "
                            <span class="mono small" title=a.replica_id.clone()>{a.host.clone().unwrap_or_else(|| a.replica_id.chars().take(8).collect())}</span>
                            " " <span class="muted small">{a.detail.clone()}</span></li>
                    }).collect_view()}
                    {waiting.into_iter().map(|r| view! {
                        <li>{pill("waiting".to_string())} " " <span class="mono small">{r.chars().take(8).collect::<String>()}</span></li>
                    }).collect_view()}
                </ul>
            </td>
        </tr>
    }
}

#[component]
fn ActionCard(action: &'static Action, on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let toast = use_toast();
    let typed = RwSignal::new(String::new());
    let customer = RwSignal::new(None::<CustomerSummary>);
    let customers = RwSignal::new(Vec::<CustomerSummary>::new());
    let busy = RwSignal::new(false);
    // The customers matching what is typed in the finder (a page of 20 by name): any tenant can
    // be reached, however many there are. Only the answer to the latest search is shown.
    let search = RwSignal::new(String::new());
    let asked = StoredValue::new(0u64);
    let more = RwSignal::new(false);
    if action.phrase.is_none() {
        Effect::new(move |_| {
            let q = search.get();
            let n = asked.get_value() + 1;
            asked.set_value(n);
            spawn_local(async move {
                if let Ok(list) = api::customers(q.trim()).await {
                    if asked.get_value() == n {
                        more.set(list.next_cursor.is_some());
                        customers.set(list.items.into_iter().filter(|c| c.kind == "tenant").collect());
                    }
                }
            });
        });
    }
    let expected = move || match action.phrase {
        Some(p) => Some(p.to_string()),
        None => customer.get().map(|c| c.name),
    };
    let ready = move || !busy.get() && expected().is_some_and(|e| e == typed.get().trim());
    let submit = move || {
        if !ready() {
            return;
        }
        busy.set(true);
        let body = RequestAction {
            action: action.id.into(),
            customer_id: customer.get_untracked().map(|c| c.id.0),
            confirm: typed.get_untracked(),
        };
        spawn_local(async move {
            let result = api::post::<_, CommandRow>("/api/platform/actions", &body)
                .await
                .map(|_| format!("{} requested; each replica acknowledges below.", action.title));
            if result.is_ok() {
                typed.set(String::new());
            }
            toast.0.set(Some(result));
            busy.set(false);
            on_done();
        });
    };
    let input_id = format!("confirm-{}", action.id);
    view! {
        <form class="card action-card" class:danger=action.danger data-testid=format!("action-{}", action.id)
            on:submit=move |ev| { ev.prevent_default(); submit() }>
            <h3>{action.title}</h3>
            <p class="muted small">{action.what}</p>
            {action.phrase.is_none().then(|| view! {
                <label class="field">"Find a customer"
                    <input type="search" placeholder="Name or slug" autocomplete="off" prop:value=move || search.get()
                        on:input=move |ev| {
                            search.set(event_target_value(&ev));
                            customer.set(None);
                            typed.set(String::new());
                        }/>
                </label>
                <label class="field">"Customer"
                    <select aria-label="Customer to purge" on:change=move |ev| {
                        let id = event_target_value(&ev);
                        customer.set(customers.get_untracked().into_iter().find(|c| c.id.0.to_string() == id));
                        typed.set(String::new());
                    }>
                        <option value="">"Choose a customer"</option>
                        {move || customers.get().into_iter().map(|c| view! { <option value=c.id.0.to_string()>{c.name.clone()}</option> }).collect_view()}
                    </select>
                    {move || more.get().then(|| view! { <span class="field-hint">"More customers match: type to narrow the list."</span> })}
                </label>
            })}
            <label class="field">
                <span>{move || match expected() {
                    Some(e) => view! { "Type " <code>{e}</code> " to confirm" }.into_any(),
                    None => view! { "Choose a customer first" }.into_any(),
                }}</span>
                <input id=input_id autocomplete="off" prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))/>
            </label>
            <button type="submit" class="btn" class:btn-danger=action.danger class:btn-primary=!action.danger disabled=move || !ready()>
                {move || if busy.get() { "Requesting…" } else { action.title }}
            </button>
        </form>
    }
}

/// Mints a transfer token for one application or all, shown once.
#[component]
fn TransferCard() -> impl IntoView {
    let apps = RwSignal::new(Vec::<steward_shared::apps::ApplicationRow>::new());
    let app = RwSignal::new(String::new());
    let ttl = RwSignal::new("15".to_string());
    let minted = RwSignal::new(None::<steward_shared::apps::TransferToken>);
    let error = RwSignal::new(None::<ApiError>);
    spawn_local(async move {
        if let Ok(p) = api::get::<Page<steward_shared::apps::ApplicationRow>>("/api/applications?limit=200").await {
            apps.set(p.items);
        }
    });
    let mint = move || {
        let body = steward_shared::apps::MintTransferToken {
            application_id: app.get_untracked().parse().ok(),
            ttl_minutes: ttl.get_untracked().trim().parse().ok(),
        };
        spawn_local(async move {
            match api::post::<_, steward_shared::apps::TransferToken>("/api/transfer/tokens", &body).await {
                Ok(t) => {
                    error.set(None);
                    minted.set(Some(t));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="card action-card" data-testid="action-transfer" on:submit=move |ev| { ev.prevent_default(); mint() }>
            <h3>"Transfer token"</h3>
            <p class="muted small">"Lets another Steward platform fetch applications from this one, once, within minutes. Give it to that platform's admin with this address."</p>
            <ErrorBanner error=error.into()/>
            <label class="field">"Application"
                <select aria-label="Application to transfer" on:change=move |ev| app.set(event_target_value(&ev))>
                    <option value="">"Every application"</option>
                    {move || apps.get().into_iter().map(|a| view! { <option value=a.id.to_string()>{a.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="field">"Good for (minutes, 1 to 60)"
                <input type="number" min="1" max="60" prop:value=move || ttl.get() on:input=move |ev| ttl.set(event_target_value(&ev))/>
            </label>
            {move || minted.get().map(|t| view! {
                <div class="minted" role="status">
                    <p class="small"><strong>"Copy it now; it is not shown again."</strong>
                        " For " {t.application.clone().unwrap_or_else(|| "every application".into())} ", until " {when(Some(t.expires_at))} "."</p>
                    <textarea class="mono small" readonly rows="4" data-testid="transfer-token">{t.token.clone()}</textarea>
                </div>
            })}
            <button type="submit" class="btn btn-primary">"Mint transfer token"</button>
        </form>
    }
}
