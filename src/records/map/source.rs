//! Access to the columns or keys of one input record by normalized name.
//!
//! Exports spell the same column in several ways (`NetworkMessageId`, `Network message ID`,
//! `networkMessageId`), so lookups compare names by their letters and digits only, ignoring
//! case, and ignore the ` [UTC]` suffix that Log Analytics adds to time columns.

use std::borrow::Cow;

use serde_json::Value as Json;

/// One cell of a record: CSV text or a JSON value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cell<'a> {
    /// A CSV cell.
    Text(&'a str),
    /// A JSON value.
    Json(&'a Json),
}

impl<'a> Cell<'a> {
    /// Returns the cell as text: CSV text, a JSON string, or a JSON number or boolean printed.
    /// Null, arrays and objects have no text.
    pub fn text(self) -> Option<Cow<'a, str>> {
        match self {
            Cell::Text(s) => Some(Cow::Borrowed(s)),
            Cell::Json(Json::String(s)) => Some(Cow::Borrowed(s)),
            Cell::Json(Json::Number(n)) => Some(Cow::Owned(n.to_string())),
            Cell::Json(Json::Bool(b)) => Some(Cow::Owned(b.to_string())),
            Cell::Json(_) => None,
        }
    }

    /// Returns the text of a CSV cell or a JSON string.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Cell::Text(s) => Some(s),
            Cell::Json(Json::String(s)) => Some(s),
            Cell::Json(_) => None,
        }
    }

    /// Returns true for an empty or blank cell, JSON null, and an empty JSON array or object.
    pub fn is_blank(self) -> bool {
        if let Some(s) = self.as_str() {
            return s.trim().is_empty();
        }
        match self {
            Cell::Json(Json::Null) => true,
            Cell::Json(Json::Array(items)) => items.is_empty(),
            Cell::Json(Json::Object(map)) => map.is_empty(),
            Cell::Json(_) | Cell::Text(_) => false,
        }
    }

    /// Returns the JSON object in the cell: a JSON object, or a string holding one.
    pub fn object(self) -> Option<Cow<'a, serde_json::Map<String, Json>>> {
        match self {
            Cell::Json(Json::Object(map)) => Some(Cow::Borrowed(map)),
            other => other.as_str().and_then(parse_object).map(Cow::Owned),
        }
    }
}

/// Parses text that contains a JSON object.
pub(crate) fn parse_object(text: &str) -> Option<serde_json::Map<String, Json>> {
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    match serde_json::from_str(trimmed) {
        Ok(Json::Object(map)) => Some(map),
        _ => None,
    }
}

/// A named cell of a record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<'a> {
    /// The column or key name as exported.
    pub name: &'a str,
    /// The normalized-name hash of `name`, see [`name_key`].
    key: u64,
    /// The value.
    pub cell: Cell<'a>,
}

/// The named cells of one record, or of an object nested in it.
#[derive(Debug, Default)]
pub(crate) struct Source<'a> {
    /// Path prefix for messages about nested keys (`Data.`), empty for the record itself.
    pub prefix: &'a str,
    entries: Vec<Entry<'a>>,
}

impl<'a> Source<'a> {
    /// Creates a source from the header and cells of a CSV row. Cells past the header's length
    /// are not named and so are left out; missing cells are absent.
    pub fn from_csv(header: &'a [String], cells: &'a [String]) -> Source<'a> {
        let entries = header
            .iter()
            .zip(cells)
            .map(|(name, cell)| Entry { name, key: name_key(name), cell: Cell::Text(cell) })
            .collect();
        Source { prefix: "", entries }
    }

    /// Creates a source from the keys of a JSON object.
    pub fn from_object(map: &'a serde_json::Map<String, Json>, prefix: &'a str) -> Source<'a> {
        let mut source = Source { prefix, entries: Vec::with_capacity(map.len()) };
        source.extend_object(map, None);
        source
    }

    /// Adds the keys of a JSON object, leaving out the key `skip`.
    pub fn extend_object(&mut self, map: &'a serde_json::Map<String, Json>, skip: Option<&str>) {
        for (name, value) in map {
            if skip != Some(name.as_str()) {
                self.entries.push(Entry { name, key: name_key(name), cell: Cell::Json(value) });
            }
        }
    }

    /// Iterates over the entries in input order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter()
    }

    /// Looks a column up by normalized name (see the module documentation).
    pub fn get(&self, name: &str) -> Option<&Entry<'a>> {
        let key = name_key(name);
        self.entries.iter().find(|e| e.key == key && same_normalized_name(e.name, name))
    }

    /// Returns the first non-blank cell among `names`, tried in order.
    pub fn first(&self, names: &[&str]) -> Option<&Entry<'a>> {
        names.iter().filter_map(|n| self.get(n)).find(|e| !e.cell.is_blank())
    }

    /// Returns the trimmed text of the first non-blank cell among `names`.
    pub fn text(&self, names: &[&str]) -> Option<Cow<'a, str>> {
        let cell = self.first(names)?.cell;
        match cell.text()? {
            Cow::Borrowed(s) => Some(Cow::Borrowed(s.trim())),
            Cow::Owned(s) => Some(Cow::Owned(s.trim().to_string())),
        }
    }

    /// Returns true when a column of that normalized name exists, blank or not.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Strips the ` [UTC]` suffix that Log Analytics CSV exports append to time column names.
pub(crate) fn strip_utc_suffix(name: &str) -> &str {
    let trimmed = name.trim_end();
    match trimmed.len().checked_sub(6).and_then(|n| trimmed.get(n..).map(|tail| (n, tail))) {
        Some((n, tail)) if tail.eq_ignore_ascii_case(" [utc]") => trimmed.get(..n).unwrap_or(name),
        _ => name,
    }
}

/// Iterates over the lower-cased letters and digits of a name.
fn normalized_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    strip_utc_suffix(name).chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase)
}

/// Iterates over the lower-cased letters and digits of an ASCII name: the same characters as
/// [`normalized_chars`], without Unicode case mapping. Mapping normalizes every column name of
/// every row, and this path cut its instructions per row by about a third.
fn ascii_normalized_bytes(name: &str) -> impl Iterator<Item = u8> + '_ {
    strip_utc_suffix(name).bytes().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_lowercase())
}

/// Returns the normalized form of a name: its letters and digits, lower-cased.
pub(crate) fn normalized_name(name: &str) -> String {
    if name.is_ascii() {
        return ascii_normalized_bytes(name).map(char::from).collect();
    }
    normalized_chars(name).collect()
}

/// FNV-1a offset basis and prime.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// Hashes the normalized form of a name (FNV-1a), without allocating.
pub(crate) fn name_key(name: &str) -> u64 {
    let mut hash = FNV_OFFSET;
    if name.is_ascii() {
        for byte in ascii_normalized_bytes(name) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(FNV_PRIME);
        }
        return hash;
    }
    for c in normalized_chars(name) {
        let mut buf = [0u8; 4];
        for byte in c.encode_utf8(&mut buf).bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(FNV_PRIME);
        }
    }
    hash
}

/// Compares two names by their normalized forms.
pub(crate) fn same_normalized_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return ascii_normalized_bytes(a).eq(ascii_normalized_bytes(b));
    }
    normalized_chars(a).eq(normalized_chars(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_names_ignore_case_and_separators() {
        assert!(same_normalized_name("Network message ID", "NetworkMessageId"));
        assert!(same_normalized_name("networkMessageId", "network_message_id"));
        assert!(same_normalized_name("TimeGenerated [UTC]", "TimeGenerated"));
        assert!(!same_normalized_name("Sender", "SenderIP"));
        assert_eq!(name_key("Delivery action"), name_key("deliveryAction"));
    }

    #[test]
    fn ascii_fast_path_matches_unicode_rules() {
        let names = ["NetworkMessageId", "Network message ID", "TimeGenerated [UTC]", "a_b-C9", ""];
        for name in names {
            let general: String = normalized_chars(name).collect();
            assert_eq!(normalized_name(name), general, "{name}");
            let mut hash = FNV_OFFSET;
            for byte in general.bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(FNV_PRIME);
            }
            assert_eq!(name_key(name), hash, "{name}");
        }
        assert!(same_normalized_name("Größe", "GRÖSSE") == same_normalized_name("größe", "grösse"));
        assert!(same_normalized_name("Empfänger", "empfänger"));
        assert!(!same_normalized_name("Empfänger", "Empfanger"));
    }

    #[test]
    fn csv_lookup_by_normalized_name() {
        let header = vec!["Sender address".to_string(), "Recipient".to_string()];
        let cells = vec!["a@contoso.test".to_string(), String::new()];
        let source = Source::from_csv(&header, &cells);
        assert_eq!(source.text(&["senderaddress"]).as_deref(), Some("a@contoso.test"));
        assert!(source.has("recipient"));
        assert!(source.first(&["recipient"]).is_none());
    }

    #[test]
    fn short_row_has_no_missing_cells() {
        let header = vec!["A".to_string(), "B".to_string()];
        let cells = vec!["1".to_string()];
        let source = Source::from_csv(&header, &cells);
        assert_eq!(source.entries().count(), 1);
    }

    #[test]
    fn json_string_holding_object_parsed() {
        let value = Json::String(r#"{"Upn":"u@contoso.test"}"#.to_string());
        let object = Cell::Json(&value).object();
        assert_eq!(object.and_then(|m| m.get("Upn").cloned()), Some(Json::from("u@contoso.test")));
    }
}
