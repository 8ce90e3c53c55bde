//! The `runs` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub flow_id: Uuid,
    pub status: String,
    pub trigger: String,
    pub triggered_by: Option<Uuid>,
    pub queued_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub duration_ms: Option<i64>,
    pub worker_id: Option<String>,
    pub attempt: i32,
    pub error: Option<String>,
    /// The step reports (`steward_shared::api::StepReport`), in order.
    pub steps: Option<Json>,
    /// The index of the step the run failed on.
    pub failed_step: Option<i32>,
    /// The record it failed on.
    pub failed_record: Option<Uuid>,
    /// A retry waits for its backoff: no worker claims the run before this.
    pub not_before: Option<DateTimeUtc>,
    pub cancel_requested: bool,
    /// Written by `steward-server seed`: a run that never ran.
    pub demo: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
