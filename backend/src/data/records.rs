//! Canonical records' derived fields and their data models: the content hash of the canonical
//! payload (object keys sorted at every depth, no whitespace), the normalized external key,
//! and validation against the entity type's JSON Schema.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use steward_shared::data::CanonicalRecord;

use crate::http::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::entities::{entity_types, record_links, records};

/// The payload in canonical form: keys in byte order at every depth, compact.
pub fn canonical(payload: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&map[k], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(payload, &mut out);
    out
}

/// SHA-256 of the canonical payload, hex.
pub fn content_hash(payload: &Value) -> String {
    hex::encode(Sha256::digest(canonical(payload).as_bytes()))
}

/// The external id as search and hand-picked dedup compare it.
pub fn external_key(external_id: &str) -> String {
    external_id.trim().to_lowercase()
}

/// A record as a source would send it (`id`, its tenant, type, external id, source and payload,
/// stamped `at`), with its derived fields set: what the seed, the tests and the benchmarks insert
/// directly.
pub fn new_row(
    id: uuid::Uuid,
    customer_id: uuid::Uuid,
    entity_type: &str,
    external_id: &str,
    source: &str,
    payload: Value,
    at: chrono::DateTime<chrono::Utc>,
) -> records::ActiveModel {
    let mut row = records::ActiveModel {
        id: Set(id),
        customer_id: Set(customer_id),
        entity_type: Set(entity_type.into()),
        external_id: Set(external_id.into()),
        source: Set(source.into()),
        payload: Set(payload.clone()),
        merged_into: Set(None),
        refreshed_at: Set(None),
        content_hash: Set(None),
        external_key: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    };
    derive(&mut row, &payload, external_id);
    row
}

/// Sets a record's derived fields from its payload and external id.
pub fn derive(active: &mut records::ActiveModel, payload: &Value, external_id: &str) {
    active.content_hash = Set(Some(content_hash(payload)));
    active.external_key = Set(Some(external_key(external_id)));
}

/// A record on the wire, with the number of links from and to it.
pub fn wire(r: records::Model, links: u64) -> CanonicalRecord {
    CanonicalRecord {
        id: r.id,
        customer_id: r.customer_id,
        entity_type: r.entity_type,
        external_id: r.external_id,
        source: r.source,
        payload: r.payload,
        content_hash: r.content_hash,
        merged_into: r.merged_into,
        refreshed_at: r.refreshed_at,
        updated_at: r.updated_at,
        links,
    }
}

/// The links from or to each of `ids`, counted.
pub async fn link_counts<C: ConnectionTrait>(
    conn: &C,
    ids: &[uuid::Uuid],
) -> AppResult<std::collections::HashMap<uuid::Uuid, u64>> {
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let links = record_links::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(record_links::Column::FromId.is_in(ids.to_vec()))
                .add(record_links::Column::ToId.is_in(ids.to_vec())),
        )
        .all(conn)
        .await?;
    for l in links {
        for end in [l.from_id, l.to_id] {
            if ids.contains(&end) {
                *out.entry(end).or_insert(0) += 1;
            }
        }
    }
    Ok(out)
}

/// The entity types' data models.
pub struct Models<'a>(pub &'a crate::state::ModelCache);

impl Models<'_> {
    /// Checks `payload` against the entity type's schema. An unknown entity type accepts any
    /// object. Each violation names its place in the payload (`payload/score`).
    pub async fn validate<C: ConnectionTrait>(&self, conn: &C, entity_type: &str, payload: &Value) -> AppResult<()> {
        if !payload.is_object() {
            return Err(AppError::field("payload", "must be a JSON object"));
        }
        let key = entity_type.to_owned();
        let validator = match self.0.get(&key).await {
            Some(v) => v,
            None => {
                let model = entity_types::Entity::find_by_id(key.clone()).one(conn).await?;
                let compiled = match model {
                    Some(m) => Some(jsonschema::validator_for(&m.json_schema).map_err(|e| {
                        AppError::internal(format!("entity type `{entity_type}` has an invalid schema: {e}"))
                    })?),
                    None => None,
                };
                let compiled = Arc::new(compiled);
                self.0.insert(key, compiled.clone()).await;
                compiled
            }
        };
        let Some(validator) = validator.as_ref() else { return Ok(()) };
        let mut errors: Vec<(String, String)> = validator
            .iter_errors(payload)
            .map(|e| {
                let at = e.instance_path.to_string();
                (format!("payload{at}"), e.to_string())
            })
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        errors.truncate(20);
        Err(AppError::Validation(
            errors.into_iter().map(|(field, message)| steward_shared::problem::FieldError { field, message }).collect(),
        ))
    }
}

/// Fills in the derived fields of records written before they existed (a one-off after the
/// upgrade; batches of 500, so a large table is done in steps and the server serves meanwhile).
pub async fn backfill(state: &AppState) -> AppResult<u64> {
    let mut done = 0;
    loop {
        let batch = records::Entity::find()
            .filter(records::Column::ContentHash.is_null())
            .order_by_asc(records::Column::Id)
            .limit(500)
            .all(&state.db)
            .await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let txn = crate::store::begin(&state.db).await?;
        for r in batch {
            let payload = r.payload.clone();
            let external_id = r.external_id.clone();
            let mut active: records::ActiveModel = r.into();
            derive(&mut active, &payload, &external_id);
            sea_orm::ActiveModelTrait::update(active, &txn).await?;
            done += 1;
        }
        txn.commit().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_ignores_key_order_and_whitespace_but_not_values() {
        let a = json!({"name": "Ada", "tags": [{"b": 1, "a": 2}], "score": 3});
        let b: Value = serde_json::from_str(r#"{ "score":3, "tags":[{"a":2,"b":1}], "name":"Ada" }"#).unwrap();
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_eq!(canonical(&b), r#"{"name":"Ada","score":3,"tags":[{"a":2,"b":1}]}"#);
        assert_ne!(content_hash(&a), content_hash(&json!({"name": "Ada", "tags": [{"b": 1, "a": 2}], "score": 4})));
        assert_eq!(external_key("  INV-0042 "), "inv-0042");
    }
}
