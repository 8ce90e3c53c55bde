//! The top bar's scope controls: the shield toggle (admin mode), the searchable customer
//! picker with recent customers first, and Refresh.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::CustomerSummary;

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::icon::Icon;
use crate::scope::use_scope;

/// A short-lived message under the top bar: the server's refusal, or a confirmation.
#[derive(Clone, Copy)]
pub struct Toast(pub RwSignal<Option<Result<String, ApiError>>>);

pub fn use_toast() -> Toast {
    expect_context::<Toast>()
}

/// Tracked: the bar follows `/api/me` (it changes when impersonation starts or ends).
fn holds(leaf: &'static str) -> Signal<bool> {
    let auth = use_auth();
    Signal::derive(move || {
        auth.me.with(|me| me.as_ref().is_some_and(|m| m.super_admin || m.permissions.iter().any(|p| p == leaf)))
    })
}

#[component]
pub fn ScopeBar() -> impl IntoView {
    let scope = use_scope();
    let cross_tenant = holds("steward.admin.cross_tenant");
    let can_refresh = holds("steward.cache.refresh");
    let toast = use_toast();
    let busy = RwSignal::new(false);
    let refresh = move |_| {
        busy.set(true);
        spawn_local(async move {
            let result = api::refresh_cache().await;
            toast.0.set(Some(result.map(|k| {
                format!("Caches rebuilt for {}.", k.scope.customer_name.unwrap_or_else(|| "your organization".into()))
            })));
            scope.value.update(|_| {});
            busy.set(false);
        });
    };
    view! {
        {move || cross_tenant.get().then(|| view! {
            <button
                class="shield"
                class:on=move || scope.admin_mode()
                aria-pressed=move || scope.admin_mode().to_string()
                title="Admin mode: see every customer"
                on:click=move |_| if scope.admin_mode() { scope.set("tenant", None) } else { scope.set("all", None) }
            >
                <Icon name="shield"/>
                <span>{move || if scope.admin_mode() { "Admin mode" } else { "My organization" }}</span>
            </button>
            <Show when=move || scope.admin_mode()>
                <CustomerPicker/>
            </Show>
        })}
        {move || can_refresh.get().then(|| view! {
            <button class="btn btn-small" on:click=refresh disabled=move || busy.get() title="Rebuild the KPI cache of the customer in scope">
                <Icon name="refresh"/>{move || if busy.get() { "Refreshing…" } else { "Refresh" }}
            </button>
        })}
    }
}

#[component]
fn CustomerPicker() -> impl IntoView {
    let scope = use_scope();
    let open = RwSignal::new(false);
    let search = RwSignal::new(String::new());
    let input = NodeRef::<html::Input>::new();
    let results = LocalResource::new(move || {
        let q = search.get();
        // The recently viewed above the matches while nothing is typed; the matches alone after.
        async move {
            let recent = if q.is_empty() { api::recent_customers().await? } else { Vec::new() };
            Ok::<_, api::ApiError>((recent, api::customers(&q).await?.items))
        }
    });
    // The cookie keeps the customer's id; learn its name again after a reload or a new login.
    Effect::new(move |_| {
        let value = scope.value.get();
        if let Some(id) = value.strip_prefix("customer:").map(str::to_owned) {
            if scope.customer_name.get_untracked().is_none() {
                spawn_local(async move {
                    if let Ok(c) = api::customer(&id).await {
                        scope.customer_name.set(Some(c.customer.name));
                    }
                });
            }
        }
    });
    let label = move || match scope.value.get().as_str() {
        "all" => "All customers".to_string(),
        _ => scope.customer_name.get().unwrap_or_else(|| "One customer".into()),
    };
    let choose = move |c: Option<CustomerSummary>| {
        open.set(false);
        search.set(String::new());
        match c {
            Some(c) => {
                let id = c.id.to_string();
                scope.set(&format!("customer:{id}"), Some(c.name));
                spawn_local(async move {
                    let _ = api::record_customer_view(&id).await;
                });
            }
            None => scope.set("all", None),
        }
    };
    Effect::new(move |_| {
        if open.get() {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        }
    });
    let option = move |c: CustomerSummary| {
        let pick = c.clone();
        view! {
            <li><button class="picker-option" on:click=move |_| choose(Some(pick.clone()))>
                <span>{c.name.clone()}</span><span class="mono muted">{c.slug.clone()}</span>
            </button></li>
        }
    };
    view! {
        <div class="picker" on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
            <button class="chip picker-button" aria-haspopup="listbox" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o) data-testid="customer-picker">
                <span class="chip-dot amber"></span>{label}<span aria-hidden="true">"▾"</span>
            </button>
            <Show when=move || open.get()>
                <div class="picker-panel" role="dialog" aria-label="Choose a customer">
                    <input node_ref=input class="picker-search" type="search" placeholder="Search customers…"
                        aria-label="Search customers" prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev)) />
                    <ul class="picker-list">
                        <li><button class="picker-option" on:click=move |_| choose(None)><strong>"All customers"</strong></button></li>
                        <Transition fallback=|| view! { <li class="muted picker-note">"Searching…"</li> }>
                            {move || Suspend::new(async move {
                                match results.await {
                                    Ok((recent, items)) => {
                                        let recent_ids: Vec<_> = recent.iter().map(|c| c.id).collect();
                                        let rest: Vec<_> = items.into_iter().filter(|c| !recent_ids.contains(&c.id)).collect();
                                        let empty = recent.is_empty() && rest.is_empty();
                                        view! {
                                            {(!recent.is_empty()).then(|| view! { <li class="picker-group">"Recent"</li> })}
                                            {recent.into_iter().map(option).collect_view()}
                                            {(!rest.is_empty()).then(|| view! { <li class="picker-group">"Customers"</li> })}
                                            {rest.into_iter().map(option).collect_view()}
                                            {empty.then(|| view! { <li class="muted picker-note">"No customer matches."</li> })}
                                        }.into_any()
                                    }
                                    Err(e) => view! { <li class="field-error picker-note">{e.message()}</li> }.into_any(),
                                }
                            })}
                        </Transition>
                    </ul>
                </div>
            </Show>
        </div>
    }
}
