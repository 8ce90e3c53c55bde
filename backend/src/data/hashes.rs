//! Hash warnings (seed 004): per entity type, live records, distinct content hashes and the
//! share that differ, worst first. Read from `record_hash_stats`, which triggers keep in step
//! with every write: a few rows per customer, whatever the number of records.

use sea_orm::{EntityTrait, QueryFilter};
use std::collections::BTreeMap;
use steward_shared::data::HashWarning;

use crate::access::scope::Scope;
use crate::http::error::AppResult;
use crate::state::AppState;
use crate::store::entities::record_hash_stats;

pub async fn hash_warnings(state: &AppState, scope: &Scope) -> AppResult<Vec<HashWarning>> {
    let rows = record_hash_stats::Entity::find()
        .filter(scope.condition(record_hash_stats::Column::CustomerId))
        .all(&state.db)
        .await?;
    let mut by_type: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in rows {
        let e = by_type.entry(r.entity_type).or_default();
        e.0 += r.records.max(0) as u64;
        e.1 += r.hashes.max(0) as u64;
    }
    let mut out: Vec<HashWarning> = by_type
        .into_iter()
        .filter(|(_, (records, _))| *records > 0)
        .map(|(entity_type, (records, hashes))| HashWarning {
            entity_type,
            records,
            distinct_hashes: hashes,
            distinct_share: hashes as f64 / records as f64,
            duplicates: records.saturating_sub(hashes),
        })
        .collect();
    out.sort_by(|a, b| a.distinct_share.total_cmp(&b.distinct_share).then(b.duplicates.cmp(&a.duplicates)));
    Ok(out)
}
