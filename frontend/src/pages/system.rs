//! System status: what the server says of itself.

use leptos::prelude::*;

use crate::api;
use crate::components::form::{ErrorBanner, Loading};

#[component]
pub fn SystemPage() -> impl IntoView {
    let health = LocalResource::new(api::health);
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Server"</h2>
                <button class="btn btn-ghost" on:click=move |_| health.refetch()>"Refresh"</button>
            </div>
            <Transition fallback=|| view! { <Loading/> }>
                {move || Suspend::new(async move {
                    match health.await {
                        Ok(h) => view! {
                            <dl class="facts">
                                <div><dt>"Status"</dt><dd><span class="badge badge-ok">{h.status}</span></dd></div>
                                <div><dt>"Version"</dt><dd class="mono">{h.version}</dd></div>
                                <div><dt>"Database"</dt><dd>{h.database}</dd></div>
                                <div><dt>"Migrations applied"</dt><dd class="num">{h.migrations_applied}</dd></div>
                                <div><dt>"Migrations pending"</dt><dd class="num">{h.migrations_pending}</dd></div>
                            </dl>
                        }.into_any(),
                        Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
