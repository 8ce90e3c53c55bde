//! Observability (DESIGN §7): replica heartbeats (each replica's own figures, so a page served
//! by one lists all), stats snapshots per hour and day (total and per customer), and an index
//! that lets log retention prune by age.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000009_observability"
    }
}

/// The figures a snapshot keeps, in column order.
pub const STAT_COLUMNS: &[&str] = &[
    "users",
    "active_users",
    "customers",
    "flows",
    "runs_succeeded",
    "runs_failed",
    "records",
    "audit_events",
    "sign_ins",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("replicas")
                .col(string_len("id", 64).primary_key())
                .col(string_len("host", 255))
                .col(string_len("version", 64))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .col(json("figures"))
                .to_owned(),
        )
        .await?;
        let mut snapshots = Table::create();
        snapshots
            .table("stat_snapshots")
            // `all` for the platform's totals, else the customer's id: one key for the upsert.
            .col(string_len("scope_key", 36))
            .col(uuid_null("customer_id"))
            .col(string_len("bucket", 8))
            .col(timestamp_with_time_zone("at"))
            .col(timestamp_with_time_zone("computed_at"));
        for c in STAT_COLUMNS {
            snapshots.col(big_integer(*c).default(0));
        }
        snapshots.primary_key(Index::create().col("scope_key").col("bucket").col("at"));
        m.create_table(snapshots.to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_stat_snapshots_customer_bucket_at")
                .table("stat_snapshots")
                .col("customer_id")
                .col("bucket")
                .col("at")
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_log_entries_at").table("log_entries").col("at").to_owned()).await?;
        // Stats count the runs that finished within an hour.
        m.create_index(
            Index::create()
                .name("ix_runs_finished_customer")
                .table("runs")
                .col("finished_at")
                .col("customer_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_runs_finished_customer").table("runs").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_log_entries_at").table("log_entries").to_owned()).await?;
        m.drop_table(Table::drop().table("stat_snapshots").to_owned()).await?;
        m.drop_table(Table::drop().table("replicas").to_owned()).await
    }
}
