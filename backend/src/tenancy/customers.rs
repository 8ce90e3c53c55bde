//! Customers (organizations): the searchable picker with recently viewed customers first,
//! detail, and creation/renaming by platform staff.

use crate::access::Actor;
use crate::http::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::entities::customers;
use sea_orm::EntityTrait;
use serde::Deserialize;
use steward_shared::api::CustomerSummary;
use uuid::Uuid;

pub fn summary(c: &customers::Model) -> CustomerSummary {
    CustomerSummary {
        id: c.id.into(),
        name: c.name.clone(),
        slug: c.slug.clone(),
        kind: c.kind.clone(),
        created_at: c.created_at,
    }
}

/// The customer, when this principal may see it; others are "not found".
pub async fn visible(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<customers::Model> {
    customers::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|c| c.id == actor.customer_id() || actor.cross_tenant())
        .ok_or_else(|| AppError::NotFound("No such customer.".into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Case-insensitive match anywhere in the name or slug.
    pub(super) search: Option<String>,
    pub(super) limit: Option<u64>,
    pub(super) cursor: Option<String>,
}

pub(super) fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for ch in name.to_lowercase().chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(100).collect()
}

pub(super) fn name_taken(field: &str) -> AppError {
    AppError::Conflict {
        code: "conflict",
        field: Some(field.into()),
        detail: format!("This {field} is already taken."),
    }
}
