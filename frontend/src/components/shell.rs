//! The frame every signed-in page lives in: sidebar (tenant section above, admin section in
//! the lower left for those who may use it), top bar with the scope controls and the account menu.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::{use_location, use_navigate};
use steward_shared::api::Me;

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::form::{ErrorBanner, Loading};
use crate::components::icon::Icon;
use crate::components::scope_bar::{ScopeBar, Toast};
use crate::components::view_as::ImpersonationBanner;

/// Where a sidebar entry sits: the workspace section, or one group of the administration.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Workspace,
    People,
    Tenants,
    Operations,
    Data,
    Platform,
    Audit,
}

/// The administration's groups, in the order the sidebar shows them (seed 002's People and
/// Access, seed 000's admin section); a group with no page open to the principal is not shown.
const ADMIN_GROUPS: &[(Group, &str)] = &[
    (Group::People, "People"),
    (Group::Tenants, "Tenants"),
    (Group::Operations, "Operations"),
    (Group::Data, "Data"),
    (Group::Platform, "Platform"),
    (Group::Audit, "Audit"),
];

/// One sidebar entry.
struct NavItem {
    label: &'static str,
    href: &'static str,
    icon: &'static str,
    group: Group,
    /// Shown when the principal holds any of these leaves (super admins hold all); empty: always.
    /// With `page`, both must hold.
    leaves: &'static [&'static str],
    /// A console page of the catalog: shown exactly when `/api/me` says the page opens (the
    /// server decides with the same check its routes make).
    page: Option<&'static str>,
}

const NAV: &[NavItem] = &[
    NavItem {
        label: "Dashboard",
        href: "/",
        icon: "home",
        group: Group::Workspace,
        leaves: &[],
        page: Some("dashboard"),
    },
    NavItem {
        label: "Flows",
        href: "/flows",
        icon: "flow",
        group: Group::Workspace,
        leaves: &["steward.flows.view"],
        page: None,
    },
    NavItem {
        label: "Runs",
        href: "/runs",
        icon: "play",
        group: Group::Workspace,
        leaves: &["steward.runs.view"],
        page: None,
    },
    NavItem {
        label: "Connectors",
        href: "/connectors",
        icon: "plug",
        group: Group::Workspace,
        leaves: &["steward.connectors.view"],
        page: None,
    },
    NavItem {
        label: "Data",
        href: "/data",
        icon: "database",
        group: Group::Workspace,
        leaves: &["steward.data.view"],
        page: None,
    },
    NavItem { label: "My account", href: "/account", icon: "user", group: Group::Workspace, leaves: &[], page: None },
    NavItem {
        label: "Users",
        href: "/admin/users",
        icon: "users",
        group: Group::People,
        leaves: &[],
        page: Some("users"),
    },
    NavItem {
        label: "Invitations",
        href: "/admin/invitations",
        icon: "mail",
        group: Group::People,
        leaves: &[],
        page: Some("invitations"),
    },
    NavItem {
        label: "Sessions",
        href: "/admin/sessions",
        icon: "monitor",
        group: Group::People,
        leaves: &[],
        page: Some("sessions"),
    },
    NavItem {
        label: "Roles",
        href: "/admin/roles",
        icon: "key",
        group: Group::People,
        leaves: &[],
        page: Some("roles"),
    },
    NavItem {
        label: "Explain access",
        href: "/admin/access",
        icon: "shield",
        group: Group::People,
        leaves: &[],
        page: Some("explain"),
    },
    NavItem {
        label: "Customers",
        href: "/admin/customers",
        icon: "building",
        group: Group::Tenants,
        // Administering tenants: looking across them, managing one, or the page delegated. A
        // viewer may read its own customer (the picker does) without an admin page for it.
        leaves: &["steward.admin.cross_tenant", "steward.customers.manage", "steward.console.customers.read"],
        page: Some("customers"),
    },
    NavItem {
        label: "Audit log",
        href: "/admin/audit",
        icon: "book",
        group: Group::Audit,
        leaves: &[],
        page: Some("audit"),
    },
    NavItem {
        label: "Impersonation history",
        href: "/admin/impersonations",
        icon: "shield",
        group: Group::Audit,
        leaves: &[],
        page: Some("impersonations"),
    },
    NavItem {
        label: "System status",
        href: "/admin/system",
        icon: "pulse",
        group: Group::Operations,
        leaves: &[],
        page: Some("system"),
    },
    NavItem {
        label: "Stats",
        href: "/admin/stats",
        icon: "chart",
        group: Group::Operations,
        leaves: &[],
        page: Some("stats"),
    },
    NavItem {
        label: "Logs",
        href: "/admin/logs",
        icon: "list",
        group: Group::Operations,
        leaves: &[],
        page: Some("logs"),
    },
    NavItem {
        label: "Outbox",
        href: "/admin/outbox",
        icon: "mail",
        group: Group::Operations,
        leaves: &[],
        page: Some("logs"),
    },
    NavItem {
        label: "Data explorer",
        href: "/admin/explorer",
        icon: "grid",
        group: Group::Data,
        leaves: &[],
        page: Some("data_explorer"),
    },
    NavItem {
        label: "Data ops",
        href: "/admin/data-ops",
        icon: "layers",
        group: Group::Data,
        leaves: &[],
        page: Some("data_ops"),
    },
    NavItem {
        label: "Hash warnings",
        href: "/admin/hash-warnings",
        icon: "alert",
        group: Group::Data,
        leaves: &[],
        page: Some("hash_warnings"),
    },
    NavItem {
        label: "Applications",
        href: "/admin/applications",
        icon: "box",
        group: Group::Platform,
        leaves: &[],
        page: Some("applications"),
    },
    NavItem {
        label: "Import errors",
        href: "/admin/import-errors",
        icon: "bug",
        group: Group::Platform,
        leaves: &[],
        page: Some("import_errors"),
    },
    NavItem {
        label: "Packages",
        href: "/admin/packages",
        icon: "package",
        group: Group::Platform,
        leaves: &[],
        page: Some("packages"),
    },
    NavItem {
        label: "Platform actions",
        href: "/admin/actions",
        icon: "power",
        group: Group::Operations,
        leaves: &[],
        page: Some("platform_actions"),
    },
    NavItem {
        label: "Settings",
        href: "/admin/settings",
        icon: "lock",
        group: Group::Operations,
        leaves: &[],
        page: Some("settings"),
    },
    NavItem {
        label: "Configuration",
        href: "/admin/config",
        icon: "sliders",
        group: Group::Operations,
        leaves: &[],
        page: Some("settings"),
    },
];

/// The sidebar label and address of a console page the SPA has.
pub fn page_link(page: &str) -> Option<(&'static str, &'static str)> {
    NAV.iter().find(|i| i.page == Some(page) && i.href != "/").map(|i| (i.label, i.href))
}

fn visible(item: &NavItem, me: &Me) -> bool {
    let holds =
        item.leaves.is_empty() || me.super_admin || me.permissions.iter().any(|p| item.leaves.contains(&p.as_str()));
    match item.page {
        Some(page) => holds && me.console_pages.iter().any(|p| p.id == page),
        None => holds,
    }
}

/// What the shell found when it loaded.
#[derive(Clone)]
enum Boot {
    NeedsSetup,
    SignedOut,
    SignedIn(Box<Me>),
    Failed(ApiError),
}

async fn boot() -> Boot {
    match api::setup_status().await {
        Ok(s) if s.needs_setup => return Boot::NeedsSetup,
        Ok(_) => {}
        Err(e) => return Boot::Failed(e),
    }
    if !api::has_session() {
        return Boot::SignedOut;
    }
    match api::me().await {
        Ok(me) => Boot::SignedIn(Box::new(me)),
        Err(e) if e.status() == 401 => {
            api::forget();
            Boot::SignedOut
        }
        Err(e) => Boot::Failed(e),
    }
}

#[component]
pub fn Shell() -> impl IntoView {
    let auth = use_auth();
    let booted = LocalResource::new(boot);
    view! {
        <Suspense fallback=|| view! { <div class="boot"><Loading label="Starting Steward…"/></div> }>
            {move || Suspend::new(async move {
                match booted.await {
                    Boot::NeedsSetup => view! { <Redirect path="/setup"/> }.into_any(),
                    Boot::SignedOut => view! { <Redirect path="/login"/> }.into_any(),
                    Boot::Failed(e) => {
                        let error = Signal::derive(move || Some(e.clone()));
                        view! {
                            <div class="boot">
                                <ErrorBanner error=error/>
                                <button class="btn" on:click=move |_| booted.refetch()>"Try again"</button>
                            </div>
                        }.into_any()
                    }
                    Boot::SignedIn(me) => {
                        auth.me.set(Some(*me));
                        view! { <Frame/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// How long a success toast stays on screen.
const TOAST_SECONDS: u64 = 6;

#[component]
fn Frame() -> impl IntoView {
    let auth = use_auth();
    let toast = Toast(RwSignal::new(None));
    provide_context(toast);
    // A confirmation leaves by itself after a few seconds; a refusal stays until dismissed (it
    // may need reading, or copying its request id).
    Effect::new(move |_| {
        if let Some(Ok(message)) = toast.0.get() {
            set_timeout(
                move || {
                    if toast.0.with_untracked(|t| matches!(t, Some(Ok(m)) if *m == message)) {
                        toast.0.set(None);
                    }
                },
                std::time::Duration::from_secs(TOAST_SECONDS),
            );
        }
    });
    let location = use_location();
    let navigate = use_navigate();
    let me = move || auth.me.get();
    // Under 1024 px the sidebar folds behind the Menu button: it opens over the page, and closes
    // on Escape, on the backdrop, and when a page is chosen.
    let menu_open = RwSignal::new(false);
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    let escape = window_event_listener(leptos::ev::keydown, move |e| {
        if e.key() == "Escape" && menu_open.get_untracked() {
            menu_open.set(false);
        }
    });
    on_cleanup(move || escape.remove());
    let title = move || {
        let path = location.pathname.get();
        NAV.iter()
            .filter(|i| i.href == path || (i.href != "/" && path.starts_with(&format!("{}/", i.href))))
            .map(|i| i.label)
            .next()
            .unwrap_or("Steward")
    };
    let scope = crate::scope::use_scope();
    // The scope remembered in this browser is the signed-in user's own, or dropped (another
    // user chose it); one this user may not use drops back to their organization, with a notice.
    Effect::new(move |_| {
        let Some(me) = auth.me.get() else { return };
        if me.impersonation.is_some() {
            return;
        }
        let cross_tenant = me.super_admin || me.permissions.iter().any(|p| p == "steward.admin.cross_tenant");
        let dropped = scope.claim_for(&me.user_id.to_string());
        if !cross_tenant && (dropped || scope.value.get_untracked() != "tenant") {
            scope.reset();
            toast.0.set(Some(Ok(
                "The customer scope remembered in this browser is not available to you: showing your own organization."
                    .into(),
            )));
        }
    });
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            api::logout().await;
            auth.me.set(None);
            navigate("/login", Default::default());
        });
    };
    let nav_link = move |item: &'static NavItem| {
        let href = item.href;
        view! {
            <A href=href attr:class="nav-link" exact=href == "/">
                <span class="nav-icon"><Icon name=item.icon/></span>
                <span>{item.label}</span>
            </A>
        }
    };
    view! {
        <div class="frame" class:menu-open=move || menu_open.get()>
            <div class="menu-backdrop" on:click=move |_| menu_open.set(false)></div>
            <nav class="sidebar" id="sidebar" aria-label="Main">
                <div class="brand">
                    <span class="brand-mark">"S"</span>
                    <span class="brand-name">"Steward"</span>
                </div>
                <div class="nav-section">
                    <p class="nav-heading">"Workspace"</p>
                    {move || me().map(|me| {
                        NAV.iter().filter(|i| i.group == Group::Workspace && visible(i, &me)).map(nav_link).collect_view()
                    })}
                </div>
                // The administration, by group; nothing of it for someone with no admin page.
                {move || me().filter(|me| NAV.iter().any(|i| i.group != Group::Workspace && visible(i, me))).map(|me| view! {
                    <div class="nav-admin" data-testid="admin-section" aria-label="Administration">
                        {ADMIN_GROUPS.iter().filter_map(|(group, heading)| {
                            let items: Vec<_> = NAV.iter().filter(|i| i.group == *group && visible(i, &me)).collect();
                            (!items.is_empty()).then(|| view! {
                                <div class="nav-section nav-group">
                                    <p class="nav-heading">{*heading}</p>
                                    {items.into_iter().map(nav_link).collect_view()}
                                </div>
                            })
                        }).collect_view()}
                    </div>
                })}
            </nav>
            <div class="main">
                <ImpersonationBanner/>
                <header class="topbar">
                    <button class="icon-btn menu-toggle" aria-label="Menu" aria-controls="sidebar"
                        aria-expanded=move || menu_open.get().to_string()
                        on:click=move |_| menu_open.update(|open| *open = !*open)>
                        <Icon name="menu"/>
                    </button>
                    <h1 class="page-title">{title}</h1>
                    <div class="scope-controls" aria-label="Scope">
                        {move || me().map(|me| view! {
                            <span class="chip" title="Your organization">
                                <span class="chip-dot"></span>{me.customer.name.clone()}
                            </span>
                        })}
                        <ScopeBar/>
                    </div>
                    <div class="account">
                        {move || me().map(|me| view! {
                            <div class="account-who">
                                <span class="account-name">{me.name.clone()}</span>
                                <span class="account-email">{me.email.clone()}</span>
                            </div>
                        })}
                        <a class="icon-btn" href="/api/docs/" target="_blank" rel="noopener" title="API reference" aria-label="API reference">
                            <Icon name="book"/>
                        </a>
                        <button class="btn btn-ghost" on:click=sign_out>"Sign out"</button>
                    </div>
                </header>
                {move || toast.0.get().map(|t| {
                    let (class, text) = match t {
                        Ok(m) => ("toast toast-ok", m),
                        Err(e) => ("toast toast-error", e.message()),
                    };
                    view! {
                        <div class=class role="alert">
                            <span>{text}</span>
                            <button class="icon-btn" aria-label="Dismiss" on:click=move |_| toast.0.set(None)>"×"</button>
                        </div>
                    }
                })}
                {move || me().filter(|m| m.two_factor_required).map(|_| view! {
                    <div class="banner banner-warn two-factor-required" role="alert">
                        <strong>"Two-factor authentication is required for admins."</strong>
                        <span>"Set it up under My account before anything else works."</span>
                        <A href="/account" attr:class="btn btn-small">"Set up 2FA"</A>
                    </div>
                })}
                <main class="content">
                    <Outlet/>
                </main>
            </div>
        </div>
    }
}
