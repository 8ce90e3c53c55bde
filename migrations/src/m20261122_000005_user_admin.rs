//! User administration: the directory's search and sort indexes, password-reset links,
//! 2FA recovery codes and single-use TOTP steps, login throttling, instance settings, and
//! claimable outbox rows.
//!
//! Search is a trigram index on both databases: FTS5 with the `trigram` tokenizer on SQLite
//! (an external-content table over `users`, kept in step by triggers) and `pg_trgm` on
//! PostgreSQL (a GIN index over `lower(name) || ' ' || lower(email)`).

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000005_user_admin"
    }
}

const TABLES: &[&str] = &["password_resets", "recovery_codes", "auth_throttle", "settings"];

const INDEXES: &[(&str, &str, &[&str])] = &[
    ("users", "ix_users_customer_name", &["customer_id", "name", "id"]),
    ("users", "ix_users_customer_email", &["customer_id", "email", "id"]),
    ("users", "ix_users_name", &["name", "id"]),
    ("users", "ix_users_created", &["created_at", "id"]),
    ("users", "ix_users_status_created", &["status", "created_at", "id"]),
    ("users", "ix_users_super_created", &["super_admin", "created_at", "id"]),
    ("user_roles", "ix_user_roles_customer_workspace_user", &["customer_id", "workspace_id", "user_id"]),
    ("password_resets", "ix_password_resets_customer_user", &["customer_id", "user_id"]),
    ("recovery_codes", "ix_recovery_codes_customer_user", &["customer_id", "user_id"]),
    ("outbox_mail", "ix_outbox_pending", &["sent_at", "created_at"]),
    ("invitations", "ix_invitations_customer_email", &["customer_id", "email"]),
];

const SQLITE_SEARCH: &[&str] = &[
    "CREATE VIRTUAL TABLE users_fts USING fts5(name, email, content='users', content_rowid='rowid', \
     tokenize='trigram')",
    "INSERT INTO users_fts(users_fts) VALUES ('rebuild')",
    "CREATE TRIGGER users_fts_ai AFTER INSERT ON users BEGIN \
     INSERT INTO users_fts(rowid, name, email) VALUES (new.rowid, new.name, new.email); END",
    "CREATE TRIGGER users_fts_ad AFTER DELETE ON users BEGIN \
     INSERT INTO users_fts(users_fts, rowid, name, email) VALUES ('delete', old.rowid, old.name, old.email); END",
    "CREATE TRIGGER users_fts_au AFTER UPDATE OF name, email ON users BEGIN \
     INSERT INTO users_fts(users_fts, rowid, name, email) VALUES ('delete', old.rowid, old.name, old.email); \
     INSERT INTO users_fts(rowid, name, email) VALUES (new.rowid, new.name, new.email); END",
];

const POSTGRES_SEARCH: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_users_search_trgm ON users USING gin ((lower(name) || ' ' || lower(email)) gin_trgm_ops)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("password_resets")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid("user_id"))
                .col(string_len_uniq("token_hash", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(ForeignKey::create().from("password_resets", "user_id").to("users", "id"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("recovery_codes")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid("user_id"))
                .col(string_len("code_hash", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(ForeignKey::create().from("recovery_codes", "user_id").to("users", "id"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("auth_throttle")
                // `account:<email>`, `ip:<address>`, `totp:<user id>`.
                .col(string_len("key", 300).primary_key())
                .col(integer("failures"))
                .col(timestamp_with_time_zone("window_started_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("settings")
                .col(string_len("key", 100).primary_key())
                .col(json("value"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;
        m.alter_table(Table::alter().table("users").add_column(big_integer_null("totp_last_step")).take()).await?;
        m.alter_table(
            Table::alter().table("outbox_mail").add_column(timestamp_with_time_zone_null("locked_until")).take(),
        )
        .await?;
        for (table, name, cols) in INDEXES {
            let mut idx = Index::create().name(*name).table(*table).take();
            for c in *cols {
                idx.col(*c);
            }
            m.create_index(idx).await?;
        }
        let db = m.get_connection();
        let search = match db.get_database_backend() {
            DbBackend::Postgres => POSTGRES_SEARCH,
            _ => SQLITE_SEARCH,
        };
        for sql in search {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP INDEX IF EXISTS ix_users_search_trgm").await?;
            }
            _ => {
                for sql in [
                    "DROP TRIGGER IF EXISTS users_fts_ai",
                    "DROP TRIGGER IF EXISTS users_fts_ad",
                    "DROP TRIGGER IF EXISTS users_fts_au",
                    "DROP TABLE IF EXISTS users_fts",
                ] {
                    db.execute_unprepared(sql).await?;
                }
            }
        }
        for (table, name, _) in INDEXES {
            m.drop_index(Index::drop().name(*name).table(*table).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("outbox_mail").drop_column("locked_until").take()).await?;
        m.alter_table(Table::alter().table("users").drop_column("totp_last_step").take()).await?;
        for t in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*t).take()).await?;
        }
        Ok(())
    }
}
