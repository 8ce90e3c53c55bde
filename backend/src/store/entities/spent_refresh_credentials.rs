//! The `spent_refresh_credentials` table: refresh credentials a session rotated away (hashed),
//! kept until the session expires so that their reuse can be recognised.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "spent_refresh_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    pub customer_id: Uuid,
    pub session_id: Uuid,
    pub spent_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
