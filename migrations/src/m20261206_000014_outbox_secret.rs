//! Mail bodies without live credentials (issue 31): a reset or invitation mail is stored with its
//! single-use token left out of the body, and the token sealed beside it (XChaCha20-Poly1305
//! under a key derived from the instance secret) until the mail is delivered, when it is put
//! into the link and the sealed copy is cleared. The outbox shows the body as stored.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000014_outbox_secret"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("outbox_mail").add_column(text_null("secret_sealed")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("outbox_mail").drop_column("secret_sealed").to_owned()).await
    }
}
