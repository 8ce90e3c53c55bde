//! Administration → Users: the directory across the scope (rail, search, filters, segment
//! tabs, metrics, sorting, keyset paging), row actions, the bulk bar with its skipped
//! report, and the create/edit dialog.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use steward_shared::api::{
    BulkAction, BulkOutcome, BulkUsers, CreateUser, DirectoryUser, RoleSummary, UpdateUser, UserMetrics,
    WorkspaceSummary,
};

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{ErrorBanner, Field};
use crate::components::list::{ListFooter, Paged};
use crate::components::row_menu::RowMenu;
use crate::components::scope_bar::use_toast;
use crate::components::view_as::ViewAsDialog;
use crate::pages::fmt::{holds, impersonating, pill, when};
use crate::scope::use_scope;

const SEGMENTS: &[(&str, &str)] =
    &[("all", "All"), ("active", "Active"), ("super_admins", "Super admins"), ("inactive", "Inactive")];

pub(super) fn can_manage() -> bool {
    holds("steward.access.users.manage") || holds("steward.console.users.write")
}

/// The workspaces and roles the dialogs and filters offer, loaded once per scope.
#[derive(Clone, Copy)]
pub(crate) struct Choices {
    workspaces: RwSignal<Vec<WorkspaceSummary>>,
    roles: RwSignal<Vec<RoleSummary>>,
}

impl Choices {
    fn load() -> Self {
        let this = Self { workspaces: RwSignal::new(Vec::new()), roles: RwSignal::new(Vec::new()) };
        let scope = use_scope();
        Effect::new(move |_| {
            let value = scope.value.get();
            spawn_local(async move {
                this.workspaces.set(api::scoped_workspaces(&value).await.unwrap_or_default());
                this.roles.set(api::roles().await.unwrap_or_default());
            });
        });
        this
    }

    /// The workspaces and roles of one customer (a user's detail page offers those).
    pub(super) fn of_customer(customer: String) -> Self {
        let this = Self { workspaces: RwSignal::new(Vec::new()), roles: RwSignal::new(Vec::new()) };
        spawn_local(async move {
            this.workspaces.set(api::workspaces_of(&customer).await.unwrap_or_default());
            this.roles.set(api::roles().await.unwrap_or_default());
        });
        this
    }

    pub(super) fn workspaces(&self) -> Vec<WorkspaceSummary> {
        self.workspaces.get()
    }

    /// Roles that may be held in `workspace`: system roles and that workspace's own.
    pub(super) fn roles_for(&self, workspace: &str) -> Vec<RoleSummary> {
        self.roles.with(|roles| {
            roles
                .iter()
                .filter(|r| r.system || r.workspace.as_ref().is_some_and(|w| w.id.to_string() == workspace))
                .cloned()
                .collect()
        })
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let scope = use_scope();
    let auth = use_auth();
    let toast = use_toast();
    let choices = Choices::load();
    let manage = can_manage();
    let can_view_as = holds("steward.access.users.impersonate");

    let rail = RwSignal::new(None::<String>);
    let typed = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let segment = RwSignal::new("all".to_owned());
    let sort = RwSignal::new("created".to_owned());
    let version = RwSignal::new(0u32);

    let query = move || {
        api::query(&[
            ("workspace_id", rail.get()),
            ("search", Some(search.get())),
            ("status", Some(status.get())),
            ("role_id", Some(role.get())),
            ("segment", Some(segment.get()).filter(|s| s != "all")),
            ("sort", Some(sort.get()).filter(|s| s != "created")),
        ])
    };
    let paged = Paged::new(query, |q| async move { api::users(&q).await });
    let metrics = RwSignal::new(None::<UserMetrics>);
    Effect::new(move |_| {
        scope.value.track();
        version.track();
        let q = api::query(&[("workspace_id", rail.get())]);
        spawn_local(async move { metrics.set(api::user_metrics(&q).await.ok()) });
    });
    let refresh = move || {
        paged.reload();
        version.update(|v| *v += 1);
    };

    // Search as you type, a quarter second after the last key.
    let on_type = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        typed.set(text.clone());
        set_timeout(
            move || {
                if typed.get_untracked() == text {
                    search.set(text);
                }
            },
            Duration::from_millis(250),
        );
    };

    let selected = RwSignal::new(BTreeSet::<String>::new());
    Effect::new(move |_| {
        paged.track_query();
        selected.set(BTreeSet::new());
    });
    let outcome = RwSignal::new(None::<BulkOutcome>);
    let bulk_busy = RwSignal::new(false);
    let bulk_ws = RwSignal::new(String::new());
    let bulk_role = RwSignal::new(String::new());
    let dry_run = RwSignal::new(false);
    let confirm_bulk_delete = RwSignal::new(false);
    let confirm_bulk_deactivate = RwSignal::new(false);
    let run_bulk = move |action: BulkAction, confirm: Option<String>| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        let body = BulkUsers {
            action,
            ids,
            workspace_id: (action == BulkAction::AssignRole)
                .then(|| bulk_ws.get_untracked().parse().ok())
                .flatten()
                .map(steward_shared::WorkspaceId),
            role_id: (action == BulkAction::AssignRole)
                .then(|| bulk_role.get_untracked().parse().ok())
                .flatten()
                .map(steward_shared::RoleId),
            dry_run: dry_run.get_untracked(),
        };
        bulk_busy.set(true);
        spawn_local(async move {
            match api::bulk_users(&body, confirm.as_deref()).await {
                Ok(result) => {
                    if !result.dry_run {
                        selected.set(result.skipped.iter().map(|s| s.id.clone()).collect());
                        refresh();
                    }
                    outcome.set(Some(result));
                }
                Err(e) => toast.0.set(Some(Err(e))),
            }
            bulk_busy.set(false);
        });
    };

    let editing = RwSignal::new(None::<Option<DirectoryUser>>);
    let erasing = RwSignal::new(None::<DirectoryUser>);
    let erase_open = RwSignal::new(false);
    let view_as = RwSignal::new(None::<(String, String)>);
    let deactivating = RwSignal::new(None::<DirectoryUser>);
    let deactivate_open = RwSignal::new(false);
    let act_confirmed = move |user: DirectoryUser, action: &'static str, confirm: Option<String>| {
        spawn_local(async move {
            let result = match action {
                "reset" => api::send_password_reset(&user.id.to_string())
                    .await
                    .map(|_| format!("A password reset link is on its way to {}.", user.email)),
                other => api::user_status(&user.id.to_string(), other, confirm.as_deref())
                    .await
                    .map(|u| format!("{} is now {}.", u.name, u.status)),
            };
            if result.is_ok() {
                refresh();
            }
            toast.0.set(Some(result));
        });
    };
    // Deactivating is destructive: while impersonating it asks for the user's email first.
    let act = move |user: DirectoryUser, action: &'static str| {
        if action == "deactivate" && impersonating() {
            deactivating.set(Some(user));
            deactivate_open.set(true);
        } else {
            act_confirmed(user, action, None);
        }
    };
    let erase = move |confirm: Option<String>| {
        let Some(user) = erasing.get_untracked() else { return };
        spawn_local(async move {
            let result = api::erase_user(&user.id.to_string(), confirm.as_deref()).await;
            if result.is_ok() {
                refresh();
            }
            toast.0.set(Some(result.map(|_| format!("{} was erased.", user.email))));
        });
    };
    let me_id = move || auth.me.with(|m| m.as_ref().map(|m| m.user_id.to_string()).unwrap_or_default());

    let row = move |u: DirectoryUser| {
        let id = u.id.to_string();
        let (id_check, id_toggle) = (id.clone(), id.clone());
        let is_me = id == me_id();
        let active = u.status == "active";
        let (u_edit, u_status, u_reset, u_erase) = (u.clone(), u.clone(), u.clone(), u.clone());
        let view_target = (id.clone(), u.name.clone());
        let others = u.workspaces.len().saturating_sub(1);
        view! {
            <tr class:selected=move || selected.with(|s| s.contains(&id_check))>
                <td class="check">
                    {manage.then(|| view! {
                        <input type="checkbox" aria-label=format!("Select {}", u.email)
                            prop:checked=move || selected.with(|s| s.contains(&id_toggle))
                            on:change={
                                let id = id.clone();
                                move |_| selected.update(|s| if !s.remove(&id) { s.insert(id.clone()); })
                            }/>
                    })}
                </td>
                <td>
                    <div class="row-title"><a href=format!("/admin/users/{}", u.id)>{u.name.clone()}</a> {u.super_admin.then(|| view! { <span class="badge badge-info">"Super admin"</span> })}</div>
                    <div class="muted small">{u.email.clone()}</div>
                </td>
                {move || scope.admin_mode().then(|| view! { <td class="small">{u.customer_name.clone()}</td> })}
                <td>
                    <div>{u.home_workspace.clone().map(|w| w.name).unwrap_or_else(|| "—".into())}</div>
                    <div class="muted small">{u.home_role.clone().unwrap_or_default()}
                        {(others > 0).then(|| format!(" · +{others} workspace{}", if others == 1 { "" } else { "s" }))}
                    </div>
                </td>
                <td>{pill(u.status.clone())}</td>
                <td>{if u.totp_enabled { view! { <span class="badge badge-ok">"2FA"</span> }.into_any() } else { view! { <span class="muted small">"—"</span> }.into_any() }}</td>
                <td class="small nowrap">{when(u.last_login_at)}</td>
                // Two actions on the row (Edit, View as); the rest in its menu, so a row is one line.
                <td class="actions"><div class="row-actions">
                    {(manage && !u.erased).then(|| view! {
                        <button class="btn btn-small" on:click=move |_| editing.set(Some(Some(u_edit.clone())))>"Edit"</button>
                    })}
                    {(can_view_as && !is_me && active && !u.super_admin).then(|| {
                        let target = view_target.clone();
                        view! { <button class="btn btn-small btn-amber" on:click=move |_| view_as.set(Some(target.clone()))>"View as"</button> }
                    })}
                    {(manage && !u.erased && (!is_me || active)).then(|| {
                        let (u_status, u_reset, u_erase) = (u_status.clone(), u_reset.clone(), u_erase.clone());
                        view! {
                            <RowMenu label=format!("More actions for {}", u.email)>
                                {(!is_me).then(|| {
                                    let u_status = u_status.clone();
                                    view! {
                                        <button class="row-menu-item" role="menuitem"
                                            on:click=move |_| act(u_status.clone(), if active { "deactivate" } else { "activate" })>
                                            {if active { "Deactivate" } else { "Activate" }}
                                        </button>
                                    }
                                })}
                                {active.then(|| {
                                    let u_reset = u_reset.clone();
                                    view! { <button class="row-menu-item" role="menuitem" on:click=move |_| act(u_reset.clone(), "reset")>"Reset password"</button> }
                                })}
                                {(!is_me).then(|| {
                                    let u_erase = u_erase.clone();
                                    view! {
                                        <button class="row-menu-item danger" role="menuitem"
                                            on:click=move |_| { erasing.set(Some(u_erase.clone())); erase_open.set(true); }>"Delete"</button>
                                    }
                                })}
                            </RowMenu>
                        }
                    })}
                </div></td>
            </tr>
        }
    };

    let kpi = move |label: &'static str, value: fn(&UserMetrics) -> u64, seg: &'static str| {
        view! {
            <button class="kpi kpi-button" class:active=move || segment.get() == seg on:click=move |_| segment.set(seg.into())>
                <span class="kpi-label">{label}</span>
                <span class="kpi-value">{move || metrics.get().map(|m| value(&m).to_string()).unwrap_or_else(|| "…".into())}</span>
            </button>
        }
    };

    view! {
        <section class="kpis" aria-label="Metrics" data-testid="user-metrics">
            {kpi("Total", |m| m.total, "all")}
            {kpi("Active", |m| m.active, "active")}
            {kpi("Super admins", |m| m.super_admins, "super_admins")}
            {kpi("Inactive", |m| m.inactive, "inactive")}
        </section>
        <div class="split">
            <aside class="rail card" aria-label="Scope">
                <p class="rail-heading">"Scope"</p>
                <button class="rail-item" class:active=move || rail.get().is_none() on:click=move |_| rail.set(None)>
                    {move || if scope.admin_mode() { scope.customer_name.get().unwrap_or_else(|| "All customers".into()) } else { "All workspaces".into() }}
                </button>
                {move || choices.workspaces.get().into_iter().map(|w| {
                    let id = w.id.to_string();
                    let id2 = id.clone();
                    view! {
                        <button class="rail-item" class:active=move || rail.get().as_deref() == Some(id.as_str())
                            on:click=move |_| rail.set(Some(id2.clone()))>
                            <span>{w.name.clone()}</span><span class="muted small">{w.member_count}</span>
                        </button>
                    }
                }).collect_view()}
            </aside>
            <section class="card grow">
                <div class="card-head">
                    <div class="tabs" role="tablist">
                        {SEGMENTS.iter().map(|(key, label)| view! {
                            <button role="tab" class="tab" aria-selected=move || (segment.get() == *key).to_string()
                                class:active=move || segment.get() == *key on:click=move |_| segment.set((*key).into())>{*label}</button>
                        }).collect_view()}
                    </div>
                    {manage.then(|| view! {
                        <button class="btn btn-primary" data-testid="new-user" on:click=move |_| editing.set(Some(None))>"New user"</button>
                    })}
                    <div class="filters">
                        <input type="search" placeholder="Search name or email" aria-label="Search" on:input=on_type/>
                        <select aria-label="Status" on:change=move |ev| status.set(event_target_value(&ev))>
                            <option value="">"Any status"</option><option value="active">"Active"</option><option value="inactive">"Inactive"</option>
                        </select>
                        <select aria-label="Role" on:change=move |ev| role.set(event_target_value(&ev))>
                            <option value="">"Any role"</option>
                            {move || choices.roles.get().into_iter().map(|r| view! { <option value=r.id.to_string()>{r.name.clone()}</option> }).collect_view()}
                        </select>
                        <select aria-label="Sort" on:change=move |ev| sort.set(event_target_value(&ev))>
                            <option value="created">"Newest first"</option><option value="name">"Name A–Z"</option><option value="email">"Email A–Z"</option>
                        </select>
                    </div>
                </div>
                {move || (!selected.with(BTreeSet::is_empty)).then(|| view! {
                    <div class="bulk-bar" data-testid="bulk-bar" role="region" aria-label="Bulk actions">
                        <strong>{move || format!("{} selected", selected.with(BTreeSet::len))}</strong>
                        <button class="btn btn-small" disabled=bulk_busy on:click=move |_| run_bulk(BulkAction::Activate, None)>"Activate"</button>
                        <button class="btn btn-small" disabled=bulk_busy on:click=move |_| {
                            if impersonating() && !dry_run.get_untracked() { confirm_bulk_deactivate.set(true) } else { run_bulk(BulkAction::Deactivate, None) }
                        }>"Deactivate"</button>
                        <button class="btn btn-small btn-danger-ghost" disabled=bulk_busy on:click=move |_| confirm_bulk_delete.set(true)>"Delete"</button>
                        <span class="bulk-sep"></span>
                        <select aria-label="Workspace for the role" on:change=move |ev| { bulk_ws.set(event_target_value(&ev)); bulk_role.set(String::new()); }>
                            <option value="">"Workspace…"</option>
                            {move || choices.workspaces.get().into_iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                        </select>
                        <select aria-label="Role to assign" on:change=move |ev| bulk_role.set(event_target_value(&ev))>
                            <option value="">"Role…"</option>
                            {move || choices.roles_for(&bulk_ws.get()).into_iter().map(|r| view! { <option value=r.id.to_string()>{r.name.clone()}</option> }).collect_view()}
                        </select>
                        <button class="btn btn-small" disabled=move || bulk_busy.get() || bulk_role.get().is_empty()
                            on:click=move |_| run_bulk(BulkAction::AssignRole, None)>"Assign role"</button>
                        <label class="check-label"><input type="checkbox" prop:checked=dry_run on:change=move |_| dry_run.update(|d| *d = !*d)/>"Dry run"</label>
                        <button class="btn btn-small btn-ghost" on:click=move |_| selected.set(BTreeSet::new())>"Clear"</button>
                    </div>
                })}
                {move || outcome.get().map(|o| view! { <BulkReport outcome=o dismiss=outcome/> })}
                <div class="table-wrap"><table class="table" data-testid="users-table">
                    <thead><tr>
                        <th class="check">
                            {manage.then(|| view! {
                                <input type="checkbox" aria-label="Select all on this page"
                                    prop:checked=move || { let n = paged.items.with(Vec::len); n > 0 && selected.with(BTreeSet::len) >= n }
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selected.set(if on { paged.items.with(|i| i.iter().map(|u| u.id.to_string()).collect()) } else { BTreeSet::new() });
                                    }/>
                            })}
                        </th>
                        <th>"User"</th>
                        {move || scope.admin_mode().then(|| view! { <th>"Customer"</th> })}
                        <th>"Home workspace · role"</th><th>"Status"</th><th>"2FA"</th><th>"Last sign-in"</th><th class="actions">"Actions"</th>
                    </tr></thead>
                    <tbody>{move || paged.items.get().into_iter().map(row).collect_view()}</tbody>
                </table></div>
                <ListFooter paged=paged empty="No users match. Clear the search or pick another segment."/>
            </section>
        </div>
        <UserDialog editing=editing choices=choices on_saved=Callback::new(move |msg: String| { refresh(); toast.0.set(Some(Ok(msg))); })/>
        <ConfirmDialog
            open=erase_open
            title="Delete user"
            message=Signal::derive(move || erasing.get().map(|u| format!(
                "Erase {} ({})? Their memberships, sessions and tokens end and their name and email are scrubbed. The audit log keeps its events.", u.name, u.email
            )).unwrap_or_default())
            confirm_label="Delete user"
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| erasing.get().map(|u| u.email)).flatten())
            on_confirm=Callback::new(erase)
        />
        <ConfirmDialog
            open=confirm_bulk_delete
            title="Delete users"
            message=Signal::derive(move || format!(
                "Erase the {} selected users? This cannot be undone; ids that cannot be erased are skipped and listed.", selected.with(BTreeSet::len)
            ))
            confirm_label="Delete users"
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| format!("{} users", selected.with(BTreeSet::len))))
            on_confirm=Callback::new(move |typed| run_bulk(BulkAction::Delete, typed))
        />
        <ConfirmDialog
            open=confirm_bulk_deactivate
            title="Deactivate users"
            message=Signal::derive(move || format!(
                "Deactivate the {} selected users? Their sessions end at once.", selected.with(BTreeSet::len)
            ))
            confirm_label="Deactivate users"
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| format!("{} users", selected.with(BTreeSet::len))))
            on_confirm=Callback::new(move |typed| run_bulk(BulkAction::Deactivate, typed))
        />
        <ConfirmDialog
            open=deactivate_open
            title="Deactivate user"
            message=Signal::derive(move || deactivating.get().map(|u| format!(
                "Deactivate {} ({})? They cannot sign in, and their sessions end at once.", u.name, u.email
            )).unwrap_or_default())
            confirm_label="Deactivate"
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| deactivating.get().map(|u| u.email)).flatten())
            on_confirm=Callback::new(move |typed: Option<String>| {
                if let Some(user) = deactivating.get_untracked() { act_confirmed(user, "deactivate", typed) }
            })
        />
        <ViewAsDialog target=view_as/>
    }
}

/// What a bulk action did, and each id it skipped with the reason.
#[component]
fn BulkReport(outcome: BulkOutcome, dismiss: RwSignal<Option<BulkOutcome>>) -> impl IntoView {
    let verb = match outcome.action {
        BulkAction::Activate => "activated",
        BulkAction::Deactivate => "deactivated",
        BulkAction::Delete => "erased",
        BulkAction::AssignRole => "given the role",
    };
    let head = if outcome.dry_run {
        format!(
            "Dry run: {} would be {verb}, {} skipped. Nothing changed.",
            outcome.applied.len(),
            outcome.skipped.len()
        )
    } else {
        format!("{} {verb}, {} skipped.", outcome.applied.len(), outcome.skipped.len())
    };
    let class =
        if outcome.skipped.is_empty() { "banner banner-ok bulk-report" } else { "banner banner-warn bulk-report" };
    view! {
        <div class=class role="status" data-testid="bulk-report">
            <div class="bulk-report-head">
                <strong>{head}</strong>
                <button class="icon-btn" aria-label="Dismiss" on:click=move |_| dismiss.set(None)>"×"</button>
            </div>
            {(!outcome.skipped.is_empty()).then(|| view! {
                <div class="table-wrap"><table class="table compact" data-testid="skipped">
                    <thead><tr><th>"Id"</th><th>"Reason"</th><th>"Detail"</th></tr></thead>
                    <tbody>
                        {outcome.skipped.into_iter().map(|s| view! {
                            <tr><td class="mono small">{s.id}</td><td><span class="badge badge-warn">{s.reason}</span></td><td class="small">{s.detail}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            })}
        </div>
    }
}

/// Create (`Some(None)`) or edit (`Some(Some(user))`) a user, in a modal dialog.
#[component]
pub(super) fn UserDialog(
    editing: RwSignal<Option<Option<DirectoryUser>>>,
    choices: Choices,
    on_saved: Callback<String>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let (email, name, locale, password) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let workspace = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let super_admin = RwSignal::new(false);
    let active = RwSignal::new(true);
    let i_am_root = use_auth().me.with_untracked(|m| m.as_ref().is_some_and(|m| m.super_admin));
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        match editing.get() {
            Some(target) => {
                error.set(None);
                password.set(String::new());
                let u = target.as_ref();
                email.set(u.map(|u| u.email.clone()).unwrap_or_default());
                name.set(u.map(|u| u.name.clone()).unwrap_or_default());
                locale.set(u.map(|u| u.locale.clone()).unwrap_or_else(|| "en".into()));
                super_admin.set(u.is_some_and(|u| u.super_admin));
                active.set(true);
                let home = u.and_then(|u| u.home_workspace.clone()).map(|w| w.id.to_string());
                let first = choices.workspaces.with_untracked(|w| w.first().map(|w| w.id.to_string()));
                workspace.set(home.clone().or(first).unwrap_or_default());
                let role_id = u.and_then(|u| {
                    u.workspaces
                        .iter()
                        .find(|m| Some(m.workspace.id.to_string()) == home)
                        .map(|m| m.role_id.to_string())
                });
                role.set(role_id.unwrap_or_default());
                if !el.open() {
                    let _ = el.show_modal();
                }
            }
            None if el.open() => el.close(),
            None => {}
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(target) = editing.get_untracked() else { return };
        busy.set(true);
        spawn_local(async move {
            let ws = workspace.get_untracked().parse().ok().map(steward_shared::WorkspaceId);
            let rl = role.get_untracked().parse().ok().map(steward_shared::RoleId);
            let result = match target {
                None => {
                    let body = CreateUser {
                        email: email.get_untracked(),
                        name: name.get_untracked(),
                        password: Some(password.get_untracked()).filter(|p| !p.is_empty()),
                        locale: Some(locale.get_untracked()),
                        home_workspace_id: ws.unwrap_or(steward_shared::WorkspaceId(Default::default())),
                        role_id: rl.unwrap_or(steward_shared::RoleId(Default::default())),
                        super_admin: super_admin.get_untracked(),
                        active: active.get_untracked(),
                    };
                    let (mailed, inactive) = (body.password.is_none() && body.active, !body.active);
                    api::create_user(&body).await.map(|u| {
                        if inactive {
                            format!("{} was created inactive: activate them to let them sign in.", u.email)
                        } else if mailed {
                            format!("{} was created; a link to set a password is on its way.", u.email)
                        } else {
                            format!("{} was created.", u.email)
                        }
                    })
                }
                Some(old) => {
                    let home = old.home_workspace.as_ref().map(|w| w.id.to_string());
                    let old_role = old
                        .workspaces
                        .iter()
                        .find(|m| Some(m.workspace.id.to_string()) == home)
                        .map(|m| m.role_id.to_string());
                    let moved = Some(workspace.get_untracked()) != home || Some(role.get_untracked()) != old_role;
                    let body = UpdateUser {
                        email: Some(email.get_untracked()).filter(|e| *e != old.email),
                        name: Some(name.get_untracked()).filter(|n| *n != old.name),
                        locale: Some(locale.get_untracked()).filter(|l| *l != old.locale),
                        home_workspace_id: if moved { ws } else { None },
                        role_id: if moved { rl } else { None },
                    };
                    let mut result = api::update_user(&old.id.to_string(), &body).await;
                    if result.is_ok() && super_admin.get_untracked() != old.super_admin {
                        result = api::set_super_admin(&old.id.to_string(), super_admin.get_untracked()).await;
                    }
                    result.map(|u| format!("{} was saved.", u.email))
                }
            };
            busy.set(false);
            match result {
                Ok(message) => {
                    editing.set(None);
                    on_saved.run(message);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let is_new = move || matches!(editing.get(), Some(None));
    view! {
        <dialog node_ref=dialog class="dialog dialog-wide" on:close=move |_| editing.set(None) aria-labelledby="user-dialog-title">
            <form on:submit=submit>
                <h2 id="user-dialog-title">{move || if is_new() { "New user" } else { "Edit user" }}</h2>
                <ErrorBanner error=error.into()/>
                <div class="grid-2">
                    <Field label="Email" name="email" value=email error=error kind="email" autofocus=true/>
                    <Field label="Name" name="name" value=name error=error/>
                    <div class="field">
                        <label for="field-home">"Home workspace"</label>
                        <select id="field-home" prop:value=move || workspace.get() on:change=move |ev| { workspace.set(event_target_value(&ev)); role.set(String::new()); }>
                            {move || choices.workspaces.get().into_iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                        </select>
                        {move || error.get().and_then(|e| e.field("home_workspace_id")).map(|m| view! { <p class="field-error">{m}</p> })}
                    </div>
                    <div class="field">
                        <label for="field-role">"Role there"</label>
                        <select id="field-role" prop:value=move || role.get() on:change=move |ev| role.set(event_target_value(&ev))>
                            <option value="">"Choose a role…"</option>
                            {move || choices.roles_for(&workspace.get()).into_iter().map(|r| view! { <option value=r.id.to_string()>{r.name.clone()}</option> }).collect_view()}
                        </select>
                        {move || error.get().and_then(|e| e.field("role_id")).map(|m| view! { <p class="field-error">{m}</p> })}
                    </div>
                    <Field label="Locale" name="locale" value=locale error=error hint="e.g. en, de, fr-CA"/>
                    {move || is_new().then(|| view! {
                        <Field label="Password (optional)" name="password" value=password error=error kind="password"
                            autocomplete="new-password" hint="Leave empty to mail a single-use link instead."/>
                    })}
                </div>
                {move || is_new().then(|| view! {
                    <label class="check-label">
                        <input type="checkbox" prop:checked=active on:change=move |_| active.update(|a| *a = !*a)/>
                        "Active — can sign in. Leave it off to prepare the account; no mail is sent until you activate it."
                    </label>
                })}
                {i_am_root.then(|| view! {
                    <label class="check-label">
                        <input type="checkbox" prop:checked=super_admin on:change=move |_| super_admin.update(|s| *s = !*s)/>
                        "Super admin — bypasses every workspace permission. Grant sparingly."
                    </label>
                })}
                <div class="dialog-actions">
                    <button class="btn" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                    <button class="btn btn-primary" type="submit" disabled=busy>{move || if is_new() { "Create user" } else { "Save" }}</button>
                </div>
            </form>
        </dialog>
    }
}
