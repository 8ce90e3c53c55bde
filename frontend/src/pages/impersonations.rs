//! Audit → Impersonation history (seed 001's recent impersonation sessions): who viewed as
//! whom, when, why, for how long, how it ended, and a link to what was done meanwhile (the audit
//! log filtered to that admin over that time).

use leptos::prelude::*;
use steward_shared::api::ImpersonationRow;

use crate::api;
use crate::components::list::{ListFooter, Paged};
use crate::pages::fmt::when;
use crate::scope::use_scope;

fn ended(how: &str) -> (&'static str, &'static str) {
    match how {
        "active" => ("badge badge-warn", "viewing now"),
        "exit" => ("badge badge-ok", "exited"),
        "expired" => ("badge", "expired"),
        "target_not_impersonable" => ("badge badge-bad", "target changed"),
        _ => ("badge", "session ended"),
    }
}

fn lasted(row: &ImpersonationRow) -> String {
    let end = row.ended_at.unwrap_or_else(chrono::Utc::now);
    let secs = (end - row.started_at).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[component]
pub fn ImpersonationsPage() -> impl IntoView {
    let scope = use_scope();
    let paged = Paged::new(
        move || {
            scope.value.track();
            String::new()
        },
        |q| async move { api::impersonations(&q).await },
    );
    let row = move |r: ImpersonationRow| {
        let (class, how) = ended(&r.ended_how);
        let (customer, span) = (r.customer_name.clone().unwrap_or_default(), lasted(&r));
        // What was done meanwhile: the admin's events over the view's time.
        let to =
            r.ended_at.map(|t| (t + chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let link = format!(
            "/admin/audit{}",
            api::query(&[
                ("actor", Some(r.admin_user_id.to_string())),
                ("from", Some(r.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
                ("to", to),
            ])
        );
        view! {
            <tr>
                <td class="nowrap">{r.admin_email.clone()}</td>
                <td class="nowrap"><span class="badge badge-warn">{format!("as {}", r.target_email)}</span></td>
                {move || scope.admin_mode().then(|| view! { <td class="nowrap">{customer.clone()}</td> })}
                <td class="truncate" title=r.reason.clone()>{r.reason.clone()}</td>
                <td class="nowrap small">{when(Some(r.started_at))}</td>
                <td class="nowrap small">{span}</td>
                <td><span class=class>{how}</span></td>
                <td class="num"><a href=link data-testid="view-actions">{if r.actions == 1 { "1 action".to_string() } else { format!("{} actions", r.actions) }}</a></td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2>"Impersonation history"</h2>
                    <p class="muted small">"Every “view as”, from the audit log: who, as whom, why, for how long, and what was done meanwhile."</p>
                </div>
                <button class="btn btn-small" on:click=move |_| paged.reload()>"Reload"</button>
            </div>
            <div class="table-wrap"><table class="table" data-testid="impersonations-table">
                <thead><tr>
                    <th>"Admin"</th><th>"Viewed as"</th>
                    {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                    <th>"Reason"</th><th>"Started"</th><th>"For"</th><th>"Ended"</th><th class="num">"Done meanwhile"</th>
                </tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table></div>
            <ListFooter paged=paged empty="Nobody has viewed as anyone in this scope."/>
        </section>
    }
}
