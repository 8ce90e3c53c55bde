//! The `sessions` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub user_id: Uuid,
    pub refresh_hash: String,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    pub two_factor_verified: bool,
    pub admin_mode: bool,
    pub customer_scope: Option<Uuid>,
    pub impersonated_user_id: Option<Uuid>,
    pub impersonation_reason: Option<String>,
    pub impersonation_started_at: Option<DateTimeUtc>,
    pub impersonation_expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
