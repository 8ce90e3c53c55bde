//! Wire types of the applications pages (DESIGN §7a, seed 004): installed applications and
//! their versions, import errors, and the packages they require.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "server")]
use utoipa::ToSchema;

/// Where an application's bundles come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AppSource {
    /// Uploaded `.tar.gz` archives.
    Archive,
    /// A Git repository and branch.
    Git,
}

impl AppSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Archive => "archive",
            Self::Git => "git",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "git" {
            Self::Git
        } else {
            Self::Archive
        }
    }
}

/// One installed application, as the Applications list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ApplicationRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub source: AppSource,
    /// The repository, for Git applications.
    pub git_url: Option<String>,
    pub git_branch: Option<String>,
    /// Inactive applications add nothing: their models, templates and connector kinds are
    /// withdrawn until activated again.
    pub active: bool,
    /// The version in use (semver).
    pub version: Option<String>,
    pub version_id: Option<Uuid>,
    /// The Git commit the version in use came from.
    pub git_commit: Option<String>,
    /// Import errors of the version in use.
    pub errors: i64,
    /// Flows made from its templates.
    pub flows: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One installed version of an application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct VersionRow {
    pub id: Uuid,
    pub version: String,
    pub git_commit: Option<String>,
    /// SHA-256 of the normalized bundle, hex.
    pub digest: String,
    pub files: i32,
    pub bundle_bytes: i64,
    pub errors: i32,
    pub installed_by: Option<Uuid>,
    pub installed_at: DateTime<Utc>,
    /// Whether this is the version in use.
    pub current: bool,
}

/// A data model (entity type) a version brings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct AppModel {
    pub name: String,
    pub label: String,
}

/// A flow template a version brings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct FlowTemplateRow {
    pub id: Uuid,
    pub application: String,
    pub name: String,
    pub label: String,
    /// The entity type its runs work on.
    pub entity_type: String,
    /// Its steps' kinds, in order.
    pub steps: Vec<String>,
}

/// A connector kind a version brings, and how its health is probed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ConnectorKindRow {
    /// What a connector of this kind names as its `kind`.
    pub kind: String,
    pub label: String,
    /// The application that brings it.
    pub application: String,
    /// `GET /health`-style: the method and path the probe requests.
    pub probe: String,
}

/// A package a version requires, and the installed version it resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RequirementRow {
    pub package: String,
    /// A semver range (`^1.2`, `>=0.27, <0.29`).
    pub range: String,
    /// Absent when nothing installed satisfies it (an import error says why).
    pub resolved: Option<String>,
}

/// An application with its versions and what its version in use brings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ApplicationDetail {
    pub application: ApplicationRow,
    /// Newest first.
    pub versions: Vec<VersionRow>,
    pub models: Vec<AppModel>,
    pub templates: Vec<FlowTemplateRow>,
    pub connector_kinds: Vec<ConnectorKindRow>,
    pub requirements: Vec<RequirementRow>,
}

/// What an install or update did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct InstallReport {
    pub application: ApplicationRow,
    pub version: VersionRow,
    /// False when this exact bundle was installed already (the version in use is switched to
    /// it, nothing else changes).
    pub created: bool,
    pub models: usize,
    pub templates: usize,
    pub connector_kinds: usize,
    pub packages: usize,
    /// What failed to import; the rest installed.
    pub errors: Vec<ImportErrorRow>,
}

/// Install an application from a Git repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InstallFromGit {
    /// `https://…` (or `file://…` where the server allows it).
    #[cfg_attr(feature = "server", schema(max_length = 2048))]
    pub url: String,
    #[cfg_attr(feature = "server", schema(max_length = 255))]
    pub branch: String,
    /// A commit of the branch to install (40 hex digits); the branch head when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub commit: Option<String>,
}

/// Pin an application from Git to another commit of its branch (seed 004's Edit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PinCommit {
    /// A commit of the branch, 7–40 hex digits.
    pub commit: String,
}

/// Switch an application to another of its installed versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SwitchVersion {
    pub version_id: Uuid,
}

/// Delete an application: the query of `DELETE /api/applications/{application_id}` (its name,
/// typed, goes in `X-Steward-Confirm`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
pub struct DeleteApplication {
    /// Delete even while flows use it (they keep their steps and lose the link).
    #[serde(default)]
    pub force: bool,
}

/// How bad an import error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The file or model did not install.
    Error,
    /// It installed, with something to look at.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }

    /// Higher is worse: the Import errors page's order.
    pub fn rank(self) -> i16 {
        match self {
            Self::Error => 1,
            Self::Warning => 0,
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "warning" {
            Self::Warning
        } else {
            Self::Error
        }
    }
}

/// Something that failed to import from a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ImportErrorRow {
    pub id: Uuid,
    pub application_id: Uuid,
    pub application: String,
    pub version_id: Uuid,
    pub version: String,
    pub severity: Severity,
    /// Stable: `invalid_json`, `invalid_schema`, `invalid_template`, `invalid_connector_kind`,
    /// `model_conflict`, `package_missing`, `package_conflict`, `invalid_package`,
    /// `unknown_file`.
    pub code: String,
    /// The bundle file, relative to its root.
    pub file: String,
    /// The model, template, connector kind or package concerned.
    pub model: Option<String>,
    pub message: String,
    /// The parser's or validator's own words, with the place in the file.
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

/// A package version the installed applications carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct PackageRow {
    pub id: Uuid,
    pub name: String,
    pub version: String,
    /// Where it is unpacked on this replica.
    pub install_path: String,
    pub digest: String,
    pub files: i32,
    pub bytes: i64,
    /// The applications whose version in use resolved a requirement to it.
    pub applications: Vec<String>,
    pub installed_at: DateTime<Utc>,
}

/// A commit of a Git application's branch (what Edit can pin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct CommitRow {
    pub sha: String,
    pub summary: String,
    pub author: String,
    pub committed_at: DateTime<Utc>,
    /// The version installed from this commit, if any.
    pub installed_version: Option<String>,
    /// Whether the version in use came from it.
    pub current: bool,
}

/// Mint a transfer token: what it may export and for how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MintTransferToken {
    /// One application; absent: every installed application.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub application_id: Option<Uuid>,
    /// 1 to 60; 15 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::absent::not_null")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub ttl_minutes: Option<u32>,
}

/// A transfer token, shown this once: give it to the admin of the other platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TransferToken {
    pub id: Uuid,
    pub token: String,
    /// The application it exports; `None`: every one.
    pub application: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// What a source platform's export endpoint answers: the bundles of the version in use of each
/// application the token names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TransferExport {
    pub applications: Vec<ExportedApplication>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ExportedApplication {
    pub name: String,
    pub version: String,
    /// SHA-256 over the bundle's paths and contents (the version's digest): the receiver
    /// checks the unpacked bundle against it.
    pub digest: String,
    /// SHA-256 of the archive bytes.
    pub archive_sha256: String,
    /// The `.tar.gz`, base64.
    pub archive_base64: String,
}

/// Fetch applications from another Steward with a transfer token minted there, and install them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransferFrom {
    /// The source platform's address (`https://steward-a.example.com`).
    pub source_url: String,
    pub token: String,
}

/// What a transfer installed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct TransferReport {
    pub source_url: String,
    pub installed: Vec<InstallReport>,
}
