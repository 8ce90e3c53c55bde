//! Administration → Users → one user: profile and status, memberships with their role per
//! workspace, live sessions, two-factor state with the admin reset, that user's API tokens,
//! and the audit trail of what they did and what was done to them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use steward_shared::api::{
    AddMember, ApiTokenInfo, AuditEvent, DirectoryUser, SessionRow, SetMemberRole, UserMembership,
};

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{ErrorBanner, Loading};
use crate::components::form_dialog::{CopyId, FormDialog};
use crate::components::scope_bar::use_toast;
use crate::components::view_as::ViewAsDialog;
use crate::pages::access::users::{can_manage, Choices, UserDialog};
use crate::pages::fmt::{holds, impersonating, pill, when};

fn can_manage_roles() -> bool {
    holds("steward.access.roles.manage") || holds("steward.console.roles.write")
}

fn can_manage_sessions() -> bool {
    holds("steward.access.sessions.manage") || holds("steward.console.sessions.write")
}

#[component]
pub fn UserDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.get().get("id").unwrap_or_default();
    let tick = RwSignal::new(0u32);
    let user = LocalResource::new(move || {
        tick.track();
        let id = id();
        async move { api::user(&id).await }
    });
    let reload = Callback::new(move |()| tick.update(|t| *t += 1));
    view! {
        <p class="crumbs"><a href="/admin/users">"Users"</a> " / "</p>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || user.get().map(|r| match r {
                Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                Ok(u) => view! { <UserBody user=u reload=reload/> }.into_any(),
            })}
        </Suspense>
    }
}

/// A confirmed action on this page: what it is, for the one confirmation dialog.
#[derive(Clone)]
enum Pending {
    Deactivate,
    ResetTwoFactor,
    RevokeToken(ApiTokenInfo),
    RevokeSession(SessionRow),
    RevokeAllSessions,
    RemoveMembership(UserMembership),
}

impl Pending {
    fn message(&self, user: &DirectoryUser) -> String {
        match self {
            Self::Deactivate => {
                format!(
                    "Deactivate {} ({})? They cannot sign in, and their sessions end at once.",
                    user.name, user.email
                )
            }
            Self::ResetTwoFactor => format!(
                "Turn off two-factor sign-in for {}? Their recovery codes stop working; they sign in with their \
                 password alone until they enrol again.",
                user.email
            ),
            Self::RevokeToken(t) => {
                format!("Revoke the API token “{}” ({}…)? Scripts using it are refused from now on.", t.name, t.prefix)
            }
            Self::RevokeSession(s) => format!(
                "End the session started {} from {}? That browser is signed out.",
                when(Some(s.created_at)),
                s.ip.clone().unwrap_or_else(|| "an unknown address".into())
            ),
            Self::RevokeAllSessions => format!("Sign {} out everywhere? Every session of theirs ends.", user.email),
            Self::RemoveMembership(m) => {
                format!("Remove {} from {}? They lose the role “{}” there.", user.name, m.workspace.name, m.role_name)
            }
        }
    }
}

#[component]
fn UserBody(user: DirectoryUser, reload: Callback<()>) -> impl IntoView {
    let toast = use_toast();
    let auth = use_auth();
    let uid = user.id.to_string();
    let is_me = auth.me.with_untracked(|m| m.as_ref().is_some_and(|m| m.user_id == user.id));
    let (manage, roles_ok, sessions_ok, audit_ok) = (
        can_manage() && !user.erased,
        can_manage_roles() && !user.erased,
        can_manage_sessions(),
        holds("steward.audit.view"),
    );
    let active = user.status == "active";
    let choices = Choices::of_customer(user.customer_id.to_string());
    let editing = RwSignal::new(None::<Option<DirectoryUser>>);
    let view_as = RwSignal::new(None::<(String, String)>);
    let tokens_tick = RwSignal::new(0u32);
    let sessions_tick = RwSignal::new(0u32);

    // One confirmation dialog for every destructive action here; while impersonating it asks
    // for the user's email, as the server does.
    let pending = RwSignal::new(None::<Pending>);
    let confirm_open = RwSignal::new(false);
    let ask = move |p: Pending| {
        pending.set(Some(p));
        confirm_open.set(true);
    };
    let confirmed = {
        let (user, uid) = (user.clone(), uid.clone());
        move |typed: Option<String>| {
            let Some(p) = pending.get_untracked() else { return };
            let (user, uid) = (user.clone(), uid.clone());
            spawn_local(async move {
                let typed = typed.as_deref();
                let result = match &p {
                    Pending::Deactivate => api::user_status(&uid, "deactivate", typed)
                        .await
                        .map(|u| format!("{} is now {}.", u.name, u.status)),
                    Pending::ResetTwoFactor => api::reset_user_two_factor(&uid, typed)
                        .await
                        .map(|()| format!("Two-factor sign-in is off for {}.", user.email)),
                    Pending::RevokeToken(t) => api::revoke_user_token(&uid, &t.id.to_string(), typed)
                        .await
                        .map(|()| format!("The token “{}” was revoked.", t.name)),
                    Pending::RevokeSession(s) => {
                        api::revoke_session(&s.id.to_string(), typed).await.map(|_| "The session ended.".to_string())
                    }
                    Pending::RevokeAllSessions => api::revoke_user_sessions(&uid, typed)
                        .await
                        .map(|r| format!("{} session{} ended.", r.revoked, if r.revoked == 1 { "" } else { "s" })),
                    Pending::RemoveMembership(m) => api::remove_member(&m.workspace.id.to_string(), &uid, typed)
                        .await
                        .map(|()| format!("{} was removed from {}.", user.name, m.workspace.name)),
                };
                if result.is_ok() {
                    match p {
                        Pending::RevokeToken(_) => tokens_tick.update(|t| *t += 1),
                        Pending::RevokeSession(_) | Pending::RevokeAllSessions => sessions_tick.update(|t| *t += 1),
                        _ => reload.run(()),
                    }
                }
                toast.0.set(Some(result));
            });
        }
    };
    let simple = {
        let uid = uid.clone();
        move |action: &'static str| {
            let uid = uid.clone();
            spawn_local(async move {
                let result = match action {
                    "activate" => api::user_status(&uid, "activate", None)
                        .await
                        .map(|u| format!("{} is now {}.", u.name, u.status)),
                    _ => api::send_password_reset(&uid)
                        .await
                        .map(|()| "A password reset link is on its way.".to_string()),
                };
                if result.is_ok() {
                    reload.run(());
                }
                toast.0.set(Some(result));
            });
        }
    };

    let status_action = {
        let simple = simple.clone();
        (manage && !is_me).then(|| {
            if active {
                view! { <button class="btn btn-small" on:click=move |_| ask(Pending::Deactivate)>"Deactivate"</button> }
                    .into_any()
            } else {
                let simple = simple.clone();
                view! { <button class="btn btn-small" on:click=move |_| simple("activate")>"Activate"</button> }
                    .into_any()
            }
        })
    };
    let edit_target = user.clone();
    let view_target = (uid.clone(), user.name.clone());
    let email_for_confirm = user.email.clone();
    let message_user = user.clone();
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2 data-testid="user-name">{user.name.clone()}
                        {user.super_admin.then(|| view! { " " <span class="badge badge-info">"Super admin"</span> })}
                    </h2>
                    <p class="muted small">{user.email.clone()}" · "{pill(user.status.clone())}
                        {user.erased.then(|| view! { " " <span class="badge badge-warn">"Erased"</span> })}</p>
                    <p class="small"><CopyId id=uid.clone()/></p>
                </div>
                <div class="row-actions">
                    {manage.then(|| view! {
                        <button class="btn btn-small" on:click=move |_| editing.set(Some(Some(edit_target.clone())))>"Edit"</button>
                    })}
                    {(holds("steward.access.users.impersonate") && !is_me && active && !user.super_admin).then(|| {
                        let target = view_target.clone();
                        view! { <button class="btn btn-small btn-amber" on:click=move |_| view_as.set(Some(target.clone()))>"View as"</button> }
                    })}
                    {(manage && active).then(|| {
                        let simple = simple.clone();
                        view! { <button class="btn btn-small" on:click=move |_| simple("reset")>"Reset password"</button> }
                    })}
                    {status_action}
                </div>
            </div>
            <dl class="facts">
                <div><dt>"Customer"</dt><dd>{user.customer_name.clone()}</dd></div>
                <div><dt>"Home workspace"</dt><dd>{user.home_workspace.clone().map(|w| w.name).unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Locale"</dt><dd>{user.locale.clone()}</dd></div>
                <div><dt>"Created"</dt><dd class="nowrap">{when(Some(user.created_at))}</dd></div>
                <div><dt>"Last sign-in"</dt><dd class="nowrap">{when(user.last_login_at)}</dd></div>
            </dl>
        </section>
        <div class="grid-2 gap">
            <Memberships user=user.clone() choices=choices manage=roles_ok reload=reload
                on_remove=Callback::new(move |m| ask(Pending::RemoveMembership(m)))/>
            <TwoFactor user=user.clone() manage=manage on_reset=Callback::new(move |()| ask(Pending::ResetTwoFactor))/>
        </div>
        {sessions_ok.then(|| view! {
            <Sessions user_id=uid.clone() tick=sessions_tick
                on_revoke=Callback::new(move |s| ask(Pending::RevokeSession(s)))
                on_revoke_all=Callback::new(move |()| ask(Pending::RevokeAllSessions))/>
        })}
        {manage.then(|| view! {
            <Tokens user_id=uid.clone() tick=tokens_tick on_revoke=Callback::new(move |t| ask(Pending::RevokeToken(t)))/>
        })}
        {audit_ok.then(|| view! { <Trail user_id=uid.clone()/> })}
        <ConfirmDialog
            open=confirm_open
            title="Confirm"
            message=Signal::derive(move || pending.get().map(|p| p.message(&message_user)).unwrap_or_default())
            confirm_label="Yes, do it"
            danger=true
            typed_name=Signal::derive(move || impersonating().then(|| email_for_confirm.clone()))
            on_confirm=Callback::new(confirmed)
        />
        <UserDialog editing=editing choices=choices on_saved=Callback::new(move |message: String| {
            toast.0.set(Some(Ok(message)));
            reload.run(());
        })/>
        <ViewAsDialog target=view_as/>
    }
}

/// The workspaces where the user holds a role: change the role, remove, add another.
#[component]
fn Memberships(
    user: DirectoryUser,
    choices: Choices,
    manage: bool,
    reload: Callback<()>,
    on_remove: Callback<UserMembership>,
) -> impl IntoView {
    let toast = use_toast();
    let uid = user.id.to_string();
    let home = user.home_workspace.as_ref().map(|w| w.id);
    let open = RwSignal::new(false);
    let workspace = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let held: Vec<String> = user.workspaces.iter().map(|m| m.workspace.id.to_string()).collect();
    let add = {
        let email = user.email.clone();
        Callback::new(move |()| {
            let (ws, email) = (workspace.get_untracked(), email.clone());
            let Ok(role_id) = role.get_untracked().parse() else {
                error.set(Some(ApiError::local("Choose a role", "Pick the role they hold there.".into())));
                return;
            };
            busy.set(true);
            spawn_local(async move {
                let result = api::add_member(&ws, &AddMember { email, role_id: steward_shared::RoleId(role_id) }).await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        open.set(false);
                        toast.0.set(Some(Ok("The membership was added.".into())));
                        reload.run(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let change_role = move |ws: String, role_id: String| {
        let uid = uid.clone();
        spawn_local(async move {
            let Ok(id) = role_id.parse() else { return };
            let result = api::set_member_role(&ws, &uid, &SetMemberRole { role_id: steward_shared::RoleId(id) }).await;
            if result.is_ok() {
                reload.run(());
            }
            toast.0.set(Some(result.map(|_| "The role was changed.".to_string())));
        });
    };
    let memberships = user.workspaces.clone();
    let empty = memberships.is_empty();
    view! {
        <section class="card" data-testid="memberships">
            <div class="card-head">
                <h2>"Workspaces and roles"</h2>
                {manage.then(|| view! {
                    <button class="btn btn-small" on:click=move |_| {
                        error.set(None);
                        role.set(String::new());
                        let first = choices.workspaces().into_iter().map(|w| w.id.to_string()).find(|w| !held.contains(w));
                        workspace.set(first.unwrap_or_default());
                        open.set(true);
                    }>"Add to workspace"</button>
                })}
            </div>
            <div class="table-wrap"><table class="table">
                <thead><tr><th>"Workspace"</th><th>"Role"</th><th class="actions"></th></tr></thead>
                <tbody>
                    {memberships.into_iter().map(|m| {
                        let ws = m.workspace.id.to_string();
                        let is_home = Some(m.workspace.id) == home;
                        let (ws_change, current, label) = (ws.clone(), m.role_id.to_string(), m.workspace.name.clone());
                        let change_role = change_role.clone();
                        let removing = m.clone();
                        view! {
                            <tr>
                                <td class="row-title">{m.workspace.name.clone()}
                                    {is_home.then(|| view! { " " <span class="badge">"Home"</span> })}</td>
                                <td>{if manage {
                                    view! {
                                        <select aria-label=format!("Role in {label}")
                                            on:change=move |ev| change_role(ws_change.clone(), event_target_value(&ev))>
                                            {move || choices.roles_for(&ws).into_iter().map(|r| view! {
                                                <option value=r.id.to_string() selected=r.id.to_string() == current>{r.name.clone()}</option>
                                            }).collect_view()}
                                        </select>
                                    }.into_any()
                                } else {
                                    view! { <span>{m.role_name.clone()}</span> }.into_any()
                                }}</td>
                                <td class="actions">{(manage && !is_home).then(|| view! {
                                    <button class="btn btn-small btn-danger-ghost" aria-label=format!("Remove from {}", m.workspace.name)
                                        on:click=move |_| on_remove.run(removing.clone())>"Remove"</button>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
            {empty.then(|| view! { <p class="empty">"No workspace: this user holds no role."</p> })}
        </section>
        <FormDialog open=open title="Add to a workspace" submit_label="Add" error=error busy=busy on_submit=add>
            <div class="field">
                <label for="member-ws">"Workspace"</label>
                <select id="member-ws" prop:value=move || workspace.get() on:change=move |ev| { workspace.set(event_target_value(&ev)); role.set(String::new()); }>
                    {move || choices.workspaces().into_iter().map(|w| view! { <option value=w.id.to_string()>{w.name.clone()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="member-role">"Role there"</label>
                <select id="member-role" prop:value=move || role.get() on:change=move |ev| role.set(event_target_value(&ev))>
                    <option value="">"Choose a role…"</option>
                    {move || choices.roles_for(&workspace.get()).into_iter().map(|r| view! { <option value=r.id.to_string()>{r.name.clone()}</option> }).collect_view()}
                </select>
                {move || error.get().and_then(|e| e.field("role_id")).map(|m| view! { <p class="field-error">{m}</p> })}
            </div>
        </FormDialog>
    }
}

/// Whether the user signs in with a second factor, and the admin reset.
#[component]
fn TwoFactor(user: DirectoryUser, manage: bool, on_reset: Callback<()>) -> impl IntoView {
    let on = user.totp_enabled;
    view! {
        <section class="card" data-testid="two-factor">
            <div class="card-head"><h2>"Two-factor sign-in"</h2></div>
            <div class="card-body">
                {if on {
                    view! { <p><span class="badge badge-ok">"On"</span>" An authenticator app is enrolled; sign-in asks for its code."</p> }.into_any()
                } else {
                    view! { <p><span class="badge">"Off"</span>" They sign in with their password alone."</p> }.into_any()
                }}
                {(manage && on).then(|| view! {
                    <p class="muted small">"Reset it when they lost their device and their recovery codes: they enrol again at their next sign-in if the policy asks for it."</p>
                    <button class="btn btn-small btn-danger" on:click=move |_| on_reset.run(())>"Reset two-factor"</button>
                })}
            </div>
        </section>
    }
}

/// The user's live sessions (and the ended ones on request).
#[component]
fn Sessions(
    user_id: String,
    tick: RwSignal<u32>,
    on_revoke: Callback<SessionRow>,
    on_revoke_all: Callback<()>,
) -> impl IntoView {
    let include_ended = RwSignal::new(false);
    let sessions = LocalResource::new(move || {
        tick.track();
        let q = api::query(&[
            ("user_id", Some(user_id.clone())),
            ("include_ended", include_ended.get().then(|| "true".into())),
            ("limit", Some("50".into())),
        ]);
        async move { api::sessions(&q).await }
    });
    let now = crate::pages::fmt::now();
    view! {
        <section class="card" data-testid="user-sessions">
            <div class="card-head">
                <h2>"Sessions"</h2>
                <div class="filters">
                    <label class="check-label inline">
                        <input type="checkbox" prop:checked=include_ended on:change=move |_| include_ended.update(|v| *v = !*v)/>
                        "Show ended"
                    </label>
                    <button class="btn btn-small" on:click=move |_| on_revoke_all.run(())>"Sign out everywhere"</button>
                </div>
            </div>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || sessions.get().map(|r| match r {
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p class="empty">"No session: they are not signed in anywhere."</p> }.into_any(),
                    Ok(page) => view! {
                        <div class="table-wrap"><table class="table">
                            <thead><tr><th>"Started"</th><th>"Last seen"</th><th>"Expires"</th><th>"Address"</th><th>"Client"</th><th>"2FA"</th><th class="actions"></th></tr></thead>
                            <tbody>{page.items.into_iter().map(|s| {
                                let live = s.expires_at > now;
                                let row = s.clone();
                                view! {
                                    <tr>
                                        <td class="nowrap">{when(Some(s.created_at))}
                                            {s.current.then(|| view! { " " <span class="badge badge-info">"This session"</span> })}
                                            {s.impersonating.is_some().then(|| view! { " " <span class="badge badge-warn">"Viewing as"</span> })}</td>
                                        <td class="nowrap">{when(Some(s.last_seen_at))}</td>
                                        <td class="nowrap">{if live { when(Some(s.expires_at)) } else { "ended".into() }}</td>
                                        <td class="mono small">{s.ip.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td class="small" title=s.user_agent.clone().unwrap_or_default()>{crate::pages::access::sessions::client(&s.user_agent)}</td>
                                        <td>{if s.two_factor_verified { "yes" } else { "—" }}</td>
                                        <td class="actions">{(live && !s.current).then(|| view! {
                                            <button class="btn btn-small" on:click=move |_| on_revoke.run(row.clone())>"End"</button>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// The user's API tokens (never their secrets), with revoke.
#[component]
fn Tokens(user_id: String, tick: RwSignal<u32>, on_revoke: Callback<ApiTokenInfo>) -> impl IntoView {
    let tokens = LocalResource::new(move || {
        tick.track();
        let id = user_id.clone();
        async move { api::user_tokens(&id).await }
    });
    let now = crate::pages::fmt::now();
    view! {
        <section class="card" data-testid="user-tokens">
            <div class="card-head"><h2>"API tokens"</h2></div>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || tokens.get().map(|r| match r {
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p class="empty">"No API token."</p> }.into_any(),
                    Ok(page) => view! {
                        <div class="table-wrap"><table class="table">
                            <thead><tr><th>"Name"</th><th>"Starts with"</th><th>"Permissions"</th><th>"Created"</th><th>"Last used"</th><th>"State"</th><th class="actions"></th></tr></thead>
                            <tbody>{page.items.into_iter().map(|t| {
                                let state = if t.revoked_at.is_some() {
                                    "revoked"
                                } else if t.expires_at.is_some_and(|e| e <= now) {
                                    "expired"
                                } else {
                                    "active"
                                };
                                let row = t.clone();
                                let label = t.name.clone();
                                view! {
                                    <tr>
                                        <td class="row-title">{t.name.clone()}</td>
                                        <td class="mono small">{format!("{}…", t.prefix)}</td>
                                        <td class="small" title=t.permissions.join(", ")>{
                                            match t.permissions.as_slice() { [one] => one.clone(), all => format!("{} leaves or patterns", all.len()) }
                                        }</td>
                                        <td class="nowrap">{when(Some(t.created_at))}</td>
                                        <td class="nowrap">{when(t.last_used_at)}</td>
                                        <td>{pill(state.to_string())}</td>
                                        <td class="actions">{(state == "active").then(|| view! {
                                            <button class="btn btn-small" aria-label=format!("Revoke {label}") on:click=move |_| on_revoke.run(row.clone())>"Revoke"</button>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// What the user did, and what was done to them: the newest events of each, with a link to the
/// whole trail in the audit log.
#[component]
fn Trail(user_id: String) -> impl IntoView {
    let about = RwSignal::new(false);
    let id = user_id.clone();
    let events = LocalResource::new(move || {
        let param = if about.get() { "target_id" } else { "actor" };
        let q = api::query(&[(param, Some(id.clone())), ("limit", Some("10".into()))]);
        async move { api::audit(&q).await }
    });
    let link = move || {
        let param = if about.get() { "target_id" } else { "actor" };
        format!("/admin/audit?{param}={user_id}")
    };
    let row = |e: AuditEvent| {
        view! {
            <tr>
                <td class="nowrap">{when(Some(e.occurred_at))}</td>
                <td class="mono action">{e.action.clone()}</td>
                <td>{pill(e.outcome.clone())}</td>
                <td class="small">{e.actor_email.clone().unwrap_or_else(|| "—".into())}
                    {e.impersonated_email.clone().map(|t| view! { " " <span class="badge badge-warn">{format!("as {t}")}</span> })}</td>
                <td class="small">{e.target_name.clone().or(e.target_type.clone()).unwrap_or_else(|| "—".into())}</td>
            </tr>
        }
    };
    view! {
        <section class="card" data-testid="user-trail">
            <div class="card-head">
                <h2>"Audit trail"</h2>
                <div class="tabs" role="tablist">
                    <button role="tab" class="tab" aria-selected=move || (!about.get()).to_string() class:active=move || !about.get()
                        on:click=move |_| about.set(false)>"What they did"</button>
                    <button role="tab" class="tab" aria-selected=move || about.get().to_string() class:active=move || about.get()
                        on:click=move |_| about.set(true)>"Done to them"</button>
                </div>
            </div>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || events.get().map(|r| match r {
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p class="empty">"No event."</p> }.into_any(),
                    Ok(page) => view! {
                        <div class="table-wrap"><table class="table" data-testid="trail-table">
                            <thead><tr><th>"Time"</th><th>"Action"</th><th>"Outcome"</th><th>"Actor"</th><th>"Target"</th></tr></thead>
                            <tbody>{page.items.into_iter().map(row).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                })}
            </Suspense>
            <div class="card-foot"><a href=link>"Open the whole trail in the audit log →"</a></div>
        </section>
    }
}
