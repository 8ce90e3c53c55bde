//! The `connectors` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "connectors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub kind: String,
    pub health: String,
    pub api_key_prefix: String,
    pub api_key_hash: String,
    pub key_rotated_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Where the connector's service answers (its kind's health probe is requested here).
    pub endpoint: Option<String>,
    /// The API key sealed with the instance's connector-key cipher (`secrets::seal`).
    pub api_key_sealed: Option<String>,
    pub health_checked_at: Option<DateTimeUtc>,
    pub health_latency_ms: Option<i32>,
    pub health_error: Option<String>,
    pub last_run_at: Option<DateTimeUtc>,
    pub last_run_status: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
