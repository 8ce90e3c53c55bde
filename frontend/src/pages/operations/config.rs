//! Config: the effective configuration of the replica that answered — each setting's value in
//! effect and where it came from; secrets only as set or unset.

use leptos::prelude::*;

use crate::api;
use crate::components::form::{ErrorBanner, Loading};
use crate::pages::fmt::when;

fn source_badge(source: &str) -> &'static str {
    match source {
        "flag" => "badge badge-info",
        "environment" => "badge badge-custom",
        "settings" => "badge badge-warn",
        "default" => "badge",
        _ => "badge badge-lock",
    }
}

#[component]
pub fn ConfigPage() -> impl IntoView {
    let config = LocalResource::new(api::config_view);
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match config.await {
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Ok(c) => view! {
                        <section class="card">
                            <dl class="facts">
                                <div><dt>"Version"</dt><dd class="mono">{c.version.clone()}</dd></div>
                                <div><dt>"Build"</dt><dd class="mono">{c.build.clone()}</dd></div>
                                <div><dt>"Database"</dt><dd>{format!("{} {}", c.database_backend, c.database_version)}</dd></div>
                                <div><dt>"Migrations"</dt><dd>{format!("{} of {} applied", c.migrations.iter().filter(|m| m.applied).count(), c.migrations.len())}</dd></div>
                            </dl>
                        </section>
                        <section class="card">
                            <div class="card-head"><h2>"Settings in effect"</h2>
                                <p class="muted small">"Where each value came from: its default, a flag, the environment, or the settings changed at run time. Secrets show only whether they are set."</p></div>
                            <div class="table-wrap">
                                <table class="table" data-testid="config-table">
                                    <thead><tr><th>"Setting"</th><th>"Value"</th><th>"Source"</th><th>"Flag / environment"</th></tr></thead>
                                    <tbody>{c.settings.iter().map(|s| view! {
                                        <tr>
                                            <td class="setting-name"><div class="mono">{s.name.clone()}</div>
                                                <div class="small muted">{s.description.clone()}</div></td>
                                            <td class="mono small truncate">{if s.secret {
                                                view! { <span class=if s.set { "badge badge-ok" } else { "badge" }>{if s.set { "set" } else { "unset" }}</span> }.into_any()
                                            } else {
                                                view! { <span title=s.value.clone().unwrap_or_default()>{s.value.clone().unwrap_or_else(|| "—".into())}</span> }.into_any()
                                            }}</td>
                                            <td><span class=source_badge(&s.source)>{s.source.clone()}</span></td>
                                            <td class="mono small">{s.flag.clone().unwrap_or_default()}<br/>{s.env.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}</tbody>
                                </table>
                            </div>
                        </section>
                        <section class="card">
                            <div class="card-head"><h2>"Migrations"</h2></div>
                            <div class="table-wrap"><table class="table">
                                <thead><tr><th>"Migration"</th><th>"State"</th><th>"Applied"</th></tr></thead>
                                <tbody>{c.migrations.iter().map(|m| view! {
                                    <tr><td class="mono">{m.name.clone()}</td>
                                        <td><span class=if m.applied { "badge badge-ok" } else { "badge badge-warn" }>{if m.applied { "applied" } else { "pending" }}</span></td>
                                        <td>{when(m.applied_at)}</td></tr>
                                }).collect_view()}</tbody>
                            </table></div>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
