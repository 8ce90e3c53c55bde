//! The explorer's registry: the one list of tenant-data tables it may show, their columns and
//! types, which are editable and how they are validated, and who may see which rows. A table
//! or column missing here does not exist for the explorer: every name a request carries is
//! looked up here and only the registry's own `&'static str` reaches SQL. The credential
//! tables (users, sessions, tokens, recovery codes, audit) are not here, nor is any secret
//! column (a connector's key hash).

use steward_shared::data::{ColumnKind, ExplorerColumn, ExplorerTable, FilterOp};

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: ColumnKind,
    pub nullable: bool,
    pub editable: bool,
    /// An index leads with the tenant column and this one (then the id).
    pub sortable: bool,
    pub searchable: bool,
    pub values: &'static [&'static str],
    /// For editable text: (min, max) characters.
    pub length: (u32, u32),
    pub references: Option<&'static str>,
}

const fn col(name: &'static str, label: &'static str, kind: ColumnKind) -> Col {
    Col {
        name,
        label,
        kind,
        nullable: false,
        editable: false,
        sortable: false,
        searchable: false,
        values: &[],
        length: (0, 0),
        references: None,
    }
}

impl Col {
    const fn null(mut self) -> Self {
        self.nullable = true;
        self
    }
    const fn edit(mut self, min: u32, max: u32) -> Self {
        self.editable = true;
        self.length = (min, max);
        self
    }
    const fn sort(mut self) -> Self {
        self.sortable = true;
        self
    }
    const fn search(mut self) -> Self {
        self.searchable = true;
        self
    }
    const fn one_of(mut self, values: &'static [&'static str]) -> Self {
        self.values = values;
        self
    }
    const fn to(mut self, table: &'static str) -> Self {
        self.references = Some(table);
        self
    }

    pub fn wire(&self) -> ExplorerColumn {
        ExplorerColumn {
            name: self.name.into(),
            label: self.label.into(),
            kind: self.kind,
            nullable: self.nullable,
            editable: self.editable,
            sortable: self.sortable,
            searchable: self.searchable,
            values: self.values.iter().map(|v| (*v).into()).collect(),
            max_length: (self.editable && self.kind == ColumnKind::Text).then_some(self.length.1),
            references: self.references.map(Into::into),
            operators: FilterOp::for_kind(self.kind, self.nullable),
        }
    }
}

/// Which rows of a table a principal limited to some workspaces sees (while viewing as
/// someone; everybody else the explorer serves is a super admin and sees the scope's rows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rows {
    /// Every row of the customers in scope.
    Tenant,
    /// Rows whose workspace column is one where the principal holds the table's leaf.
    Workspace(&'static str),
    /// Runs: rows whose flow is in such a workspace.
    ViaFlow,
}

/// One table.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    /// The column naming each row's customer (`id` for the customers table itself).
    pub tenant: &'static str,
    /// The leaf a principal needs to see its rows (under View as; super admins hold all).
    pub leaf: Option<&'static str>,
    pub rows: Rows,
    pub columns: &'static [Col],
    pub deletable: bool,
    pub default_columns: &'static [&'static str],
    /// Whether the table has `updated_at`, set on every edit.
    pub touches_updated_at: bool,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&'static Col> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn wire(&self) -> ExplorerTable {
        ExplorerTable {
            name: self.name.into(),
            label: self.label.into(),
            description: self.description.into(),
            tenant_column: self.tenant.into(),
            columns: self.columns.iter().map(Col::wire).collect(),
            deletable: self.deletable,
            default_columns: self.default_columns.iter().map(|c| (*c).into()).collect(),
        }
    }
}

use ColumnKind::{Enum, Integer, Json, Text, Timestamp, Uuid};

const ID: Col = col("id", "ID", Uuid).sort();
const CUSTOMER: Col = col("customer_id", "Customer", Uuid).to("customers");
const CREATED: Col = col("created_at", "Created", Timestamp).sort();
const UPDATED: Col = col("updated_at", "Updated", Timestamp);

pub const TABLES: &[Table] = &[
    Table {
        name: "customers",
        label: "Customers",
        description: "The tenants.",
        tenant: "id",
        leaf: None,
        rows: Rows::Tenant,
        columns: &[
            ID,
            col("name", "Name", Text).edit(1, 200).sort().search(),
            col("slug", "Slug", Text).search(),
            col("kind", "Kind", Enum).one_of(&["platform", "tenant"]),
            CREATED,
            UPDATED,
        ],
        deletable: false,
        default_columns: &["name", "slug", "kind", "created_at"],
        touches_updated_at: true,
    },
    Table {
        name: "workspaces",
        label: "Workspaces",
        description: "Spaces inside a customer.",
        tenant: "customer_id",
        leaf: None,
        rows: Rows::Tenant,
        columns: &[ID, CUSTOMER, col("name", "Name", Text).edit(1, 200).sort().search(), CREATED.sort(), UPDATED],
        deletable: false,
        default_columns: &["customer_id", "name", "created_at"],
        touches_updated_at: true,
    },
    Table {
        name: "flows",
        label: "Flows",
        description: "The tenants' automation flows.",
        tenant: "customer_id",
        leaf: Some("steward.flows.view"),
        rows: Rows::Workspace("workspace_id"),
        columns: &[
            ID,
            CUSTOMER,
            col("workspace_id", "Workspace", Uuid).to("workspaces"),
            col("name", "Name", Text).edit(1, 200).sort().search(),
            col("status", "Status", Enum).one_of(&["draft", "published"]).edit(0, 0),
            col("state", "State", Enum).one_of(&["active", "paused"]).edit(0, 0),
            col("schedule", "Schedule", Text).null().edit(0, 64),
            col("next_run_at", "Next run", Timestamp).null(),
            CREATED,
            UPDATED,
        ],
        deletable: true,
        default_columns: &["customer_id", "name", "status", "state", "schedule", "next_run_at"],
        touches_updated_at: true,
    },
    Table {
        name: "runs",
        label: "Runs",
        description: "Executions of flows: history, editable only by deleting finished ones.",
        tenant: "customer_id",
        leaf: Some("steward.runs.view"),
        rows: Rows::ViaFlow,
        columns: &[
            ID,
            CUSTOMER,
            col("flow_id", "Flow", Uuid).to("flows"),
            col("status", "Status", Enum).one_of(&["queued", "running", "succeeded", "failed"]).sort(),
            col("trigger", "Trigger", Text),
            col("triggered_by", "Triggered by", Uuid).null(),
            col("queued_at", "Queued", Timestamp).sort(),
            col("started_at", "Started", Timestamp).null(),
            col("finished_at", "Finished", Timestamp).null(),
            col("duration_ms", "Duration (ms)", Integer).null(),
            col("worker_id", "Worker", Text).null(),
            col("attempt", "Attempt", Integer),
            col("error", "Error", Text).null().search(),
        ],
        deletable: true,
        default_columns: &["customer_id", "flow_id", "status", "queued_at", "duration_ms", "error"],
        touches_updated_at: false,
    },
    Table {
        name: "connectors",
        label: "Connectors",
        description: "The tenants' connections to outside systems (their key material never shows).",
        tenant: "customer_id",
        leaf: Some("steward.connectors.view"),
        rows: Rows::Workspace("workspace_id"),
        columns: &[
            ID,
            CUSTOMER,
            col("workspace_id", "Workspace", Uuid).to("workspaces"),
            col("name", "Name", Text).edit(1, 200).sort().search(),
            col("kind", "Kind", Text).search(),
            col("health", "Health", Enum).one_of(&["healthy", "degraded", "down"]).edit(0, 0),
            col("api_key_prefix", "Key prefix", Text),
            col("key_rotated_at", "Key rotated", Timestamp).null(),
            CREATED,
            UPDATED,
        ],
        deletable: true,
        default_columns: &["customer_id", "name", "kind", "health", "key_rotated_at"],
        touches_updated_at: true,
    },
    Table {
        name: "records",
        label: "Records",
        description: "Canonical data records; the payload is validated against its entity type's JSON Schema.",
        tenant: "customer_id",
        leaf: Some("steward.data.view"),
        rows: Rows::Tenant,
        columns: &[
            ID,
            CUSTOMER,
            col("entity_type", "Entity type", Text),
            col("external_id", "External id", Text).edit(1, 255).sort(),
            col("external_key", "External key", Text).null().search(),
            col("source", "Source", Text).edit(1, 64),
            col("payload", "Payload", Json).edit(0, 0),
            col("content_hash", "Content hash", Text).null(),
            col("merged_into", "Merged into", Uuid).null().to("records"),
            col("refreshed_at", "Refreshed", Timestamp).null(),
            CREATED,
            UPDATED.sort(),
        ],
        deletable: true,
        default_columns: &["customer_id", "entity_type", "external_id", "source", "payload", "updated_at"],
        touches_updated_at: true,
    },
    Table {
        name: "record_links",
        label: "Record links",
        description: "References between records: what a dedup merge moves to the survivor.",
        tenant: "customer_id",
        leaf: Some("steward.data.view"),
        rows: Rows::Tenant,
        columns: &[
            ID,
            CUSTOMER,
            col("from_id", "From", Uuid).to("records"),
            col("to_id", "To", Uuid).to("records"),
            col("relation", "Relation", Text).search(),
            CREATED,
        ],
        deletable: true,
        default_columns: &["customer_id", "from_id", "relation", "to_id", "created_at"],
        touches_updated_at: false,
    },
];

/// The table named `name`, if the explorer has it.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_an_id_its_tenant_column_and_valid_defaults() {
        for t in TABLES {
            assert!(t.column("id").is_some_and(|c| c.sortable), "{}", t.name);
            assert!(t.column(t.tenant).is_some(), "{}", t.name);
            for d in t.default_columns {
                assert!(t.column(d).is_some(), "{}.{d}", t.name);
            }
            for c in t.columns {
                assert!(
                    !(c.sortable && c.nullable),
                    "{}.{}: keyset sorting needs a value in every row",
                    t.name,
                    c.name
                );
                assert!(c.kind != ColumnKind::Enum || !c.values.is_empty(), "{}.{}", t.name, c.name);
            }
        }
    }

    #[test]
    fn no_credential_table_or_secret_column_is_registered() {
        for name in
            ["users", "sessions", "api_tokens", "recovery_codes", "audit_events", "password_resets", "invitations"]
        {
            assert!(table(name).is_none(), "{name}");
        }
        for t in TABLES {
            for c in t.columns {
                assert!(!c.name.contains("hash") || c.name == "content_hash", "{}.{}", t.name, c.name);
                assert!(!c.name.contains("secret") && !c.name.contains("password"), "{}.{}", t.name, c.name);
            }
        }
    }
}
