//! The role editor: name, workspace, the permission tree with per-module coverage, and the
//! role's members. System roles are shown read-only.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use steward_shared::api::{AddMember, RoleSummary, RoleWrite, SetMemberRole, WorkspaceSummary};
use steward_shared::permissions::{Module, CATALOG};
use steward_shared::RoleId;

use crate::api::{self, ApiError, ApiResult};
use crate::auth::use_auth;
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{ErrorBanner, Field, Loading};
use crate::components::icon::Icon;
use crate::components::view_as::ViewAsDialog;
use crate::pages::access::roles::can_manage_roles;
use crate::pages::fmt::{holds, impersonating};

#[derive(Clone)]
struct Loaded {
    role: Option<RoleSummary>,
    workspaces: Vec<WorkspaceSummary>,
    roles: Vec<RoleSummary>,
}

async fn load(id: String) -> ApiResult<Loaded> {
    let role = if id == "new" { None } else { Some(api::role(&id).await?) };
    Ok(Loaded { role, workspaces: api::workspaces().await?, roles: api::roles().await? })
}

#[component]
pub fn RoleEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = LocalResource::new(move || load(id()));
    view! {
        <div class="crumbs"><A href="/admin/roles">"Roles"</A><span>"/"</span>
            <span>{move || if id() == "new" { "New role".to_string() } else { "Edit role".to_string() }}</span>
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(loaded) => view! { <Editor loaded=loaded/> }.into_any(),
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The patterns for a set of ticked leaves: a whole module becomes its `.*` subtree.
fn patterns(checked: &BTreeSet<String>) -> Vec<String> {
    CATALOG
        .iter()
        .flat_map(|m| {
            let held: Vec<&str> = m.leaves.iter().map(|l| l.id).filter(|id| checked.contains(*id)).collect();
            if !held.is_empty() && held.len() == m.leaves.len() {
                vec![format!("{}.*", m.id)]
            } else {
                held.into_iter().map(str::to_owned).collect()
            }
        })
        .collect()
}

fn granted_in(m: &Module, checked: &BTreeSet<String>) -> usize {
    m.leaves.iter().filter(|l| checked.contains(l.id)).count()
}

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Permissions,
    Members,
}

#[component]
fn Editor(loaded: Loaded) -> impl IntoView {
    let Loaded { role, workspaces, roles } = loaded;
    let navigate = use_navigate();
    let is_new = role.is_none();
    let read_only = role.as_ref().is_some_and(|r| r.system) || !can_manage_roles();
    let role_id = role.as_ref().map(|r| r.id.to_string());
    let name = RwSignal::new(role.as_ref().map(|r| r.name.clone()).unwrap_or_default());
    let description = RwSignal::new(role.as_ref().map(|r| r.description.clone()).unwrap_or_default());
    let workspace = RwSignal::new(
        role.as_ref()
            .and_then(|r| r.workspace.as_ref().map(|w| w.id.to_string()))
            .or_else(|| workspaces.first().map(|w| w.id.to_string()))
            .unwrap_or_default(),
    );
    let checked =
        RwSignal::new(role.as_ref().map(|r| r.leaves.iter().cloned().collect()).unwrap_or_else(BTreeSet::new));
    let expanded = RwSignal::new(CATALOG.iter().map(|m| m.id.to_string()).collect::<BTreeSet<_>>());
    let tab = RwSignal::new(Tab::Permissions);
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    let total: usize = CATALOG.iter().map(|m| m.leaves.len()).sum();

    let save = {
        let navigate = navigate.clone();
        let role_id = role_id.clone();
        move |_| {
            if busy.get() {
                return;
            }
            busy.set(true);
            error.set(None);
            notice.set(None);
            let body =
                RoleWrite { name: name.get(), description: description.get(), patterns: patterns(&checked.get()) };
            let role_id = role_id.clone();
            let ws = workspace.get();
            let navigate = navigate.clone();
            spawn_local(async move {
                let result = match &role_id {
                    None => api::create_role(&ws, &body).await,
                    Some(id) => api::update_role(id, &body).await,
                };
                match result {
                    Ok(saved) => {
                        notice.set(Some(format!(
                            "Saved: {} of {} leaves granted.",
                            saved.granted_leaves, saved.total_leaves
                        )));
                        if role_id.is_none() {
                            navigate(&format!("/admin/roles/{}", saved.id), Default::default());
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    let delete = {
        let role_id = role_id.clone();
        let navigate = navigate.clone();
        Callback::new(move |confirm: Option<String>| {
            let Some(id) = role_id.clone() else { return };
            let navigate = navigate.clone();
            spawn_local(async move {
                match api::delete_role(&id, confirm.as_deref()).await {
                    Ok(()) => navigate("/admin/roles", Default::default()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };

    let tree = CATALOG
        .iter()
        .map(|m| {
            let module_id = m.id.to_string();
            let leaf_ids: Vec<String> = m.leaves.iter().map(|l| l.id.to_string()).collect();
            let is_open = {
                let module_id = module_id.clone();
                Signal::derive(move || expanded.with(|e| e.contains(&module_id)))
            };
            let toggle_open = {
                let module_id = module_id.clone();
                move |_| {
                    expanded.update(|e| {
                        if !e.remove(&module_id) {
                            e.insert(module_id.clone());
                        }
                    })
                }
            };
            let all = {
                let leaf_ids = leaf_ids.clone();
                Signal::derive(move || checked.with(|c| leaf_ids.iter().all(|l| c.contains(l))))
            };
            let some = {
                let leaf_ids = leaf_ids.clone();
                Signal::derive(move || checked.with(|c| leaf_ids.iter().any(|l| c.contains(l))))
            };
            let toggle_all = {
                let leaf_ids = leaf_ids.clone();
                move |_| {
                    let on = !all.get();
                    checked.update(|c| {
                        for l in &leaf_ids {
                            if on {
                                c.insert(l.clone());
                            } else {
                                c.remove(l);
                            }
                        }
                    })
                }
            };
            let count = move || checked.with(|c| granted_in(m, c));
            let leaves = m
                .leaves
                .iter()
                .map(|l| {
                    let id = l.id.to_string();
                    let id2 = id.clone();
                    view! {
                        <label class="leaf">
                            <input
                                type="checkbox"
                                disabled=read_only
                                prop:checked=move || checked.with(|c| c.contains(&id))
                                on:change=move |_| checked.update(|c| {
                                    if !c.remove(&id2) {
                                        c.insert(id2.clone());
                                    }
                                })
                            />
                            <span>{l.label}</span>
                            <span class="mono muted">{l.id}</span>
                        </label>
                    }
                })
                .collect_view();
            let label_all = format!("All of {}", m.label);
            view! {
                <div class="module">
                    <div class="module-head">
                        <button class="icon-btn" on:click=toggle_open aria-label=format!("Expand {}", m.label)
                            aria-expanded=move || if is_open.get() { "true" } else { "false" }>
                            {move || if is_open.get() { "▾" } else { "▸" }}
                        </button>
                        <label class="module-label">
                            <input
                                type="checkbox"
                                aria-label=label_all
                                disabled=read_only
                                prop:checked=all
                                prop:indeterminate=move || some.get() && !all.get()
                                on:change=toggle_all
                            />
                            <strong>{m.label}</strong>
                            <span class="mono muted">{format!("{}.*", m.id)}</span>
                        </label>
                        <span class="module-count">{move || format!("{} of {}", count(), m.leaves.len())}</span>
                    </div>
                    <div class="leaves" class:hidden=move || !is_open.get()>{leaves}</div>
                </div>
            }
        })
        .collect_view();

    let summary = move || {
        checked.with(|c| {
            CATALOG
                .iter()
                .map(|m| {
                    let g = granted_in(m, c);
                    view! {
                        <li class:none=g == 0>
                            <span>{m.label}</span>
                            <span class="num">{format!("{g} of {}", m.leaves.len())}</span>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let role_for_members = role.clone();
    let workspaces_for_members = workspaces.clone();
    let heading = role.as_ref().map(|r| r.name.clone()).unwrap_or_else(|| "New role".into());
    view! {
        <div class="editor-head">
            <h2>{heading}</h2>
            {role.as_ref().map(|r| if r.system {
                view! { <span class="badge badge-lock"><Icon name="lock"/>"System role — read-only"</span> }.into_any()
            } else {
                view! { <span class="badge badge-custom">{format!("Custom · {}", r.workspace.as_ref().map(|w| w.name.clone()).unwrap_or_default())}</span> }.into_any()
            })}
        </div>
        <ErrorBanner error=error.into()/>
        {move || notice.get().map(|n| view! { <div class="banner banner-ok" role="status">{n}</div> })}
        <div class="tabs" role="tablist">
            <button role="tab" class="tab" class:active=move || tab.get() == Tab::Permissions
                aria-selected=move || (tab.get() == Tab::Permissions).to_string()
                on:click=move |_| tab.set(Tab::Permissions)>"Permissions"</button>
            {(!is_new).then(|| view! {
                <button role="tab" class="tab" class:active=move || tab.get() == Tab::Members
                    aria-selected=move || (tab.get() == Tab::Members).to_string()
                    on:click=move |_| tab.set(Tab::Members)>"Users"</button>
            })}
        </div>
        {move || (tab.get() == Tab::Members).then(|| {
            role_for_members.clone().map(|r| view! { <Members role=r roles=roles.clone() workspaces=workspaces_for_members.clone()/> })
        })}
            <div class="editor" class:hidden=move || tab.get() != Tab::Permissions>
                <section class="card editor-main">
                    <div class="card-body">
                        <div class="grid-2">
                            <Field label="Name" name="name" value=name error=error/>
                            {if is_new {
                                let options = workspaces.clone();
                                view! {
                                    <div class="field">
                                        <label for="field-workspace">"Workspace"</label>
                                        <select id="field-workspace" bind:value=workspace disabled=read_only>
                                            {options.into_iter().map(|w| view! { <option value=w.id.to_string()>{w.name}</option> }).collect_view()}
                                        </select>
                                    </div>
                                }.into_any()
                            } else {
                                ().into_any()
                            }}
                        </div>
                        <Field label="Description" name="description" value=description error=error/>
                    </div>
                    <div class="tree-toolbar">
                        <h3>"Permissions"</h3>
                        <div class="toolbar-actions">
                            <button class="btn btn-small" disabled=read_only on:click=move |_| checked.set(
                                CATALOG.iter().flat_map(|m| m.leaves.iter().map(|l| l.id.to_string())).collect())>"Select all"</button>
                            <button class="btn btn-small" disabled=read_only on:click=move |_| checked.set(BTreeSet::new())>"Clear all"</button>
                            <button class="btn btn-small" on:click=move |_| expanded.set(CATALOG.iter().map(|m| m.id.to_string()).collect())>"Expand all"</button>
                            <button class="btn btn-small" on:click=move |_| expanded.set(BTreeSet::new())>"Collapse all"</button>
                        </div>
                    </div>
                    <div class="tree" data-testid="permission-tree">{tree}</div>
                </section>
                <aside class="card editor-side">
                    <div class="card-body">
                        <p class="kpi-label">"Granted"</p>
                        <p class="kpi-value" data-testid="granted-total">{move || format!("{} of {}", checked.with(|c| c.len()), total)}</p>
                        <ul class="coverage-list">{summary}</ul>
                        {(!read_only).then(|| view! {
                            <button class="btn btn-primary btn-block" disabled=move || busy.get() on:click=save.clone()>
                                {move || if busy.get() { "Saving…" } else { "Save" }}
                            </button>
                        })}
                        {(!read_only && !is_new).then(|| view! {
                            <button class="btn btn-danger-ghost btn-block" on:click=move |_| confirm_delete.set(true)>"Delete role"</button>
                        })}
                    </div>
                </aside>
            </div>
        <ConfirmDialog
            open=confirm_delete
            title="Delete this role?"
            message=Signal::derive(move || format!("“{}” will be deleted. Roles that members still hold cannot be deleted.", name.get()))
            confirm_label="Delete role"
            on_confirm=delete
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| name.get()))
        />
    }
}

/// The role's members: change their role, remove them, add someone by email.
#[component]
fn Members(role: RoleSummary, roles: Vec<RoleSummary>, workspaces: Vec<WorkspaceSummary>) -> impl IntoView {
    let role_id = role.id.to_string();
    // Pages of 100 by name; "Show more" asks for one page more (from the start, so a change
    // made meanwhile shows in place).
    let wanted = RwSignal::new(1u32);
    let members = LocalResource::new({
        let role_id = role_id.clone();
        move || {
            let (role_id, pages) = (role_id.clone(), wanted.get());
            async move {
                let (mut list, mut cursor) = (Vec::new(), None);
                for _ in 0..pages {
                    let page = api::role_members(&role_id, cursor).await?;
                    list.extend(page.items);
                    cursor = page.next_cursor;
                    if cursor.is_none() {
                        break;
                    }
                }
                Ok::<_, ApiError>((list, cursor.is_some()))
            }
        }
    });
    let error = RwSignal::new(None::<ApiError>);
    let email = RwSignal::new(String::new());
    let fixed_ws = role.workspace.as_ref().map(|w| w.id.to_string());
    let add_ws =
        RwSignal::new(fixed_ws.clone().or_else(|| workspaces.first().map(|w| w.id.to_string())).unwrap_or_default());
    let can_manage = can_manage_roles();
    let this_role = role.id;
    let add = {
        let role_id = this_role;
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            error.set(None);
            let body = AddMember { email: email.get(), role_id };
            let ws = add_ws.get();
            spawn_local(async move {
                match api::add_member(&ws, &body).await {
                    Ok(_) => {
                        email.set(String::new());
                        members.refetch();
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let remove = RwSignal::new(None::<(String, String, String)>);
    let remove_open = RwSignal::new(false);
    Effect::new(move |_| remove_open.set(remove.get().is_some()));
    let do_remove = Callback::new(move |confirm: Option<String>| {
        let Some((ws, user, _)) = remove.get_untracked() else { return };
        spawn_local(async move {
            match api::remove_member(&ws, &user, confirm.as_deref()).await {
                Ok(()) => members.refetch(),
                Err(e) => error.set(Some(e)),
            }
            remove.set(None);
        });
    });
    let view_as = RwSignal::new(None::<(String, String)>);
    let can_view_as = holds("steward.access.users.impersonate");
    let me_id = StoredValue::new(
        use_auth().me.with_untracked(|m| m.as_ref().map(|m| m.user_id.to_string()).unwrap_or_default()),
    );
    let is_me = move |id: &str| me_id.with_value(|me| me == id);
    let roles_for = move |ws: &str| -> Vec<(RoleId, String)> {
        roles
            .iter()
            .filter(|r| r.system || r.workspace.as_ref().is_some_and(|w| w.id.to_string() == ws))
            .map(|r| (r.id, r.name.clone()))
            .collect()
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Users with this role"</h2>
            </div>
            <div class="card-body">
                <ErrorBanner error=error.into()/>
                {can_manage.then(|| view! {
                    <form class="inline-form" on:submit=add>
                        <Field label="Add a user by email" name="email" kind="email" value=email error=error/>
                        {if fixed_ws.is_none() {
                            view! {
                                <div class="field">
                                    <label for="member-ws">"In workspace"</label>
                                    <select id="member-ws" bind:value=add_ws>
                                        {workspaces.iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                            }.into_any()
                        } else {
                            ().into_any()
                        }}
                        <button class="btn btn-primary" type="submit">"Add member"</button>
                    </form>
                })}
            </div>
            <Transition fallback=|| view! { <Loading/> }>
                {move || {
                    let roles_for = roles_for.clone();
                    Suspend::new(async move {
                        match members.await {
                            Ok((list, _)) if list.is_empty() => view! {
                                <p class="empty">"Nobody holds this role yet."</p>
                            }.into_any(),
                            Ok((list, more)) => view! {
                                <div class="table-wrap"><table class="table" data-testid="members-table">
                                    <thead><tr><th>"Name"</th><th>"Email"</th><th>"Workspace"</th><th>"Role"</th><th></th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|m| {
                                            let ws = m.workspace.id.to_string();
                                            let user = m.user_id.to_string();
                                            let options = roles_for(&ws);
                                            let current = this_role.to_string();
                                            let (ws2, user2, user3) = (ws.clone(), user.clone(), user.clone());
                                            view! {
                                                <tr>
                                                    <td>{m.name.clone()} {m.home.then(|| view! { <span class="badge">"home"</span> })}</td>
                                                    <td>{m.email.clone()}</td>
                                                    <td>{m.workspace.name.clone()}</td>
                                                    <td>
                                                        <select aria-label=format!("Role of {}", m.email) disabled=!can_manage
                                                            on:change=move |ev| {
                                                                let role_id = event_target_value(&ev);
                                                                let (ws, user) = (ws.clone(), user.clone());
                                                                spawn_local(async move {
                                                                    let Ok(id) = role_id.parse() else { return };
                                                                    match api::set_member_role(&ws, &user, &SetMemberRole { role_id: id }).await {
                                                                        Ok(_) => members.refetch(),
                                                                        Err(e) => error.set(Some(e)),
                                                                    }
                                                                });
                                                            }>
                                                            {options.into_iter().map(|(id, name)| {
                                                                let selected = id.to_string() == current;
                                                                view! { <option value=id.to_string() selected=selected>{name}</option> }
                                                            }).collect_view()}
                                                        </select>
                                                    </td>
                                                    <td class="num">
                                                        {(can_view_as && !is_me(&user3)).then(|| {
                                                            let (user, name) = (user3.clone(), m.name.clone());
                                                            view! {
                                                                <button class="btn btn-small" on:click=move |_| view_as.set(Some((user.clone(), name.clone())))>"View as"</button>
                                                            }
                                                        })}
                                                        {(can_manage && !m.home).then(|| {
                                                            let email = m.email.clone();
                                                            view! {
                                                                <button class="btn btn-small btn-danger-ghost" on:click=move |_| {
                                                                    remove.set(Some((ws2.clone(), user2.clone(), email.clone())));
                                                                }>"Remove"</button>
                                                            }
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                                {more.then(|| view! {
                                    <div class="card-foot">
                                        <button class="btn" on:click=move |_| wanted.update(|n| *n += 1)>"Show more"</button>
                                    </div>
                                })}
                            }.into_any(),
                            Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
        <ConfirmDialog
            open=remove_open
            title="Remove this membership?"
            message=Signal::derive(move || format!("{} loses this role in this workspace.", remove.get().map(|r| r.2).unwrap_or_default()))
            confirm_label="Remove"
            on_confirm=do_remove
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| remove.get().map(|r| r.2)).flatten())
        />
        <ViewAsDialog target=view_as/>
    }
}
