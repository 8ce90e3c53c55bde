//! Replica heartbeats: each replica upserts its row with its own figures every few seconds,
//! so whichever replica serves the System status page lists all of them and marks the ones
//! that went silent.

use chrono::{Duration as ChronoDuration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::time::Duration;
use steward_shared::ops::{ReplicaFigures, ReplicaRow};

use crate::http::error::AppResult;
use crate::state::AppState;
use crate::store::entities::replicas;

/// Replicas not heard from for a day are no longer listed.
const FORGET_AFTER_HOURS: i64 = 24;

/// Writes this replica's heartbeat row.
pub async fn beat(state: &AppState) -> AppResult<()> {
    let t = &state.telemetry;
    let (requests, errors_5xx) = t.requests.totals();
    let workers = t.workers.list();
    let figures = ReplicaFigures {
        in_flight: t.requests.in_flight(),
        requests,
        errors_5xx,
        workers: workers.len() as u32,
        workers_busy: workers.iter().filter(|w| w.state == "busy").count() as u32,
        rss_bytes: crate::telemetry::rss_bytes(),
    };
    let row = replicas::ActiveModel {
        id: Set(t.replica_id.clone()),
        host: Set(t.host.clone()),
        version: Set(env!("CARGO_PKG_VERSION").into()),
        started_at: Set(t.started_at),
        last_seen_at: Set(Utc::now()),
        figures: Set(serde_json::to_value(&figures).unwrap_or_default()),
    };
    replicas::Entity::insert(row)
        .on_conflict(
            OnConflict::column(replicas::Column::Id)
                .update_columns([replicas::Column::LastSeenAt, replicas::Column::Figures, replicas::Column::Version])
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
    Ok(())
}

/// Every replica heard from in the last day, newest heartbeat first.
pub async fn list(state: &AppState) -> AppResult<Vec<ReplicaRow>> {
    let now = Utc::now();
    let silent_after = ChronoDuration::seconds(state.config.replica_silent_secs.max(1) as i64);
    let rows = replicas::Entity::find()
        .filter(replicas::Column::LastSeenAt.gt(now - ChronoDuration::hours(FORGET_AFTER_HOURS)))
        .order_by_desc(replicas::Column::LastSeenAt)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ReplicaRow {
            silent: r.last_seen_at < now - silent_after,
            figures: serde_json::from_value(r.figures).unwrap_or_default(),
            id: r.id,
            host: r.host,
            version: r.version,
            started_at: r.started_at,
            last_seen_at: r.last_seen_at,
        })
        .collect())
}

/// Beats every `every` until the process ends.
pub fn spawn(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = beat(&state).await {
                tracing::warn!(error = %e, "writing the replica heartbeat failed");
            }
            tokio::time::sleep(every).await;
        }
    })
}
