//! Examples in the spec, from real requests and answers. `openapi/examples.json` holds, by
//! operation id, a request body the server took and the answer it gave (recorded from the
//! integration tests: `STEWARD_RECORD_EXAMPLES=1 cargo test -p steward-backend --test it`).
//! The spec generator puts them on each operation, and on each component schema the first
//! value that answer or request holds for it; the contract test checks each one against its
//! schema.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The prefix of an entry that illustrates a shared problem response rather than an operation.
pub const RESPONSE: &str = "response:";

/// The prefix of an entry that holds a value of a component schema no operation's example
/// reaches (met in another exchange: a list the kept example left empty).
pub const SCHEMA: &str = "schema:";

/// The recorded examples, as committed.
const RECORDED: &str = include_str!("../../../openapi/examples.json");

/// One operation's example: the request body (if it takes one) and its answer by status.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub responses: BTreeMap<String, Value>,
    /// A `schema:` entry's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The committed examples by operation id.
pub fn recorded() -> Result<BTreeMap<String, Recorded>, String> {
    serde_json::from_str(RECORDED).map_err(|e| format!("openapi/examples.json: {e}"))
}

/// Puts the recorded examples on their operations and the values found inside them on the
/// component schemas. An example naming an operation, request body or status the spec does
/// not have is an error: re-record.
pub fn apply(spec: &mut Value) -> Result<(), String> {
    let mut examples = recorded()?;
    let mut found: BTreeMap<String, Value> = BTreeMap::new();
    let components = spec.get("components").cloned().unwrap_or(Value::Null);
    let paths = spec.get_mut("paths").and_then(Value::as_object_mut).ok_or("no paths")?;
    for item in paths.values_mut() {
        for op in item.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
            let Some(id) = op.get("operationId").and_then(Value::as_str).map(str::to_owned) else { continue };
            let Some(example) = examples.remove(&id) else { continue };
            if let Some(request) = example.request {
                let media = op
                    .pointer_mut("/requestBody/content/application~1json")
                    .and_then(Value::as_object_mut)
                    .ok_or(format!("examples.json: `{id}` takes no JSON body"))?;
                illustrate(media, request, &components, &mut found);
            }
            for (status, answer) in example.responses {
                let media = first_media(op.pointer_mut(&format!("/responses/{status}/content")))
                    .ok_or(format!("examples.json: `{id}` declares no {status} body"))?;
                illustrate(media, answer, &components, &mut found);
            }
        }
    }
    // `response:<Name>`: a problem answer shared by many operations (`components/responses`).
    let shared: Vec<String> = examples.keys().filter(|k| k.starts_with(RESPONSE)).cloned().collect();
    for key in shared {
        let name = &key[RESPONSE.len()..];
        let Some(answer) = examples.remove(&key).and_then(|e| e.responses.into_values().next()) else { continue };
        let media = first_media(spec.pointer_mut(&format!("/components/responses/{name}/content")))
            .ok_or(format!("examples.json names the response `{name}`, which the spec does not have"))?;
        illustrate(media, answer, &components, &mut found);
    }
    // `schema:<Name>`: a value of a component that no example above holds.
    let values: Vec<String> = examples.keys().filter(|k| k.starts_with(SCHEMA)).cloned().collect();
    for key in values {
        let name = &key[SCHEMA.len()..];
        if components.pointer(&format!("/schemas/{name}")).is_none() {
            return Err(format!("examples.json names the schema `{name}`, which the spec does not have: re-record"));
        }
        if let Some(value) = examples.remove(&key).and_then(|e| e.value) {
            found.entry(name.to_owned()).or_insert(value);
        }
    }
    if let Some(id) = examples.keys().next() {
        return Err(format!("examples.json names `{id}`, which the spec does not have: re-record"));
    }
    let schemas = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut).ok_or("no schemas")?;
    for (name, value) in found {
        if let Some(schema) = schemas.get_mut(&name).and_then(Value::as_object_mut) {
            schema.entry("examples").or_insert_with(|| Value::Array(vec![value]));
        }
    }
    // A closed set no recorded value met (a query parameter's type) is its own example.
    for schema in schemas.values_mut().filter_map(Value::as_object_mut) {
        if let Some(values) = schema.get("enum").cloned().filter(|_| !schema.contains_key("examples")) {
            schema.insert("examples".into(), values);
        }
    }
    Ok(())
}

/// The first value of each component schema that a value of `schema` holds.
pub fn found(schema: &Value, value: &Value, spec: &Value) -> BTreeMap<String, Value> {
    let mut found = BTreeMap::new();
    collect(schema, value, spec.get("components").unwrap_or(&Value::Null), &mut found);
    found
}

/// The first media type of a `content` object (each answer here has one).
fn first_media(content: Option<&mut Value>) -> Option<&mut Map<String, Value>> {
    content.and_then(Value::as_object_mut).and_then(|c| c.values_mut().next()).and_then(Value::as_object_mut)
}

/// Puts `example` on a media type, noting the component values it holds along its schema.
fn illustrate(media: &mut Map<String, Value>, example: Value, components: &Value, found: &mut BTreeMap<String, Value>) {
    if let Some(schema) = media.get("schema") {
        collect(schema, &example, components, found);
    }
    media.insert("example".into(), example);
}

/// Walks `value` along `schema`, noting the first value met for each component schema.
fn collect(schema: &Value, value: &Value, components: &Value, found: &mut BTreeMap<String, Value>) {
    let Some(schema) = schema.as_object() else { return };
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        // The first value met names the component; later ones are still walked, for what they
        // hold that the first did not (a list the first left empty).
        found.entry(name.to_owned()).or_insert_with(|| value.clone());
        if let Some(target) = components.pointer(&format!("/schemas/{name}")) {
            collect(target, value, components, found);
        }
        return;
    }
    for branch in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        collect(branch, value, components, found);
    }
    // A nullable reference (`oneOf: [null, X]`): the non-null branch when the value is not null.
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let others: Vec<&Value> = branches.iter().filter(|b| b.get("type") != Some(&Value::from("null"))).collect();
            if let ([only], false) = (others.as_slice(), value.is_null()) {
                collect(only, value, components, found);
            }
        }
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, inner) in fields {
                if let Some(sub) = properties.and_then(|p| p.get(key)) {
                    collect(sub, inner, components, found);
                } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                    collect(extra, inner, components, found);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                items.iter().for_each(|item| collect(sub, item, components, found));
            }
        }
        _ => {}
    }
}

/// Shortens a recorded value for the spec: lists keep their first three items.
pub fn shorten(value: &mut Value) {
    match value {
        Value::Array(items) => {
            items.truncate(3);
            items.iter_mut().for_each(shorten);
        }
        Value::Object(fields) => fields.values_mut().for_each(shorten),
        _ => {}
    }
}

/// The schema document a value of `schema` (a piece of the spec) is checked against: the
/// piece, with the spec's components beside it so its references resolve.
pub fn checkable(schema: &Value, spec: &Value) -> Value {
    let mut doc = Map::new();
    doc.insert("allOf".into(), Value::Array(vec![schema.clone()]));
    doc.insert("components".into(), spec.get("components").cloned().unwrap_or(Value::Null));
    Value::Object(doc)
}
