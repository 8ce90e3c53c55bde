//! The spec's examples (`openapi/examples.json`): recorded from these tests, and checked
//! against the schemas they illustrate.
//!
//! Recording: `STEWARD_RECORD_EXAMPLES=1 cargo test -p steward-backend --test it sqlite` sends
//! every request the tests make through [`record`], which keeps, for each operation, the
//! successful JSON exchange whose request and answer fit their schemas and show the most of
//! them (lists cut to three items), and the first event of each event stream a test reads
//! ([`record_stream`]); then `cargo run -p xtask -- openapi` writes them into the spec.

use axum::http::{Method, StatusCode};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
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
    /// (method, path segments, operation), from the spec.
    routes: Vec<(String, Vec<String>, Value)>,
    kept: BTreeMap<String, Recorded>,
}

impl Recorder {
    /// The operation a request went to: its id and its piece of the spec.
    fn operation(&self, method: &str, uri: &str) -> Option<(String, Value)> {
        let path = uri.split('?').next().unwrap_or(uri);
        let segments: Vec<&str> = path.split('/').collect();
        let (_, _, op) = self.routes.iter().find(|(m, template, _)| {
            m == method
                && template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| t.starts_with('{') || t == s)
        })?;
        Some((op["operationId"].as_str()?.to_owned(), op.clone()))
    }

    /// Keeps `kept` as the example of `id` unless the one kept already shows as much; notes the
    /// component values it holds either way.
    fn keep(&mut self, id: String, op: &Value, kept: Recorded) {
        let mut changed = false;
        for (name, value) in values_in(&self.spec, op, &kept) {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.kept.entry(format!("{}{name}", examples::SCHEMA))
            {
                slot.insert(Recorded { value: Some(value), ..Recorded::default() });
                changed = true;
            }
        }
        let richer = self
            .kept
            .get(&id)
            .is_none_or(|old| richness(&self.spec, op, &kept) > richness(&self.spec, op, old) && !empties(old, &kept));
        if richer {
            self.kept.insert(id, kept);
        }
        if changed || richer {
            self.save();
        }
    }

    /// Writes what is kept, without the component values an operation's example already holds.
    fn save(&mut self) {
        let mut reached = BTreeSet::new();
        for (id, kept) in &self.kept {
            if id.starts_with(examples::RESPONSE) {
                reached.insert("Problem".to_owned());
            } else if let Some((_, _, op)) = self.routes.iter().find(|(_, _, op)| op["operationId"] == id.as_str()) {
                reached.extend(values_in(&self.spec, op, kept).into_keys());
            }
        }
        self.kept.retain(|id, _| id.strip_prefix(examples::SCHEMA).is_none_or(|name| !reached.contains(name)));
        save(&self.kept);
    }
}

fn recorder() -> &'static Mutex<Recorder> {
    static RECORDER: OnceLock<Mutex<Recorder>> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let spec: Value = serde_json::from_str(&steward_backend::api::contract::spec_json().unwrap()).unwrap();
        let mut routes = Vec::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op["operationId"].is_string() {
                    routes.push((method.to_uppercase(), path.split('/').map(str::to_owned).collect(), op.clone()));
                }
            }
        }
        // Recording adds to what is recorded (empty the file to record afresh).
        Mutex::new(Recorder { spec, routes, kept: examples::recorded().unwrap_or_default() })
    })
}

/// The schema of the answer `op` gives with `status` (its first media type).
fn answer_schema<'a>(op: &'a Value, status: &str) -> Option<&'a Value> {
    op.pointer(&format!("/responses/{status}/content"))
        .and_then(Value::as_object)
        .and_then(|c| c.values().next())
        .and_then(|m| m.get("schema"))
}

/// The first value of each component schema an operation's example holds.
fn values_in(spec: &Value, op: &Value, kept: &Recorded) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    let request = kept.request.as_ref().map(|r| (op.pointer("/requestBody/content/application~1json/schema"), r));
    let answers = kept.responses.iter().map(|(status, answer)| (answer_schema(op, status), answer));
    for (schema, value) in request.into_iter().chain(answers) {
        for (name, found) in schema.map(|s| examples::found(s, value, spec)).unwrap_or_default() {
            values.entry(name).or_insert(found);
        }
    }
    values
}

/// How much of the spec an example shows: the component schemas its values reach, then the
/// lists it fills. The first exchange of an operation often answers an empty list; a later,
/// fuller one replaces it, and an equal one never does (re-recording does not churn).
fn richness(spec: &Value, op: &Value, kept: &Recorded) -> (usize, usize) {
    let lists = kept.request.iter().chain(kept.responses.values()).map(filled_lists).sum();
    (values_in(spec, op, kept).len(), lists)
}

/// Whether `new` leaves out or nulls a value `old` had: a dry run's `merge_id: null` shows
/// less than a merge's id, and a client that follows links from examples (schemathesis does)
/// would send that null on.
fn empties(old: &Recorded, new: &Recorded) -> bool {
    fn loses(old: &Value, new: &Value) -> bool {
        match (old, new) {
            (Value::Null, _) => false,
            (_, Value::Null) => true,
            (Value::Object(a), Value::Object(b)) => a.iter().any(|(k, v)| b.get(k).is_none_or(|w| loses(v, w))),
            (Value::Array(a), Value::Array(b)) => match (a.first(), b.first()) {
                (Some(x), Some(y)) => loses(x, y),
                (Some(_), None) => true,
                _ => false,
            },
            _ => false,
        }
    }
    let request = match (&old.request, &new.request) {
        (Some(a), Some(b)) => loses(a, b),
        (Some(_), None) => true,
        _ => false,
    };
    request || old.responses.iter().any(|(status, a)| new.responses.get(status).is_none_or(|b| loses(a, b)))
}

fn filled_lists(value: &Value) -> usize {
    match value {
        Value::Array(items) => usize::from(!items.is_empty()) + items.iter().map(filled_lists).sum::<usize>(),
        Value::Object(fields) => fields.values().map(filled_lists).sum(),
        _ => 0,
    }
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

/// Keeps this exchange as its operation's example if it is the first good one, or shows more
/// than the one kept.
pub fn record(method: &Method, uri: &str, request: Option<&Value>, status: StatusCode, json: bool, answer: &Value) {
    if !status.is_success() {
        record_problem(status, answer);
        return;
    }
    let mut rec = recorder().lock().unwrap_or_else(|e| e.into_inner());
    let Some((id, op)) = rec.operation(method.as_str(), uri) else { return };
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
        if !fits(&rec.spec, answer_schema(&op, status.as_str()), &answer) {
            return;
        }
        kept.responses.insert(status.as_u16().to_string(), answer);
    }
    if kept.request.is_none() && kept.responses.is_empty() {
        return;
    }
    rec.keep(id, &op, kept);
}

/// Keeps the first event of a server-sent event stream (`text` as read from a `GET` of `uri`)
/// that fits its operation's event schema: `{event, data, id}`.
pub fn record_stream(uri: &str, text: &str) {
    if !recording() {
        return;
    }
    let mut rec = recorder().lock().unwrap_or_else(|e| e.into_inner());
    let Some((id, op)) = rec.operation("GET", uri) else { return };
    for block in text.split("\n\n") {
        let mut event = serde_json::Map::new();
        for line in block.lines() {
            if let Some((field @ ("event" | "data" | "id"), value)) = line.split_once(':') {
                event.insert(field.to_owned(), Value::from(value.strip_prefix(' ').unwrap_or(value)));
            }
        }
        let event = Value::Object(event);
        if fits(&rec.spec, answer_schema(&op, "200"), &event) {
            let mut kept = Recorded::default();
            kept.responses.insert("200".into(), event);
            rec.keep(id, &op, kept);
            return;
        }
    }
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
    rec.save();
}

/// Operations and component schemas without an example, on purpose: none of the first; of the
/// second, the requests of [`CALLS_OUT`] (`InstallFromGit`, `TransferFrom`), which would name a
/// server that is gone where the example is read. This only goes down.
const WITHOUT_EXAMPLE: (usize, usize) = (0, 2);

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
            // Raw bytes (an uploaded archive) have no JSON example to give.
            None if schema["format"] == "binary" => {}
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
