//! The `records` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub entity_type: String,
    pub external_id: String,
    pub source: String,
    pub payload: Json,
    pub merged_into: Option<Uuid>,
    pub refreshed_at: Option<DateTimeUtc>,
    /// SHA-256 of the canonical payload (keys sorted), hex.
    pub content_hash: Option<String>,
    /// The external id trimmed and lower-cased.
    pub external_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
