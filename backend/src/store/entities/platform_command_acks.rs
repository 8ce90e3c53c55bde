//! The `platform_command_acks` table: one row per command and replica that carried it out.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_command_acks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub command_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub replica_id: String,
    pub acked_at: DateTimeUtc,
    /// `done` or `failed`.
    pub status: String,
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
