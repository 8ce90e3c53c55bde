//! Optional request fields where leaving the field out is the only way to say "none".
//!
//! A request field is either optional (absent means its default, or "unchanged" in an update)
//! or nullable (`null` clears it), never both by accident: `Option` fields of request bodies
//! carry `deserialize_with = "not_null"`, `skip_serializing_if = "Option::is_none"` and a
//! non-nullable schema, so `null` is a 422 naming the field and clients simply leave it out.
//! The few fields where `null` means something of its own (a run-time setting's `null` resets
//! it) are `Option<Option<T>>` and say so.

use serde::de::Error;
use serde::{Deserialize, Deserializer};

/// Deserializes a present value; `null` is refused ("leave the field out").
pub fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<T>::deserialize(d)? {
        Some(value) => Ok(Some(value)),
        None => Err(D::Error::custom("may be left out, but is never null")),
    }
}

/// For `Option<Option<T>>` fields where `null` means something of its own: a present field is
/// `Some`, holding `None` for `null` and `Some(v)` for a value (absent stays `None`).
pub fn null_resets<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::not_null")]
        name: Option<String>,
    }

    #[test]
    fn absent_is_none_a_value_is_some_and_null_is_refused() {
        assert_eq!(serde_json::from_str::<Body>("{}").unwrap().name, None);
        assert_eq!(serde_json::from_str::<Body>(r#"{"name":"x"}"#).unwrap().name.as_deref(), Some("x"));
        let err = serde_json::from_str::<Body>(r#"{"name":null}"#).unwrap_err();
        assert!(err.to_string().contains("never null"), "{err}");
    }
}
