//! Platform actions (DESIGN §7, seed 004 "Actions"): restart the worker pool, reload the
//! applications, purge a tenant's demo data, delete all public objects. Each is a command row
//! in the database; every replica polls for commands requested since it started, carries out
//! its own part (restart its pool, reload its packages and caches) and writes an
//! acknowledgement, so the page shows which replicas did it. The database work of a purge is
//! done once, by the replica that took the request, in batches (a million records do not hold
//! one transaction), and its outcome is written on the command.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use steward_shared::api::Page;
use steward_shared::ops::{CommandAck, CommandRow, RequestAction};
use uuid::Uuid;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::http::error::{AppError, AppResult};
use crate::http::pagination::{self, Cursor};
use crate::http::request_meta::RequestMeta;
use crate::ops::worker::Pool;
use crate::state::AppState;
use crate::store::entities::{customers, platform_command_acks, platform_commands, replicas, users};

/// The actions, with what must be typed to confirm each (`None`: the customer's name).
/// The third is the audit action.
pub const ACTIONS: &[(&str, Option<&str>, &str)] = &[
    ("restart_workers", Some("restart workers"), "platform.restart_workers"),
    ("reload_applications", Some("reload applications"), "platform.reload_applications"),
    ("purge_demo_data", None, "platform.purge_demo_data"),
    ("delete_public_objects", Some("delete all public objects"), "platform.delete_public_objects"),
];

/// The tenants' operational data a purge deletes, children first. Customers, users, roles,
/// workspaces and the audit log stay.
const PUBLIC_TABLES: &[&str] = &["runs", "flows", "connectors", "record_links", "record_merges", "records"];

/// Rows deleted per statement.
const PURGE_BATCH: u64 = 2_000;

/// Records the action (with its audit event) and, for a purge, starts the database work on
/// this replica. Every replica then carries out its part within its poll interval.
pub async fn request(
    state: &AppState,
    actor: &Actor,
    meta: &RequestMeta,
    body: RequestAction,
) -> AppResult<CommandRow> {
    let Some((action, phrase, audit_action)) = ACTIONS.iter().find(|(a, _, _)| *a == body.action) else {
        return Err(AppError::field(
            "action",
            format!("must be one of {}", steward_shared::rules::PLATFORM_ACTIONS.join(", ")),
        ));
    };
    let mut params = json!({});
    let customer = match (*action, body.customer_id) {
        ("purge_demo_data", None) => return Err(AppError::field("customer_id", "name the tenant whose data to purge")),
        ("purge_demo_data", Some(id)) => Some(
            customers::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::unknown("customer_id", "is not a customer"))?,
        ),
        (_, Some(_)) => return Err(AppError::field("customer_id", "only `purge_demo_data` takes a customer")),
        _ => None,
    };
    let expected = match (phrase, &customer) {
        (Some(p), _) => p.to_string(),
        (None, Some(c)) => c.name.clone(),
        (None, None) => unreachable!("purge has a customer"),
    };
    if body.confirm.trim() != expected {
        let what = if phrase.is_some() { format!("`{expected}`") } else { "the customer's name".into() };
        return Err(AppError::unconfirmed(format!("type {what} to confirm")));
    }
    if let Some(c) = &customer {
        params = json!({ "customer_id": c.id, "customer_name": c.name });
    }
    let purges = matches!(*action, "purge_demo_data" | "delete_public_objects");
    let now = Utc::now();
    let txn = crate::store::begin(&state.db).await?;
    let command = platform_commands::ActiveModel {
        id: Set(Uuid::now_v7()),
        action: Set(action.to_string()),
        params: Set(params.clone()),
        requested_by: Set(actor.user_id()),
        requested_at: Set(now),
        outcome: Set(purges.then(|| json!({ "status": "running", "by": state.telemetry.replica_id }))),
    }
    .insert(&txn)
    .await?;
    let event = Event::new(audit_action, "success")
        .by(actor)
        .target("platform_command", command.id)
        .summary(json!({ "params": params }));
    audit::append(&txn, meta, Event { customer_id: customer.as_ref().map(|c| c.id), ..event }).await?;
    txn.commit().await?;
    let mut line = crate::store::logs::LogLine::new(
        "platform",
        "action",
        "warn",
        format!(
            "platform action {action} requested{}",
            customer.as_ref().map(|c| format!(" for {}", c.name)).unwrap_or_default()
        ),
    );
    line.user_id = Some(actor.user_id());
    line.customer_id = customer.as_ref().map(|c| c.id);
    line.request_id = meta.request_id.clone();
    line.fields = json!({ "command_id": command.id, "action": action });
    state.logs.emit(line);
    if purges {
        let (state, id, only) = (state.clone(), command.id, customer.map(|c| c.id));
        tokio::spawn(async move {
            let outcome = match purge(&state, only).await {
                Ok(deleted) => json!({ "status": "done", "deleted": deleted }),
                Err(e) => json!({ "status": "failed", "error": e.to_string() }),
            };
            let written = platform_commands::Entity::update_many()
                .col_expr(platform_commands::Column::Outcome, sea_orm::sea_query::Expr::value(outcome.clone()))
                .filter(platform_commands::Column::Id.eq(id))
                .exec(&state.db)
                .await;
            if let Err(e) = written {
                tracing::warn!(command = %id, error = %e, "recording a purge's outcome failed");
            }
            tracing::info!(target: "steward::platform", kind = "action", command = %id, outcome = %outcome, "purge finished");
        });
    }
    get(state, command.id).await
}

/// Deletes the tenants' operational data (one customer's, or everyone's), in batches; returns
/// the rows deleted per table.
pub async fn purge(state: &AppState, customer: Option<Uuid>) -> AppResult<BTreeMap<String, u64>> {
    let backend = state.db.get_database_backend();
    let mut deleted = BTreeMap::new();
    for table in PUBLIC_TABLES {
        let mut n = 0;
        loop {
            let (filter, values): (&str, Vec<sea_orm::Value>) = match customer {
                Some(c) => ("WHERE customer_id = $1", vec![c.into()]),
                None => ("", vec![]),
            };
            let sql = format!("DELETE FROM {table} WHERE id IN (SELECT id FROM {table} {filter} LIMIT {PURGE_BATCH})");
            let txn = crate::store::begin(&state.db).await?;
            let res = txn.execute_raw(crate::store::statement(backend, &sql, values)).await?;
            if let Some(c) = customer {
                crate::tenancy::dashboard::bump_epoch(&txn, c).await?;
            }
            txn.commit().await?;
            n += res.rows_affected();
            if res.rows_affected() < PURGE_BATCH {
                break;
            }
        }
        crate::store::after_bulk_write(&state.db, table, n).await;
        deleted.insert(table.to_string(), n);
    }
    if customer.is_none() {
        let ids: Vec<Uuid> =
            customers::Entity::find().select_only().column(customers::Column::Id).into_tuple().all(&state.db).await?;
        for c in ids {
            crate::tenancy::dashboard::bump_epoch(&state.db, c).await?;
        }
    }
    Ok(deleted)
}

/// Carries out, on this replica, the commands requested since it started that it has not
/// acknowledged; returns how many.
pub async fn carry_out(state: &AppState, pool: Option<&Pool>) -> AppResult<usize> {
    let me = state.telemetry.replica_id.clone();
    let done: Vec<Uuid> = platform_command_acks::Entity::find()
        .select_only()
        .column(platform_command_acks::Column::CommandId)
        .filter(platform_command_acks::Column::ReplicaId.eq(me.clone()))
        .filter(platform_command_acks::Column::AckedAt.gte(state.telemetry.started_at))
        .into_tuple()
        .all(&state.db)
        .await?;
    let pending = platform_commands::Entity::find()
        .filter(platform_commands::Column::RequestedAt.gte(state.telemetry.started_at))
        .filter(platform_commands::Column::Id.is_not_in(done))
        .order_by_asc(platform_commands::Column::RequestedAt)
        .limit(20)
        .all(&state.db)
        .await?;
    let mut n = 0;
    for command in pending {
        let (status, detail) = match carry_out_one(state, pool, &command).await {
            Ok(detail) => ("done", detail),
            Err(e) => ("failed", e.to_string()),
        };
        let ack = platform_command_acks::ActiveModel {
            command_id: Set(command.id),
            replica_id: Set(me.clone()),
            acked_at: Set(Utc::now()),
            status: Set(status.into()),
            detail: Set(detail.clone()),
        };
        platform_command_acks::Entity::insert(ack)
            .on_conflict(
                OnConflict::columns([
                    platform_command_acks::Column::CommandId,
                    platform_command_acks::Column::ReplicaId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&state.db)
            .await?;
        tracing::info!(
            target: "steward::platform",
            kind = "action",
            command = %command.id,
            action = %command.action,
            status,
            "{} on this replica: {detail}",
            command.action
        );
        n += 1;
    }
    Ok(n)
}

async fn carry_out_one(state: &AppState, pool: Option<&Pool>, command: &platform_commands::Model) -> AppResult<String> {
    Ok(match command.action.as_str() {
        "restart_workers" => match pool {
            Some(pool) => {
                let r = pool.restart().await;
                format!(
                    "restarted {} workers (generation {}); {} runs in flight finished first, in {} ms",
                    r.workers, r.generation, r.finished_in_flight, r.waited_ms
                )
            }
            None => "this replica runs no workers".into(),
        },
        "reload_applications" => {
            state.models.invalidate_all();
            let unpacked = crate::apps::install::ensure_packages(state).await?;
            format!("data models reloaded; {unpacked} packages unpacked")
        }
        // The database work is done once (see `request`); each replica drops what it cached.
        "purge_demo_data" | "delete_public_objects" => {
            state.models.invalidate_all();
            "caches dropped".into()
        }
        other => return Err(AppError::internal(format!("unknown platform action `{other}`"))),
    })
}

/// Polls for commands every second until the process ends.
pub fn spawn(state: AppState, pool: Arc<Pool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = carry_out(&state, Some(&pool)).await {
                tracing::warn!(error = %e, "carrying out platform actions failed");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommandQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The actions, newest first, each with its acknowledgements.
pub async fn list(state: &AppState, q: CommandQuery) -> AppResult<Page<CommandRow>> {
    let limit = pagination::limit(q.limit)?;
    let mut query = platform_commands::Entity::find();
    if let Some(raw) = &q.cursor {
        query = query.filter(platform_commands::Column::Id.lt(Cursor::decode(raw)?.id));
    }
    let rows = query.order_by_desc(platform_commands::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next_cursor) = pagination::finish(rows, limit, |c| Cursor { key: None, id: c.id });
    Ok(Page { items: rows_with_acks(state, rows).await?, next_cursor })
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<CommandRow> {
    let row = platform_commands::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("No such platform action.".into()))?;
    rows_with_acks(state, vec![row]).await?.pop().ok_or_else(|| AppError::internal("command vanished"))
}

async fn rows_with_acks(state: &AppState, rows: Vec<platform_commands::Model>) -> AppResult<Vec<CommandRow>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let acks = platform_command_acks::Entity::find()
        .filter(platform_command_acks::Column::CommandId.is_in(ids))
        .order_by_asc(platform_command_acks::Column::AckedAt)
        .all(&state.db)
        .await?;
    let people: HashMap<Uuid, String> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Email)
        .filter(users::Column::Id.is_in(rows.iter().map(|r| r.requested_by).collect::<Vec<_>>()))
        .into_tuple::<(Uuid, String)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let silent_after = chrono::Duration::seconds(state.config.replica_silent_secs.max(1) as i64);
    let alive: Vec<replicas::Model> = replicas::Entity::find()
        .filter(replicas::Column::LastSeenAt.gt(Utc::now() - silent_after))
        .all(&state.db)
        .await?;
    let hosts: HashMap<String, String> = alive.iter().map(|r| (r.id.clone(), r.host.clone())).collect();
    let mut by_command: HashMap<Uuid, Vec<CommandAck>> = HashMap::new();
    for a in acks {
        by_command.entry(a.command_id).or_default().push(CommandAck {
            host: hosts.get(&a.replica_id).cloned(),
            replica_id: a.replica_id,
            acked_at: a.acked_at,
            status: a.status,
            detail: a.detail,
        });
    }
    Ok(rows
        .into_iter()
        .map(|c| {
            let acks = by_command.remove(&c.id).unwrap_or_default();
            let waiting_for = alive
                .iter()
                .filter(|r| r.started_at <= c.requested_at && !acks.iter().any(|a| a.replica_id == r.id))
                .map(|r| r.id.clone())
                .collect();
            CommandRow {
                requested_by_email: people.get(&c.requested_by).cloned(),
                id: c.id,
                action: c.action,
                params: c.params,
                requested_by: c.requested_by,
                requested_at: c.requested_at,
                outcome: c.outcome.filter(|v: &Value| !v.is_null()),
                acks,
                waiting_for,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_spec_lists_the_actions_there_are() {
        let names: Vec<&str> = super::ACTIONS.iter().map(|(name, _, _)| *name).collect();
        assert_eq!(names, steward_shared::rules::PLATFORM_ACTIONS);
    }
}
