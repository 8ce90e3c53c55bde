//! Dashboard: the KPIs of the current scope, from the cache Refresh rebuilds.

use leptos::prelude::*;

use crate::api;
use crate::components::form::{ErrorBanner, Loading};
use crate::scope::use_scope;

#[component]
pub fn DashboardPage() -> impl IntoView {
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
