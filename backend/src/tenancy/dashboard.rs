//! Dashboard KPIs for the current scope, served from an in-process cache. `POST
//! /api/cache/refresh` rebuilds one customer's entry; it bumps that customer's epoch in the
//! database, and every replica's cache keys include the epochs it reads, so a refresh on one
//! replica invalidates the others on their next request.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;
use std::sync::atomic::Ordering;
use steward_shared::api::Kpis;
use uuid::Uuid;

use crate::access::scope::Scope;
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::request_meta::RequestMeta;
use crate::state::AppState;
use crate::store::entities::{cache_epochs, customers, flows, records, runs, users};

/// The epoch part of a cache key: the customer's epoch, or the sum of all for `all`.
/// (Summed in Rust: SUM's type differs between SQLite and PostgreSQL.)
pub(super) async fn epoch<C: ConnectionTrait>(conn: &C, scope: &Scope) -> AppResult<i64> {
    let mut q = cache_epochs::Entity::find();
    if let Some(c) = scope.customer_id() {
        q = q.filter(cache_epochs::Column::CustomerId.eq(c));
    }
    Ok(q.all(conn).await?.iter().map(|e| e.epoch).sum())
}

pub(super) async fn compute<C: ConnectionTrait>(conn: &C, scope: &Scope) -> AppResult<Kpis> {
    let since = Utc::now() - chrono::Duration::hours(24);
    let customers = match scope.customer_id() {
        Some(_) => 1,
        None => customers::Entity::find().count(conn).await?,
    };
    let users = users::Entity::find()
        .filter(scope.condition(users::Column::CustomerId))
        .filter(users::Column::ErasedAt.is_null())
        .count(conn)
        .await?;
    let active_users = users::Entity::find()
        .filter(scope.condition(users::Column::CustomerId))
        .filter(users::Column::Status.eq("active"))
        .filter(users::Column::ErasedAt.is_null())
        .count(conn)
        .await?;
    let flows_total = flows::Entity::find().filter(scope.condition(flows::Column::CustomerId)).count(conn).await?;
    let active_flows = flows::Entity::find()
        .filter(scope.condition(flows::Column::CustomerId))
        .filter(flows::Column::State.eq("active"))
        .filter(flows::Column::Status.eq("published"))
        .count(conn)
        .await?;
    let runs_24h = runs::Entity::find()
        .filter(scope.condition(runs::Column::CustomerId))
        .filter(runs::Column::QueuedAt.gte(since))
        .count(conn)
        .await?;
    let finished = runs::Entity::find()
        .filter(scope.condition(runs::Column::CustomerId))
        .filter(runs::Column::QueuedAt.gte(since))
        .filter(runs::Column::Status.is_in(["succeeded", "failed"]))
        .count(conn)
        .await?;
    let failed_24h = runs::Entity::find()
        .filter(scope.condition(runs::Column::CustomerId))
        .filter(runs::Column::QueuedAt.gte(since))
        .filter(runs::Column::Status.eq("failed"))
        .count(conn)
        .await?;
    let records = records::Entity::find().filter(scope.condition(records::Column::CustomerId)).count(conn).await?;
    Ok(Kpis {
        scope: scope.info(),
        customers,
        users,
        active_users,
        flows: flows_total,
        active_flows,
        runs_24h,
        failed_24h,
        failure_rate: if finished == 0 { 0.0 } else { failed_24h as f64 / finished as f64 },
        records,
        computed_at: Utc::now(),
        cached: false,
    })
}

/// The KPIs of a scope, from the cache when its epoch has not moved.
pub async fn kpis(state: &AppState, scope: &Scope) -> AppResult<Kpis> {
    let key = format!("{}@{}", scope.key(), epoch(&state.db, scope).await?);
    if let Some(mut hit) = state.kpis.cache.get(&key).await {
        state.kpis.hits.fetch_add(1, Ordering::Relaxed);
        hit.cached = true;
        return Ok(hit);
    }
    state.kpis.misses.fetch_add(1, Ordering::Relaxed);
    let fresh = compute(&state.db, scope).await?;
    state.kpis.cache.insert(key, fresh.clone()).await;
    Ok(fresh)
}

/// Moves a customer's epoch on, so every replica's cached entries for it (and for `all`) miss.
pub async fn bump(state: &AppState, customer: Uuid, actor: &Actor, meta: &RequestMeta) -> AppResult<()> {
    let txn = crate::store::begin(&state.db).await?;
    bump_epoch(&txn, customer).await?;
    let event = Event::new("cache.refresh", "success")
        .by(actor)
        .target("customer", customer)
        .summary(json!({ "caches": ["kpis"] }));
    audit::append(&txn, meta, Event { customer_id: Some(customer), ..event }).await?;
    txn.commit().await?;
    Ok(())
}

/// The epoch move alone, inside the caller's transaction (a data op that changes what the
/// caches hold invalidates them with its own write).
pub async fn bump_epoch<C: ConnectionTrait>(conn: &C, customer: Uuid) -> AppResult<()> {
    cache_epochs::Entity::insert(cache_epochs::ActiveModel {
        customer_id: Set(customer),
        epoch: Set(1),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(cache_epochs::Column::CustomerId)
            .value(cache_epochs::Column::Epoch, Expr::col((cache_epochs::Entity, cache_epochs::Column::Epoch)).add(1))
            .update_column(cache_epochs::Column::UpdatedAt)
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Dashboard KPIs for the current scope.
pub async fn get_dashboard(state: &AppState, scope: &Scope) -> AppResult<Kpis> {
    kpis(state, scope).await
}

/// Rebuild the KPI cache of the customer in scope (refused under "all customers").
pub async fn refresh_cache(state: &AppState, actor: &Actor, meta: &RequestMeta, scope: &Scope) -> AppResult<Kpis> {
    let Some(customer) = scope.customer_id() else {
        return Err(AppError::Conflict {
            code: "customer_scope_required",
            field: None,
            detail: "Refresh rebuilds one customer's caches, and the scope is all customers: pick a customer first."
                .into(),
        });
    };
    bump(state, customer, actor, meta).await?;
    kpis(state, scope).await
}
