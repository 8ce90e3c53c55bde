//! My account: who you are here, and what you may do, module by module.

use leptos::prelude::*;
use steward_shared::permissions::CATALOG;

use crate::auth::use_auth;
use crate::pages::identity::security::{TokensCard, TwoFactorCard};

#[component]
pub fn AccountPage() -> impl IntoView {
    let auth = use_auth();
    let summary = move || {
        auth.me.get().map(|me| {
            let total: usize = CATALOG.iter().map(|m| m.leaves.len()).sum();
            let held = me.permissions.len();
            let expires = me
                .session_expires_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "API token".into());
            let rows = CATALOG
                .iter()
                .map(|module| {
                    let granted = module.leaves.iter().filter(|l| me.permissions.iter().any(|p| p == l.id)).count();
                    let of = module.leaves.len();
                    let width = format!("width: {}%", granted * 100 / of.max(1));
                    view! {
                        <tr>
                            <td>{module.label}</td>
                            <td class="mono muted">{module.id}</td>
                            <td class="num">{format!("{granted} of {of}")}</td>
                            <td class="bar-cell"><div class="bar"><div class="bar-fill" style=width></div></div></td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section class="kpis">
                    <div class="kpi">
                        <span class="kpi-label">"Signed in as"</span>
                        <span class="kpi-value small">{me.name.clone()}</span>
                        <span class="kpi-sub">{me.email.clone()}</span>
                    </div>
                    <div class="kpi">
                        <span class="kpi-label">"Organization"</span>
                        <span class="kpi-value small">{me.customer.name.clone()}</span>
                        <span class="kpi-sub">{format!("{} customer", me.customer.kind)}</span>
                    </div>
                    <div class="kpi">
                        <span class="kpi-label">"Home workspace"</span>
                        <span class="kpi-value small">{me.home_workspace.clone().map(|w| w.name).unwrap_or_else(|| "—".into())}</span>
                        <span class="kpi-sub">{if me.super_admin { "Super admin" } else { "Member" }}</span>
                    </div>
                    <div class="kpi">
                        <span class="kpi-label">"Permissions"</span>
                        <span class="kpi-value">{format!("{held} / {total}")}</span>
                        <span class="kpi-sub">{format!("Session until {expires}")}</span>
                    </div>
                </section>
                <section class="card">
                    <div class="card-head">
                        <h2>"Your access"</h2>
                        <p class="muted">"Leaves granted to you, per module of the permission catalog."</p>
                    </div>
                    <div class="table-wrap"><table class="table">
                        <thead><tr><th>"Module"</th><th>"Id"</th><th class="num">"Granted"</th><th>"Coverage"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table></div>
                </section>
            }
        })
    };
    view! {
        {summary}
        <TwoFactorCard/>
        <TokensCard/>
    }
}
