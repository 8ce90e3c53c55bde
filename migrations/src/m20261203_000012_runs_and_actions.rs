//! Runs that do work (DESIGN §7, issue 16): each run keeps its step reports, the step and
//! record it failed on, when a retry may start (`not_before`, the backoff), and whether an
//! operator asked to cancel it. Platform actions are commands in the database that every
//! replica carries out and acknowledges, so an action reaches every replica on one database.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000012_runs_and_actions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            json_null("steps"),
            integer_null("failed_step"),
            uuid_null("failed_record"),
            timestamp_with_time_zone_null("not_before"),
            boolean("cancel_requested").default(false).to_owned(),
        ] {
            m.alter_table(Table::alter().table("runs").add_column(col).to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table("platform_commands")
                .col(uuid("id").primary_key())
                .col(string_len("action", 64))
                .col(json("params"))
                .col(uuid("requested_by"))
                .col(timestamp_with_time_zone("requested_at"))
                // What the requesting replica did in the request itself (purges), as JSON.
                .col(json_null("outcome"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_platform_commands_requested")
                .table("platform_commands")
                .col("requested_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("platform_command_acks")
                .col(uuid("command_id"))
                .col(string_len("replica_id", 64))
                .col(timestamp_with_time_zone("acked_at"))
                .col(string_len("status", 16))
                .col(text("detail"))
                .primary_key(Index::create().col("command_id").col("replica_id"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_platform_commands_requested").table("platform_commands").to_owned())
            .await?;
        for t in ["platform_command_acks", "platform_commands"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        for col in ["steps", "failed_step", "failed_record", "not_before", "cancel_requested"] {
            m.alter_table(Table::alter().table("runs").drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
