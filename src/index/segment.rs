//! One segment: the stored originals (`.rec` file) and the structures derived from them
//! (`.idx` file).
//!
//! Record ids are dense u32 values local to the segment, in the order the records were added.
//! Each ingest batch is sorted by time before it is appended, so within a batch a time window
//! is an id range.

use std::collections::{BTreeMap, HashMap};

use roaring::RoaringBitmap;

use super::codec::{DecodeError, Decoder, Encoder};
use crate::filter::schema::FieldSource;
use crate::records::{Record, Role, UserRef, Value};
use crate::text::fold_value_into;

/// Magic of a records file.
pub const RECORDS_MAGIC: &[u8; 4] = b"TQRC";
/// Magic of a derived-structures file.
pub const INDEX_MAGIC: &[u8; 4] = b"TQIX";

/// A field with more distinct values than this in one segment gets no per-value
/// bitmaps; queries on it are answered by testing the candidate records.
pub const MAX_FIELD_VALUES: usize = 64;

/// Time column value of a record without a time.
pub const NO_TIME: i64 = i64::MIN;

/// Time column value of a record whose field is absent or null, so no time window matches.
pub const TIME_ABSENT: i64 = i64::MIN;
/// Time column value of a record whose field holds something else than one instant (a list,
/// or text that a query would parse), so the record must be tested one by one.
pub const TIME_COMPLEX: i64 = i64::MIN + 1;

/// The original of one record, enough to map it again exactly as at ingest.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRecord {
    /// Index of the record's source in the manifest.
    pub source: u32,
    /// 1-based line where the record starts in its input.
    pub line: u64,
    /// The original content.
    pub body: StoredBody,
}

/// The original content of a record.
#[derive(Clone, Debug, PartialEq)]
pub enum StoredBody {
    /// A JSON object as compact text.
    Json(String),
    /// The cells of a CSV row; the header is kept once per source.
    Csv(Vec<String>),
}

/// Encodes the originals of a segment.
pub fn encode_records(records: &[StoredRecord]) -> Vec<u8> {
    let mut writer = RecordsWriter::default();
    records.iter().for_each(|record| writer.push(record));
    writer.finish(None)
}

/// Encodes originals one at a time, so that a segment's records need not be held as values.
pub struct RecordsWriter {
    encoder: Encoder,
    /// Payload offset where each record starts.
    starts: Vec<usize>,
}

impl Default for RecordsWriter {
    fn default() -> Self {
        let mut encoder = Encoder::default();
        // The record count, set by `finish`.
        encoder.len(0);
        RecordsWriter { encoder, starts: Vec::new() }
    }
}

impl RecordsWriter {
    /// Appends a record.
    pub fn push(&mut self, record: &StoredRecord) {
        self.starts.push(self.encoder.payload_len());
        encode_record(record, &mut self.encoder);
    }

    /// Returns the number of records appended.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Returns true when no record was appended.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Returns the file bytes. With `order`, the file contains the records in that order of the
    /// positions they were appended at; `order` must name each position once.
    pub fn finish(mut self, order: Option<&[u32]>) -> Vec<u8> {
        let Some(order) = order else {
            self.encoder.set_u64(0, self.starts.len() as u64);
            return self.encoder.finish(RECORDS_MAGIC);
        };
        let mut sorted = Encoder::default();
        sorted.len(order.len());
        let end = self.encoder.payload_len();
        for position in order {
            let position = *position as usize;
            let start = self.starts.get(position).copied().unwrap_or(end);
            let next = self.starts.get(position + 1).copied().unwrap_or(end);
            sorted.bytes(self.encoder.payload_slice(start, next));
        }
        sorted.finish(RECORDS_MAGIC)
    }
}

/// Appends one record of a records file, in the layout that [`decode_records`] reads.
pub(crate) fn encode_record(record: &StoredRecord, encoder: &mut Encoder) {
    encoder.u32(record.source);
    encoder.u64(record.line);
    match &record.body {
        StoredBody::Json(text) => {
            encoder.u8(0);
            encoder.str(text);
        }
        StoredBody::Csv(cells) => {
            encoder.u8(1);
            encoder.len(cells.len());
            for cell in cells {
                encoder.str(cell);
            }
        }
    }
}

/// Decodes the originals of a segment.
pub fn decode_records(bytes: &[u8]) -> Result<Vec<StoredRecord>, DecodeError> {
    let mut decoder = Decoder::open(bytes, RECORDS_MAGIC)?;
    let count = decoder.len(13)?;
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let source = decoder.u32()?;
        let line = decoder.u64()?;
        let body = match decoder.u8()? {
            0 => StoredBody::Json(decoder.str()?),
            1 => {
                let cells = decoder.len(8)?;
                let mut row = Vec::with_capacity(cells);
                for _ in 0..cells {
                    row.push(decoder.str()?);
                }
                StoredBody::Csv(row)
            }
            other => return Err(decoder.error(format!("invalid record body tag {other}"))),
        };
        records.push(StoredRecord { source, line, body });
    }
    decoder.end()?;
    Ok(records)
}

/// The user reference fields that address resolution reads: object id first, then address.
/// Postings are kept per key as written, so they stay valid when the directory changes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefKey {
    /// Entra object id as written.
    pub object_id: Option<String>,
    /// Address as written.
    pub address: Option<String>,
}

impl RefKey {
    /// Returns the key of a reference.
    pub fn of(reference: &UserRef) -> RefKey {
        RefKey { object_id: reference.object_id.clone(), address: reference.address.clone() }
    }

    /// Returns a reference that resolves like every reference with this key.
    pub fn to_user_ref(&self, role: Role) -> UserRef {
        UserRef {
            role: Some(role),
            address: self.address.clone(),
            object_id: self.object_id.clone(),
            display_name: None,
        }
    }
}

/// The bitmaps of one field: one per case-folded value, or none when the field has too many
/// distinct values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldBitmaps {
    /// Records per case-folded value.
    pub values: BTreeMap<String, RoaringBitmap>,
    /// True when the field exceeded [`MAX_FIELD_VALUES`] and `values` is empty.
    pub dropped: bool,
}

/// The structures derived from a segment's records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SegmentIndex {
    /// Number of records, live or replaced.
    pub count: u32,
    /// Record time in microseconds since the Unix epoch, or [`NO_TIME`].
    pub times: Vec<i64>,
    /// Records per source.
    pub sources: BTreeMap<u32, RoaringBitmap>,
    /// Distinct user reference keys.
    pub keys: Vec<RefKey>,
    /// Postings: records per (role, key index).
    pub postings: BTreeMap<(Role, u32), RoaringBitmap>,
    /// Per-value bitmaps of model fields and source columns, by [`field_key`].
    pub fields: BTreeMap<String, FieldBitmaps>,
    /// Time columns of model fields that hold instants, by [`field_key`]: one value per
    /// record, an instant in microseconds, [`TIME_ABSENT`] or [`TIME_COMPLEX`].
    pub time_columns: BTreeMap<String, Vec<i64>>,
}

/// Returns the identity under which a record replaces an older copy: its id, and for alert
/// evidence rows (one row per alert and entity, all with the alert's id) also the entity
/// type and the entity's user references, so that no entity of an alert is dropped.
pub fn identity(record: &Record) -> String {
    let evidence = record.field("entity_type").or_else(|| record.field("evidence_role"));
    let Some(evidence) = evidence else { return record.id.clone() };
    let mut identity = record.id.clone();
    identity.push('\u{1f}');
    identity.push_str(&evidence.as_text().unwrap_or_default());
    for user in &record.users {
        identity.push('\u{1f}');
        identity.push_str(user.object_id.as_deref().unwrap_or_default());
        identity.push('\u{1e}');
        identity.push_str(user.address.as_deref().unwrap_or_default());
    }
    identity
}

/// Returns the 128-bit hash under which an identity (see [`identity`]) is stored.
// NOTE: two identities with the same hash would count as one record, so the newer would hide
// the older. For identities that exports assign, the chance is about n²/2^129 for n records;
// the hash is not keyed, so identities crafted to collide could do it on purpose.
pub fn identity_hash(identity: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(identity.as_bytes())
}

/// Returns the identity hash of a record: [`identity_hash`] of [`identity`], without copying
/// the id when the record is not an alert evidence row.
pub fn record_identity_hash(record: &Record) -> u128 {
    let evidence = record.field("entity_type").or_else(|| record.field("evidence_role"));
    match evidence {
        Some(_) => identity_hash(&identity(record)),
        None => identity_hash(&record.id),
    }
}

impl SegmentIndex {
    /// Returns a map from reference key to key index, for [`SegmentIndex::append`].
    pub fn key_map(&self) -> HashMap<RefKey, u32> {
        self.keys.iter().enumerate().map(|(i, key)| (key.clone(), i as u32)).collect()
    }

    /// Appends a record as the next record id. `keys` must come from [`SegmentIndex::key_map`]
    /// and is kept up to date. The caller keeps `count` below the segment size, which is at
    /// most `u32::MAX`, so ids never wrap.
    pub fn append(&mut self, source: u32, record: &Record, keys: &mut HashMap<RefKey, u32>) {
        let id = self.count;
        self.count += 1;
        self.append_times(id, record);
        self.times.push(record.time.map_or(NO_TIME, |t| t.0));
        self.sources.entry(source).or_default().insert(id);
        for user in &record.users {
            let key_id = self.key_id(user, keys);
            self.postings.entry((user.role(), key_id)).or_default().insert(id);
        }
        let mut key = String::new();
        let mut folded = String::new();
        for (name, value) in &record.fields {
            key.clear();
            key.push_str(MODEL_PREFIX);
            key.push_str(name);
            self.append_field(id, &key, value, &mut folded);
        }
        for (position, (name, value)) in record.extra.iter().enumerate() {
            // A query reads the first column whose name matches ignoring ASCII case.
            let earlier = record.extra.get(..position).unwrap_or_default();
            if earlier.iter().any(|(other, _)| other.eq_ignore_ascii_case(name)) {
                continue;
            }
            key.clear();
            key.push_str(COLUMN_PREFIX);
            key.push_str(name);
            key.make_ascii_lowercase();
            self.append_field(id, &key, value, &mut folded);
        }
    }

    /// Returns the key index of a user reference, adding the key when it is new.
    fn key_id(&mut self, user: &UserRef, keys: &mut HashMap<RefKey, u32>) -> u32 {
        let key = RefKey::of(user);
        if let Some(key_id) = keys.get(&key) {
            return *key_id;
        }
        let next = self.keys.len() as u32;
        keys.insert(key.clone(), next);
        self.keys.push(key);
        next
    }

    /// Adds record `id` to the bitmaps of the case-folded values of field `key`, unless the
    /// field has too many distinct values in this segment. `folded` is scratch space.
    fn append_field(&mut self, id: u32, key: &str, value: &Value, folded: &mut String) {
        let field = match self.fields.get_mut(key) {
            Some(field) => field,
            None => self.fields.entry(key.to_string()).or_default(),
        };
        if field.dropped {
            // A dropped field stores no values, so they are not folded.
            return;
        }
        for_each_folded(value, folded, &mut |text| match field.values.get_mut(text) {
            Some(bitmap) => {
                bitmap.insert(id);
            }
            None => {
                field.values.entry(text.to_string()).or_default().insert(id);
            }
        });
        if field.values.len() > MAX_FIELD_VALUES {
            field.values.clear();
            field.dropped = true;
        }
    }

    /// Appends record `id` to the time columns, creating a column when a model field first
    /// contains an instant; earlier records count as [`TIME_COMPLEX`] there, so they are tested.
    fn append_times(&mut self, id: u32, record: &Record) {
        for (name, value) in &record.fields {
            if instant_of(value).is_none() {
                continue;
            }
            let mut keys = self.time_columns.keys();
            if !keys.any(|key| key.strip_prefix(MODEL_PREFIX) == Some(*name)) {
                let key = field_key(FieldSource::Model, name);
                self.time_columns.insert(key, vec![TIME_COMPLEX; id as usize]);
            }
        }
        for (key, column) in &mut self.time_columns {
            let value = key.strip_prefix(MODEL_PREFIX).and_then(|name| record.fields.get(name));
            let time = match value {
                Some(value) => instant_of(value)
                    .unwrap_or_else(|| if has_scalar(value) { TIME_COMPLEX } else { TIME_ABSENT }),
                None => TIME_ABSENT,
            };
            column.push(time);
        }
    }
}

/// Returns the instant of a field that contains one, in microseconds. The two smallest values
/// are the time column's markers, so for them it returns `None`, and queries test the record.
fn instant_of(value: &Value) -> Option<i64> {
    match value {
        Value::Time(t) if t.0 > TIME_COMPLEX => Some(t.0),
        _ => None,
    }
}

/// Returns true when a value has a non-null scalar, so that it has at least one folded value.
fn has_scalar(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::List(items) => items.iter().any(has_scalar),
        _ => true,
    }
}

/// Builds the derived structures of mapped records; `records[i]` gets record id `i`.
pub fn build(records: &[(u32, &Record)]) -> SegmentIndex {
    let mut index = SegmentIndex::default();
    let mut keys = HashMap::new();
    for (source, record) in records {
        index.append(*source, record, &mut keys);
    }
    index
}

/// Returns the key of a field in [`SegmentIndex::fields`]: `model:NAME` for model fields,
/// `column:name` (ASCII lower case) for source columns.
pub fn field_key(source: FieldSource, name: &str) -> String {
    match source {
        FieldSource::Model => format!("{MODEL_PREFIX}{name}"),
        FieldSource::Column => format!("{COLUMN_PREFIX}{}", name.to_ascii_lowercase()),
    }
}

/// Prefix of the [`field_key`] of a model field.
const MODEL_PREFIX: &str = "model:";
/// Prefix of the [`field_key`] of a source column.
const COLUMN_PREFIX: &str = "column:";

/// Calls `visit` with the case-folded text of every non-null scalar of a value: the form
/// keyword equality compares. Enumeration equality compares these with non-alphanumerics
/// removed. `folded` is scratch space for the folded text.
fn for_each_folded(value: &Value, folded: &mut String, visit: &mut dyn FnMut(&str)) {
    match value {
        Value::Null => {}
        Value::List(items) => items.iter().for_each(|item| for_each_folded(item, folded, visit)),
        Value::Str(text) => {
            fold_value_into(text, folded);
            visit(folded);
        }
        other => {
            if let Some(text) = other.as_text() {
                fold_value_into(&text, folded);
                visit(folded);
            }
        }
    }
}

pub(crate) fn role_code(role: Role) -> u8 {
    match role {
        Role::User => 0,
        Role::Sender => 1,
        Role::Recipient => 2,
    }
}

pub(crate) fn role_from_code(code: u8) -> Option<Role> {
    match code {
        0 => Some(Role::User),
        1 => Some(Role::Sender),
        2 => Some(Role::Recipient),
        _ => None,
    }
}

/// Encodes the derived structures (see [`sections`](super::sections) for the layout).
pub fn encode_index(index: &SegmentIndex) -> Vec<u8> {
    super::sections::encode_index(index)
}

/// Decodes the derived structures of a whole `.idx` file given in memory.
pub fn decode_index(bytes: &[u8]) -> Result<SegmentIndex, super::error::IndexError> {
    let path = std::path::Path::new("index");
    super::sections::IndexFile::from_bytes(bytes.to_vec(), path)?.load()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Origin, Raw, RecordKind, SourceFormat};

    fn record(id: &str, severity: &str, users: Vec<UserRef>) -> Record {
        let mut fields = BTreeMap::new();
        fields.insert("severity", Value::Str(severity.into()));
        Record {
            kind: RecordKind::Alert,
            id: id.into(),
            time: None,
            fields,
            extra: Vec::new(),
            users,
            raw: Raw::Json("{}".into()),
            format: SourceFormat::Ndjson,
            origin: Origin::default(),
        }
    }

    #[test]
    fn index_round_trip() {
        let a = record("a", "High", vec![UserRef::address(Role::User, "x@contoso.test")]);
        let b = record("b", "low", vec![UserRef::address(Role::User, "X@contoso.test")]);
        let index = build(&[(0, &a), (3, &b)]);
        assert_eq!(index.keys.len(), 2);
        assert_eq!(index.fields["model:severity"].values["high"], RoaringBitmap::from_iter([0]));
        let decoded = decode_index(&encode_index(&index)).unwrap();
        assert_eq!(decoded, index);
    }

    #[test]
    fn time_column_equal_to_times_round_trips() {
        let mut a = record("a", "High", vec![]);
        a.time = Some(crate::time::Timestamp(1_717_200_000_000_000));
        a.fields.insert("received", Value::Time(crate::time::Timestamp(1_717_200_000_000_000)));
        let index = build(&[(0, &a)]);
        assert_eq!(index.time_columns["model:received"], index.times);
        assert_eq!(decode_index(&encode_index(&index)).unwrap(), index);
    }

    #[test]
    fn every_flipped_index_byte_detected() {
        let a = record("a", "High", vec![UserRef::address(Role::User, "x@contoso.test")]);
        let bytes = encode_index(&build(&[(0, &a)]));
        for position in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[position] ^= 0x20;
            assert!(decode_index(&damaged).is_err(), "byte {position}");
        }
    }

    #[test]
    fn records_round_trip() {
        let records = vec![
            StoredRecord { source: 1, line: 2, body: StoredBody::Json("{\"a\":1}".into()) },
            StoredRecord {
                source: 0,
                line: 9,
                body: StoredBody::Csv(vec!["x".into(), String::new()]),
            },
        ];
        assert_eq!(decode_records(&encode_records(&records)).unwrap(), records);
    }

    #[test]
    fn records_written_in_given_order() {
        let records: Vec<StoredRecord> = (0..3)
            .map(|line| StoredRecord { source: 0, line, body: StoredBody::Json("{}".into()) })
            .collect();
        let mut writer = RecordsWriter::default();
        records.iter().for_each(|r| writer.push(r));
        let reordered = decode_records(&writer.finish(Some(&[2, 0, 1]))).unwrap();
        let lines: Vec<u64> = reordered.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 0, 1]);
    }

    #[test]
    fn bitmap_beyond_segment_rejected() {
        let mut index = SegmentIndex { count: 1, times: vec![0], ..Default::default() };
        index.sources.insert(0, RoaringBitmap::from_iter([u32::MAX]));
        let error = decode_index(&encode_index(&index)).err().unwrap();
        assert!(error.to_string().contains("names record"), "{error}");
    }

    #[test]
    fn high_cardinality_field_dropped() {
        let records: Vec<Record> = (0..=MAX_FIELD_VALUES)
            .map(|i| record(&i.to_string(), &format!("v{i}"), vec![]))
            .collect();
        let pairs: Vec<(u32, &Record)> = records.iter().map(|r| (0, r)).collect();
        let index = build(&pairs);
        assert!(index.fields["model:severity"].dropped);
        assert!(index.fields["model:severity"].values.is_empty());
    }
}
