//! The backend's layering, checked over its source: each top-level module may use only the
//! modules before it in [`LAYERS`] (the order `src/lib.rs` documents), only `api` assembles
//! the areas' `routes`, and no two source files import each other through any chain. The
//! console (`frontend/src`) is held to the same: no import circle, and no page reaches up into
//! `app` (the router, which imports every page).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Low to high. A module may use its own layer and the layers before it.
const LAYERS: &[&[&str]] = &[
    &["config"],
    &["secrets", "store", "telemetry"],
    &["http"],
    &["state"],
    &["access"],
    &["audit"],
    &["mail"],
    &["identity"],
    &["roles"],
    &["tenancy"],
    &["data"],
    &["apps"],
    &["directory"],
    &["ops"],
    &["api"],
    &["lib", "main"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// A source file: its module path (`identity::routes::auth`) and its text without comments.
struct Source {
    module: Vec<String>,
    file: PathBuf,
    code: String,
}

fn sources() -> Vec<Source> {
    sources_in(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

fn frontend_sources() -> Vec<Source> {
    sources_in(Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/src"))
}

fn sources_in(root: PathBuf) -> Vec<Source> {
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap().with_extension("");
                let mut module: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                if module.last().is_some_and(|l| l == "mod") {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text
                    .lines()
                    .map(|l| match l.find("//") {
                        Some(i) => &l[..i],
                        None => l,
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                out.push(Source { module, file: path, code });
            }
        }
    }
    out.sort_by(|a, b| a.module.cmp(&b.module));
    out
}

/// Every `crate::a::b::…` path in the code, as its segments (braces cut the path short).
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let preceded = code[..i].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
        if preceded {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        let path: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
        let segments: Vec<String> = path.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if !segments.is_empty() {
            out.push(segments);
        }
    }
    out
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let mut violations = Vec::new();
    for source in sources() {
        let own = source.module.first().map(String::as_str).unwrap_or("lib");
        let own_rank = rank(own).unwrap_or_else(|| panic!("`{own}` is in no layer: add it to LAYERS and lib.rs"));
        for path in crate_paths(&source.code) {
            let Some(target) = path.first() else { continue };
            let Some(target_rank) = rank(target) else {
                violations.push(format!("{}: `crate::{}` is in no layer", source.file.display(), path.join("::")));
                continue;
            };
            if target_rank > own_rank {
                violations.push(format!("{}: {own} uses `crate::{}` above it", source.file.display(), path.join("::")));
            }
        }
    }
    assert!(violations.is_empty(), "imports that point up the layers:\n{}", violations.join("\n"));
}

#[test]
fn only_api_assembles_routes() {
    let mut violations = Vec::new();
    for source in sources() {
        let own = source.module.first().map(String::as_str).unwrap_or("lib");
        for path in crate_paths(&source.code) {
            let area = path.first().map(String::as_str);
            let into_routes = path.iter().any(|s| s == "routes");
            let inside_own_routes = area == Some(own) && source.module.iter().any(|s| s == "routes");
            if into_routes && own != "api" && !inside_own_routes {
                violations.push(format!("{}: uses `crate::{}`", source.file.display(), path.join("::")));
            }
        }
    }
    assert!(violations.is_empty(), "services may not reach into routes:\n{}", violations.join("\n"));
}

#[test]
fn no_two_files_import_each_other() {
    if let Some(cycle) = import_circle(&sources()) {
        panic!("an import circle: {}", cycle.join(" -> "));
    }
}

#[test]
fn no_two_console_files_import_each_other() {
    if let Some(cycle) = import_circle(&frontend_sources()) {
        panic!("an import circle in the console: {}", cycle.join(" -> "));
    }
}

#[test]
fn console_pages_never_import_the_router() {
    let mut violations = Vec::new();
    for source in frontend_sources() {
        if source.module.first().is_some_and(|m| m == "pages" || m == "components") {
            for path in crate_paths(&source.code) {
                if path.first().is_some_and(|m| m == "app") {
                    violations.push(format!("{}: uses `crate::{}`", source.file.display(), path.join("::")));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "pages and widgets take what they need from below `app`:\n{}",
        violations.join("\n")
    );
}

/// The first chain of file imports that comes back to where it started, if any.
fn import_circle(sources: &[Source]) -> Option<Vec<String>> {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    // Names a `mod.rs` re-exports (`pub use child::{A, B}`), so a path through the parent
    // counts as a use of the child.
    let mut reexports: BTreeMap<(Vec<String>, String), Vec<String>> = BTreeMap::new();
    for s in sources {
        for line in s.code.lines().map(str::trim).filter(|l| l.starts_with("pub use ")) {
            let body = line.trim_start_matches("pub use ").trim_end_matches(';');
            let (child, names) = match body.split_once("::") {
                Some((child, names)) => (child, names),
                None => continue,
            };
            for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
                let name = name.trim().rsplit("::").next().unwrap_or("").to_owned();
                let mut target = s.module.clone();
                target.push(child.to_owned());
                reexports.insert((s.module.clone(), name), target);
            }
        }
    }
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        let mut best = None;
        for n in 1..=path.len() {
            let prefix = path[..n].to_vec();
            if modules.contains(&prefix) {
                best = Some(prefix.clone());
                if let Some(next) = path.get(n) {
                    if let Some(target) = reexports.get(&(prefix, next.clone())) {
                        best = Some(target.clone());
                    }
                }
            }
        }
        best
    };
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for s in sources {
        for path in crate_paths(&s.code) {
            if let Some(target) = resolve(&path) {
                // A parent naming its children (`pub mod`, re-exports) is not a use.
                if target != s.module && !target.starts_with(&s.module) {
                    edges.entry(s.module.clone()).or_default().insert(target);
                }
            }
        }
    }
    // Depth-first search for a back edge.
    let mut state: BTreeMap<Vec<String>, u8> = BTreeMap::new();
    let mut stack: Vec<Vec<String>> = Vec::new();
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle: Vec<String> = stack[start..].iter().map(|m| m.join("::")).collect();
                cycle.push(node.join("::"));
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    edges.keys().find_map(|node| visit(node, &edges, &mut state, &mut stack))
}

#[test]
fn shared_holds_no_server_code() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/Cargo.toml")).unwrap();
    let server_only = ["axum", "sea-orm", "tokio", "utoipa", "sqlx"];
    let mut in_dependencies = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        let name = line.split(['=', ' ', '.']).next().unwrap_or("");
        if in_dependencies && server_only.contains(&name) {
            assert!(line.contains("optional = true"), "shared depends on `{name}` unconditionally: {line}");
        }
    }
}
