//! Tenancy at work: the customers an admin viewed recently (for the picker), the cache epochs
//! that invalidate KPI caches across replicas, and the keyset indexes of the tenants' lists
//! (each leading with `customer_id`).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000003_tenancy"
    }
}

const INDEXES: &[(&str, &str, &[&str])] = &[
    ("flows", "ix_flows_customer_id", &["customer_id", "id"]),
    ("flows", "ix_flows_customer_name", &["customer_id", "name", "id"]),
    ("flows", "ix_flows_due", &["state", "next_run_at"]),
    ("runs", "ix_runs_customer_id", &["customer_id", "id"]),
    ("runs", "ix_runs_customer_status", &["customer_id", "status", "id"]),
    ("connectors", "ix_connectors_customer_id", &["customer_id", "id"]),
    ("records", "ix_records_customer_id", &["customer_id", "id"]),
    ("records", "ix_records_customer_type", &["customer_id", "entity_type", "id"]),
    ("customers", "ix_customers_name_id", &["name", "id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("customer_views")
                .col(uuid("user_id"))
                .col(uuid("customer_id"))
                .col(timestamp_with_time_zone("viewed_at"))
                .primary_key(Index::create().col("user_id").col("customer_id"))
                .foreign_key(ForeignKey::create().from("customer_views", "user_id").to("users", "id"))
                .foreign_key(ForeignKey::create().from("customer_views", "customer_id").to("customers", "id"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_customer_views_user_time")
                .table("customer_views")
                .col("user_id")
                .col("viewed_at")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("cache_epochs")
                // One row per customer whose caches were rebuilt; bumped by Refresh on any replica.
                .col(uuid("customer_id").primary_key())
                .col(big_integer("epoch"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;
        for (table, name, cols) in INDEXES {
            let mut idx = Index::create().name(*name).table(*table).take();
            for c in *cols {
                idx.col(*c);
            }
            m.create_index(idx).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, _) in INDEXES {
            m.drop_index(Index::drop().name(*name).table(*table).to_owned()).await?;
        }
        m.drop_table(Table::drop().table("cache_epochs").take()).await?;
        m.drop_table(Table::drop().table("customer_views").take()).await?;
        Ok(())
    }
}
