//! `GET /api/me`: who is signed in, and what the SPA may show them.

use sea_orm::EntityTrait;
use steward_shared::api::{CustomerRef, Impersonation, Me, WorkspaceRef};

use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::entities::{customers, workspaces};

/// What `/api/me` says of a principal (the target's view while impersonating).
pub async fn me_of(state: &AppState, actor: &Actor) -> AppResult<Me> {
    // The principal's query read the names already (one statement for the whole answer); an
    // actor built another way looks them up.
    let (customer, home_workspace) = match &actor.names {
        Some(n) => (
            CustomerRef { id: n.customer.id.into(), name: n.customer.name.clone(), kind: n.customer.kind.clone() },
            actor.user.home_workspace_id.zip(n.home_workspace_name.clone()),
        ),
        None => {
            let c = customers::Entity::find_by_id(actor.customer_id())
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::internal("user without customer"))?;
            let home = match actor.user.home_workspace_id {
                Some(id) => workspaces::Entity::find_by_id(id).one(&state.db).await?.map(|w| (w.id, w.name)),
                None => None,
            };
            (CustomerRef { id: c.id.into(), name: c.name, kind: c.kind }, home)
        }
    };
    let home_workspace = home_workspace.map(|(id, name)| WorkspaceRef { id: id.into(), name });
    let permissions: Vec<String> = actor.effective_leaves().into_iter().map(str::to_owned).collect();
    let console_pages =
        state.operations.get().map(|ops| crate::access::pages::open_pages(actor, ops)).unwrap_or_default();
    // The dashboard sits in the tenant section; every other page is in the admin section.
    let admin_console = console_pages.iter().any(|p| p.id != "dashboard");
    let impersonation = match (&actor.impersonator, &actor.session) {
        (Some(real), Some(s)) => Some(Impersonation {
            real_user_id: real.user.id.into(),
            real_user_email: real.user.email.clone(),
            real_user_name: real.user.name.clone(),
            target_user_id: actor.user.id.into(),
            target_email: actor.user.email.clone(),
            target_name: actor.user.name.clone(),
            customer_id: customer.id,
            customer_name: customer.name.clone(),
            reason: s.impersonation_reason.clone().unwrap_or_default(),
            started_at: s.impersonation_started_at.unwrap_or(s.created_at),
            expires_at: s.impersonation_expires_at.unwrap_or(s.expires_at),
        }),
        _ => None,
    };
    Ok(Me {
        user_id: actor.user.id.into(),
        email: actor.user.email.clone(),
        name: actor.user.name.clone(),
        locale: actor.user.locale.clone(),
        super_admin: actor.user.super_admin,
        customer,
        home_workspace,
        session_id: actor.session.as_ref().map(|s| s.id.into()),
        permissions,
        admin_console,
        console_pages,
        session_expires_at: actor.session.as_ref().map(|s| s.expires_at),
        impersonation,
        totp_enabled: actor.impersonator.as_deref().unwrap_or(actor).user.totp_enabled,
        two_factor_required: crate::identity::two_factor::blocked(state, actor).await?,
    })
}

/// The signed-in principal.
pub async fn me(state: &AppState, actor: &Actor) -> AppResult<Me> {
    me_of(state, actor).await
}
