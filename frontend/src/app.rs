//! The router: every page at its path, inside the shell for signed-in pages. The signed-in pages
//! are lazy routes: their code is split out of the main module (`crates/console-split`, run by
//! Trunk) into a second one, fetched in the background once the app is up, so a cold `/login`
//! waits for the shell and the sign-in page only.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy, LazyRoute};

use crate::auth::Auth;
use crate::components::shell::Shell;
use crate::pages::access::{
    explain::ExplainAccessPage, invitations::InvitationsPage, role_editor::RoleEditorPage, roles::RolesPage,
    sessions::SessionsPage, user_detail::UserDetailPage, users::UsersPage,
};
use crate::pages::applications::apps::{ApplicationDetailPage, ApplicationsPage, ImportErrorsPage, PackagesPage};
use crate::pages::audit::AuditPage;
use crate::pages::data::{
    data_ops::{DataOpsPage, HashWarningsPage},
    explorer::ExplorerPage,
};
use crate::pages::identity::{
    account::AccountPage,
    login::LoginPage,
    setup::SetupPage,
    token_pages::{AcceptInvitationPage, ResetPasswordPage},
};
use crate::pages::impersonations::ImpersonationsPage;
use crate::pages::not_found::NotFound;
use crate::pages::operations::{
    actions::PlatformActionsPage, config::ConfigPage, logs::LogsPage, outbox::OutboxPage, settings::SettingsPage,
    stats::StatsPage, system::SystemPage,
};
use crate::pages::tenancy::{
    connectors::ConnectorsPage,
    customers::{CustomerDetailPage, CustomersPage},
    dashboard::DashboardPage,
    data::DataPage,
    flows::FlowsPage,
    runs::RunsPage,
};
use crate::scope::ScopeState;

/// Why a page's code did not arrive: the connection dropped while the pages module loaded (the
/// next visit tries again).
struct NotLoaded;

impl From<leptos::wasm_split::SplitLoaderError> for NotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        NotLoaded
    }
}

/// The pages module, fetched in the background once the app has mounted: by the time the sign-in
/// form is filled in, the pages are there.
#[leptos::wasm_split::wasm_split(pages, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_pages))]
fn pages_module() -> Result<(), NotLoaded> {
    Ok(())
}

fn not_loaded() -> AnyView {
    view! {
        <div class="auth-page">
            <div class="card auth-card" role="alert">
                <h1>"This page did not load"</h1>
                <p class="muted">"The connection dropped while the console's pages were on the way."</p>
                <a href="" class="btn btn-primary">"Try again"</a>
            </div>
        </div>
    }
    .into_any()
}

/// A lazy route per signed-in page. Every page's code is in one module of its own, `pages`
/// (`crates/console-split` splits it off): one file to fetch, not a part per page and per set of
/// pages sharing code (per-page parts came to 31 pages and 455 shared chunks).
macro_rules! lazy_pages {
    ($($route:ident($load:ident) => $page:ident,)*) => {$(
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                $load().await.unwrap_or_else(|NotLoaded| not_loaded())
            }
        }

        #[leptos::wasm_split::wasm_split(pages, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $load() -> Result<AnyView, NotLoaded> {
            Ok(view! { <$page/> }.into_any())
        }
    )*};
}

lazy_pages! {
    DashboardRoute(dashboard_page) => DashboardPage,
    FlowsRoute(flows_page) => FlowsPage,
    RunsRoute(runs_page) => RunsPage,
    ConnectorsRoute(connectors_page) => ConnectorsPage,
    DataRoute(data_page) => DataPage,
    AccountRoute(account_page) => AccountPage,
    SystemRoute(system_page) => SystemPage,
    StatsRoute(stats_page) => StatsPage,
    LogsRoute(logs_page) => LogsPage,
    OutboxRoute(outbox_page) => OutboxPage,
    ConfigRoute(config_page) => ConfigPage,
    SettingsRoute(settings_page) => SettingsPage,
    ExplorerRoute(explorer_page) => ExplorerPage,
    DataOpsRoute(data_ops_page) => DataOpsPage,
    HashWarningsRoute(hash_warnings_page) => HashWarningsPage,
    ApplicationsRoute(applications_page) => ApplicationsPage,
    ApplicationDetailRoute(application_detail_page) => ApplicationDetailPage,
    ImportErrorsRoute(import_errors_page) => ImportErrorsPage,
    PackagesRoute(packages_page) => PackagesPage,
    PlatformActionsRoute(platform_actions_page) => PlatformActionsPage,
    CustomersRoute(customers_page) => CustomersPage,
    CustomerDetailRoute(customer_detail_page) => CustomerDetailPage,
    UsersRoute(users_page) => UsersPage,
    UserDetailRoute(user_detail_page) => UserDetailPage,
    InvitationsRoute(invitations_page) => InvitationsPage,
    SessionsRoute(sessions_page) => SessionsPage,
    ExplainAccessRoute(explain_access_page) => ExplainAccessPage,
    RolesRoute(roles_page) => RolesPage,
    AuditRoute(audit_page) => AuditPage,
    ImpersonationsRoute(impersonations_page) => ImpersonationsPage,
    RoleEditorRoute(role_editor_page) => RoleEditorPage,
}

#[component]
pub fn App() -> impl IntoView {
    provide_context(Auth { me: RwSignal::new(None) });
    provide_context(ScopeState::load());
    leptos::task::spawn_local(async {
        let _ = preload_pages().await;
    });
    view! {
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/setup") view=SetupPage/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/reset-password") view=ResetPasswordPage/>
                <Route path=path!("/accept-invitation") view=AcceptInvitationPage/>
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view={Lazy::<DashboardRoute>::new()}/>
                    <Route path=path!("flows") view={Lazy::<FlowsRoute>::new()}/>
                    <Route path=path!("runs") view={Lazy::<RunsRoute>::new()}/>
                    <Route path=path!("connectors") view={Lazy::<ConnectorsRoute>::new()}/>
                    <Route path=path!("data") view={Lazy::<DataRoute>::new()}/>
                    <Route path=path!("account") view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("admin/system") view={Lazy::<SystemRoute>::new()}/>
                    <Route path=path!("admin/stats") view={Lazy::<StatsRoute>::new()}/>
                    <Route path=path!("admin/logs") view={Lazy::<LogsRoute>::new()}/>
                    <Route path=path!("admin/outbox") view={Lazy::<OutboxRoute>::new()}/>
                    <Route path=path!("admin/config") view={Lazy::<ConfigRoute>::new()}/>
                    <Route path=path!("admin/settings") view={Lazy::<SettingsRoute>::new()}/>
                    <Route path=path!("admin/explorer") view={Lazy::<ExplorerRoute>::new()}/>
                    <Route path=path!("admin/data-ops") view={Lazy::<DataOpsRoute>::new()}/>
                    <Route path=path!("admin/hash-warnings") view={Lazy::<HashWarningsRoute>::new()}/>
                    <Route path=path!("admin/applications") view={Lazy::<ApplicationsRoute>::new()}/>
                    <Route path=path!("admin/applications/:id") view={Lazy::<ApplicationDetailRoute>::new()}/>
                    <Route path=path!("admin/import-errors") view={Lazy::<ImportErrorsRoute>::new()}/>
                    <Route path=path!("admin/packages") view={Lazy::<PackagesRoute>::new()}/>
                    <Route path=path!("admin/actions") view={Lazy::<PlatformActionsRoute>::new()}/>
                    <Route path=path!("admin/customers") view={Lazy::<CustomersRoute>::new()}/>
                    <Route path=path!("admin/customers/:id") view={Lazy::<CustomerDetailRoute>::new()}/>
                    <Route path=path!("admin/users") view={Lazy::<UsersRoute>::new()}/>
                    <Route path=path!("admin/users/:id") view={Lazy::<UserDetailRoute>::new()}/>
                    <Route path=path!("admin/invitations") view={Lazy::<InvitationsRoute>::new()}/>
                    <Route path=path!("admin/sessions") view={Lazy::<SessionsRoute>::new()}/>
                    <Route path=path!("admin/access") view={Lazy::<ExplainAccessRoute>::new()}/>
                    <Route path=path!("admin/roles") view={Lazy::<RolesRoute>::new()}/>
                    <Route path=path!("admin/audit") view={Lazy::<AuditRoute>::new()}/>
                    <Route path=path!("admin/impersonations") view={Lazy::<ImpersonationsRoute>::new()}/>
                    <Route path=path!("admin/roles/:id") view={Lazy::<RoleEditorRoute>::new()}/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
