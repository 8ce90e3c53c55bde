//! The principal every protected handler receives: the signed-in user (or the user they view
//! as, with the real admin kept beside), the roles they hold where, and the checks on them.
//! Who the caller is gets resolved in `identity::principal`; the one route check that hands
//! an `Actor` to handlers is `api::gate`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::BTreeSet;
use steward_shared::permissions::{self, Requirement};
use uuid::Uuid;

use crate::http::error::{AppError, AppResult};
use crate::store::entities::{sessions, users};

/// One workspace where the user holds a role, and the leaves it grants.
#[derive(Debug, Clone)]
pub struct Grants {
    pub workspace_id: Uuid,
    pub role_id: Uuid,
    pub leaves: BTreeSet<&'static str>,
}

/// Who is acting: the signed-in user, through which session, holding which roles where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: users::Model,
    pub session: Option<sessions::Model>,
    /// One entry per membership.
    pub grants: Vec<Grants>,
    /// The leaves that open the current route: its own, and any delegable page leaf naming it.
    pub route_leaves: Vec<&'static str>,
    /// While impersonating: the real admin's own principal. `user` and `grants` are then the
    /// target's, and every check needs both to hold the leaf.
    pub impersonator: Option<Box<Actor>>,
    /// When authenticated by an API token: the leaves the token was created with. The
    /// principal then holds only what both the token and its owner hold.
    pub token_leaves: Option<BTreeSet<&'static str>>,
    /// The customer and home workspace name, read in the principal's own query for `/api/me`
    /// and the tenant scope (absent when the actor was built another way; then they are looked
    /// up).
    pub names: Option<ActorNames>,
}

/// The user's customer and home workspace name as the principal's query read them.
#[derive(Debug, Clone)]
pub struct ActorNames {
    pub customer: crate::store::entities::customers::Model,
    pub home_workspace_name: Option<String>,
}

impl Actor {
    pub fn user_id(&self) -> Uuid {
        self.user.id
    }

    pub fn customer_id(&self) -> Uuid {
        self.user.customer_id
    }

    pub fn is_super_admin(&self) -> bool {
        self.user.super_admin
    }

    /// Whether this principal holds `leaf` in some workspace. Super admins hold every leaf;
    /// the leaves of never-delegable console pages are held by super admins only.
    pub fn holds(&self, leaf: &str) -> bool {
        if self.token_leaves.as_ref().is_some_and(|t| !t.contains(leaf)) {
            return false;
        }
        let own = self.user.super_admin
            || (!permissions::is_root_only(leaf) && self.grants.iter().any(|g| g.leaves.contains(leaf)));
        own && self.impersonator.as_ref().is_none_or(|a| a.holds(leaf))
    }

    /// Whether this principal passes a route's declaration; `leaves` are the route's leaf and
    /// the console-page leaves that open it. The gate decides with this, and `/api/me` reports
    /// the console pages by it.
    pub fn passes(&self, requirement: &Requirement, leaves: &[&'static str]) -> bool {
        match requirement {
            Requirement::Public | Requirement::Authenticated => true,
            Requirement::Leaf(_) => leaves.iter().any(|l| self.holds(l)),
            Requirement::SuperAdmin(_) => self.super_admin_throughout() && leaves.iter().any(|l| self.holds(l)),
            // The real admin decides; the handler narrows what it shows to the target's view.
            Requirement::SuperAdminView(_) => {
                let real = self.impersonator.as_deref().unwrap_or(self);
                real.super_admin_throughout() && leaves.iter().any(|l| real.holds(l))
            }
        }
    }

    /// Whether both identities behind this principal are super admins (under impersonation
    /// the target never is, so a super-admin operation is refused while viewing as someone),
    /// and an API token does not hide it.
    pub fn super_admin_throughout(&self) -> bool {
        self.user.super_admin && self.impersonator.as_ref().is_none_or(|a| a.super_admin_throughout())
    }

    /// Who authors writes: the real admin while impersonating, else the user.
    pub fn author_id(&self) -> Uuid {
        self.impersonator.as_ref().map(|a| a.user.id).unwrap_or(self.user.id)
    }

    /// Whether this principal holds `leaf` in `workspace`. Holders of cross-tenant rights carry
    /// their leaves into every workspace.
    pub fn holds_in(&self, leaf: &str, workspace: Uuid) -> bool {
        if self.token_leaves.as_ref().is_some_and(|t| !t.contains(leaf)) {
            return false;
        }
        if let Some(real) = &self.impersonator {
            if !real.holds_in(leaf, workspace) {
                return false;
            }
        }
        if self.user.super_admin {
            return true;
        }
        if permissions::is_root_only(leaf) {
            return false;
        }
        if self.holds(permissions::ADMIN_CROSS_TENANT) {
            return self.holds(leaf);
        }
        self.grants.iter().any(|g| g.workspace_id == workspace && g.leaves.contains(leaf))
    }

    /// Every leaf held in `workspace`, in catalog order.
    pub fn leaves_in(&self, workspace: Uuid) -> Vec<&'static str> {
        permissions::all_leaves().map(|l| l.id).filter(|l| self.holds_in(l, workspace)).collect()
    }

    /// Every leaf held somewhere, in catalog order.
    pub fn effective_leaves(&self) -> Vec<&'static str> {
        permissions::all_leaves().map(|l| l.id).filter(|l| self.holds(l)).collect()
    }

    /// The current route's permission, checked in one workspace (for workspace-scoped writes).
    pub fn require_in(&self, workspace: Uuid) -> AppResult<()> {
        if self.route_leaves.iter().any(|l| self.holds_in(l, workspace)) {
            Ok(())
        } else {
            let leaf = self.route_leaves.first().copied().unwrap_or("a permission");
            Err(AppError::Forbidden {
                code: "permission_denied",
                detail: format!("This needs the permission `{leaf}` in that workspace, which you do not hold there."),
            })
        }
    }

    /// The workspaces where this principal holds `leaf`; `None` when it holds it everywhere
    /// (super admins and holders of cross-tenant rights). While impersonating, only the
    /// workspaces where both the target and the real admin hold it: a view never reads more
    /// than either identity may.
    ///
    /// For the current route's own leaf, a grant holding a console page leaf that opens the
    /// route (`route_leaves`) counts too: the gate admitted the request by that leaf, and the
    /// rows it reads are those of the workspaces where it is held.
    pub fn workspaces_with(&self, leaf: &str) -> Option<Vec<Uuid>> {
        let everywhere = self.user.super_admin
            || self.grants.iter().any(|g| g.leaves.contains(permissions::ADMIN_CROSS_TENANT))
                && self.token_leaves.as_ref().is_none_or(|t| t.contains(permissions::ADMIN_CROSS_TENANT));
        // Where `leaf` is the current route's own, a delegable console page leaf that opens the
        // route counts as it does: a page delegated in a workspace shows that workspace's rows.
        let page_leaves: &[&'static str] = if self.route_leaves.contains(&leaf) { &self.route_leaves } else { &[] };
        let opens = |g: &&Grants| {
            g.leaves.contains(leaf) || page_leaves.iter().any(|l| !permissions::is_root_only(l) && g.leaves.contains(l))
        };
        let own = (!everywhere).then(|| self.grants.iter().filter(opens).map(|g| g.workspace_id).collect());
        match (own, self.impersonator.as_ref().map(|real| real.workspaces_with(leaf))) {
            (own, None) => own,
            (None, Some(real)) => real,
            (Some(own), Some(None)) => Some(own),
            (Some(own), Some(Some(real))) => Some(own.into_iter().filter(|w| real.contains(w)).collect()),
        }
    }

    /// Whether this principal may see other customers' data.
    pub fn cross_tenant(&self) -> bool {
        self.holds(permissions::ADMIN_CROSS_TENANT)
    }

    /// Whether rows of `customer` are this principal's to see: its own customer, or any with
    /// cross-tenant rights.
    pub fn sees_customer(&self, customer: Uuid) -> bool {
        customer == self.customer_id() || self.cross_tenant()
    }

    /// The row looked up by id, when its customer is this principal's own (or it crosses
    /// tenants; a row of no customer, such as a system role, is everyone's). No row is a plain
    /// miss; a row of another tenant is [`AppError::Foreign`]: the same 404, but the gate
    /// records it as a refusal, since someone asked for another tenant's thing by its id.
    pub fn tenant_row<T>(&self, row: Option<T>, customer: impl Fn(&T) -> Option<Uuid>, missing: &str) -> AppResult<T> {
        match row {
            None => Err(AppError::NotFound(missing.into())),
            Some(row) => match customer(&row) {
                Some(c) if !self.sees_customer(c) => Err(AppError::Foreign(missing.into())),
                _ => Ok(row),
            },
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .ok_or_else(|| AppError::unauthenticated("unauthenticated", "Sign in first."))
    }
}

/// The user's memberships and the leaves each role grants.
pub async fn grants_of<C: ConnectionTrait>(db: &C, user: Uuid) -> AppResult<Vec<Grants>> {
    use crate::store::entities::{role_permissions, user_roles};
    let memberships = user_roles::Entity::find().filter(user_roles::Column::UserId.eq(user)).all(db).await?;
    if memberships.is_empty() {
        return Ok(Vec::new());
    }
    let role_ids: Vec<Uuid> = memberships.iter().map(|m| m.role_id).collect();
    let patterns =
        role_permissions::Entity::find().filter(role_permissions::Column::RoleId.is_in(role_ids)).all(db).await?;
    Ok(memberships
        .into_iter()
        .map(|m| {
            let mine = patterns.iter().filter(|p| p.role_id == m.role_id).map(|p| p.pattern.as_str());
            let leaves = permissions::expand(mine.collect::<Vec<_>>()).into_iter().collect();
            Grants { workspace_id: m.workspace_id, role_id: m.role_id, leaves }
        })
        .collect())
}
