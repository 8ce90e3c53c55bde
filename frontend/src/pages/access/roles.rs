//! Access → Roles: every role with its coverage, and the metrics strip.

use leptos::prelude::*;
use leptos_router::components::A;
use steward_shared::api::RoleSummary;

use crate::api;
use crate::auth::use_auth;
use crate::components::form::{ErrorBanner, Loading};
use crate::components::icon::Icon;

/// Whether the signed-in principal may change roles (by leaf or by the delegated page).
pub fn can_manage_roles() -> bool {
    let auth = use_auth();
    auth.me.with_untracked(|me| {
        me.as_ref().is_some_and(|me| {
            me.super_admin
                || me
                    .permissions
                    .iter()
                    .any(|p| p == "steward.access.roles.manage" || p == "steward.console.roles.write")
        })
    })
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let roles = LocalResource::new(|| async {
        let (roles, metrics) = futures::join!(api::roles(), api::role_metrics());
        Ok::<_, api::ApiError>((roles?, metrics?))
    });
    let can_manage = can_manage_roles();
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match roles.await {
                    Ok((list, m)) => {
                        let has_custom = list.iter().any(|r| !r.system);
                        view! {
                            <section class="kpis" aria-label="Metrics">
                                <Kpi label="Leaves in catalog" value=m.leaves_in_catalog.to_string()/>
                                <Kpi label="Total roles" value=m.total_roles.to_string()/>
                                <Kpi label="Custom roles" value=m.custom_roles.to_string()/>
                                <Kpi label="Members assigned" value=m.members_assigned.to_string()/>
                            </section>
                            <section class="card">
                                <div class="card-head">
                                    <h2>"Roles"</h2>
                                    {can_manage.then(|| view! { <A href="/admin/roles/new" attr:class="btn btn-primary">"New role"</A> })}
                                    <p class="muted">"System roles ship with Steward and are read-only; custom roles belong to one workspace."</p>
                                </div>
                                <div class="table-wrap"><table class="table" data-testid="roles-table">
                                    <thead>
                                        <tr>
                                            <th>"Role"</th><th>"Type"</th><th>"Workspace"</th>
                                            <th class="num">"Members"</th><th>"Coverage"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list.into_iter().map(row).collect_view()}
                                        {(!has_custom).then(|| view! {
                                            <tr class="empty-row"><td colspan="5">
                                                "No custom roles yet. Create one to grant a workspace exactly the permissions it needs."
                                            </td></tr>
                                        })}
                                    </tbody>
                                </table></div>
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
fn Kpi(label: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="kpi">
            <span class="kpi-label">{label}</span>
            <span class="kpi-value">{value}</span>
        </div>
    }
}

fn row(role: RoleSummary) -> impl IntoView {
    let href = format!("/admin/roles/{}", role.id);
    let width = format!("width: {}%", role.granted_leaves * 100 / role.total_leaves.max(1));
    view! {
        <tr>
            <td>
                <A href=href attr:class="row-title">{role.name.clone()}</A>
                <div class="muted small">{role.description.clone()}</div>
            </td>
            <td>
                {if role.system {
                    view! { <span class="badge badge-lock" title="Read-only"><Icon name="lock"/>"System"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-custom">"Custom"</span> }.into_any()
                }}
            </td>
            <td>{role.workspace.map(|w| w.name).unwrap_or_else(|| "All workspaces".into())}</td>
            <td class="num">{role.member_count}</td>
            <td class="coverage">
                <span class="coverage-text">{format!("{} of {}", role.granted_leaves, role.total_leaves)}</span>
                <div class="bar"><div class="bar-fill" style=width></div></div>
            </td>
        </tr>
    }
}
