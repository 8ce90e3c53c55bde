//! Dashboard: the KPIs of the current scope, from the cache Refresh rebuilds.

use leptos::prelude::*;

use crate::api;
use crate::components::form::{ErrorBanner, Loading};
use crate::scope::use_scope;

/// The home page: the KPIs for those who may read them; for everyone else, the pages they
/// can open (a delegated admin of one page lands here too, and is never shown a refusal).
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = crate::auth::use_auth();
    let may_read =
        move || auth.me.with(|m| m.as_ref().is_some_and(|m| m.console_pages.iter().any(|p| p.id == "dashboard")));
    move || if may_read() { view! { <Kpis/> }.into_any() } else { view! { <Welcome/> }.into_any() }
}

/// Where a principal without the dashboard starts: links to what they may open.
#[component]
fn Welcome() -> impl IntoView {
    let auth = crate::auth::use_auth();
    let pages = move || {
        auth.me.with(|m| {
            m.as_ref()
                .map(|m| {
                    m.console_pages
                        .iter()
                        .filter_map(|p| crate::components::shell::page_link(&p.id))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <div class="section-head"><h2>"Welcome"</h2></div>
        <section class="card welcome" data-testid="welcome">
            {move || {
                let links = pages();
                if links.is_empty() {
                    view! { <p class="muted">"Nothing here is open to your account yet. Ask an administrator for access."</p> }.into_any()
                } else {
                    view! {
                        <p>"Start with one of the pages open to you:"</p>
                        <ul class="welcome-links">
                            {links.into_iter().map(|(label, href)| view! { <li><a href=href>{label}</a></li> }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn Kpis() -> impl IntoView {
    let scope = use_scope();
    let kpis = LocalResource::new(move || {
        scope.value.track();
        api::dashboard()
    });
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match kpis.await {
                    Ok(k) => {
                        let title = match k.scope.mode.as_str() {
                            "all" => "All customers".to_string(),
                            _ => k.scope.customer_name.clone().unwrap_or_default(),
                        };
                        let rate = format!("{:.1}%", k.failure_rate * 100.0);
                        view! {
                            <div class="section-head">
                                <h2>{title}</h2>
                                <span class="muted small">
                                    {format!("Computed {} · {}", k.computed_at.format("%H:%M:%S UTC"), if k.cached { "from cache" } else { "fresh" })}
                                </span>
                            </div>
                            <section class="kpis" data-testid="kpis">
                                <Kpi label="Customers" value=k.customers.to_string() sub=String::new()/>
                                <Kpi label="Users" value=k.users.to_string() sub=format!("{} active", k.active_users)/>
                                <Kpi label="Active flows" value=k.active_flows.to_string() sub=format!("of {} flows", k.flows)/>
                                <Kpi label="Runs in 24 h" value=k.runs_24h.to_string() sub=format!("{} failed", k.failed_24h)/>
                                <Kpi label="Failure rate" value=rate sub="finished runs, 24 h".into()/>
                                <Kpi label="Records" value=k.records.to_string() sub="canonical data".into()/>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Kpi(label: &'static str, value: String, sub: String) -> impl IntoView {
    view! {
        <div class="kpi">
            <span class="kpi-label">{label}</span>
            <span class="kpi-value">{value}</span>
            <span class="kpi-sub">{sub}</span>
        </div>
    }
}
