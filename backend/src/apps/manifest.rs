//! What a bundle says: its manifest (`steward.json`), its models (`models/<name>.json`, JSON
//! Schemas), flow templates (`flows/<name>.json`), connector kinds (`connectors/<kind>.json`)
//! and the packages it carries (`packages/<name>/<version>/…`). A broken manifest refuses the
//! whole bundle; anything else that fails becomes an import error and the rest installs.

use semver::{Version, VersionReq};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use steward_shared::apps::Severity;

use crate::apps::bundle::{self, Bundle, MANIFEST};
use crate::http::error::AppError;
use steward_shared::problem::FieldError;

/// Something that did not import (or imported with a warning).
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub severity: Severity,
    pub code: &'static str,
    pub file: String,
    pub model: Option<String>,
    pub message: String,
    pub detail: String,
}

impl Issue {
    fn error(code: &'static str, file: &str, model: Option<&str>, message: String, detail: String) -> Self {
        Self { severity: Severity::Error, code, file: file.into(), model: model.map(Into::into), message, detail }
    }
}

/// The manifest at the bundle's root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// Package name → semver range.
    #[serde(default)]
    pub requires: BTreeMap<String, String>,
}

/// A flow template's definition: what its runs do, step by step, on one entity type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowDefinition {
    #[serde(default)]
    pub label: Option<String>,
    pub entity_type: String,
    pub steps: Vec<Step>,
    /// A run taking longer fails (and may be retried).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    /// How many times a failed run is tried again.
    #[serde(default)]
    pub retries: u32,
    /// The wait before the first retry; doubled for each next one.
    #[serde(default = "default_backoff")]
    pub backoff_seconds: u32,
}

fn default_timeout() -> u32 {
    60
}

fn default_backoff() -> u32 {
    5
}

/// One step of a run, over every live record of the flow's customer and entity type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Check each record against the entity type's schema.
    Validate {},
    /// Compute each record's content hash and normalized fields.
    Hash {},
    /// Flag groups of records sharing a content hash.
    Dedupe {},
    /// Change each record's payload.
    Map { ops: Vec<MapOp> },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Validate {} => "validate",
            Self::Hash {} => "hash",
            Self::Dedupe {} => "dedupe",
            Self::Map { .. } => "map",
        }
    }
}

/// A field mapping, by JSON pointer into the payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum MapOp {
    Set { path: String, value: Value },
    Rename { from: String, to: String },
    Drop { path: String },
}

/// A connector kind and the probe that says whether a connector of it is healthy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorKind {
    #[serde(default)]
    pub label: Option<String>,
    pub health: Probe,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    #[serde(default = "default_method")]
    pub method: String,
    /// Requested on the connector's endpoint.
    pub path: String,
    #[serde(default = "default_probe_timeout")]
    pub timeout_ms: u32,
    /// Statuses that count as healthy.
    #[serde(default = "default_healthy")]
    pub healthy_status: Vec<u16>,
    /// Slower than this is `degraded`.
    #[serde(default = "default_slow")]
    pub slow_ms: u32,
    /// The header the connector's key goes in (`Authorization: Bearer <key>` when absent).
    #[serde(default)]
    pub key_header: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}

fn default_probe_timeout() -> u32 {
    2_000
}

fn default_healthy() -> Vec<u16> {
    vec![200]
}

fn default_slow() -> u32 {
    1_000
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub name: String,
    pub label: String,
    pub schema: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    pub definition: FlowDefinition,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Kind {
    pub kind: String,
    pub definition: ConnectorKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub name: String,
    pub version: Version,
    pub files: BTreeMap<String, Vec<u8>>,
    pub digest: String,
}

/// A bundle read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub manifest: RawManifest,
    pub version: Version,
    pub requires: Vec<(String, VersionReq)>,
    pub models: Vec<Model>,
    pub templates: Vec<Template>,
    pub kinds: Vec<Kind>,
    pub packages: Vec<Package>,
    pub issues: Vec<Issue>,
}

fn is_name(s: &str, max: usize, extra: &[char]) -> bool {
    let mut chars = s.chars();
    s.len() <= max
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
}

/// An application's name: lower case, digits and `-`, 2–64 characters, a letter first.
pub fn is_app_name(s: &str) -> bool {
    s.len() >= 2 && is_name(s, 64, &['-'])
}

/// A model or template name: lower case, digits and `_`, a letter first, at most 64.
fn is_model_name(s: &str) -> bool {
    is_name(s, 64, &['_'])
}

/// A package name: lower case, digits, `.`, `_` and `-`, at most 128.
fn is_package_name(s: &str) -> bool {
    is_name(s, 128, &['.', '_', '-'])
}

/// Reads JSON into `T`, or says where and why it fails.
fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, (&'static str, String)> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        let code = if inner.is_syntax() || inner.is_eof() { "invalid_json" } else { "invalid_definition" };
        (code, if at == "." { inner.to_string() } else { format!("at `{at}`: {inner}") })
    })
}

fn stem<'a>(rest: &'a str, ext: &str) -> Option<&'a str> {
    rest.strip_suffix(ext).filter(|s| !s.contains('/'))
}

/// Reads the manifest, or the 422 that refuses the bundle.
fn manifest(bundle: &Bundle) -> Result<(RawManifest, Version), AppError> {
    let body = bundle
        .files
        .get(MANIFEST)
        .ok_or_else(|| AppError::field("archive", format!("has no `{MANIFEST}` at its root")))?;
    let m: RawManifest = read(body).map_err(|(_, why)| AppError::field("manifest", why))?;
    let mut errors = Vec::new();
    if !is_app_name(&m.name) {
        errors.push(FieldError {
            field: "manifest.name".into(),
            message: "must be 2–64 characters of a-z, 0-9 and `-`, starting with a letter".into(),
        });
    }
    let version = Version::parse(&m.version);
    if let Err(e) = &version {
        errors.push(FieldError { field: "manifest.version".into(), message: format!("is not a semver version: {e}") });
    }
    if m.description.chars().count() > 500 {
        errors.push(FieldError {
            field: "manifest.description".into(),
            message: "must be at most 500 characters".into(),
        });
    }
    match version {
        Ok(v) if errors.is_empty() => Ok((m, v)),
        _ => Err(AppError::Validation(errors)),
    }
}

fn pointer_ok(p: &str) -> bool {
    p.starts_with('/') && p.len() > 1 && p.len() <= 512
}

/// What is wrong with a template's definition beyond its shape (`known`: the entity types it
/// may name).
fn check_template(d: &FlowDefinition, known: &dyn Fn(&str) -> bool) -> Option<String> {
    if d.steps.is_empty() {
        return Some("`steps` is empty: a template needs at least one step".into());
    }
    if d.steps.len() > 50 {
        return Some("`steps` has more than 50 steps".into());
    }
    if !known(&d.entity_type) {
        return Some(format!(
            "`entity_type` `{}` is neither a platform entity type nor a model of this bundle",
            d.entity_type
        ));
    }
    if !(1..=3600).contains(&d.timeout_seconds) {
        return Some("`timeout_seconds` must be between 1 and 3600".into());
    }
    if d.retries > 10 {
        return Some("`retries` must be at most 10".into());
    }
    if !(1..=3600).contains(&d.backoff_seconds) {
        return Some("`backoff_seconds` must be between 1 and 3600".into());
    }
    for (i, step) in d.steps.iter().enumerate() {
        let Step::Map { ops } = step else { continue };
        if ops.is_empty() {
            return Some(format!("`steps[{i}].ops` is empty"));
        }
        for (j, op) in ops.iter().enumerate() {
            let bad = match op {
                MapOp::Set { path, .. } | MapOp::Drop { path } => (!pointer_ok(path)).then_some(path),
                MapOp::Rename { from, to } => [from, to].into_iter().find(|p| !pointer_ok(p)),
            };
            if let Some(p) = bad {
                return Some(format!("`steps[{i}].ops[{j}]`: `{p}` is not a JSON pointer into the payload (`/field`)"));
            }
        }
    }
    None
}

fn check_kind(k: &ConnectorKind) -> Option<String> {
    let p = &k.health;
    if !["GET", "HEAD", "POST"].contains(&p.method.as_str()) {
        return Some("`health.method` must be GET, HEAD or POST".into());
    }
    if !p.path.starts_with('/') || p.path.len() > 512 || p.path.contains("://") {
        return Some("`health.path` must be a path on the connector's endpoint, starting with `/`".into());
    }
    if !(100..=30_000).contains(&p.timeout_ms) {
        return Some("`health.timeout_ms` must be between 100 and 30000".into());
    }
    if p.healthy_status.is_empty() || p.healthy_status.iter().any(|s| !(100..=599).contains(s)) {
        return Some("`health.healthy_status` must list HTTP statuses (100–599)".into());
    }
    if p.key_header
        .as_deref()
        .is_some_and(|h| h.is_empty() || !h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Some("`health.key_header` must be a header name".into());
    }
    None
}

/// Reads every file of the bundle. `platform_type` says whether an entity type exists outside
/// the bundle (a template may work on those too).
pub fn parse(bundle: &Bundle, platform_type: &dyn Fn(&str) -> bool) -> Result<Parsed, AppError> {
    let (manifest, version) = manifest(bundle)?;
    let mut issues = Vec::new();
    let mut requires = Vec::new();
    for (name, range) in &manifest.requires {
        if !is_package_name(name) {
            issues.push(Issue::error(
                "invalid_requirement",
                MANIFEST,
                Some(name),
                format!("`{name}` is not a package name"),
                "Package names are lower case letters, digits, `.`, `_` and `-`, a letter first.".into(),
            ));
            continue;
        }
        match VersionReq::parse(range) {
            Ok(req) => requires.push((name.clone(), req)),
            Err(e) => issues.push(Issue::error(
                "invalid_requirement",
                MANIFEST,
                Some(name),
                format!("`{range}` is not a semver range"),
                e.to_string(),
            )),
        }
    }

    let mut models = Vec::new();
    for (rest, body) in bundle.under("models") {
        let file = format!("models/{rest}");
        let Some(name) = stem(rest, ".json") else {
            issues.push(unknown(&file));
            continue;
        };
        if !is_model_name(name) {
            issues.push(Issue::error(
                "invalid_schema",
                &file,
                Some(name),
                format!("`{name}` is not a model name"),
                "Model names are lower case letters, digits and `_`, a letter first, at most 64.".into(),
            ));
            continue;
        }
        let schema: Value = match read(body) {
            Ok(v) => v,
            Err((code, why)) => {
                issues.push(Issue::error(code, &file, Some(name), format!("model `{name}` is not valid JSON"), why));
                continue;
            }
        };
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            issues.push(Issue::error(
                "invalid_schema",
                &file,
                Some(name),
                format!("model `{name}` does not describe an object"),
                "A model's schema must have `\"type\": \"object\"` at its root: records are JSON objects.".into(),
            ));
            continue;
        }
        if let Err(e) = jsonschema::validator_for(&schema) {
            issues.push(Issue::error(
                "invalid_schema",
                &file,
                Some(name),
                format!("model `{name}` is not a valid JSON Schema"),
                format!("at `{}`: {e}", e.schema_path),
            ));
            continue;
        }
        let label = schema.get("title").and_then(Value::as_str).unwrap_or(name).chars().take(200).collect();
        models.push(Model { name: name.into(), label, schema });
    }

    let ours: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    let known = |t: &str| ours.iter().any(|m| m == t) || platform_type(t);
    let mut templates = Vec::new();
    for (rest, body) in bundle.under("flows") {
        let file = format!("flows/{rest}");
        let Some(name) = stem(rest, ".json").filter(|n| is_model_name(n)) else {
            issues.push(unknown(&file));
            continue;
        };
        match read::<FlowDefinition>(body) {
            Ok(d) => match check_template(&d, &known) {
                None => templates.push(Template { name: name.into(), definition: d }),
                Some(why) => issues.push(Issue::error(
                    "invalid_template",
                    &file,
                    Some(name),
                    format!("flow template `{name}` cannot be used"),
                    why,
                )),
            },
            Err((code, why)) => issues.push(Issue::error(
                if code == "invalid_json" { code } else { "invalid_template" },
                &file,
                Some(name),
                format!("flow template `{name}` does not parse"),
                why,
            )),
        }
    }

    let mut kinds = Vec::new();
    for (rest, body) in bundle.under("connectors") {
        let file = format!("connectors/{rest}");
        let Some(kind) = stem(rest, ".json").filter(|n| is_model_name(n)) else {
            issues.push(unknown(&file));
            continue;
        };
        match read::<ConnectorKind>(body) {
            Ok(k) => match check_kind(&k) {
                None => kinds.push(Kind { kind: kind.into(), definition: k }),
                Some(why) => issues.push(Issue::error(
                    "invalid_connector_kind",
                    &file,
                    Some(kind),
                    format!("connector kind `{kind}` cannot be used"),
                    why,
                )),
            },
            Err((code, why)) => issues.push(Issue::error(
                if code == "invalid_json" { code } else { "invalid_connector_kind" },
                &file,
                Some(kind),
                format!("connector kind `{kind}` does not parse"),
                why,
            )),
        }
    }

    let mut carried: BTreeMap<(String, String), BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for (rest, body) in bundle.under("packages") {
        let mut parts = rest.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(v), Some(path)) => {
                carried.entry((n.into(), v.into())).or_default().insert(path.into(), body.to_vec());
            }
            _ => issues.push(unknown(&format!("packages/{rest}"))),
        }
    }
    let mut packages = Vec::new();
    for ((name, raw_version), files) in carried {
        let file = format!("packages/{name}/{raw_version}");
        let version = match Version::parse(&raw_version) {
            Ok(v) if is_package_name(&name) => v,
            Ok(_) => {
                issues.push(Issue::error(
                    "invalid_package",
                    &file,
                    Some(&name),
                    format!("`{name}` is not a package name"),
                    "Package names are lower case letters, digits, `.`, `_` and `-`, a letter first.".into(),
                ));
                continue;
            }
            Err(e) => {
                issues.push(Issue::error(
                    "invalid_package",
                    &file,
                    Some(&name),
                    format!("`{raw_version}` is not a semver version"),
                    e.to_string(),
                ));
                continue;
            }
        };
        let digest = bundle::files_digest(files.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
        packages.push(Package { name, version, files, digest });
    }

    for path in bundle.files.keys() {
        let top = path.split('/').next().unwrap_or_default();
        if path.contains('/') && !["models", "flows", "connectors", "packages"].contains(&top) {
            issues.push(Issue {
                severity: Severity::Warning,
                code: "unknown_file",
                file: path.clone(),
                model: None,
                message: format!("`{path}` is not read"),
                detail: "Bundles hold `steward.json`, `models/`, `flows/`, `connectors/` and `packages/`; files at the root (a README) are kept, other directories are ignored.".into(),
            });
        }
    }

    Ok(Parsed { manifest, version, requires, models, templates, kinds, packages, issues })
}

fn unknown(file: &str) -> Issue {
    Issue {
        severity: Severity::Warning,
        code: "unknown_file",
        file: file.into(),
        model: None,
        message: format!("`{file}` is not read"),
        detail: "Models, flow templates and connector kinds are `<name>.json` files directly in their directory; packages are `packages/<name>/<version>/…`.".into(),
    }
}
