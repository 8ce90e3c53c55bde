//! The `flows` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "flows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub status: String,
    pub state: String,
    pub schedule: Option<String>,
    pub next_run_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub application_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub definition: Option<Json>,
    /// The connector its runs use (they record their outcome on it).
    pub connector_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
