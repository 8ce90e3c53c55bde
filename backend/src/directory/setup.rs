//! First launch: while no user exists, one call creates the platform customer, its workspace
//! and the first super admin; after that the endpoint answers 409.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::json;
use steward_shared::api::{SetupRequest, SetupStatus, TokenPair};
use steward_shared::rules;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::request_meta::RequestMeta;
use crate::identity::{password, sessions};
use crate::roles::SYSTEM_ADMIN_ROLE;
use crate::state::AppState;
use crate::store::entities::{customers, users};

pub(super) async fn needs_setup(state: &AppState) -> AppResult<bool> {
    Ok(users::Entity::find().count(&state.db).await? == 0)
}

pub(super) fn already_done() -> AppError {
    AppError::Conflict { code: "setup_done", field: None, detail: "Steward is already set up; sign in instead.".into() }
}

/// Whether first-launch setup is still open.
pub async fn status(state: &AppState) -> AppResult<SetupStatus> {
    Ok(SetupStatus { needs_setup: needs_setup(state).await? })
}

/// Create the first admin account (only while no user exists).
///
/// Creates the platform customer, its workspace and a super admin holding the `admin` role
/// there, and signs that admin in.
pub async fn setup(state: &AppState, meta: &RequestMeta, body: SetupRequest) -> AppResult<TokenPair> {
    if !needs_setup(state).await? {
        return Err(already_done());
    }
    let mut v = Validator::new();
    let email = v.email("email", &body.email);
    crate::identity::runtime::check_password(state, &mut v, "password", &body.password).await?;
    let name = v.text("name", &body.name, rules::NAME);
    let organization = v.text("organization", body.organization.as_deref().unwrap_or("Platform"), rules::NAME);
    v.finish()?;

    let hash = password::hash(state, body.password).await?;
    let now = Utc::now();
    let txn = crate::store::begin(&state.db).await?;
    // The unique slug makes a concurrent second setup fail here instead of creating two admins.
    let customer = customers::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(organization.clone()),
        slug: Set("platform".into()),
        kind: Set("platform".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => already_done(),
        other => other,
    })?;
    if users::Entity::find().count(&txn).await? != 0 {
        return Err(already_done());
    }
    let workspace = crate::tenancy::workspaces::insert(&txn, customer.id, organization).await?;
    let account = crate::directory::users::NewAccount {
        customer_id: customer.id,
        workspace_id: workspace.id,
        role_id: SYSTEM_ADMIN_ROLE,
        email,
        name,
        locale: "en".into(),
        password_hash: Some(hash),
        super_admin: true,
        signed_in: true,
    };
    let user = crate::directory::users::insert_account(&txn, account).await?;
    let pair = sessions::open(state, &txn, &user, meta).await?;
    let event = Event::new("setup.complete", "success")
        .actor(user.id, customer.id)
        .target("user", user.id)
        .summary(json!({ "after": { "email": user.email, "customer": customer.name, "workspace": workspace.name, "super_admin": true } }));
    audit::append(&txn, meta, event).await?;
    txn.commit().await?;
    Ok(pair)
}
