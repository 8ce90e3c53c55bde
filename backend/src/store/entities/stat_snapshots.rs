//! The `stat_snapshots` table: the platform's figures per hour and per day, in total
//! (`scope_key` = `all`) and per customer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stat_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope_key: String,
    pub customer_id: Option<Uuid>,
    /// `hour` or `day`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket: String,
    /// The start of the hour or day (UTC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub at: DateTimeUtc,
    pub computed_at: DateTimeUtc,
    pub users: i64,
    pub active_users: i64,
    pub customers: i64,
    pub flows: i64,
    pub runs_succeeded: i64,
    pub runs_failed: i64,
    pub records: i64,
    pub audit_events: i64,
    pub sign_ins: i64,
    /// Written by `steward-server seed`: invented history, not a measurement.
    pub demo: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
