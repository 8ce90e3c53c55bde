//! Generated data said to be generated (issue 31): `steward-server seed` writes finished runs
//! that never ran and a history of stats nothing measured. Both carry `demo = true`, so the API
//! and the console can tell them from what the workers and the periodic task recorded, and the
//! measured figures leave the invented runs out.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000015_demo_data"
    }
}

const TABLES: [&str; 2] = ["runs", "stat_snapshots"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            m.alter_table(Table::alter().table(table).add_column(boolean("demo").default(false)).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            m.alter_table(Table::alter().table(table).drop_column("demo").to_owned()).await?;
        }
        Ok(())
    }
}
