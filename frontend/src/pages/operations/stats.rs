//! Stats over time: the periodic snapshots for the current scope, charted over a range.

use leptos::prelude::*;
use steward_shared::ops::{StatPoint, StatsSeries};

use crate::api;
use crate::components::chart::{LineChart, Series};
use crate::components::form::{ErrorBanner, Loading};
use crate::scope::use_scope;

const RANGES: &[(&str, &str)] = &[("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days"), ("1y", "1 year")];

#[component]
pub fn StatsPage() -> impl IntoView {
    let scope = use_scope();
    let range = RwSignal::new("24h");
    let data = LocalResource::new(move || {
        scope.value.track();
        let r = range.get();
        async move { api::stats(r).await }
    });
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Stats over time"</h2>
                <div class="tabs" role="tablist" aria-label="Range">
                    {RANGES.iter().map(|&(id, label)| view! {
                        <button class="tab" role="tab" class:active=move || range.get() == id
                            aria-selected=move || (range.get() == id).to_string()
                            on:click=move |_| range.set(id)>{label}</button>
                    }).collect_view()}
                </div>
                <p class="muted small">{move || if scope.admin_mode() && scope.value.get() == "all" {
                    "The platform's totals: every customer."
                } else {
                    "The customer in scope."
                }}</p>
            </div>
        </section>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(series) => charts(series).into_any(),
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn charts(s: StatsSeries) -> impl IntoView {
    let format = match s.range.as_str() {
        "24h" => "%H:%M",
        "7d" => "%a %d",
        "1y" => "%b %Y",
        _ => "%b %d",
    };
    let at: Vec<_> = s.points.iter().map(|p| p.at).collect();
    let col = |f: fn(&StatPoint) -> i64| s.points.iter().map(|p| f(p) as f64).collect::<Vec<f64>>();
    let per = if s.bucket == "hour" { "per hour" } else { "per day" };
    view! {
        <div class="charts" data-testid="stats-charts">
            <LineChart title="Users" at=at.clone() label_format=format series=vec![
                Series { label: "users", color: "#4f46e5", values: col(|p| p.users) },
                Series { label: "active", color: "#12b76a", values: col(|p| p.active_users) },
            ]/>
            <LineChart title=if per == "per hour" { "Runs per hour" } else { "Runs per day" } at=at.clone() label_format=format series=vec![
                Series { label: "succeeded", color: "#12b76a", values: col(|p| p.runs_succeeded) },
                Series { label: "failed", color: "#d92d20", values: col(|p| p.runs_failed) },
            ]/>
            <LineChart title="Flows and records" at=at.clone() label_format=format series=vec![
                Series { label: "flows", color: "#0ba5ec", values: col(|p| p.flows) },
                Series { label: "records", color: "#f79009", values: col(|p| p.records) },
            ]/>
            <LineChart title=if per == "per hour" { "Activity per hour" } else { "Activity per day" } at=at.clone() label_format=format series=vec![
                Series { label: "audit events", color: "#7a5af8", values: col(|p| p.audit_events) },
                Series { label: "sign-ins", color: "#ee46bc", values: col(|p| p.sign_ins) },
            ]/>
            {(s.customer_id.is_none()).then(|| view! {
                <LineChart title="Customers" at=at.clone() label_format=format series=vec![
                    Series { label: "customers", color: "#344054", values: col(|p| p.customers) },
                ]/>
            })}
        </div>
    }
}
