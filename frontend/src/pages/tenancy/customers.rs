//! Administration → Customers: every customer the principal may see, by name, with its
//! workspaces, users and flows counted and its last activity; a customer's detail with its
//! workspaces. Platform staff create customers; super admins add and rename workspaces.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use steward_shared::api::{CreateCustomer, CustomerDetail, CustomerOverview, WorkspaceRef};

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::form::{ErrorBanner, Field, Loading};
use crate::components::form_dialog::{CopyId, FormDialog};
use crate::components::list::{ListFooter, Paged};
use crate::components::scope_bar::use_toast;
use crate::pages::fmt::{holds, pill, when};

fn can_manage() -> bool {
    holds("steward.customers.manage") || holds("steward.console.customers.write")
}

fn super_admin() -> bool {
    use_auth().me.with_untracked(|m| m.as_ref().is_some_and(|m| m.super_admin))
}

#[component]
pub fn CustomersPage() -> impl IntoView {
    let toast = use_toast();
    let search = RwSignal::new(String::new());
    let paged = Paged::new(
        move || api::query(&[("search", Some(search.get()))]),
        |q| async move { api::customer_overview(&q).await },
    );
    // Creating a customer crosses tenants: only platform staff may.
    let can_create = can_manage() && holds("steward.admin.cross_tenant");
    let open = RwSignal::new(false);
    let (name, slug, workspace) =
        (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let start = move |_| {
        name.set(String::new());
        slug.set(String::new());
        workspace.set(String::new());
        error.set(None);
        open.set(true);
    };
    let create = Callback::new(move |()| {
        let body = CreateCustomer {
            name: name.get_untracked(),
            slug: Some(slug.get_untracked().trim().to_owned()).filter(|s| !s.is_empty()),
            workspace_name: Some(workspace.get_untracked()).filter(|w| !w.trim().is_empty()),
        };
        busy.set(true);
        spawn_local(async move {
            let result = api::create_customer(&body).await;
            busy.set(false);
            match result {
                Ok(c) => {
                    open.set(false);
                    paged.reload();
                    toast.0.set(Some(Ok(format!(
                        "“{}” was created with its workspace “{}”.",
                        c.customer.name,
                        c.workspaces.first().map(|w| w.name.clone()).unwrap_or_default()
                    ))));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    let row = move |c: CustomerOverview| {
        let href = format!("/admin/customers/{}", c.customer.id);
        view! {
            <tr>
                <td>
                    <a class="row-title" href=href>{c.customer.name.clone()}</a>
                    <div class="muted small mono">{c.customer.slug.clone()}</div>
                </td>
                <td>{pill(c.customer.kind.clone())}</td>
                <td class="num">{c.workspaces}</td>
                <td class="num">{c.users}</td>
                <td class="num">{c.flows}</td>
                <td class="nowrap">{when(c.last_activity_at)}</td>
                <td class="nowrap muted small">{when(Some(c.customer.created_at))}</td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Customers"</h2>
                <div class="filters">
                    <input type="search" placeholder="Search name or slug" aria-label="Search customers"
                        on:change=move |ev| search.set(event_target_value(&ev))/>
                    {can_create.then(|| view! { <button class="btn btn-primary btn-small" on:click=start>"New customer"</button> })}
                </div>
            </div>
            <div class="table-wrap"><table class="table" data-testid="customers-table">
                <thead><tr>
                    <th>"Customer"</th><th>"Kind"</th><th class="num">"Workspaces"</th><th class="num">"Users"</th>
                    <th class="num">"Flows"</th><th>"Last activity"</th><th>"Created"</th>
                </tr></thead>
                <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
            </table></div>
            <ListFooter paged=paged empty="No customer matches."/>
        </section>
        <FormDialog open=open title="New customer" submit_label="Create customer" error=error busy=busy on_submit=create>
            <Field label="Name" name="name" value=name error=error autofocus=true/>
            <Field label="Slug (optional)" name="slug" value=slug error=error hint="Lowercase letters, digits and dashes; made from the name when empty."/>
            <Field label="First workspace (optional)" name="workspace_name" value=workspace error=error hint="Called “Main” when empty."/>
        </FormDialog>
    }
}

/// What the rename dialog is renaming.
#[derive(Clone, PartialEq)]
enum Target {
    Customer,
    NewWorkspace,
    Workspace(WorkspaceRef),
}

#[component]
pub fn CustomerDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.get().get("id").unwrap_or_default();
    let tick = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        tick.track();
        let id = id();
        async move { api::customer(&id).await }
    });
    view! {
        <p class="crumbs"><a href="/admin/customers">"Customers"</a> " / "</p>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || detail.get().map(|r| match r {
                Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                Ok(d) => view! { <CustomerBody detail=d reload=Callback::new(move |()| tick.update(|t| *t += 1))/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn CustomerBody(detail: CustomerDetail, reload: Callback<()>) -> impl IntoView {
    let toast = use_toast();
    let c = detail.customer.clone();
    let customer_id = c.id.to_string();
    let (can_rename, root) = (can_manage(), super_admin());
    let target = RwSignal::new(None::<Target>);
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let edit = move |t: Target, current: String| {
        name.set(current);
        error.set(None);
        target.set(Some(t));
        open.set(true);
    };
    let save = {
        let customer_id = customer_id.clone();
        Callback::new(move |()| {
            let Some(t) = target.get_untracked() else { return };
            let (customer_id, new_name) = (customer_id.clone(), name.get_untracked());
            busy.set(true);
            spawn_local(async move {
                let result = match t {
                    Target::Customer => {
                        api::rename_customer(&customer_id, new_name).await.map(|c| format!("Renamed to “{}”.", c.name))
                    }
                    Target::NewWorkspace => api::create_workspace(&customer_id, new_name)
                        .await
                        .map(|w| format!("Workspace “{}” was created.", w.name)),
                    Target::Workspace(w) => api::rename_workspace(&w.id.to_string(), new_name)
                        .await
                        .map(|n| format!("“{}” is now “{}”.", w.name, n.name)),
                };
                busy.set(false);
                match result {
                    Ok(message) => {
                        open.set(false);
                        toast.0.set(Some(Ok(message)));
                        reload.run(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let title = Signal::derive(move || match target.get() {
        Some(Target::Customer) => "Rename customer".to_string(),
        Some(Target::NewWorkspace) => "New workspace".to_string(),
        Some(Target::Workspace(w)) => format!("Rename workspace “{}”", w.name),
        None => String::new(),
    });
    let current = c.name.clone();
    let workspaces = detail.workspaces.clone();
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2 data-testid="customer-name">{c.name.clone()}</h2>
                    <p class="muted small">{pill(c.kind.clone())}" "<span class="mono">{c.slug.clone()}</span>
                        " · created "{when(Some(c.created_at))}</p>
                </div>
                {can_rename.then(|| view! {
                    <button class="btn btn-small" on:click=move |_| edit(Target::Customer, current.clone())>"Rename"</button>
                })}
            </div>
            <dl class="facts">
                <div><dt>"Id"</dt><dd><CopyId id=customer_id.clone()/></dd></div>
                <div><dt>"Users"</dt><dd>{detail.users}</dd></div>
                <div><dt>"Workspaces"</dt><dd>{detail.workspaces.len()}</dd></div>
            </dl>
        </section>
        <section class="card">
            <div class="card-head">
                <h2>"Workspaces"</h2>
                {root.then(|| view! {
                    <button class="btn btn-primary btn-small" on:click=move |_| edit(Target::NewWorkspace, String::new())>"New workspace"</button>
                })}
            </div>
            <div class="table-wrap"><table class="table" data-testid="workspaces-table">
                <thead><tr><th>"Workspace"</th><th>"Id"</th><th class="actions"></th></tr></thead>
                <tbody>
                    {workspaces.into_iter().map(|w| {
                        let (label, current, target_ws) = (w.name.clone(), w.name.clone(), w.clone());
                        view! {
                            <tr>
                                <td class="row-title">{label.clone()}</td>
                                <td><CopyId id=w.id.to_string()/></td>
                                <td class="actions">{root.then(|| view! {
                                    <button class="btn btn-small" aria-label=format!("Rename {label}")
                                        on:click=move |_| edit(Target::Workspace(target_ws.clone()), current.clone())>"Rename"</button>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
        </section>
        <FormDialog open=open title=title submit_label="Save" error=error busy=busy on_submit=save>
            <Field label="Name" name="name" value=name error=error autofocus=true/>
        </FormDialog>
    }
}
