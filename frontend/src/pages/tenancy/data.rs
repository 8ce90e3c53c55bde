//! Data: canonical records in scope.

use leptos::prelude::*;
use steward_shared::api::RecordRow;

use crate::api;
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::when;
use crate::scope::use_scope;

#[component]
pub fn DataPage() -> impl IntoView {
    let scope = use_scope();
    let entity = RwSignal::new(String::new());
    let paged = Paged::new(
        move || {
            scope.value.track();
            api::query(&[("entity_type", Some(entity.get()))])
        },
        |q| async move { api::records(&q).await },
    );
    let row = move |r: RecordRow| {
        let payload = r.payload.to_string();
        let preview: String = payload.chars().take(80).collect();
        view! {
            <tr>
                <td>{r.entity_type.clone()}</td>
                <td class="mono">{r.external_id.clone()}</td>
                {move || scope.admin_mode().then(|| view! { <td title=r.customer_id.to_string()>{r.customer_name.clone()}</td> })}
                <td>{r.source.clone()}</td>
                <td class="mono muted small" title=payload.clone()>{preview}</td>
                <td>{when(Some(r.updated_at))}</td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Records"</h2>
                <div class="filters">
                    <select aria-label="Entity type" on:change=move |ev| entity.set(event_target_value(&ev))>
                        <option value="">"Any entity"</option>
                        {["contact", "account", "invoice", "order", "ticket"].map(|e| view! { <option value=e>{e}</option> })}
                    </select>
                </div>
            </div>
            <div class="table-wrap"><table class="table" data-testid="records-table">
                <thead><tr>
                    <th>"Entity"</th><th>"External id"</th>
                    {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                    <th>"Source"</th><th>"Payload"</th><th>"Updated"</th>
                </tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table></div>
            <ListFooter paged=paged empty="No records in this scope."/>
        </section>
    }
}
