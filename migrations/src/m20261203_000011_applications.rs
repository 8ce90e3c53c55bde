//! Applications (DESIGN §7a, seed 004): versioned bundles that add entity types, flow
//! templates and connector kinds to the platform, and the packages they require.
//!
//! - `applications`: one row per installed application (its source: an uploaded archive or a
//!   Git repository and branch), whether it is active, and the version in use.
//! - `application_versions`: every version installed, with the Git commit it came from, the
//!   bundle's digest and its manifest; `application_bundles` holds each version's bundle (a
//!   normalized `.tar.gz`) in the database, so every replica can unpack it and an export can
//!   serve it.
//! - `import_errors`: what failed to import from a version (file, model, message, detail);
//!   the rest of the version installed.
//! - `application_models`, `flow_templates`, `connector_kinds`: what each version brings.
//!   The models of an active application's current version are copied into `entity_types`.
//! - `packages` (one row per name and version carried by a bundle, unpacked under the data
//!   directory) and `application_requirements` (each version's requirement and the package
//!   version it resolved to).
//! - `flows` made from a template carry its definition (the steps) and the application.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000011_applications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("applications")
                .col(uuid("id").primary_key())
                .col(string_len_uniq("name", 64))
                .col(string_len("description", 500))
                .col(string_len("source", 16))
                .col(string_len_null("git_url", 2048))
                .col(string_len_null("git_branch", 255))
                .col(boolean("active"))
                .col(uuid_null("current_version_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("application_versions")
                .col(uuid("id").primary_key())
                .col(uuid("application_id"))
                .col(string_len("version", 64))
                .col(string_len_null("git_commit", 40))
                .col(string_len("digest", 64))
                .col(json("manifest"))
                .col(integer("files"))
                .col(big_integer("bundle_bytes"))
                .col(integer("errors"))
                .col(uuid_null("installed_by"))
                .col(timestamp_with_time_zone("installed_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("application_versions", "application_id")
                        .to("applications", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_application_versions_app")
                .table("application_versions")
                .col("application_id")
                .col("installed_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("application_bundles")
                .col(uuid("version_id").primary_key())
                .col(blob("bundle"))
                .foreign_key(
                    ForeignKey::create()
                        .from("application_bundles", "version_id")
                        .to("application_versions", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("import_errors")
                .col(uuid("id").primary_key())
                .col(uuid("application_id"))
                .col(uuid("version_id"))
                .col(string_len("application", 64))
                .col(string_len("version", 64))
                .col(string_len("severity", 16))
                .col(small_integer("rank"))
                .col(string_len("code", 64))
                .col(string_len("file", 512))
                .col(string_len_null("model", 128))
                .col(string_len("message", 1000))
                .col(text("detail"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("import_errors", "application_id")
                        .to("applications", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Worst first, then newest (ids are time-ordered): the Import errors page's order,
        // keyset-paged, over every application or one.
        m.create_index(
            Index::create().name("ix_import_errors_rank").table("import_errors").col("rank").col("id").to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_import_errors_app_rank")
                .table("import_errors")
                .col("application_id")
                .col("rank")
                .col("id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_import_errors_version").table("import_errors").col("version_id").to_owned(),
        )
        .await?;
        for (table, name_col) in
            [("application_models", "name"), ("flow_templates", "name"), ("connector_kinds", "kind")]
        {
            m.create_table(
                Table::create()
                    .table(table)
                    .col(uuid("id").primary_key())
                    .col(uuid("application_id"))
                    .col(uuid("version_id"))
                    .col(string_len(name_col, 128))
                    .col(string_len("label", 200))
                    .col(json("definition"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(table, "version_id")
                            .to("application_versions", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
            m.create_index(
                Index::create()
                    .name(format!("ux_{table}_version_{name_col}"))
                    .table(table)
                    .col("version_id")
                    .col(name_col)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("packages")
                .col(uuid("id").primary_key())
                .col(string_len("name", 128))
                .col(string_len("version", 64))
                .col(string_len("digest", 64))
                .col(integer("files"))
                .col(big_integer("bytes"))
                .col(uuid("provided_by_version"))
                .col(timestamp_with_time_zone("installed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_packages_name_version")
                .table("packages")
                .col("name")
                .col("version")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("application_requirements")
                .col(uuid("id").primary_key())
                .col(uuid("application_id"))
                .col(uuid("version_id"))
                .col(string_len("package", 128))
                .col(string_len("range", 128))
                .col(uuid_null("package_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("application_requirements", "version_id")
                        .to("application_versions", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_application_requirements_package")
                .table("application_requirements")
                .col("package")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_application_requirements_version")
                .table("application_requirements")
                .col("version_id")
                .to_owned(),
        )
        .await?;
        // A flow made from a template carries its steps and the application it came from (what
        // deleting the application checks).
        for col in [uuid_null("application_id"), uuid_null("template_id"), json_null("definition")] {
            m.alter_table(Table::alter().table("flows").add_column(col).to_owned()).await?;
        }
        m.create_index(Index::create().name("ix_flows_application").table("flows").col("application_id").to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_flows_application").table("flows").to_owned()).await?;
        for col in ["application_id", "template_id", "definition"] {
            m.alter_table(Table::alter().table("flows").drop_column(col).to_owned()).await?;
        }
        for t in [
            "application_requirements",
            "packages",
            "connector_kinds",
            "flow_templates",
            "application_models",
            "import_errors",
            "application_bundles",
            "application_versions",
            "applications",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
