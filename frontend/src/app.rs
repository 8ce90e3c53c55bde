//! The router: every page at its path, inside the shell for signed-in pages.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

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

#[component]
pub fn App() -> impl IntoView {
    provide_context(Auth { me: RwSignal::new(None) });
    provide_context(ScopeState::load());
    view! {
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/setup") view=SetupPage/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/reset-password") view=ResetPasswordPage/>
                <Route path=path!("/accept-invitation") view=AcceptInvitationPage/>
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=DashboardPage/>
                    <Route path=path!("flows") view=FlowsPage/>
                    <Route path=path!("runs") view=RunsPage/>
                    <Route path=path!("connectors") view=ConnectorsPage/>
                    <Route path=path!("data") view=DataPage/>
                    <Route path=path!("account") view=AccountPage/>
                    <Route path=path!("admin/system") view=SystemPage/>
                    <Route path=path!("admin/stats") view=StatsPage/>
                    <Route path=path!("admin/logs") view=LogsPage/>
                    <Route path=path!("admin/outbox") view=OutboxPage/>
                    <Route path=path!("admin/config") view=ConfigPage/>
                    <Route path=path!("admin/settings") view=SettingsPage/>
                    <Route path=path!("admin/explorer") view=ExplorerPage/>
                    <Route path=path!("admin/data-ops") view=DataOpsPage/>
                    <Route path=path!("admin/hash-warnings") view=HashWarningsPage/>
                    <Route path=path!("admin/applications") view=ApplicationsPage/>
                    <Route path=path!("admin/applications/:id") view=ApplicationDetailPage/>
                    <Route path=path!("admin/import-errors") view=ImportErrorsPage/>
                    <Route path=path!("admin/packages") view=PackagesPage/>
                    <Route path=path!("admin/actions") view=PlatformActionsPage/>
                    <Route path=path!("admin/customers") view=CustomersPage/>
                    <Route path=path!("admin/customers/:id") view=CustomerDetailPage/>
                    <Route path=path!("admin/users") view=UsersPage/>
                    <Route path=path!("admin/users/:id") view=UserDetailPage/>
                    <Route path=path!("admin/invitations") view=InvitationsPage/>
                    <Route path=path!("admin/sessions") view=SessionsPage/>
                    <Route path=path!("admin/access") view=ExplainAccessPage/>
                    <Route path=path!("admin/roles") view=RolesPage/>
                    <Route path=path!("admin/audit") view=AuditPage/>
                    <Route path=path!("admin/impersonations") view=ImpersonationsPage/>
                    <Route path=path!("admin/roles/:id") view=RoleEditorPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
