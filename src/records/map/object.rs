//! A borrowed parse of one JSON object.
//!
//! Keys and string values point into the item's text unless they contain escapes. Only arrays,
//! numbers, booleans and null become [`serde_json::Value`]s, so a flat record such as an
//! `EmailEvents` row costs a few allocations instead of one per key and value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

use super::source::{Cell, Entry};

/// The keys and values of a JSON object, in input order. Unlike a `serde_json::Map`, which
/// keeps the last value of a repeated key at the position of the first, it keeps every key.
#[derive(Debug, Default)]
pub(crate) struct Object<'a>(pub Vec<(Cow<'a, str>, Member<'a>)>);

/// The value of one key of an [`Object`].
#[derive(Debug)]
pub(crate) enum Member<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A nested object.
    Object(Object<'a>),
    /// Any other value: null, a boolean, a number or an array.
    Other(Json),
}

impl<'a> Object<'a> {
    /// Returns the value of the first key equal to `key`.
    pub fn get(&self, key: &str) -> Option<&Member<'a>> {
        self.0.iter().find(|(name, _)| name == key).map(|(_, value)| value)
    }

    /// Returns true when some value is a nested object.
    pub fn has_nested_object(&self) -> bool {
        self.0.iter().any(|(_, value)| matches!(value, Member::Object(_)))
    }

    /// Appends the keys and values as source entries, leaving out the key `skip`. Nested
    /// objects have no [`Cell`] form and are left out too, so callers map only objects
    /// without them.
    pub fn push_entries<'s>(&'s self, entries: &mut Vec<Entry<'s>>, skip: Option<&str>) {
        for (name, value) in &self.0 {
            if skip == Some(name.as_ref()) {
                continue;
            }
            let cell = match value {
                Member::Str(text) => Cell::Text(text),
                Member::Other(json) => Cell::Json(json),
                Member::Object(_) => continue,
            };
            entries.push(Entry { name, cell });
        }
    }
}

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor)
    }
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MemberVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Object<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some((Key(name), value)) = map.next_entry::<Key, Member>()? {
            members.push((name, value));
        }
        Ok(Object(members))
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Owned(text.to_string())))
    }

    fn visit_string<E>(self, text: String) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Owned(text)))
    }

    // Numbers, booleans and null become the same values as in a `serde_json::Value` parse.
    fn visit_bool<E>(self, value: bool) -> Result<Member<'de>, E> {
        Ok(Member::Other(Json::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Member<'de>, E> {
        Ok(Member::Other(Json::from(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Member<'de>, E> {
        Ok(Member::Other(Json::from(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Member<'de>, E> {
        Ok(Member::Other(Json::from(value)))
    }

    fn visit_unit<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::Other(Json::Null))
    }

    fn visit_none<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::Other(Json::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Member::Other(Json::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<'de>, A::Error> {
        ObjectVisitor.visit_map(map).map(Member::Object)
    }
}

/// An object key, borrowed from the text unless it contains escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(text.to_string())))
    }

    fn visit_string<E>(self, text: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(text)))
    }
}

/// Parses text that contains one JSON object, or returns `None` for invalid JSON and other
/// values.
pub(crate) fn parse(text: &str) -> Option<Object<'_>> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member_text<'o>(object: &'o Object, key: &str) -> Option<&'o str> {
        match object.get(key) {
            Some(Member::Str(text)) => Some(text),
            _ => None,
        }
    }

    #[test]
    fn strings_without_escapes_borrowed() {
        let object = parse(r#"{"Subject":"Hello","To":"a\u0040contoso.test"}"#);
        let object = object.unwrap_or_default();
        assert!(matches!(object.get("Subject"), Some(Member::Str(Cow::Borrowed("Hello")))));
        assert_eq!(member_text(&object, "To"), Some("a@contoso.test"));
    }

    #[test]
    fn scalars_match_value_parse() {
        let text =
            r#"{"a":1,"b":-2,"c":1.5,"d":true,"e":null,"f":[1,"x"],"g":18446744073709551616}"#;
        let object = parse(text).unwrap_or_default();
        let dom: serde_json::Map<String, Json> = serde_json::from_str(text).unwrap_or_default();
        assert_eq!(object.0.len(), dom.len());
        for ((key, member), (dom_key, dom_value)) in object.0.iter().zip(&dom) {
            assert_eq!(key, dom_key);
            assert!(matches!(member, Member::Other(v) if v == dom_value), "{key}");
        }
    }

    #[test]
    fn nested_object_detected() {
        let object = parse(r#"{"a":{"b":"c"},"a":1}"#).unwrap_or_default();
        assert!(object.has_nested_object());
        assert_eq!(object.0.len(), 2);
        let flat = parse(r#"{"a":"1","b":[{"c":1}]}"#).unwrap_or_default();
        assert!(!flat.has_nested_object());
    }

    #[test]
    fn non_objects_rejected() {
        assert!(parse("[1,2]").is_none());
        assert!(parse("\"text\"").is_none());
        assert!(parse("{\"a\":").is_none());
        assert!(parse("{} {}").is_none());
    }
}
