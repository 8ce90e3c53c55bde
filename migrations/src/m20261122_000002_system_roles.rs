//! Seeds the global, read-only system roles `admin`, `operator` and `viewer`.
//! Their ids are fixed so code, tests and other migrations can name them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::{DateTimeUtc, Uuid};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_system_roles"
    }
}

/// (id, name, description, patterns). Patterns are frozen here as of this migration.
const ROLES: &[(&str, &str, &str, &[&str])] = &[
    ("00000000-0000-7000-8000-000000000001", "admin", "Everything, including cross-tenant views.", &["steward.*"]),
    (
        "00000000-0000-7000-8000-000000000002",
        "operator",
        "Reads everything; triggers runs, pauses flows, rotates connector keys.",
        &[
            "steward.access.users.view",
            "steward.access.roles.view",
            "steward.customers.view",
            "steward.flows.view",
            "steward.flows.pause",
            "steward.flows.trigger",
            "steward.runs.view",
            "steward.connectors.view",
            "steward.connectors.rotate_keys",
            "steward.data.view",
            "steward.audit.view",
            "steward.system.status",
            "steward.system.logs",
        ],
    ),
    (
        "00000000-0000-7000-8000-000000000003",
        "viewer",
        "Read only.",
        &[
            "steward.customers.view",
            "steward.flows.view",
            "steward.runs.view",
            "steward.connectors.view",
            "steward.data.view",
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let at =
            DateTimeUtc::from_timestamp(1_795_305_600, 0).ok_or_else(|| DbErr::Migration("bad seed time".into()))?;
        for (id, name, description, patterns) in ROLES {
            let id = Uuid::parse_str(id).map_err(|e| DbErr::Migration(e.to_string()))?;
            let mut insert = Query::insert();
            insert
                .into_table("roles")
                .columns([
                    "id",
                    "customer_id",
                    "workspace_id",
                    "name",
                    "description",
                    "is_system",
                    "created_at",
                    "updated_at",
                ])
                .values_panic([
                    id.into(),
                    Option::<Uuid>::None.into(),
                    Option::<Uuid>::None.into(),
                    (*name).into(),
                    (*description).into(),
                    true.into(),
                    at.into(),
                    at.into(),
                ]);
            m.exec_stmt(insert).await?;
            for p in *patterns {
                let mut insert = Query::insert();
                insert
                    .into_table("role_permissions")
                    .columns(["role_id", "pattern"])
                    .values_panic([id.into(), (*p).into()]);
                m.exec_stmt(insert).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (id, ..) in ROLES {
            let id = Uuid::parse_str(id).map_err(|e| DbErr::Migration(e.to_string()))?;
            let mut del = Query::delete();
            del.from_table("role_permissions").and_where(Expr::col("role_id").eq(id));
            m.exec_stmt(del).await?;
            let mut del = Query::delete();
            del.from_table("roles").and_where(Expr::col("id").eq(id));
            m.exec_stmt(del).await?;
        }
        Ok(())
    }
}
