//! What one person did, read by actor: the audit log's `actor` filter and the impersonation
//! history (the admin's events after a view began) walk `(actor_user_id, seq)` instead of the
//! whole log.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000016_audit_actor_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_audit_actor_seq")
                .table("audit_events")
                .col("actor_user_id")
                .col("seq")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_audit_actor_seq").table("audit_events").to_owned()).await
    }
}
