//! Extractors whose rejections are problem details, naming the bad field where there is one.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use steward_shared::problem::FieldError;

use crate::http::error::AppError;

/// JSON body. Wrong content type → 415, unreadable JSON → 400, not a JSON object, a control
/// character in a string, or a wrong shape → 422 naming the field, too large → 413.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(AppError::UnsupportedMediaType(
                "Send the body as JSON with `Content-Type: application/json`.".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge("The request body is larger than the server accepts.".into())
            } else {
                AppError::BadRequest { code: "unreadable_body", detail: rejection.body_text() }
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// A `.tar.gz` body (`Content-Type: application/gzip`, `application/x-gzip` or
/// `application/octet-stream`). Wrong content type → 415, past the route's limit → 413.
pub struct ApiArchive(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiArchive {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                ["application/gzip", "application/x-gzip", "application/octet-stream"]
                    .contains(&m.trim().to_ascii_lowercase().as_str())
            })
            .unwrap_or(false);
        if !ok {
            return Err(AppError::UnsupportedMediaType(
                "Send the archive as the body with `Content-Type: application/gzip`.".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge("The archive is larger than the server accepts.".into())
            } else {
                AppError::BadRequest { code: "unreadable_body", detail: rejection.body_text() }
            }
        })?;
        Ok(Self(bytes))
    }
}

/// Fields whose text may span lines: tab, newline and carriage return are allowed in them (and
/// in anything nested under them); every other string refuses all control characters.
pub const MULTILINE_FIELDS: &[&str] = &["description", "reason", "payload", "summary", "body", "note"];

/// Parses a JSON document into `T` with problem-shaped errors. The document must be an object
/// (serde would otherwise map an array onto a struct's fields by position), and no string in
/// it, key or value, may hold a control character (NUL never; tab and newline only in
/// [`MULTILINE_FIELDS`]).
pub fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let duplicate = std::cell::RefCell::new(None);
    let read = serde::de::DeserializeSeed::deserialize(Unique { path: String::new(), duplicate: &duplicate }, &mut de);
    if let Some(field) = duplicate.into_inner() {
        return Err(AppError::field(field, "appears more than once in its object: send each key once"));
    }
    let value = read.map_err(|e| malformed(&e))?;
    de.end().map_err(|e| malformed(&e))?;
    if !value.is_object() {
        return Err(AppError::field(".", "the body must be a JSON object"));
    }
    let mut errors = Vec::new();
    screen(&value, "", false, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    serde_path_to_error::deserialize(value).map_err(|err| match err.inner().classify() {
        serde_json::error::Category::Data => field_error(&err.path().to_string(), &err.inner().to_string()),
        _ => malformed(err.inner()),
    })
}

/// Reads a JSON document into a `Value` as serde_json does, except that an object naming a key
/// twice is refused instead of keeping the last one (two readers of one body must never
/// disagree about what it says). The duplicate's path is left in `duplicate`.
struct Unique<'a> {
    path: String,
    duplicate: &'a std::cell::RefCell<Option<String>>,
}

impl Unique<'_> {
    fn child(&self, key: &str) -> Self {
        let path = if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) };
        Unique { path, duplicate: self.duplicate }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Unique<'_> {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Unique<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // JSON Schema counts `2.0` as the integer 2, and so does the server: an integer field
        // takes it (serde alone would refuse a float there).
        if v.fract() == 0.0 && (-9.0e15..=9.0e15).contains(&v) {
            return Ok((v as i64).into());
        }
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&items.len().to_string()))? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&key);
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(child.path);
                return Err(serde::de::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(child)?;
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}

/// Collects a field error for every string under `value` holding a character it may not.
fn screen(value: &serde_json::Value, path: &str, multiline: bool, errors: &mut Vec<FieldError>) {
    use serde_json::Value;
    let join = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        Value::String(s) => {
            if let Some(message) = refused_character(s, multiline) {
                errors.push(FieldError { field: if path.is_empty() { ".".into() } else { path.into() }, message });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                screen(item, &join(&i.to_string()), multiline, errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let field = join(key);
                if let Some(message) = refused_character(key, false) {
                    errors.push(FieldError { field: field.clone(), message: format!("its name {message}") });
                    continue;
                }
                screen(item, &field, multiline || MULTILINE_FIELDS.contains(&key.as_str()), errors);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Why `text` is refused, if it is: a control character (C0, DEL or C1), except tab, newline
/// and carriage return where the field is multi-line.
pub fn refused_character(text: &str, multiline: bool) -> Option<String> {
    let bad = text.chars().find(|c| c.is_control() && !(multiline && matches!(c, '\t' | '\n' | '\r')))?;
    Some(match bad {
        '\0' => "must not contain a NUL character".into(),
        '\t' | '\n' | '\r' => "must be a single line (no tab or line break)".into(),
        other => format!("must not contain the control character U+{:04X}", other as u32),
    })
}

/// A 422 naming the field a deserializer complained about. A missing field is reported at its
/// parent, so the field is named from the message; other paths already end with the field.
fn field_error(path: &str, message: &str) -> AppError {
    let msg = message.split(" at line ").next().unwrap_or(message).to_string();
    let field = match msg.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
        Some(name) if path == "." || path.is_empty() => name.to_string(),
        Some(name) => format!("{path}.{name}"),
        None => path.to_string(),
    };
    AppError::field(if field.is_empty() { ".".into() } else { field }, msg)
}

/// Query string parameters; a bad or missing parameter → 422 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let errors: Vec<FieldError> = form_urlencoded_parse(query)
            .filter_map(|(key, value)| {
                let message = refused_character(&key, false).or_else(|| refused_character(&value, false))?;
                Some(FieldError { field: key.into_owned(), message })
            })
            .collect();
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| field_error(&err.path().to_string(), &err.inner().to_string()))
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// Path parameters; one that does not parse (a malformed id) → 400 naming it.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|rejection| AppError::BadRequest { code: "invalid_path_parameter", detail: rejection.body_text() })
    }
}

fn malformed(err: &serde_json::Error) -> AppError {
    AppError::BadRequest { code: "malformed_json", detail: format!("The body is not valid JSON: {err}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: u8,
    }

    fn field_of(err: AppError) -> String {
        match err {
            AppError::Validation(f) => f.first().map(|f| f.field.clone()).unwrap_or_default(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn names_missing_wrong_and_unknown_fields() {
        assert_eq!(field_of(parse::<Body>(br#"{"age": 3}"#).unwrap_err()), "email");
        assert_eq!(field_of(parse::<Body>(br#"{"email": "a", "age": "x"}"#).unwrap_err()), "age");
        assert_eq!(field_of(parse::<Body>(br#"{"email": "a", "age": 1, "role": 1}"#).unwrap_err()), "role");
    }

    #[test]
    fn bodies_are_objects_of_clean_text() {
        // An array would fill the fields by position.
        assert_eq!(field_of(parse::<Body>(br#"["a@example.com", 3]"#).unwrap_err()), ".");
        assert_eq!(field_of(parse::<Body>(b"{\"email\": \"a\\u0000b\", \"age\": 1}").unwrap_err()), "email");
        assert_eq!(field_of(parse::<Body>(b"{\"email\": \"a\\nb\", \"age\": 1}").unwrap_err()), "email");
        assert_eq!(field_of(parse::<Body>(b"{\"email\": \"a\\u001bb\", \"age\": 1}").unwrap_err()), "email");
        assert_eq!(field_of(parse::<Body>(b"{\"email\": \"a\\u0085b\", \"age\": 1}").unwrap_err()), "email");
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Note {
            description: String,
            tags: Vec<String>,
        }
        assert!(parse::<Note>(b"{\"description\": \"two\\nlines\\tok\", \"tags\": []}").is_ok());
        assert_eq!(
            field_of(parse::<Note>(b"{\"description\": \"nul\\u0000\", \"tags\": []}").unwrap_err()),
            "description"
        );
        assert_eq!(
            field_of(parse::<Note>(b"{\"description\": \"\", \"tags\": [\"a\", \"b\\n\"]}").unwrap_err()),
            "tags.1"
        );
    }

    #[test]
    fn a_key_sent_twice_is_refused_by_name() {
        assert_eq!(field_of(parse::<Body>(br#"{"email": "a", "age": 1, "email": "b"}"#).unwrap_err()), "email");
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Nested {
            items: Vec<serde_json::Value>,
        }
        let nested = br#"{"items": [{"a": 1}, {"b": {"c": 1, "c": 2}}]}"#;
        assert_eq!(field_of(parse::<Nested>(nested).unwrap_err()), "items.1.b.c");
        let fine = parse::<Nested>(br#"{"items": [{"a": 1.5, "b": null, "c": [true, -3, 18446744073709551615]}]}"#);
        assert_eq!(
            fine.unwrap().items,
            vec![serde_json::json!({"a": 1.5, "b": null, "c": [true, -3, 18446744073709551615u64]})]
        );
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse::<Body>(b"{\"email\": ").unwrap_err(),
            AppError::BadRequest { code: "malformed_json", .. }
        ));
        assert!(matches!(parse::<Body>(br#"{"email": "a", "age": 1} x"#).unwrap_err(), AppError::BadRequest { .. }));
    }
}
