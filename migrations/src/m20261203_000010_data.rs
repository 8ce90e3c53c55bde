//! Data (DESIGN §7): what the explorer, data ops and hash warnings stand on.
//!
//! - `records` gain their derived fields: `content_hash` (SHA-256 of the canonical payload,
//!   written by the server; rows from before are filled in at start) and `external_key` (the
//!   external id trimmed and lower-cased: what search and hand-picked dedup match on).
//! - `record_links`: references between records (a contact's account, an invoice's order):
//!   what a dedup merge moves to the survivor. `record_merges` keeps each merge (what moved)
//!   so it can be undone within a window.
//! - `record_hash_counts` (records per customer, entity type and hash) and `record_hash_stats`
//!   (records and distinct hashes per customer and entity type), kept in step by triggers on
//!   every write from any path: hash warnings read a few rows, never scan the records.
//! - `entity_types`: the data models records are validated against (a JSON Schema each); the
//!   platform's own ship here, applications add theirs.
//! - Change feed for the explorer's live updates: on PostgreSQL, triggers `NOTIFY
//!   steward_data`; on SQLite (one file, no notifications), triggers append to `data_changes`,
//!   which each replica polls.
//! - `migration_checksums`: the checksum of each migration's source as it was when applied.
//! - Sort indexes leading with `customer_id` for the explorer's sortable columns.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000010_data"
    }
}

/// The tables the change feed covers, and the column naming each row's customer.
pub const FEED_TABLES: &[(&str, &str)] = &[
    ("customers", "id"),
    ("workspaces", "customer_id"),
    ("flows", "customer_id"),
    ("runs", "customer_id"),
    ("connectors", "customer_id"),
    ("records", "customer_id"),
    ("record_links", "customer_id"),
];

/// The platform's own entity types: (name, label, JSON Schema).
fn builtin_entity_types() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    use serde_json::json;
    let named = |extra: serde_json::Value| {
        let mut props = json!({
            "name": { "type": "string", "minLength": 1, "maxLength": 200 },
            "score": { "type": "integer", "minimum": 0, "maximum": 100 }
        });
        if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        json!({ "type": "object", "required": ["name"], "properties": props })
    };
    vec![
        ("contact", "Contact", named(json!({ "email": { "type": "string", "format": "email", "maxLength": 254 } }))),
        ("account", "Account", named(json!({ "domain": { "type": "string", "maxLength": 253 } }))),
        (
            "invoice",
            "Invoice",
            named(
                json!({ "amount": { "type": "number", "minimum": 0 }, "currency": { "type": "string", "pattern": "^[A-Z]{3}$" } }),
            ),
        ),
        ("order", "Order", named(json!({ "amount": { "type": "number", "minimum": 0 } }))),
        ("ticket", "Ticket", named(json!({ "priority": { "enum": ["low", "normal", "high", "urgent"] } }))),
    ]
}

const SQLITE_HASH_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER records_hash_ins AFTER INSERT ON records \
     WHEN NEW.content_hash IS NOT NULL AND NEW.merged_into IS NULL BEGIN \
       INSERT INTO record_hash_counts (customer_id, entity_type, content_hash, n) \
         VALUES (NEW.customer_id, NEW.entity_type, NEW.content_hash, 1) \
         ON CONFLICT (customer_id, entity_type, content_hash) DO UPDATE SET n = n + 1; \
     END",
    "CREATE TRIGGER records_hash_del AFTER DELETE ON records \
     WHEN OLD.content_hash IS NOT NULL AND OLD.merged_into IS NULL BEGIN \
       UPDATE record_hash_counts SET n = n - 1 WHERE customer_id = OLD.customer_id \
         AND entity_type = OLD.entity_type AND content_hash = OLD.content_hash; \
       DELETE FROM record_hash_counts WHERE customer_id = OLD.customer_id \
         AND entity_type = OLD.entity_type AND content_hash = OLD.content_hash AND n <= 0; \
     END",
    "CREATE TRIGGER records_hash_upd AFTER UPDATE OF content_hash, entity_type, merged_into, customer_id ON records \
     BEGIN \
       UPDATE record_hash_counts SET n = n - 1 WHERE OLD.content_hash IS NOT NULL AND OLD.merged_into IS NULL \
         AND customer_id = OLD.customer_id AND entity_type = OLD.entity_type AND content_hash = OLD.content_hash; \
       DELETE FROM record_hash_counts WHERE customer_id = OLD.customer_id \
         AND entity_type = OLD.entity_type AND content_hash = OLD.content_hash AND n <= 0; \
       INSERT INTO record_hash_counts (customer_id, entity_type, content_hash, n) \
         SELECT NEW.customer_id, NEW.entity_type, NEW.content_hash, 1 \
         WHERE NEW.content_hash IS NOT NULL AND NEW.merged_into IS NULL \
         ON CONFLICT (customer_id, entity_type, content_hash) DO UPDATE SET n = n + 1; \
     END",
    "CREATE TRIGGER record_hash_counts_ins AFTER INSERT ON record_hash_counts BEGIN \
       INSERT INTO record_hash_stats (customer_id, entity_type, records, hashes) \
         VALUES (NEW.customer_id, NEW.entity_type, NEW.n, 1) \
         ON CONFLICT (customer_id, entity_type) DO UPDATE SET records = records + excluded.records, hashes = hashes + 1; \
     END",
    "CREATE TRIGGER record_hash_counts_upd AFTER UPDATE OF n ON record_hash_counts BEGIN \
       UPDATE record_hash_stats SET records = records + NEW.n - OLD.n \
         WHERE customer_id = NEW.customer_id AND entity_type = NEW.entity_type; \
     END",
    "CREATE TRIGGER record_hash_counts_del AFTER DELETE ON record_hash_counts BEGIN \
       UPDATE record_hash_stats SET records = records - OLD.n, hashes = hashes - 1 \
         WHERE customer_id = OLD.customer_id AND entity_type = OLD.entity_type; \
     END",
];

const PG_HASH_FUNCTIONS: &[&str] = &[
    "CREATE FUNCTION steward_record_hash() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.content_hash IS NOT NULL AND OLD.merged_into IS NULL THEN \
         UPDATE record_hash_counts SET n = n - 1 WHERE customer_id = OLD.customer_id \
           AND entity_type = OLD.entity_type AND content_hash = OLD.content_hash; \
         DELETE FROM record_hash_counts WHERE customer_id = OLD.customer_id \
           AND entity_type = OLD.entity_type AND content_hash = OLD.content_hash AND n <= 0; \
       END IF; \
       IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.content_hash IS NOT NULL AND NEW.merged_into IS NULL THEN \
         INSERT INTO record_hash_counts AS c (customer_id, entity_type, content_hash, n) \
           VALUES (NEW.customer_id, NEW.entity_type, NEW.content_hash, 1) \
           ON CONFLICT (customer_id, entity_type, content_hash) DO UPDATE SET n = c.n + 1; \
       END IF; \
       RETURN NULL; \
     END $$",
    "CREATE FUNCTION steward_record_hash_stats() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP = 'INSERT' THEN \
         INSERT INTO record_hash_stats AS s (customer_id, entity_type, records, hashes) \
           VALUES (NEW.customer_id, NEW.entity_type, NEW.n, 1) \
           ON CONFLICT (customer_id, entity_type) DO UPDATE SET records = s.records + EXCLUDED.records, hashes = s.hashes + 1; \
       ELSIF TG_OP = 'UPDATE' THEN \
         UPDATE record_hash_stats SET records = records + NEW.n - OLD.n \
           WHERE customer_id = NEW.customer_id AND entity_type = NEW.entity_type; \
       ELSE \
         UPDATE record_hash_stats SET records = records - OLD.n, hashes = hashes - 1 \
           WHERE customer_id = OLD.customer_id AND entity_type = OLD.entity_type; \
       END IF; \
       RETURN NULL; \
     END $$",
    "CREATE TRIGGER records_hash AFTER INSERT OR DELETE OR UPDATE OF content_hash, entity_type, merged_into, customer_id \
     ON records FOR EACH ROW EXECUTE FUNCTION steward_record_hash()",
    "CREATE TRIGGER record_hash_counts_stats AFTER INSERT OR DELETE OR UPDATE OF n \
     ON record_hash_counts FOR EACH ROW EXECUTE FUNCTION steward_record_hash_stats()",
    // The change feed: one notification per row written, delivered when its transaction commits.
    "CREATE FUNCTION steward_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
     DECLARE r jsonb; \
     BEGIN \
       IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF; \
       PERFORM pg_notify('steward_data', json_build_object('table', TG_TABLE_NAME, 'id', r ->> 'id', \
         'customer_id', r ->> TG_ARGV[0], 'op', lower(TG_OP))::text); \
       RETURN NULL; \
     END $$",
    "CREATE INDEX ix_records_external_key_trgm ON records USING gin (external_key gin_trgm_ops)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let backend = m.get_database_backend();
        m.alter_table(Table::alter().table("records").add_column(string_len_null("content_hash", 64)).to_owned())
            .await?;
        m.alter_table(Table::alter().table("records").add_column(string_len_null("external_key", 255)).to_owned())
            .await?;
        for (name, cols) in [
            ("ix_records_customer_updated", &["customer_id", "updated_at", "id"][..]),
            ("ix_records_customer_external", &["customer_id", "external_id", "id"]),
            ("ix_records_customer_key", &["customer_id", "external_key", "id"]),
            ("ix_records_customer_merged", &["customer_id", "merged_into"]),
            ("ix_connectors_customer_name", &["customer_id", "name", "id"]),
            ("ix_workspaces_customer_created", &["customer_id", "created_at", "id"]),
            ("ix_workspaces_customer_name_id", &["customer_id", "name", "id"]),
        ] {
            let table = name.split('_').nth(1).unwrap_or_default();
            let mut ix = Index::create();
            ix.name(name).table(table);
            for c in cols {
                ix.col(*c);
            }
            m.create_index(ix.to_owned()).await?;
        }
        m.create_index(
            Index::create().name("ix_customers_created_id").table("customers").col("created_at").col("id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("record_links")
                .col(uuid("id").primary_key())
                .col(uuid("customer_id"))
                .col(uuid("from_id"))
                .col(uuid("to_id"))
                .col(string_len("relation", 64))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(ForeignKey::create().from("record_links", "customer_id").to("customers", "id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("record_links", "from_id")
                        .to("records", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("record_links", "to_id")
                        .to("records", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [("ix_record_links_customer_from", "from_id"), ("ix_record_links_customer_to", "to_id")] {
            m.create_index(
                Index::create().name(name).table("record_links").col("customer_id").col(col).col("id").to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ix_record_links_customer_created")
                .table("record_links")
                .col("customer_id")
                .col("created_at")
                .col("id")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("record_merges")
                .col(uuid("id").primary_key())
                .col(uuid("customer_id"))
                .col(string_len("entity_type", 64))
                .col(uuid("survivor_id"))
                .col(json("merged_ids"))
                .col(json("moved_links"))
                .col(uuid("merged_by"))
                .col(timestamp_with_time_zone("merged_at"))
                .col(timestamp_with_time_zone_null("undone_at"))
                .col(uuid_null("undone_by"))
                .foreign_key(ForeignKey::create().from("record_merges", "customer_id").to("customers", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_record_merges_customer_at")
                .table("record_merges")
                .col("customer_id")
                .col("merged_at")
                .col("id")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("record_hash_counts")
                .col(uuid("customer_id"))
                .col(string_len("entity_type", 64))
                .col(string_len("content_hash", 64))
                .col(big_integer("n"))
                .primary_key(Index::create().col("customer_id").col("entity_type").col("content_hash"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_record_hash_counts_groups")
                .table("record_hash_counts")
                .col("customer_id")
                .col("entity_type")
                .col("n")
                .col("content_hash")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("record_hash_stats")
                .col(uuid("customer_id"))
                .col(string_len("entity_type", 64))
                .col(big_integer("records"))
                .col(big_integer("hashes"))
                .primary_key(Index::create().col("customer_id").col("entity_type"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("entity_types")
                .col(string_len("name", 64).primary_key())
                .col(string_len("label", 200))
                .col(json("json_schema"))
                .col(string_len_null("application", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        let now = chrono_now();
        for (name, label, schema) in builtin_entity_types() {
            m.exec_stmt(
                Query::insert()
                    .into_table("entity_types")
                    .columns(["name", "label", "json_schema", "created_at", "updated_at"])
                    .values_panic([name.into(), label.into(), schema.into(), now.into(), now.into()])
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table("migration_checksums")
                .col(string_len("version", 200).primary_key())
                .col(string_len("checksum", 64))
                .col(timestamp_with_time_zone("recorded_at"))
                .to_owned(),
        )
        .await?;

        match backend {
            DbBackend::Postgres => {
                for sql in PG_HASH_FUNCTIONS {
                    db.execute_unprepared(sql).await?;
                }
                for (table, tenant) in FEED_TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} \
                         FOR EACH ROW EXECUTE FUNCTION steward_notify_change('{tenant}')"
                    ))
                    .await?;
                }
            }
            _ => {
                m.create_table(
                    Table::create()
                        .table("data_changes")
                        .col(big_integer("seq").primary_key().auto_increment())
                        .col(big_integer("at"))
                        .col(string_len("table_name", 64))
                        .col(uuid("row_id"))
                        .col(uuid("customer_id"))
                        .col(string_len("op", 8))
                        .to_owned(),
                )
                .await?;
                m.create_index(Index::create().name("ix_data_changes_at").table("data_changes").col("at").to_owned())
                    .await?;
                for sql in SQLITE_HASH_TRIGGERS {
                    db.execute_unprepared(sql).await?;
                }
                for (table, tenant) in FEED_TABLES {
                    for (op, row) in [("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {table}_feed_{op} AFTER {} ON {table} BEGIN \
                             INSERT INTO data_changes (at, table_name, row_id, customer_id, op) \
                             VALUES (unixepoch(), '{table}', {row}.id, {row}.{tenant}, '{op}'); END",
                            op.to_uppercase()
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Postgres => {
                for (table, _) in FEED_TABLES {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_notify ON {table}")).await?;
                }
                db.execute_unprepared("DROP TRIGGER IF EXISTS records_hash ON records").await?;
                db.execute_unprepared("DROP INDEX IF EXISTS ix_records_external_key_trgm").await?;
                for f in ["steward_notify_change", "steward_record_hash", "steward_record_hash_stats"] {
                    db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {f}() CASCADE")).await?;
                }
            }
            _ => {
                for t in ["records_hash_ins", "records_hash_del", "records_hash_upd"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}")).await?;
                }
                for (table, _) in FEED_TABLES {
                    for op in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_feed_{op}")).await?;
                    }
                }
                m.drop_table(Table::drop().table("data_changes").to_owned()).await?;
            }
        }
        for t in [
            "migration_checksums",
            "entity_types",
            "record_hash_stats",
            "record_hash_counts",
            "record_merges",
            "record_links",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for (name, table) in [
            ("ix_records_customer_updated", "records"),
            ("ix_records_customer_external", "records"),
            ("ix_records_customer_key", "records"),
            ("ix_records_customer_merged", "records"),
            ("ix_connectors_customer_name", "connectors"),
            ("ix_workspaces_customer_created", "workspaces"),
            ("ix_workspaces_customer_name_id", "workspaces"),
            ("ix_customers_created_id", "customers"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        for c in ["content_hash", "external_key"] {
            m.alter_table(Table::alter().table("records").drop_column(c).to_owned()).await?;
        }
        Ok(())
    }
}

fn chrono_now() -> sea_orm_migration::sea_orm::prelude::DateTimeUtc {
    sea_orm_migration::sea_orm::prelude::DateTimeUtc::from(std::time::SystemTime::now())
}
