//! Transfer tokens (DESIGN §7a): each minted token's id, what it may export, when it expires
//! and when it was used, so a token is good once. Connector health that is measured (issue
//! 16): a connector's endpoint, the last probe's status, latency, time and error, and the last
//! run that used it; a flow may name the connector its runs use.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000013_transfer_and_health"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("transfer_tokens")
                .col(uuid("id").primary_key())
                // `None`: every application.
                .col(uuid_null("application_id"))
                .col(uuid("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .col(string_len_null("used_from", 64))
                .to_owned(),
        )
        .await?;
        for col in [
            string_len_null("endpoint", 2048),
            // The key sealed (XChaCha20-Poly1305 under a key derived from the instance secret),
            // so the health probe can send it; lists still show only its prefix.
            text_null("api_key_sealed"),
            timestamp_with_time_zone_null("health_checked_at"),
            integer_null("health_latency_ms"),
            text_null("health_error"),
            timestamp_with_time_zone_null("last_run_at"),
            string_len_null("last_run_status", 16),
        ] {
            m.alter_table(Table::alter().table("connectors").add_column(col).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("flows").add_column(uuid_null("connector_id")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("flows").drop_column("connector_id").to_owned()).await?;
        for col in [
            "endpoint",
            "api_key_sealed",
            "health_checked_at",
            "health_latency_ms",
            "health_error",
            "last_run_at",
            "last_run_status",
        ] {
            m.alter_table(Table::alter().table("connectors").drop_column(col).to_owned()).await?;
        }
        m.drop_table(Table::drop().table("transfer_tokens").to_owned()).await
    }
}
