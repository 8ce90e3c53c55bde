//! The spec's examples (`openapi/examples.json`): recorded from these tests, and checked
//! against the schemas they illustrate.
//!
//! Recording: `STEWARD_RECORD_EXAMPLES=1 cargo test -p steward-backend --test it sqlite` sends
//! every request the tests make through [`record`], which keeps, for each operation, the first
//! successful JSON exchange whose request and answer fit their schemas (lists cut to three
//! items); then `cargo run -p xtask -- openapi` writes them into the spec.

use axum::http::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use steward_backend::api::examples::{self, Recorded};

/// Operations whose request names another server (a source platform, a Git remote).
const CALLS_OUT: &[&str] = &["install_application_transfer", "install_application_git"];

/// Whether this run records examples.
pub fn recording() -> bool {
    std::env::var_os("STEWARD_RECORD_EXAMPLES").is_some()
}

struct Recorder {
    spec: Value,
    /// (method, path segments, operation id), from the spec.
    routes: Vec<(String, Vec<String>, String)>,
    kept: BTreeMap<String, Recorded>,
}

fn recorder() -> &'static Mutex<Recorder> {
    static RECORDER: OnceLock<Mutex<Recorder>> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
        let mut routes = Vec::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if let Some(id) = op["operationId"].as_str() {
                    routes.push((method.to_uppercase(), path.split('/').map(str::to_owned).collect(), id.to_owned()));
                }
            }
        }
        // Recording adds to what is recorded (empty the file to record afresh).
        Mutex::new(Recorder { spec, routes, kept: examples::recorded().unwrap_or_default() })
    })
}

fn fits(spec: &Value, schema: Option<&Value>, value: &Value) -> bool {
    let Some(validator) = schema.and_then(|s| jsonschema::validator_for(&examples::checkable(s, spec)).ok()) else {
        return false;
    };
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path)).collect();
    if !errors.is_empty() {
        eprintln!("not kept as an example: {errors:?}");
    }
    errors.is_empty()
}

/// Keeps this exchange as its operation's example if it is the first good one.
pub fn record(method: &Method, uri: &str, request: Option<&Value>, status: StatusCode, json: bool, answer: &Value) {
    if !status.is_success() {
        record_problem(status, answer);
        return;
    }
    let path = uri.split('?').next().unwrap_or(uri);
    let segments: Vec<&str> = path.split('/').collect();
    let mut rec = recorder().lock().unwrap_or_else(|e| e.into_inner());
    let Some(id) = rec
        .routes
        .iter()
        .find(|(m, template, _)| {
            m == method.as_str()
                && template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| t.starts_with('{') || t == s)
        })
        .map(|(_, _, id)| id.clone())
    else {
        return;
    };
    if rec.kept.contains_key(&id) {
        return;
    }
    let op = rec.spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .find(|op| op["operationId"] == id.as_str())
        .cloned()
        .unwrap();
    let mut kept = Recorded::default();
    // A body sent to an operation that takes none (`{}` out of habit) is no example of anything;
    // nor is one naming a server the test ran, which is gone where the example is read.
    let request = request.filter(|_| !CALLS_OUT.contains(&id.as_str()));
    if let (Some(request), Some(schema)) = (request, op.pointer("/requestBody/content/application~1json/schema")) {
        let mut request = request.clone();
        examples::shorten(&mut request);
        if !fits(&rec.spec, Some(schema), &request) {
            return;
        }
        kept.request = Some(request);
    }
    if json && !answer.is_null() {
        let mut answer = answer.clone();
        examples::shorten(&mut answer);
        let content = op.pointer(&format!("/responses/{}/content", status.as_u16())).and_then(Value::as_object);
        if !fits(&rec.spec, content.and_then(|c| c.values().next()).and_then(|m| m.get("schema")), &answer) {
            return;
        }
        kept.responses.insert(status.as_u16().to_string(), answer);
    }
    if kept.request.is_none() && kept.responses.is_empty() {
        return;
    }
    rec.kept.insert(id, kept);
    save(&rec.kept);
}

fn save(kept: &BTreeMap<String, Recorded>) {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/examples.json");
    std::fs::write(file, serde_json::to_string_pretty(kept).unwrap() + "\n").unwrap();
}

/// The shared problem response a status is answered with (`components/responses`).
fn shared_response(status: StatusCode) -> Option<&'static str> {
    Some(match status.as_u16() {
        400 => "BadRequest",
        401 => "Unauthenticated",
        403 => "Forbidden",
        404 => "NotFound",
        415 => "UnsupportedMediaType",
        422 => "ValidationFailed",
        428 => "ConfirmationRequired",
        _ => return None,
    })
}

/// Keeps the first problem answer of each shared response that fits the `Problem` schema.
fn record_problem(status: StatusCode, answer: &Value) {
    let Some(name) = shared_response(status) else { return };
    let key = format!("{}{name}", examples::RESPONSE);
    let mut rec = recorder().lock().unwrap_or_else(|e| e.into_inner());
    if rec.kept.contains_key(&key) || !answer.is_object() {
        return;
    }
    let schema = serde_json::json!({ "$ref": "#/components/schemas/Problem" });
    if !fits(&rec.spec, Some(&schema), answer) {
        return;
    }
    let mut kept = Recorded::default();
    kept.responses.insert(status.as_u16().to_string(), answer.clone());
    rec.kept.insert(key, kept);
    save(&rec.kept);
}

/// Operations and component schemas that have no example yet: this only goes down.
const WITHOUT_EXAMPLE: (usize, usize) = (5, 21);

/// Every example in the spec fits the schema it illustrates, and the count of operations and
/// schemas without one does not grow.
#[test]
fn every_example_fits_its_schema() {
    let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
    let mut checked = 0;
    let mut bare_operations = 0;
    let mut check = |what: String, schema: &Value, example: &Value| {
        let validator = jsonschema::validator_for(&examples::checkable(schema, &spec)).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(example).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{what}: the example does not fit its schema (re-record): {errors:?}");
        checked += 1;
    };
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            // Only an operation that takes or answers JSON has something to show.
            let answers_json = op["responses"].as_object().unwrap().iter().any(|(status, answer)| {
                status.starts_with('2') && answer.pointer("/content/application~1json").is_some()
            });
            let mut any = op.pointer("/requestBody/content/application~1json").is_none() && !answers_json;
            if let Some(media) = op.pointer("/requestBody/content/application~1json") {
                if let Some(example) = media.get("example") {
                    check(format!("{id} request"), &media["schema"], example);
                    any = true;
                }
            }
            for (status, answer) in op["responses"].as_object().unwrap() {
                for media in answer.get("content").and_then(Value::as_object).into_iter().flat_map(|c| c.values()) {
                    if let Some(example) = media.get("example") {
                        check(format!("{id} {status}"), &media["schema"], example);
                        any = true;
                    }
                }
            }
            bare_operations += usize::from(!any);
        }
    }
    for (name, answer) in spec["components"]["responses"].as_object().unwrap() {
        for media in answer.get("content").and_then(Value::as_object).into_iter().flat_map(|c| c.values()) {
            if let Some(example) = media.get("example") {
                check(format!("response {name}"), &media["schema"], example);
            }
        }
    }
    let mut bare_schemas = 0;
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        match schema.get("examples").and_then(Value::as_array) {
            Some(list) => list.iter().for_each(|e| {
                check(
                    format!("schema {name}"),
                    &serde_json::json!({ "$ref": format!("#/components/schemas/{name}") }),
                    e,
                )
            }),
            None => bare_schemas += 1,
        }
    }
    assert!(
        bare_operations <= WITHOUT_EXAMPLE.0 && bare_schemas <= WITHOUT_EXAMPLE.1,
        "{bare_operations} operations and {bare_schemas} schemas without an example (at most {:?}): record them",
        WITHOUT_EXAMPLE
    );
    eprintln!("{checked} examples fit; {bare_operations} operations and {bare_schemas} schemas have none");
}
