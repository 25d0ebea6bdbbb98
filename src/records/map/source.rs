//! Access to the columns or keys of one input record by normalized name.
//!
//! Exports spell the same column in several ways (`NetworkMessageId`, `Network message ID`,
//! `networkMessageId`), so lookups compare names by their letters and digits only, ignoring
//! case, and ignore the ` [UTC]` suffix that Log Analytics adds to time columns.
//!
//! Every row of an input repeats the same column names, so the lookup index over the names
//! (a [`Layout`]) is built once per distinct list of names and kept in a small per-thread
//! cache. A layout also keeps results that depend only on the names, such as which column
//! fills each model field.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use serde_json::Value as Json;

use crate::records::RecordKind;

use super::schema::{ColumnKind, column_kind, is_model_name};
use super::{Family, kind_slot};

/// One cell of a record: CSV text or a JSON value.
///
/// JSON strings may be given as [`Cell::Text`], since every reader of a cell treats a JSON
/// string and CSV text alike.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cell<'a> {
    /// A CSV cell or a JSON string.
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
    /// The value.
    pub cell: Cell<'a>,
}

/// The named cells of one record, or of an object nested in it.
#[derive(Debug)]
pub(crate) struct Source<'a> {
    /// Path prefix for messages about nested keys (`Data.`), empty for the record itself.
    pub prefix: &'a str,
    entries: Vec<Entry<'a>>,
    layout: Rc<Layout>,
}

impl<'a> Source<'a> {
    /// Creates a source from the header and cells of a CSV row. Cells past the header's length
    /// are not named and so are left out; missing cells are absent.
    pub fn from_csv(header: &'a [String], cells: &'a [String]) -> Source<'a> {
        let entries =
            header.iter().zip(cells).map(|(name, cell)| Entry { name, cell: Cell::Text(cell) });
        Source::from_entries("", entries.collect())
    }

    /// Creates a source from the keys of a JSON object.
    pub fn from_object(map: &'a serde_json::Map<String, Json>, prefix: &'a str) -> Source<'a> {
        let entries = map.iter().map(|(name, value)| Entry { name, cell: Cell::Json(value) });
        Source::from_entries(prefix, entries.collect())
    }

    /// Creates a source from named cells in input order.
    pub fn from_entries(prefix: &'a str, entries: Vec<Entry<'a>>) -> Source<'a> {
        let layout = Layout::cached(&entries);
        Source { prefix, entries, layout }
    }

    /// Adds the keys of a JSON object, leaving out the key `skip`.
    pub fn extend_object(&mut self, map: &'a serde_json::Map<String, Json>, skip: Option<&str>) {
        for (name, value) in map {
            if skip != Some(name.as_str()) {
                self.entries.push(Entry { name, cell: Cell::Json(value) });
            }
        }
        self.layout = Layout::cached(&self.entries);
    }

    /// Iterates over the entries in input order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter()
    }

    /// Returns the index of the names of this source's entries.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Returns the entry at a position of [`Source::entries`].
    pub fn entry(&self, position: usize) -> Option<&Entry<'a>> {
        self.entries.get(position)
    }

    /// Looks a column up by normalized name (see the module documentation).
    pub fn get(&self, name: &str) -> Option<&Entry<'a>> {
        self.get_by_key(name_key(name), name)
    }

    /// Looks a column up by normalized name, given `key == name_key(name)`. Of several
    /// columns with the same normalized name, returns the first in input order.
    pub fn get_by_key(&self, key: u64, name: &str) -> Option<&Entry<'a>> {
        let position = self.layout.position(key, name)?;
        self.entries.get(position)
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

    /// Looks a column up like [`Source::get`], with the key computed at compile time.
    pub fn get_column(&self, column: &Column) -> Option<&Entry<'a>> {
        self.get_by_key(column.key, column.name)
    }

    /// Returns the trimmed text of the first non-blank cell among `columns`, like
    /// [`Source::text`].
    pub fn text_of(&self, columns: &[Column]) -> Option<Cow<'a, str>> {
        let mut entries = columns.iter().filter_map(|c| self.get_column(c));
        let cell = entries.find(|e| !e.cell.is_blank())?.cell;
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

/// Number of layouts that each thread keeps. An input usually has one list of names (a CSV
/// header, or the keys every NDJSON line repeats), or a few for inputs that mix tables.
const LAYOUT_CACHE_SIZE: usize = 16;

thread_local! {
    static LAYOUTS: RefCell<Vec<Rc<Layout>>> = const { RefCell::new(Vec::new()) };
}

/// A lookup index over a list of column names, with results derived from the names alone.
#[derive(Debug)]
pub(crate) struct Layout {
    /// The names, in input order.
    names: Vec<Box<str>>,
    /// `(key, position in names)` of every name, sorted, so that a lookup is a binary
    /// search instead of a scan of every column.
    index: Vec<(u64, usize)>,
    /// A 256-bit Bloom filter over the keys (bit `key % 256`). Most lookups are for columns
    /// that the record lacks, and the filter rejects most of those without a search.
    key_bits: [u64; 4],
    /// True when two names are equal (not only after normalization).
    duplicate_names: bool,
    /// Per record kind, the type of each column kept in `extra`, or `None` for a column named
    /// like a model field of the kind.
    extra_kinds: [OnceCell<Vec<Option<ColumnKind>>>; 3],
    /// Per record kind, the positions of the columns that can fill each model field, in the
    /// order of the field table (see [`Layout::field_columns`]).
    field_columns: [OnceCell<Vec<Vec<usize>>>; 3],
    /// The family of a flat row with these names, and the table of a skipped row.
    flat_detection: OnceCell<(Family, Option<&'static str>)>,
}

impl Layout {
    /// Returns the layout of the entries' names from this thread's cache, building it when
    /// the cache has none.
    fn cached(entries: &[Entry]) -> Rc<Layout> {
        LAYOUTS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some(layout) = cache.iter().find(|layout| layout.has_names(entries)) {
                return Rc::clone(layout);
            }
            let layout = Rc::new(Layout::new(entries));
            if cache.len() >= LAYOUT_CACHE_SIZE {
                cache.remove(0);
            }
            cache.push(Rc::clone(&layout));
            layout
        })
    }

    fn new(entries: &[Entry]) -> Layout {
        let names: Vec<Box<str>> = entries.iter().map(|e| Box::from(e.name)).collect();
        let mut index: Vec<(u64, usize)> =
            names.iter().enumerate().map(|(i, name)| (name_key(name), i)).collect();
        index.sort_unstable();
        let mut key_bits = [0; 4];
        for &(key, _) in &index {
            let (word, bit) = key_bit(key);
            if let Some(bits) = key_bits.get_mut(word) {
                *bits |= bit;
            }
        }
        let mut sorted: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        sorted.sort_unstable();
        let duplicate_names = sorted.windows(2).any(|pair| pair.first() == pair.last());
        Layout {
            names,
            index,
            key_bits,
            duplicate_names,
            extra_kinds: Default::default(),
            field_columns: Default::default(),
            flat_detection: OnceCell::new(),
        }
    }

    fn has_names(&self, entries: &[Entry]) -> bool {
        self.names.len() == entries.len()
            && self.names.iter().zip(entries).all(|(name, entry)| **name == *entry.name)
    }

    /// Returns true when two names are equal, not only after normalization.
    pub fn has_duplicate_names(&self) -> bool {
        self.duplicate_names
    }

    /// Returns the position of the first name equal to `name` after normalization, given
    /// `key == name_key(name)`.
    fn position(&self, key: u64, name: &str) -> Option<usize> {
        let (word, bit) = key_bit(key);
        if self.key_bits.get(word).is_none_or(|bits| bits & bit == 0) {
            return None;
        }
        let start = self.index.partition_point(|&(k, _)| k < key);
        let candidates = self.index.get(start..)?.iter().take_while(|&&(k, _)| k == key);
        candidates.map(|&(_, i)| i).find(|&i| {
            self.names.get(i).is_some_and(|n| **n == *name || same_normalized_name(n, name))
        })
    }

    /// Returns, per column, its type when it goes to `extra` for records of `kind`, or `None`
    /// when a model field of the kind has its name.
    pub fn extra_kinds(&self, kind: RecordKind) -> &[Option<ColumnKind>] {
        self.extra_kinds[kind_slot(kind)].get_or_init(|| {
            let kind_of = |name: &str| (!is_model_name(kind, name)).then(|| column_kind(name));
            self.names.iter().map(|name| kind_of(name)).collect()
        })
    }

    /// Returns the result of `detect`, which must depend on the names alone, computing it on
    /// the first call only.
    pub fn flat_detection(
        &self,
        detect: impl FnOnce() -> (Family, Option<&'static str>),
    ) -> (Family, Option<&'static str>) {
        *self.flat_detection.get_or_init(detect)
    }

    /// Returns, for each entry of `columns` (the column-name keys of each model field of a
    /// kind), the positions of the columns found, in the order of the column names. The result
    /// is computed on the first call per kind, so every call for a kind must pass the same
    /// table.
    pub fn field_columns(&self, kind: RecordKind, columns: &[Vec<(u64, &str)>]) -> &[Vec<usize>] {
        self.field_columns[kind_slot(kind)].get_or_init(|| {
            let found = |names: &Vec<(u64, &str)>| {
                names.iter().filter_map(|&(key, name)| self.position(key, name)).collect()
            };
            columns.iter().map(found).collect()
        })
    }
}

/// A column name known at compile time, with its [`name_key`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    /// The name.
    pub name: &'static str,
    /// `name_key(name)`.
    key: u64,
}

impl Column {
    /// Creates a column from an ASCII name without a ` [UTC]` suffix, for which a hash of the
    /// lower-cased letters and digits equals [`name_key`].
    pub const fn new(name: &'static str) -> Column {
        let bytes = name.as_bytes();
        let mut hash = FNV_OFFSET;
        let mut i = 0;
        while i < bytes.len() {
            let byte = bytes[i];
            if byte.is_ascii_alphanumeric() {
                hash ^= byte.to_ascii_lowercase() as u64;
                hash = hash.wrapping_mul(FNV_PRIME);
            }
            i += 1;
        }
        Column { name, key: hash }
    }

    /// Returns true when the key computed at compile time equals [`name_key`] of the name.
    #[cfg(test)]
    pub fn key_matches_name(&self) -> bool {
        self.key == name_key(self.name)
    }
}

/// Creates a `&'static [Column]` of the names, with the keys computed at compile time.
macro_rules! columns {
    ($($name:literal),* $(,)?) => {
        const { &[$($crate::records::map::source::Column::new($name)),*] }
    };
}
pub(crate) use columns;

/// Returns the word and the bit mask of a key in [`Source::key_bits`].
fn key_bit(key: u64) -> (usize, u64) {
    let slot = (key % 256) as usize;
    (slot / 64, 1 << (slot % 64))
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

/// Returns the normalized form of a name: its letters and digits, lower-cased.
pub(crate) fn normalized_name(name: &str) -> String {
    let name = strip_utc_suffix(name);
    if name.is_ascii() {
        return ascii_normalized_bytes(name).map(char::from).collect();
    }
    normalized_chars(name).collect()
}

/// Iterates over the lower-cased letters and digits of an ASCII name. For ASCII text this
/// gives the same result as [`normalized_chars`], without Unicode case mapping.
fn ascii_normalized_bytes(name: &str) -> impl Iterator<Item = u8> + '_ {
    name.bytes().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_lowercase())
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// Hashes the normalized form of a name (FNV-1a over its UTF-8 bytes), without allocating.
pub(crate) fn name_key(name: &str) -> u64 {
    let name = strip_utc_suffix(name);
    let mut hash = FNV_OFFSET;
    let mut add = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    };
    if name.is_ascii() {
        // Fast path with the same result as the general one: for ASCII, `char::is_alphanumeric`
        // and `char::to_lowercase` agree with their `ascii` forms.
        ascii_normalized_bytes(name).for_each(add);
    } else {
        for c in normalized_chars(name) {
            let mut buf = [0u8; 4];
            c.encode_utf8(&mut buf).bytes().for_each(&mut add);
        }
    }
    hash
}

/// Compares two names by their normalized forms.
pub(crate) fn same_normalized_name(a: &str, b: &str) -> bool {
    let (a, b) = (strip_utc_suffix(a), strip_utc_suffix(b));
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
        assert_eq!(
            name_key("Größe"),
            name_key("GRÖSSE".to_lowercase().replace("ss", "ß").as_str())
        );
    }

    #[test]
    fn ascii_fast_path_matches_general_hash() {
        for name in ["Sender Address", "TimeGenerated [UTC]", "x_1-Y"] {
            let general = normalized_name(name)
                .bytes()
                .fold(FNV_OFFSET, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME));
            assert_eq!(name_key(name), general, "{name}");
        }
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
    fn duplicate_normalized_names_return_first() {
        let header: Vec<String> =
            ["Subject", "Sender address", "SenderAddress"].map(String::from).into();
        let cells: Vec<String> =
            ["s", "first@contoso.test", "second@contoso.test"].map(String::from).into();
        let source = Source::from_csv(&header, &cells);
        let entry = source.get("sender_address");
        assert_eq!(entry.map(|e| e.name), Some("Sender address"));
        assert!(source.get("Recipient").is_none());
        assert!(source.get("").is_none());
    }

    #[test]
    fn lookup_finds_every_column_of_wide_row() {
        let header: Vec<String> = (0..300).map(|i| format!("Column {i}")).collect();
        let cells: Vec<String> = (0..300).map(|i| i.to_string()).collect();
        let source = Source::from_csv(&header, &cells);
        for i in 0..300 {
            let text = source.text(&[format!("column{i}").as_str()]);
            assert_eq!(text.as_deref(), Some(i.to_string().as_str()), "column {i}");
        }
        assert!(source.get("column300").is_none());
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
