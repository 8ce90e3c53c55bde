//! Wire types of the data pages: the tables explorer, data ops (dedup merge, force refresh,
//! schema migrations) and hash warnings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

#[cfg(feature = "server")]
use utoipa::ToSchema;

/// What a column holds; filters and edits are parsed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Uuid,
    Text,
    /// One of `values`.
    Enum,
    Integer,
    Timestamp,
    Json,
}

/// A filter operator. Which apply depends on the column's kind (see `ExplorerColumn::operators`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    /// Text containing the value, case-insensitively.
    Contains,
    StartsWith,
    /// One of a list of values.
    In,
    IsNull,
    NotNull,
}

impl FilterOp {
    pub const ALL: [FilterOp; 11] = [
        Self::Eq,
        Self::Ne,
        Self::Lt,
        Self::Lte,
        Self::Gt,
        Self::Gte,
        Self::Contains,
        Self::StartsWith,
        Self::In,
        Self::IsNull,
        Self::NotNull,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Contains => "contains",
            Self::StartsWith => "starts_with",
            Self::In => "in",
            Self::IsNull => "is_null",
            Self::NotNull => "not_null",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "≠",
            Self::Lt => "<",
            Self::Lte => "≤",
            Self::Gt => ">",
            Self::Gte => "≥",
            Self::Contains => "contains",
            Self::StartsWith => "starts with",
            Self::In => "is one of",
            Self::IsNull => "is empty",
            Self::NotNull => "is set",
        }
    }

    /// Whether the operator takes no value.
    pub fn unary(self) -> bool {
        matches!(self, Self::IsNull | Self::NotNull)
    }

    /// The operators a column of `kind` takes.
    pub fn for_kind(kind: ColumnKind, nullable: bool) -> Vec<FilterOp> {
        let mut ops = match kind {
            ColumnKind::Uuid => vec![Self::Eq, Self::Ne, Self::In],
            ColumnKind::Enum => vec![Self::Eq, Self::Ne, Self::In],
            ColumnKind::Text => vec![Self::Eq, Self::Ne, Self::Contains, Self::StartsWith, Self::In],
            ColumnKind::Integer | ColumnKind::Timestamp => {
                vec![Self::Eq, Self::Ne, Self::Lt, Self::Lte, Self::Gt, Self::Gte]
            }
            ColumnKind::Json => vec![],
        };
        if nullable {
            ops.extend([Self::IsNull, Self::NotNull]);
        }
        ops
    }
}

/// One column of an explorer table, as the registry describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ExplorerColumn {
    pub name: String,
    pub label: String,
    pub kind: ColumnKind,
    pub nullable: bool,
    /// Whether an edit may set it.
    pub editable: bool,
    /// Whether the list may sort on it (an index leads with the tenant column and it).
    pub sortable: bool,
    /// Whether search looks in it.
    pub searchable: bool,
    /// For `enum` columns: the values allowed.
    pub values: Vec<String>,
    /// For text: the longest value an edit may set, in characters.
    pub max_length: Option<u32>,
    /// The table this column's ids point into.
    pub references: Option<String>,
    pub operators: Vec<FilterOp>,
}

/// One table the explorer shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ExplorerTable {
    pub name: String,
    pub label: String,
    pub description: String,
    /// The column naming each row's customer.
    pub tenant_column: String,
    pub columns: Vec<ExplorerColumn>,
    /// Whether rows may be deleted (batch delete).
    pub deletable: bool,
    /// The columns shown when the caller picks none.
    pub default_columns: Vec<String>,
}

/// `GET /api/explorer/tables`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ExplorerCatalog {
    pub tables: Vec<ExplorerTable>,
    /// Set while viewing as someone: every table then shows exactly the rows they may see,
    /// and the explorer is read-only.
    pub viewing_as: Option<ViewingAs>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ViewingAs {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
}

/// One condition on a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub column: String,
    pub op: FilterOp,
    /// The value, as JSON: a string (ids, text, enum values, RFC 3339 times), a number, or a
    /// list of them for `in`; absent for `is_null` and `not_null`.
    #[serde(default)]
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

/// What rows to select: the filters (all must hold) and a search over the searchable columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Selection {
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Text looked for in the searchable columns, case-insensitively.
    #[serde(default)]
    pub search: Option<String>,
}

/// `POST /api/explorer/tables/{table}/query`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExplorerQuery {
    #[serde(default)]
    pub filters: Vec<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub search: Option<String>,
    /// A sortable column; the id by default. Ties break on the id.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub sort: Option<String>,
    #[serde(default)]
    pub order: SortOrder,
    /// The columns to return (the id always comes); the table's defaults when empty.
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub cursor: Option<String>,
}

/// A page of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ExplorerPage {
    pub table: String,
    pub columns: Vec<String>,
    /// Each row: column → value (ids and times as strings, payloads as JSON).
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub rows: Vec<Map<String, Value>>,
    pub next_cursor: Option<String>,
    /// The names of the customers the rows belong to, by id.
    pub customers: std::collections::BTreeMap<String, String>,
    pub viewing_as: Option<ViewingAs>,
}

/// `PATCH /api/explorer/tables/{table}/rows/{row_id}`: the new values, and the values the
/// editor saw. A column whose value changed since is a 409 naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RowEdit {
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub set: Map<String, Value>,
    /// For each column in `set`, the value it had when the editor read it.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub expect: Map<String, Value>,
}

/// The row after an edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct EditedRow {
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub row: Map<String, Value>,
    /// The columns whose value changed.
    pub changed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BatchAction {
    Edit,
    Delete,
}

/// `POST /api/explorer/tables/{table}/batch`: an edit or delete over the rows named by `ids`,
/// or else over the rows `selection` matches. Run it with `dry_run` first: the report says
/// what would change and the phrase to type (`confirm`) for the real run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub action: BatchAction,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub ids: Option<Vec<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub selection: Option<Selection>,
    /// For `edit`: the columns to set on every row.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>, nullable = false))]
    pub set: Option<Map<String, Value>>,
    #[serde(default)]
    pub dry_run: bool,
    /// For the real run: exactly the `confirm_phrase` the dry run gave, e.g. `delete 12 records`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub confirm: Option<String>,
}

/// A row a batch left alone, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct SkippedRow {
    pub id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BatchReport {
    pub dry_run: bool,
    /// Rows the request named or matched (at most 10,000).
    pub matched: u64,
    /// Rows changed (or, in a dry run, that would be).
    pub affected: Vec<Uuid>,
    pub skipped: Vec<SkippedRow>,
    /// What to send as `confirm` to run it for real.
    pub confirm_phrase: String,
}

/// One live change to a table row, as the change feed reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DataChange {
    pub table: String,
    pub id: Uuid,
    pub customer_id: Uuid,
    /// `insert`, `update` or `delete`.
    pub op: String,
}

/// A canonical record, with its derived fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CanonicalRecord {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub entity_type: String,
    pub external_id: String,
    pub source: String,
    pub payload: Value,
    pub content_hash: Option<String>,
    pub merged_into: Option<Uuid>,
    pub refreshed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Links from and to it.
    pub links: u64,
}

/// Records of one entity type sharing one content hash, in one customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct DuplicateGroup {
    pub customer_id: Uuid,
    pub customer_name: String,
    pub entity_type: String,
    pub content_hash: String,
    pub count: u64,
    /// Up to 20 of them, oldest first (the usual survivor).
    pub records: Vec<CanonicalRecord>,
}

/// `POST /api/data/merge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    pub survivor_id: Uuid,
    /// The duplicates to merge into the survivor: same customer and entity type.
    pub merged_ids: Vec<Uuid>,
    #[serde(default)]
    pub dry_run: bool,
    /// For the real run: the `confirm_phrase` of the dry run (`merge N into <external id>`).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub confirm: Option<String>,
}

/// One reference a merge moves (or moved back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct MovedLink {
    pub link_id: Uuid,
    /// `from` or `to`: which end pointed at a merged record.
    pub end: String,
    pub was: Uuid,
    pub now: Uuid,
    pub relation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct MergeReport {
    pub dry_run: bool,
    /// The merge, once done (undo it by this id).
    pub merge_id: Option<Uuid>,
    pub survivor_id: Uuid,
    pub merged_ids: Vec<Uuid>,
    pub moved: Vec<MovedLink>,
    pub confirm_phrase: String,
    /// Until when it can be undone.
    pub undo_until: Option<DateTime<Utc>>,
}

/// One past merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct MergeRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub entity_type: String,
    pub survivor_id: Uuid,
    pub merged_ids: Vec<Uuid>,
    pub links_moved: u64,
    pub merged_by: Uuid,
    pub merged_by_name: Option<String>,
    pub merged_at: DateTime<Utc>,
    pub undone_at: Option<DateTime<Utc>>,
    /// Whether it can still be undone.
    pub undoable: bool,
}

/// A data op's typed confirmation (undo a merge, force-refresh a record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Confirmed {
    /// Run nothing: say what would happen and the phrase to type.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub confirm: Option<String>,
}

/// What a force refresh did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RefreshReport {
    pub dry_run: bool,
    pub record: CanonicalRecord,
    /// The derived fields that changed (`content_hash`, `external_key`).
    pub changed: Vec<String>,
    pub confirm_phrase: String,
}

/// One migration of the schema chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct MigrationStatus {
    pub version: String,
    /// `applied`, `pending`, or `changed` (applied, but its source differs from what ran).
    pub state: String,
    pub applied_at: Option<DateTime<Utc>>,
    /// SHA-256 of the migration's source when it ran (absent for migrations applied before
    /// checksums were kept).
    pub applied_checksum: Option<String>,
    /// SHA-256 of the source in this build.
    pub checksum: String,
}

/// Hash warnings for one entity type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct HashWarning {
    pub entity_type: String,
    /// Live records (merged ones are not counted).
    pub records: u64,
    pub distinct_hashes: u64,
    /// distinct / records: the higher, the better (1.0 = no two alike).
    pub distinct_share: f64,
    /// Records that repeat another's content: records − distinct.
    pub duplicates: u64,
}
