//! Customers (organizations): the searchable picker with recently viewed customers first,
//! detail, and creation/renaming by platform staff.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use steward_shared::api::{
    CreateCustomer, CustomerDetail, CustomerOverview, CustomerSummary, Page, Rename, WorkspaceRef,
};
use steward_shared::rules;
use uuid::Uuid;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult, Validator};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{audit_events, customer_views, customers, flows, users, workspaces};

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
    actor.tenant_row(customers::Entity::find_by_id(id).one(&state.db).await?, |c| Some(c.id), "No such customer.")
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Case-insensitive match anywhere in the name or slug.
    pub search: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
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
    let slug: String = slug.trim_end_matches('-').chars().take(rules::SLUG_MAX).collect();
    if slug.is_empty() {
        // A name with no ASCII letter or digit ("Ünïcødé" or "株式会社") still gets a slug.
        format!("customer-{}", &Uuid::new_v4().simple().to_string()[..8])
    } else {
        slug
    }
}

pub(super) fn name_taken(field: &str) -> AppError {
    AppError::Conflict {
        code: "conflict",
        field: Some(field.into()),
        detail: format!("This {field} is already taken."),
    }
}

/// The customers this principal may see (principals without `steward.admin.cross_tenant`: only
/// their own), matching `search` in the name or slug, case-insensitively.
fn matching(actor: &Actor, search: Option<&str>) -> AppResult<sea_orm::Select<customers::Entity>> {
    let search = search.map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(AppError::field("search", "must be at most 100 characters"));
    }
    let mut base = customers::Entity::find();
    if !actor.cross_tenant() {
        base = base.filter(customers::Column::Id.eq(actor.customer_id()));
    }
    if let Some(s) = &search {
        let pattern = crate::http::pagination::contains_pattern(s);
        base = base.filter(
            Expr::expr(Func::lower(Expr::col(customers::Column::Name)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
                .or(Expr::col(customers::Column::Slug).like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\'))),
        );
    }
    Ok(base)
}

/// One page of `base` by name (keyset on name and id), and the cursor of the next.
async fn page_by_name(
    state: &AppState,
    base: sea_orm::Select<customers::Entity>,
    limit: u64,
    cursor: Option<&str>,
) -> AppResult<(Vec<customers::Model>, Option<String>)> {
    let mut page = base.order_by_asc(customers::Column::Name).order_by_asc(customers::Column::Id).limit(limit + 1);
    if let Some(raw) = cursor {
        let c = Cursor::decode(raw)?;
        let name = c.key.ok_or_else(pagination::foreign_cursor)?;
        page = page.filter(pagination::after(
            Expr::col(customers::Column::Name),
            Expr::col(customers::Column::Id),
            name,
            c.id,
            false,
        ));
    }
    let rows = page.all(&state.db).await?;
    Ok(pagination::finish(rows, limit, |c| Cursor { key: Some(c.name.clone()), id: c.id }))
}

/// The customer picker: every customer matching `search`, by name.
///
/// Principals without `steward.admin.cross_tenant` see only their own customer.
pub async fn list_customers(state: &AppState, actor: &Actor, q: ListQuery) -> AppResult<Page<CustomerSummary>> {
    let limit = pagination::limit(q.limit)?;
    let base = matching(actor, q.search.as_deref())?;
    let (rows, next_cursor) = page_by_name(state, base, limit, q.cursor.as_deref()).await?;
    Ok(Page { items: rows.iter().map(summary).collect(), next_cursor })
}

/// The customers you looked at last, newest first: at most five, one page.
pub async fn recent_customers(state: &AppState, actor: &Actor) -> AppResult<Page<CustomerSummary>> {
    let viewed: Vec<Uuid> = customer_views::Entity::find()
        .select_only()
        .column(customer_views::Column::CustomerId)
        .filter(customer_views::Column::UserId.eq(actor.user_id()))
        .order_by_desc(customer_views::Column::ViewedAt)
        .limit(5)
        .into_tuple()
        .all(&state.db)
        .await?;
    let rows = matching(actor, None)?.filter(customers::Column::Id.is_in(viewed.clone())).all(&state.db).await?;
    let items = viewed.iter().filter_map(|id| rows.iter().find(|c| c.id == *id)).map(summary).collect();
    Ok(Page::whole(items))
}

/// Per customer of `ids`: how many rows of `E` it owns (by its `customer_id` column).
async fn count_by_customer<E: EntityTrait>(
    state: &AppState,
    column: E::Column,
    ids: &[Uuid],
    filter: Option<sea_orm::Condition>,
) -> AppResult<HashMap<Uuid, u64>> {
    let mut q = E::find()
        .select_only()
        .column(column)
        .column_as(Expr::col(column).count(), "n")
        .filter(column.is_in(ids.iter().copied()))
        .group_by(column);
    if let Some(f) = filter {
        q = q.filter(f);
    }
    let rows: Vec<(Uuid, i64)> = q.into_tuple().all(&state.db).await?;
    Ok(rows.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))).collect())
}

/// The Customers page: a page of customers by name, each with its workspaces, users (not
/// erased) and flows counted, and when its audit trail last moved. The counts are grouped
/// queries over the page's ids (indexes lead with `customer_id`); the last activity is each
/// customer's newest audit event, read from the end of `(customer_id, occurred_at)`.
pub async fn customer_overview(state: &AppState, actor: &Actor, q: ListQuery) -> AppResult<Page<CustomerOverview>> {
    let limit = pagination::limit(q.limit)?;
    let base = matching(actor, q.search.as_deref())?;
    let (rows, next_cursor) = page_by_name(state, base, limit, q.cursor.as_deref()).await?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let workspaces_n =
        count_by_customer::<workspaces::Entity>(state, workspaces::Column::CustomerId, &ids, None).await?;
    let live = sea_orm::Condition::all().add(users::Column::ErasedAt.is_null());
    let users_n = count_by_customer::<users::Entity>(state, users::Column::CustomerId, &ids, Some(live)).await?;
    let flows_n = count_by_customer::<flows::Entity>(state, flows::Column::CustomerId, &ids, None).await?;
    let last = futures::future::try_join_all(ids.iter().map(|id| {
        audit_events::Entity::find()
            .select_only()
            .column(audit_events::Column::OccurredAt)
            .filter(audit_events::Column::CustomerId.eq(*id))
            .order_by_desc(audit_events::Column::OccurredAt)
            .limit(1)
            .into_tuple::<chrono::DateTime<Utc>>()
            .one(&state.db)
    }))
    .await?;
    let items = rows
        .iter()
        .zip(last)
        .map(|(c, last_activity_at)| CustomerOverview {
            customer: summary(c),
            workspaces: workspaces_n.get(&c.id).copied().unwrap_or(0),
            users: users_n.get(&c.id).copied().unwrap_or(0),
            flows: flows_n.get(&c.id).copied().unwrap_or(0),
            last_activity_at,
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Remember that you looked at this customer (floats it to the top of your picker).
pub async fn record_customer_view(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<()> {
    let customer = visible(state, actor, id).await?;
    customer_views::Entity::insert(customer_views::ActiveModel {
        user_id: Set(actor.user_id()),
        customer_id: Set(customer.id),
        viewed_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([customer_views::Column::UserId, customer_views::Column::CustomerId])
            .update_column(customer_views::Column::ViewedAt)
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(())
}

/// One customer, with its workspaces and user count.
pub async fn get_customer(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<CustomerDetail> {
    let customer = visible(state, actor, id).await?;
    let ws = workspaces::Entity::find()
        .filter(workspaces::Column::CustomerId.eq(customer.id))
        .order_by_asc(workspaces::Column::Name)
        .all(&state.db)
        .await?;
    let users = users::Entity::find().filter(users::Column::CustomerId.eq(customer.id)).count(&state.db).await?;
    Ok(CustomerDetail {
        customer: summary(&customer),
        workspaces: ws.into_iter().map(|w| WorkspaceRef { id: w.id.into(), name: w.name }).collect(),
        users,
    })
}

/// Rename a customer.
pub async fn rename_customer(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    body: Rename,
) -> AppResult<CustomerSummary> {
    let customer = visible(state, actor, id).await?;
    let mut v = Validator::new();
    let name = v.text("name", &body.name, rules::NAME);
    v.finish()?;
    let txn = crate::store::begin(&state.db).await?;
    if customers::Entity::find()
        .filter(customers::Column::Name.eq(name.clone()))
        .filter(customers::Column::Id.ne(customer.id))
        .count(&txn)
        .await?
        > 0
    {
        return Err(name_taken("name"));
    }
    let mut active: customers::ActiveModel = customer.clone().into();
    active.name = Set(name.clone());
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await?;
    let event = Event::new("customer.rename", "success")
        .by(actor)
        .target("customer", customer.id)
        .summary(json!({ "before": { "name": customer.name }, "after": { "name": name } }));
    audit::append(&txn, meta, Event { customer_id: Some(customer.id), ..event }).await?;
    txn.commit().await?;
    Ok(summary(&updated))
}

/// Create a workspace in a customer.
pub async fn create_workspace(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    body: Rename,
) -> AppResult<WorkspaceRef> {
    let customer = visible(state, actor, id).await?;
    let mut v = Validator::new();
    let name = v.text("name", &body.name, rules::NAME);
    v.finish()?;
    let txn = crate::store::begin(&state.db).await?;
    let ws =
        crate::tenancy::workspaces::insert(&txn, customer.id, name).await.map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => name_taken("name"),
            other => other,
        })?;
    let event = Event::new("workspace.create", "success")
        .by(actor)
        .target("workspace", ws.id)
        .summary(json!({ "after": { "name": ws.name } }));
    audit::append(&txn, meta, Event { customer_id: Some(customer.id), ..event }).await?;
    txn.commit().await?;
    Ok(WorkspaceRef { id: ws.id.into(), name: ws.name })
}

/// Rename a workspace.
pub async fn rename_workspace(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    id: Uuid,
    body: Rename,
) -> AppResult<WorkspaceRef> {
    let ws = crate::access::workspaces::visible(&state.db, actor, id).await?;
    actor.require_in(ws.id)?;
    let mut v = Validator::new();
    let name = v.text("name", &body.name, rules::NAME);
    v.finish()?;
    let txn = crate::store::begin(&state.db).await?;
    let mut active: workspaces::ActiveModel = ws.clone().into();
    active.name = Set(name.clone());
    active.updated_at = Set(Utc::now());
    active.update(&txn).await.map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => name_taken("name"),
        other => other,
    })?;
    let event = Event::new("workspace.rename", "success")
        .by(actor)
        .target("workspace", ws.id)
        .summary(json!({ "before": { "name": ws.name }, "after": { "name": name } }));
    audit::append(&txn, meta, Event { customer_id: Some(ws.customer_id), ..event }).await?;
    txn.commit().await?;
    Ok(WorkspaceRef { id: ws.id.into(), name })
}

/// Create a tenant customer with its first workspace (platform staff with cross-tenant rights).
pub async fn create_customer(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: CreateCustomer,
) -> AppResult<CustomerDetail> {
    if !actor.cross_tenant() {
        return Err(AppError::Forbidden {
            code: "cross_tenant_denied",
            detail: "Creating customers needs `steward.admin.cross_tenant`.".into(),
        });
    }
    let mut v = Validator::new();
    let name = v.text("name", &body.name, rules::NAME);
    let slug = match body.slug {
        Some(slug) => {
            if let Some(why) = rules::refuse_slug(&slug) {
                v.error("slug", why);
            }
            slug
        }
        None => slugify(&name),
    };
    let ws_name = v.text("workspace_name", body.workspace_name.as_deref().unwrap_or("Main"), rules::NAME);
    v.finish()?;
    let now = Utc::now();
    let txn = crate::store::begin(&state.db).await?;
    if customers::Entity::find().filter(customers::Column::Name.eq(name.clone())).count(&txn).await? > 0 {
        return Err(name_taken("name"));
    }
    let customer = customers::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        slug: Set(slug),
        kind: Set("tenant".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict { field, .. } => name_taken(field.as_deref().unwrap_or("slug")),
        other => other,
    })?;
    let ws = crate::tenancy::workspaces::insert(&txn, customer.id, ws_name).await?;
    let event = Event::new("customer.create", "success")
        .by(actor)
        .target("customer", customer.id)
        .summary(json!({ "after": { "name": customer.name, "slug": customer.slug, "workspace": ws.name } }));
    audit::append(&txn, meta, Event { customer_id: Some(customer.id), ..event }).await?;
    txn.commit().await?;
    Ok(CustomerDetail {
        customer: summary(&customer),
        workspaces: vec![WorkspaceRef { id: ws.id.into(), name: ws.name }],
        users: 0,
    })
}
