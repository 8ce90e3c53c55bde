//! The whole domain of DESIGN.md section 1. Every tenant-owned table carries `customer_id`
//! and every index on it leads with `customer_id`, so the schema shards by tenant.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_domain"
    }
}

/// Tables in creation order; dropped in reverse.
const TABLES: &[&str] = &[
    "customers",
    "workspaces",
    "users",
    "roles",
    "role_permissions",
    "user_roles",
    "sessions",
    "api_tokens",
    "invitations",
    "audit_events",
    "outbox_mail",
    "flows",
    "runs",
    "connectors",
    "records",
];

fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, col).to(to, "id").on_delete(ForeignKeyAction::Restrict).take()
}

fn index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create().name(name).table(table).take();
    for c in cols {
        idx.col(*c);
    }
    idx
}

fn now(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("customers")
                .col(pk_uuid("id"))
                .col(string_len("name", 200))
                .col(string_len_uniq("slug", 100))
                // `platform` (the staff's own) or `tenant`.
                .col(string_len("kind", 16))
                .col(now("created_at"))
                .col(now("updated_at"))
                .take(),
        )
        .await?;
        m.create_index(index("customers", "ux_customers_name", &["name"]).unique().take()).await?;

        m.create_table(
            Table::create()
                .table("workspaces")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(string_len("name", 200))
                .col(now("created_at"))
                .col(now("updated_at"))
                .foreign_key(&mut fk("workspaces", "customer_id", "customers"))
                .take(),
        )
        .await?;
        m.create_index(index("workspaces", "ux_workspaces_customer_name", &["customer_id", "name"]).unique().take())
            .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid_null("home_workspace_id"))
                // Stored lowercased; unique across the platform (it is the login).
                .col(string_len("email", 254))
                .col(string_len("name", 200))
                .col(string_len("locale", 35))
                // `active` or `inactive`.
                .col(string_len("status", 16))
                .col(boolean("super_admin"))
                .col(string_len_null("password_hash", 255))
                .col(string_len_null("totp_secret", 128))
                .col(boolean("totp_enabled"))
                .col(timestamp_with_time_zone_null("last_login_at"))
                .col(timestamp_with_time_zone_null("erased_at"))
                .col(now("created_at"))
                .col(now("updated_at"))
                .foreign_key(&mut fk("users", "customer_id", "customers"))
                .foreign_key(&mut fk("users", "home_workspace_id", "workspaces"))
                .take(),
        )
        .await?;
        m.create_index(index("users", "ux_users_email", &["email"]).unique().take()).await?;
        m.create_index(index("users", "ix_users_customer_created", &["customer_id", "created_at", "id"])).await?;
        m.create_index(index("users", "ix_users_customer_status", &["customer_id", "status", "created_at", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("roles")
                .col(pk_uuid("id"))
                // NULL for the global system roles.
                .col(uuid_null("customer_id"))
                .col(uuid_null("workspace_id"))
                .col(string_len("name", 100))
                .col(string_len("description", 500))
                .col(boolean("is_system"))
                .col(now("created_at"))
                .col(now("updated_at"))
                .foreign_key(&mut fk("roles", "customer_id", "customers"))
                .foreign_key(&mut fk("roles", "workspace_id", "workspaces"))
                .take(),
        )
        .await?;
        m.create_index(
            index("roles", "ux_roles_customer_workspace_name", &["customer_id", "workspace_id", "name"])
                .unique()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("role_permissions")
                .col(uuid("role_id"))
                // A leaf or a `module.*` subtree of the catalog.
                .col(string_len("pattern", 200))
                .primary_key(Index::create().col("role_id").col("pattern"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .from("role_permissions", "role_id")
                        .to("roles", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .take(),
                )
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("user_roles")
                .col(uuid("customer_id"))
                .col(uuid("workspace_id"))
                .col(uuid("user_id"))
                .col(uuid("role_id"))
                .col(now("created_at"))
                .primary_key(Index::create().col("user_id").col("workspace_id"))
                .foreign_key(&mut fk("user_roles", "customer_id", "customers"))
                .foreign_key(&mut fk("user_roles", "workspace_id", "workspaces"))
                .foreign_key(&mut fk("user_roles", "user_id", "users"))
                .foreign_key(&mut fk("user_roles", "role_id", "roles"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "user_roles",
            "ix_user_roles_customer_workspace_role",
            &["customer_id", "workspace_id", "role_id"],
        ))
        .await?;
        m.create_index(index("user_roles", "ix_user_roles_customer_user", &["customer_id", "user_id"])).await?;
        m.create_index(index("user_roles", "ix_user_roles_role", &["role_id"])).await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid("user_id"))
                // SHA-256 of the current refresh credential; rotated on every refresh.
                .col(string_len_uniq("refresh_hash", 64))
                .col(now("created_at"))
                .col(now("last_seen_at"))
                .col(now("expires_at"))
                .col(string_len_null("ip", 64))
                .col(string_len_null("user_agent", 512))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(boolean("two_factor_verified"))
                .col(boolean("admin_mode"))
                .col(uuid_null("customer_scope"))
                .col(uuid_null("impersonated_user_id"))
                .col(string_len_null("impersonation_reason", 500))
                .col(timestamp_with_time_zone_null("impersonation_started_at"))
                .col(timestamp_with_time_zone_null("impersonation_expires_at"))
                .foreign_key(&mut fk("sessions", "customer_id", "customers"))
                .foreign_key(&mut fk("sessions", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(index("sessions", "ix_sessions_customer_user", &["customer_id", "user_id", "created_at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid("user_id"))
                .col(string_len("name", 100))
                // The visible start of the token, to tell tokens apart in lists.
                .col(string_len("prefix", 16))
                .col(string_len_uniq("token_hash", 64))
                // The leaves this token may use: a subset of its owner's.
                .col(json("permissions"))
                .col(now("created_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("api_tokens", "customer_id", "customers"))
                .foreign_key(&mut fk("api_tokens", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(index("api_tokens", "ix_api_tokens_customer_user", &["customer_id", "user_id"])).await?;

        m.create_table(
            Table::create()
                .table("invitations")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid("workspace_id"))
                .col(uuid("role_id"))
                .col(string_len("email", 254))
                .col(string_len_uniq("token_hash", 64))
                .col(uuid_null("invited_by"))
                .col(now("created_at"))
                .col(now("expires_at"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("invitations", "customer_id", "customers"))
                .foreign_key(&mut fk("invitations", "workspace_id", "workspaces"))
                .foreign_key(&mut fk("invitations", "role_id", "roles"))
                .take(),
        )
        .await?;
        m.create_index(index("invitations", "ix_invitations_customer_created", &["customer_id", "created_at", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("audit_events")
                .col(big_integer("seq").primary_key())
                .col(uuid("id"))
                .col(now("occurred_at"))
                .col(uuid_null("customer_id"))
                .col(uuid_null("actor_user_id"))
                .col(uuid_null("impersonated_user_id"))
                .col(string_len("action", 100))
                .col(string_len("outcome", 16))
                .col(string_len_null("target_type", 50))
                .col(string_len_null("target_id", 100))
                .col(string_len_null("request_id", 64))
                .col(string_len_null("ip", 64))
                .col(string_len_null("user_agent", 512))
                .col(json("summary"))
                .col(string_len("prev_hash", 64))
                .col(string_len_uniq("hash", 64))
                .take(),
        )
        .await?;
        m.create_index(index("audit_events", "ix_audit_customer_time", &["customer_id", "occurred_at", "seq"])).await?;
        m.create_index(index("audit_events", "ix_audit_time", &["occurred_at", "seq"])).await?;

        m.create_table(
            Table::create()
                .table("outbox_mail")
                .col(pk_uuid("id"))
                .col(uuid_null("customer_id"))
                .col(string_len("kind", 50))
                .col(string_len("to_address", 254))
                .col(string_len("subject", 300))
                .col(text("body_text"))
                .col(now("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(integer("attempts"))
                .col(text_null("last_error"))
                .take(),
        )
        .await?;
        m.create_index(index("outbox_mail", "ix_outbox_customer_created", &["customer_id", "created_at", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("flows")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid("workspace_id"))
                .col(string_len("name", 200))
                // `draft` or `published`.
                .col(string_len("status", 16))
                // `active` or `paused`.
                .col(string_len("state", 16))
                .col(string_len_null("schedule", 100))
                .col(timestamp_with_time_zone_null("next_run_at"))
                .col(now("created_at"))
                .col(now("updated_at"))
                .foreign_key(&mut fk("flows", "customer_id", "customers"))
                .foreign_key(&mut fk("flows", "workspace_id", "workspaces"))
                .take(),
        )
        .await?;
        m.create_index(index("flows", "ix_flows_customer_created", &["customer_id", "created_at", "id"])).await?;
        m.create_index(index("flows", "ix_flows_customer_next_run", &["customer_id", "next_run_at"])).await?;

        m.create_table(
            Table::create()
                .table("runs")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid("flow_id"))
                // `queued`, `running`, `succeeded` or `failed`.
                .col(string_len("status", 16))
                // `schedule`, `manual`.
                .col(string_len("trigger", 16))
                .col(uuid_null("triggered_by"))
                .col(now("queued_at"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(big_integer_null("duration_ms"))
                .col(string_len_null("worker_id", 100))
                .col(integer("attempt"))
                .col(text_null("error"))
                .foreign_key(&mut fk("runs", "customer_id", "customers"))
                .foreign_key(&mut fk("runs", "flow_id", "flows"))
                .take(),
        )
        .await?;
        m.create_index(index("runs", "ix_runs_customer_queued", &["customer_id", "queued_at", "id"])).await?;
        m.create_index(index("runs", "ix_runs_customer_flow", &["customer_id", "flow_id", "queued_at"])).await?;
        // The worker queue: the oldest queued runs first, across tenants.
        m.create_index(index("runs", "ix_runs_status_queued", &["status", "queued_at"])).await?;

        m.create_table(
            Table::create()
                .table("connectors")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(uuid("workspace_id"))
                .col(string_len("name", 200))
                .col(string_len("kind", 50))
                // `healthy`, `degraded` or `down`.
                .col(string_len("health", 16))
                .col(string_len("api_key_prefix", 16))
                .col(string_len("api_key_hash", 64))
                .col(timestamp_with_time_zone_null("key_rotated_at"))
                .col(now("created_at"))
                .col(now("updated_at"))
                .foreign_key(&mut fk("connectors", "customer_id", "customers"))
                .foreign_key(&mut fk("connectors", "workspace_id", "workspaces"))
                .take(),
        )
        .await?;
        m.create_index(index("connectors", "ix_connectors_customer_created", &["customer_id", "created_at", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("records")
                .col(pk_uuid("id"))
                .col(uuid("customer_id"))
                .col(string_len("entity_type", 100))
                .col(string_len("external_id", 200))
                .col(string_len("source", 100))
                .col(json("payload"))
                .col(uuid_null("merged_into"))
                .col(timestamp_with_time_zone_null("refreshed_at"))
                .col(now("created_at"))
                .col(now("updated_at"))
                .foreign_key(&mut fk("records", "customer_id", "customers"))
                .take(),
        )
        .await?;
        m.create_index(
            index(
                "records",
                "ux_records_customer_entity_source",
                &["customer_id", "entity_type", "source", "external_id"],
            )
            .unique()
            .take(),
        )
        .await?;
        m.create_index(index("records", "ix_records_customer_created", &["customer_id", "created_at", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).if_exists().take()).await?;
        }
        Ok(())
    }
}
