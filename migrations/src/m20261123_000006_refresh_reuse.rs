//! Refresh credential reuse detection (RFC 9700 §4.14.2): every refresh credential a session
//! has rotated away is kept (hashed) until the session expires, so presenting a spent one is
//! recognised as reuse and ends the whole session.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000006_refresh_reuse"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("spent_refresh_credentials")
                .col(string_len("hash", 64).primary_key())
                .col(uuid("customer_id"))
                .col(uuid("session_id"))
                .col(timestamp_with_time_zone("spent_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_spent_refresh_customer_session")
                .table("spent_refresh_credentials")
                .col("customer_id")
                .col("session_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("spent_refresh_credentials").to_owned()).await
    }
}
