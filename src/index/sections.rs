//! The file layouts of a segment's derived structures (`.idx`) and record identities (`.ids`).
//!
//! A `.idx` file starts with the header of [`codec`](super::codec), whose checksummed payload
//! is only a table: the record count, the number of reference keys, and for each section its
//! name, file offset, length and CRC-32. The sections follow the table. Opening a segment reads
//! the header and the table; a section is read and checked against its CRC-32 when a query
//! first needs it. The sections are:
//!
//! - `times`: the record time of each record;
//! - `sources`: records per source;
//! - `keys`: the distinct user reference keys;
//! - `postings`: records per (role, key index);
//! - `field:KEY`: the per-value bitmaps of one field (see [`field_key`](super::segment::field_key));
//! - `time:KEY`: the time column of one model field;
//! - `heads:NAME`: the summary and block heads of the time data in section `NAME`.
//!
//! Time values (100-nanosecond ticks, see [`Timestamp`](crate::time::Timestamp)) are stored in
//! blocks of varint differences (see [`time_blocks`]). They use the
//! largest unit of 1 s, 1 ms, 1 µs or one tick that divides every value, so a sorted column
//! with second resolution takes about one byte per record. A time column equal to the record times is
//! stored as a reference to them.
//!
//! A `.ids` file holds the 128-bit hash of each record's identity with its record id, sorted
//! by hash. Only ingest reads it, to find the records that a new copy replaces.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use roaring::RoaringBitmap;

use super::codec::{DecodeError, Decoder, Encoder, HEADER_LEN};
use super::error::{IndexError, io_error};
use super::files::damaged;
use super::segment::{FieldBitmaps, INDEX_MAGIC, RefKey, SegmentIndex, role_code, role_from_code};
use super::time_blocks::{self, ColumnHeads};

/// Magic of a record identity file.
pub const IDENTITY_MAGIC: &[u8; 4] = b"TQID";
/// The oldest `.idx` version this build reads.
const OLDEST_INDEX_VERSION: u32 = 3;

/// Name of the record time section.
pub const TIMES: &str = "times";
/// Prefix of the section that contains the summary and block heads of a time data section.
pub const HEADS_PREFIX: &str = "heads:";
/// First byte of a time column section whose data follows.
const TIME_OWN: u8 = 0;
/// The only byte of a time column section equal to the record times.
const TIME_REFERENCE: u8 = 1;
/// Name of the records-per-source section.
pub const SOURCES: &str = "sources";
/// Name of the reference key section.
pub const KEYS: &str = "keys";
/// Name of the postings section.
pub const POSTINGS: &str = "postings";
/// Prefix of a field's bitmap section.
pub const FIELD_PREFIX: &str = "field:";
/// Prefix of a time column section.
pub const TIME_PREFIX: &str = "time:";

/// Returns the name of the heads section of time data section `data`.
pub fn heads_name(data: &str) -> String {
    format!("{HEADS_PREFIX}{data}")
}

/// The position and length of a section in its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionRef {
    /// Byte offset from the start of the file.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// CRC-32 (IEEE) of the section's bytes.
    pub checksum: u32,
}

/// The heads of a time column with the place of its data.
#[derive(Clone, Debug)]
pub struct TimeHeads {
    /// Summary and block heads.
    pub heads: ColumnHeads,
    /// Name of the section that contains the data: the column's own or the record times.
    data: String,
    /// Offset of the data in that section.
    data_start: u64,
}

/// Encodes the derived structures in the sectioned layout. Bitmaps are written with the
/// containers they have: run containers would shrink the records-per-source bitmaps, but
/// they made queries slower (see the index section of `BENCHMARKS.md`).
pub fn encode_index(index: &SegmentIndex) -> Vec<u8> {
    let times = time_blocks::encode_column(&index.times);
    let mut sections: Vec<(String, Vec<u8>)> = vec![
        (heads_name(TIMES), times.heads),
        (TIMES.to_string(), times.data),
        (SOURCES.to_string(), encode_sources(index)),
        (KEYS.to_string(), encode_keys(&index.keys)),
        (POSTINGS.to_string(), encode_postings(index)),
    ];
    for (name, field) in &index.fields {
        sections.push((format!("{FIELD_PREFIX}{name}"), encode_field(field)));
    }
    for (name, column) in &index.time_columns {
        let section = format!("{TIME_PREFIX}{name}");
        if *column == index.times {
            sections.push((section, vec![TIME_REFERENCE]));
        } else {
            let encoded = time_blocks::encode_column(column);
            sections.push((heads_name(&section), encoded.heads));
            let mut data = vec![TIME_OWN];
            data.extend_from_slice(&encoded.data);
            sections.push((section, data));
        }
    }
    let table_len: usize =
        4 + 4 + 8 + sections.iter().map(|(name, _)| 8 + name.len() + 8 + 8 + 4).sum::<usize>();
    let mut table = Encoder::default();
    table.u32(index.count);
    table.u32(index.keys.len() as u32);
    table.len(sections.len());
    let mut offset = (HEADER_LEN + table_len) as u64;
    for (name, bytes) in &sections {
        table.str(name);
        table.u64(offset);
        table.u64(bytes.len() as u64);
        table.u32(crc32fast::hash(bytes));
        offset += bytes.len() as u64;
    }
    debug_assert_eq!(table.payload_len(), table_len);
    let mut file = table.finish(INDEX_MAGIC);
    for (_, bytes) in sections {
        file.extend_from_slice(&bytes);
    }
    file
}

fn encode_sources(index: &SegmentIndex) -> Vec<u8> {
    let mut encoder = Encoder::default();
    encoder.len(index.sources.len());
    for (source, bitmap) in &index.sources {
        encoder.u32(*source);
        encoder.bitmap(bitmap);
    }
    encoder.into_payload()
}

fn encode_keys(keys: &[RefKey]) -> Vec<u8> {
    let mut encoder = Encoder::default();
    encoder.len(keys.len());
    for key in keys {
        encoder.opt_str(key.object_id.as_deref());
        encoder.opt_str(key.address.as_deref());
    }
    encoder.into_payload()
}

fn encode_postings(index: &SegmentIndex) -> Vec<u8> {
    let mut encoder = Encoder::default();
    encoder.len(index.postings.len());
    for ((role, key), bitmap) in &index.postings {
        encoder.u8(role_code(*role));
        encoder.u32(*key);
        encoder.bitmap(bitmap);
    }
    encoder.into_payload()
}

fn encode_field(field: &FieldBitmaps) -> Vec<u8> {
    let mut encoder = Encoder::default();
    encoder.u8(u8::from(field.dropped));
    encoder.len(field.values.len());
    for (value, bitmap) in &field.values {
        encoder.str(value);
        encoder.bitmap(bitmap);
    }
    encoder.into_payload()
}

/// Decodes the records-per-source section.
pub fn decode_sources(
    decoder: &mut Decoder<'_>,
    count: u32,
) -> Result<BTreeMap<u32, RoaringBitmap>, DecodeError> {
    let mut sources = BTreeMap::new();
    for _ in 0..decoder.len(12)? {
        let source = decoder.u32()?;
        sources.insert(source, checked_bitmap(decoder, count)?);
    }
    Ok(sources)
}

/// Decodes the reference key section.
pub fn decode_keys(decoder: &mut Decoder<'_>) -> Result<Vec<RefKey>, DecodeError> {
    let length = decoder.len(2)?;
    let mut keys = Vec::with_capacity(length);
    for _ in 0..length {
        let object_id = decoder.opt_str()?;
        let address = decoder.opt_str()?;
        keys.push(RefKey { object_id, address });
    }
    Ok(keys)
}

/// The postings of a segment, by role and key index.
pub type Postings = BTreeMap<(crate::records::Role, u32), RoaringBitmap>;

/// Decodes the postings section of a segment with `key_count` reference keys.
pub fn decode_postings(
    decoder: &mut Decoder<'_>,
    count: u32,
    key_count: u32,
) -> Result<Postings, DecodeError> {
    let mut postings = BTreeMap::new();
    for _ in 0..decoder.len(13)? {
        let code = decoder.u8()?;
        let role =
            role_from_code(code).ok_or_else(|| decoder.error(format!("invalid role {code}")))?;
        let key = decoder.u32()?;
        if key >= key_count {
            return Err(decoder.error(format!("posting names key {key}, which does not exist")));
        }
        postings.insert((role, key), checked_bitmap(decoder, count)?);
    }
    Ok(postings)
}

/// Decodes one field's bitmap section.
pub fn decode_field(decoder: &mut Decoder<'_>, count: u32) -> Result<FieldBitmaps, DecodeError> {
    let dropped = decoder.u8()? != 0;
    let mut field = FieldBitmaps { values: BTreeMap::new(), dropped };
    for _ in 0..decoder.len(16)? {
        let value = decoder.str()?;
        field.values.insert(value, checked_bitmap(decoder, count)?);
    }
    Ok(field)
}

/// Reads a bitmap and checks that it names only records of the segment.
fn checked_bitmap(decoder: &mut Decoder<'_>, count: u32) -> Result<RoaringBitmap, DecodeError> {
    let bitmap = decoder.bitmap()?;
    match bitmap.max() {
        Some(max) if max >= count => {
            Err(decoder.error(format!("bitmap names record {max} of a segment of {count}")))
        }
        _ => Ok(bitmap),
    }
}

/// An open `.idx` file: its table of sections, with the sections read on request.
#[derive(Debug)]
pub struct IndexFile {
    path: PathBuf,
    /// The whole file when it was given in memory; `None` reads sections from `path`.
    memory: Option<Vec<u8>>,
    /// Number of records.
    pub count: u32,
    /// Number of distinct reference keys.
    pub key_count: u32,
    version: u32,
    sections: BTreeMap<String, SectionRef>,
}

impl IndexFile {
    /// Opens a `.idx` file and reads its table, checking that it has `count` records.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError::Damaged`] for a damaged header or table, or a file of format
    /// version 1, which kept the identities inside.
    pub fn open(path: &Path, count: u32) -> Result<IndexFile, IndexError> {
        let mut file = File::open(path).map_err(|e| io_error("open", path, e))?;
        let file_len = file.metadata().map_err(|e| io_error("read", path, e))?.len();
        let mut header = [0u8; HEADER_LEN];
        let available = usize::try_from(file_len).unwrap_or(usize::MAX).min(HEADER_LEN);
        let header_part = header.get_mut(..available).unwrap_or_default();
        file.read_exact(header_part).map_err(|e| io_error("read", path, e))?;
        let table_len = u64::from_le_bytes(
            header.get(8..16).and_then(|b| b.try_into().ok()).unwrap_or_default(),
        );
        let wanted = (HEADER_LEN as u64).saturating_add(table_len).min(file_len);
        let mut bytes = header.get(..available).unwrap_or_default().to_vec();
        let rest = wanted.saturating_sub(available as u64);
        (&mut file).take(rest).read_to_end(&mut bytes).map_err(|e| io_error("read", path, e))?;
        let table = Self::read_table(&bytes, file_len).map_err(|e| damaged(path, e))?;
        let (version, file_count, key_count, sections) = table;
        if file_count != count {
            let reason = format!("{file_count} records, the manifest says {count}");
            let path = path.to_path_buf();
            return Err(IndexError::Damaged { path, offset: HEADER_LEN as u64, reason });
        }
        let path = path.to_path_buf();
        Ok(IndexFile { path, memory: None, count, key_count, version, sections })
    }

    /// Opens a `.idx` file given in memory; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`IndexFile::open`], except that the record count is not checked.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<IndexFile, IndexError> {
        let table = Self::read_table(&bytes, bytes.len() as u64).map_err(|e| damaged(path, e))?;
        let (version, count, key_count, sections) = table;
        let path = path.to_path_buf();
        Ok(IndexFile { path, memory: Some(bytes), count, key_count, version, sections })
    }

    #[allow(clippy::type_complexity)]
    fn read_table(
        bytes: &[u8],
        file_len: u64,
    ) -> Result<(u32, u32, u32, BTreeMap<String, SectionRef>), DecodeError> {
        let mut decoder = Decoder::open_table(bytes, INDEX_MAGIC, file_len)?;
        let version = decoder.version();
        let table_end = (HEADER_LEN + decoder.remaining()) as u64;
        if version < OLDEST_INDEX_VERSION {
            let reason = format!("format version {version} of an older tagq, no longer read");
            return Err(DecodeError { offset: 4, reason, newer_version: None });
        }
        let count = decoder.u32()?;
        let key_count = decoder.u32()?;
        let mut sections = BTreeMap::new();
        let mut previous_end = table_end;
        for _ in 0..decoder.len(28)? {
            let name = decoder.str()?;
            let section = SectionRef {
                offset: decoder.u64()?,
                length: decoder.u64()?,
                checksum: decoder.u32()?,
            };
            let end = section.offset.checked_add(section.length);
            if section.offset < previous_end || end.is_none_or(|end| end > file_len) {
                return Err(decoder.error(format!("section {name} lies outside the file")));
            }
            previous_end = end.unwrap_or(file_len);
            sections.insert(name, section);
        }
        decoder.end()?;
        Ok((version, count, key_count, sections))
    }

    /// Returns the name and position of every section.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &SectionRef)> {
        self.sections.iter().map(|(name, section)| (name.as_str(), section))
    }

    /// Returns the path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the place of section `name`, or `None` when the file has no such section.
    pub fn section(&self, name: &str) -> Option<SectionRef> {
        self.sections.get(name).copied()
    }

    /// Returns the names of the sections.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// Reads section `name`, checks it and decodes it with `decode`, which must consume it
    /// whole. Returns `None` when the file has no such section.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError::Damaged`] with the file offset of the damage.
    pub fn read<T>(
        &self,
        name: &str,
        decode: impl FnOnce(&mut Decoder<'_>) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, IndexError> {
        let Some(section) = self.sections.get(name) else { return Ok(None) };
        let bytes = self.read_bytes(section)?;
        let decoded = Decoder::section(&bytes, section.offset, section.checksum, self.version)
            .and_then(|mut decoder| {
                let value = decode(&mut decoder)?;
                decoder.end()?;
                Ok(value)
            });
        decoded.map(Some).map_err(|e| damaged(&self.path, e))
    }

    fn read_bytes(&self, section: &SectionRef) -> Result<Vec<u8>, IndexError> {
        let path = &self.path;
        if let Some(memory) = &self.memory {
            let range =
                usize::try_from(section.offset).ok().zip(usize::try_from(section.length).ok());
            let bytes =
                range.and_then(|(start, length)| memory.get(start..start.checked_add(length)?));
            return bytes.map(<[u8]>::to_vec).ok_or_else(|| IndexError::Damaged {
                path: path.clone(),
                offset: section.offset,
                reason: "the section lies outside the file".to_string(),
            });
        }
        let mut file = File::open(path).map_err(|e| io_error("open", path, e))?;
        file.seek(SeekFrom::Start(section.offset)).map_err(|e| io_error("read", path, e))?;
        let mut bytes = Vec::with_capacity(usize::try_from(section.length).unwrap_or(0));
        file.take(section.length).read_to_end(&mut bytes).map_err(|e| io_error("read", path, e))?;
        if bytes.len() as u64 != section.length {
            let reason = "the file ends inside a section; perhaps truncated".to_string();
            let (path, offset) = (path.clone(), section.offset);
            return Err(IndexError::Damaged { path, offset, reason });
        }
        Ok(bytes)
    }

    /// Reads a section that every file has.
    pub fn required<T>(
        &self,
        name: &str,
        decode: impl FnOnce(&mut Decoder<'_>) -> Result<T, DecodeError>,
    ) -> Result<T, IndexError> {
        self.read(name, decode)?.ok_or_else(|| IndexError::Damaged {
            path: self.path.clone(),
            offset: HEADER_LEN as u64,
            reason: format!("the section {name} is missing"),
        })
    }

    /// Reads the record times.
    ///
    /// # Errors
    ///
    /// As [`IndexFile::read`], and a missing section is damage too.
    pub fn times(&self) -> Result<Vec<i64>, IndexError> {
        let heads = self.required_heads(TIMES)?;
        self.required(TIMES, |d| heads.decode_all(d))
    }

    /// Reads the heads of time data section `data`, which must exist.
    fn required_heads(&self, data: &str) -> Result<ColumnHeads, IndexError> {
        let count = self.count;
        self.required(&heads_name(data), |d| time_blocks::decode_heads(d, count))
    }

    /// Reads the heads of a time column without its values, with the section that contains its
    /// data and the offset of that data in the section. Returns `None` when the segment has no
    /// such column.
    ///
    /// # Errors
    ///
    /// As [`IndexFile::read`].
    pub fn time_heads(&self, key: &str) -> Result<Option<TimeHeads>, IndexError> {
        let section = format!("{TIME_PREFIX}{key}");
        if !self.sections.contains_key(&section) {
            return Ok(None);
        }
        // A column with its own data has a heads section, and its form byte is checked when
        // the whole column is read. A reference is one byte, so it is read and checked here.
        let heads_section = heads_name(&section);
        let (data, data_start) = if self.sections.contains_key(&heads_section) {
            (section, 1)
        } else {
            self.required(&section, |decoder| match decoder.u8()? {
                TIME_REFERENCE => Ok(()),
                form => Err(decoder.error(format!("invalid time column form {form}"))),
            })?;
            (TIMES.to_string(), 0)
        };
        let heads = self.required_heads(&data)?;
        Ok(Some(TimeHeads { heads, data, data_start }))
    }

    /// Reads and decodes one block of a time column whose heads `time_heads` returned.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError::Damaged`] when the block lies outside its section or fails its
    /// CRC-32.
    pub fn time_block(&self, column: &TimeHeads, block: usize) -> Result<Vec<i64>, IndexError> {
        let damage = |reason: String, offset: u64| IndexError::Damaged {
            path: self.path.clone(),
            offset,
            reason,
        };
        let Some(section) = self.sections.get(&column.data) else {
            let reason = format!("the section {} is missing", column.data);
            return Err(damage(reason, HEADER_LEN as u64));
        };
        let range = column.heads.block_range(block);
        let data_len = column.heads.data_len.checked_add(column.data_start);
        let Some(((start, end), data_len)) = range.zip(data_len) else {
            return Err(damage(format!("time block {block} does not exist"), section.offset));
        };
        if data_len != section.length {
            let reason = format!("{} bytes of time data, its heads say {data_len}", section.length);
            return Err(damage(reason, section.offset));
        }
        let offset = section.offset + column.data_start + start;
        let part = SectionRef { offset, length: end.saturating_sub(start), checksum: 0 };
        let bytes = self.read_bytes(&part)?;
        column.heads.decode_block(block, &bytes, offset).map_err(|e| damaged(&self.path, e))
    }

    /// Reads a time column section, or `None` when the segment has no such column.
    ///
    /// # Errors
    ///
    /// As [`IndexFile::read`].
    pub fn time_column(&self, key: &str) -> Result<Option<Vec<i64>>, IndexError> {
        let name = format!("{TIME_PREFIX}{key}");
        let own_heads = self.sections.contains_key(&heads_name(&name));
        let heads = if own_heads { Some(self.required_heads(&name)?) } else { None };
        let column = self.read(&name, |decoder| match (decoder.u8()?, &heads) {
            (TIME_OWN, Some(heads)) => heads.decode_all(decoder).map(Some),
            (TIME_REFERENCE, None) => Ok(None),
            (form, _) => Err(decoder.error(format!("invalid time column form {form}"))),
        })?;
        match column {
            None => Ok(None),
            Some(Some(values)) => Ok(Some(values)),
            Some(None) => self.times().map(Some),
        }
    }

    /// Reads every section into a [`SegmentIndex`].
    ///
    /// # Errors
    ///
    /// As [`IndexFile::read`].
    pub fn load(&self) -> Result<SegmentIndex, IndexError> {
        let count = self.count;
        let key_count = self.key_count;
        let mut index = SegmentIndex { count, ..SegmentIndex::default() };
        index.times = self.times()?;
        index.sources = self.required(SOURCES, |d| decode_sources(d, count))?;
        index.keys = self.required(KEYS, decode_keys)?;
        if index.keys.len() != key_count as usize {
            let reason = format!("{} keys, the table says {key_count}", index.keys.len());
            let path = self.path.clone();
            return Err(IndexError::Damaged { path, offset: HEADER_LEN as u64, reason });
        }
        index.postings = self.required(POSTINGS, |d| decode_postings(d, count, key_count))?;
        let names: Vec<&str> = self.names().collect();
        for name in names {
            if let Some(key) = name.strip_prefix(FIELD_PREFIX) {
                let field = self.required(name, |d| decode_field(d, count))?;
                index.fields.insert(key.to_string(), field);
            } else if let Some(key) = name.strip_prefix(TIME_PREFIX)
                && let Some(column) = self.time_column(key)?
            {
                index.time_columns.insert(key.to_string(), column);
            }
        }
        Ok(index)
    }
}

/// Encodes the identity file of a segment: `hashes[id]` is the identity hash of record `id`.
pub fn encode_identities(hashes: &[u128]) -> Vec<u8> {
    let mut pairs: Vec<(u128, u32)> =
        hashes.iter().enumerate().map(|(id, hash)| (*hash, id as u32)).collect();
    pairs.sort_unstable();
    let mut encoder = Encoder::default();
    encoder.len(pairs.len());
    for (hash, id) in pairs {
        encoder.u128(hash);
        encoder.u32(id);
    }
    encoder.finish(IDENTITY_MAGIC)
}

/// Decodes an identity file of a segment of `count` records into the hash of each record id.
pub fn decode_identities(bytes: &[u8], count: u32) -> Result<Vec<u128>, DecodeError> {
    let mut decoder = Decoder::open(bytes, IDENTITY_MAGIC)?;
    let length = decoder.len(20)?;
    if length != count as usize {
        return Err(decoder.error(format!("{length} identities for {count} records")));
    }
    let mut hashes = vec![None; length];
    for _ in 0..length {
        let hash = decoder.u128()?;
        let id = decoder.u32()?;
        match hashes.get_mut(id as usize) {
            Some(slot @ None) => *slot = Some(hash),
            _ => return Err(decoder.error(format!("invalid or repeated record id {id}"))),
        }
    }
    decoder.end()?;
    Ok(hashes.into_iter().map(Option::unwrap_or_default).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that each rank read through the block heads of column `key` equals a binary
    /// search over the whole column.
    fn check_file_ranks(file: &IndexFile, key: &str, values: &[i64]) {
        let column = file.time_heads(key).unwrap().unwrap();
        assert!(column.heads.summary.sorted);
        let probes = values.iter().flat_map(|v| [v - 1, *v, v + 1]).step_by(97);
        for time in probes.chain([i64::MIN, i64::MAX]) {
            let expected = values.partition_point(|v| *v < time) as u32;
            let rank = column.heads.rank(time, |block| file.time_block(&column, block));
            assert_eq!(rank.unwrap(), expected, "rank of {time} in {key}");
        }
    }

    #[test]
    fn time_blocks_read_from_file() {
        let count = 5_000u32;
        let times: Vec<i64> =
            (0..i64::from(count)).map(|i| 17_000_000_000_000_000 + i * 7).collect();
        let own: Vec<i64> = times.iter().map(|t| t + 13).collect();
        let mut index = SegmentIndex { count, times: times.clone(), ..SegmentIndex::default() };
        index.time_columns.insert("model:received".to_string(), times.clone());
        index.time_columns.insert("model:sent".to_string(), own.clone());
        let file = IndexFile::from_bytes(encode_index(&index), Path::new("x.idx")).unwrap();
        check_file_ranks(&file, "model:received", &times);
        check_file_ranks(&file, "model:sent", &own);
        assert_eq!(file.time_column("model:received").unwrap(), Some(times));
        assert_eq!(file.time_column("model:sent").unwrap(), Some(own));
        assert!(file.time_heads("model:absent").unwrap().is_none());
    }

    #[test]
    fn identities_round_trip() {
        let hashes = [7u128, 3, u128::MAX, 0];
        let bytes = encode_identities(&hashes);
        assert_eq!(decode_identities(&bytes, 4).unwrap(), hashes);
        assert!(decode_identities(&bytes, 3).is_err());
    }

    #[test]
    fn repeated_identity_id_rejected() {
        let mut encoder = Encoder::default();
        encoder.len(2);
        for _ in 0..2 {
            encoder.u128(1);
            encoder.u32(0);
        }
        let bytes = encoder.finish(IDENTITY_MAGIC);
        assert!(decode_identities(&bytes, 2).is_err());
    }
}
