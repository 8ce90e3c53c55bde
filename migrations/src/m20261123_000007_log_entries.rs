//! The platform's own logs (DESIGN §7 "Logs"): the platform log, the authentication log and
//! the system log tabs, in one table written in batches by a background task, bounded by a row
//! cap. Not tenant data: platform staff read it.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000007_log_entries"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("log_entries")
                .col(big_integer("seq").auto_increment().primary_key())
                .col(timestamp_with_time_zone("at"))
                .col(string_len("stream", 20))
                .col(string_len("kind", 40))
                .col(string_len("level", 10))
                .col(text("message"))
                .col(uuid_null("customer_id"))
                .col(uuid_null("user_id"))
                .col(string_len_null("request_id", 64))
                .col(string_len_null("ip", 64))
                .col(text_null("user_agent"))
                .col(json("fields"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_log_entries_stream_seq", &["stream", "seq"][..]),
            ("ix_log_entries_customer_seq", &["customer_id", "seq"][..]),
        ] {
            let mut idx = Index::create();
            idx.name(name).table("log_entries");
            for c in cols {
                idx.col(*c);
            }
            m.create_index(idx.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("log_entries").to_owned()).await
    }
}
