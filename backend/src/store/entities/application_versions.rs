//! The `application_versions` table: every version of an application installed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "application_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub version: String,
    pub git_commit: Option<String>,
    pub digest: String,
    pub manifest: Json,
    pub files: i32,
    pub bundle_bytes: i64,
    pub errors: i32,
    pub installed_by: Option<Uuid>,
    pub installed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
