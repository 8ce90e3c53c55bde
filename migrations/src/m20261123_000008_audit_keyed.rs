//! The audit chain becomes keyed: each event records the id of the HMAC key it was chained
//! with (events written before stay unkeyed and verify as plain SHA-256, only before the first
//! keyed one), and signed checkpoints of the chain's sequence and head are kept beside it.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000008_audit_keyed"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("audit_events").add_column(string_len_null("key_id", 40)).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("audit_checkpoints")
                .col(big_integer("seq").primary_key())
                .col(string_len("head_hash", 64))
                .col(string_len("key_id", 40))
                .col(string_len("signature", 64))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_checkpoints").to_owned()).await?;
        m.alter_table(Table::alter().table("audit_events").drop_column("key_id").to_owned()).await
    }
}
