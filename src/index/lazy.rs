//! A segment's derived structures, read section by section when a query first needs them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use roaring::RoaringBitmap;

use super::error::IndexError;
use super::plan::{SegmentParts, TimeSummary};
use super::sections::{
    self, FIELD_PREFIX, IndexFile, KEYS, POSTINGS, Postings, SOURCES, TIME_PREFIX, TimeHeads,
};
use super::segment::{FieldBitmaps, RefKey};

/// A section once read: its value, or the error that reading it gave.
type Cell<T> = OnceLock<Result<T, Arc<IndexError>>>;

/// The sections of one `.idx` file, each read and checked on first use. A section that
/// failed keeps its error, so every later query on the segment fails the same way.
pub struct LazySegment {
    file: IndexFile,
    times: Cell<Vec<i64>>,
    sources: Cell<BTreeMap<u32, RoaringBitmap>>,
    keys: Cell<Vec<RefKey>>,
    postings: Cell<Postings>,
    fields: BTreeMap<String, Cell<FieldBitmaps>>,
    time_columns: BTreeMap<String, TimeCells>,
    /// The first error of a time block read, which no section cell keeps.
    block_error: OnceLock<Arc<IndexError>>,
}

/// A time column's heads and values, each read on first use.
#[derive(Default)]
struct TimeCells {
    /// `None` when the column is missing from the table.
    heads: Cell<Option<TimeHeads>>,
    values: Cell<Vec<i64>>,
    /// Ranks found so far by instant, since a repeated window would otherwise read and decode
    /// the same blocks again.
    ranks: Mutex<HashMap<i64, u32>>,
}

static EMPTY_POSTINGS: Postings = BTreeMap::new();

fn get<T>(cell: &Cell<T>, load: impl FnOnce() -> Result<T, IndexError>) -> Result<&T, IndexError> {
    let loaded = cell.get_or_init(|| load().map_err(Arc::new));
    loaded.as_ref().map_err(|e| IndexError::Loaded(e.clone()))
}

impl LazySegment {
    /// Returns the segment's `.idx` file.
    pub fn file(&self) -> &IndexFile {
        &self.file
    }

    /// Opens a segment's `.idx` file, reading only its table.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError`] when the file cannot be read or its header or table is damaged.
    pub fn open(path: &Path, count: u32) -> Result<LazySegment, IndexError> {
        let file = IndexFile::open(path, count)?;
        let mut fields = BTreeMap::new();
        let mut time_columns = BTreeMap::new();
        for name in file.names() {
            if let Some(key) = name.strip_prefix(FIELD_PREFIX) {
                fields.insert(key.to_string(), OnceLock::new());
            } else if let Some(key) = name.strip_prefix(TIME_PREFIX) {
                time_columns.insert(key.to_string(), TimeCells::default());
            }
        }
        Ok(LazySegment {
            file,
            times: OnceLock::new(),
            sources: OnceLock::new(),
            keys: OnceLock::new(),
            postings: OnceLock::new(),
            fields,
            time_columns,
            block_error: OnceLock::new(),
        })
    }

    /// Returns the number of distinct reference keys, without reading them.
    pub fn key_count(&self) -> u32 {
        self.file.key_count
    }

    /// Returns the record times.
    pub fn times(&self) -> Result<&[i64], IndexError> {
        get(&self.times, || self.file.times()).map(Vec::as_slice)
    }

    /// Returns the records per source.
    pub fn sources(&self) -> Result<&BTreeMap<u32, RoaringBitmap>, IndexError> {
        let count = self.file.count;
        get(&self.sources, || self.file.required(SOURCES, |d| sections::decode_sources(d, count)))
    }

    /// Returns the reference keys.
    pub fn keys(&self) -> Result<&[RefKey], IndexError> {
        let keys = get(&self.keys, || {
            let keys = self.file.required(KEYS, sections::decode_keys)?;
            if keys.len() != self.file.key_count as usize {
                let reason = format!("{} keys, the table says {}", keys.len(), self.file.key_count);
                let path = self.file.path().to_path_buf();
                return Err(IndexError::Damaged { path, offset: 0, reason });
            }
            Ok(keys)
        });
        keys.map(Vec::as_slice)
    }

    /// Returns the postings.
    pub fn postings(&self) -> Result<&Postings, IndexError> {
        let (count, key_count) = (self.file.count, self.file.key_count);
        get(&self.postings, || {
            self.file.required(POSTINGS, |d| sections::decode_postings(d, count, key_count))
        })
    }

    /// Returns the postings, or none when they cannot be read; [`LazySegment::check`] then
    /// reports the error.
    pub fn postings_or_empty(&self) -> &Postings {
        self.postings().unwrap_or(&EMPTY_POSTINGS)
    }

    /// Returns the first error of a section read so far, so that a result built while a
    /// section was missing is not used.
    ///
    /// # Errors
    ///
    /// The error of the failed section.
    pub fn check(&self) -> Result<(), IndexError> {
        let fixed = [
            self.times.get().and_then(|r| r.as_ref().err()),
            self.sources.get().and_then(|r| r.as_ref().err()),
            self.keys.get().and_then(|r| r.as_ref().err()),
            self.postings.get().and_then(|r| r.as_ref().err()),
        ];
        let fields = self.fields.values().filter_map(|c| c.get()?.as_ref().err());
        let heads = self.time_columns.values().filter_map(|c| c.heads.get()?.as_ref().err());
        let values = self.time_columns.values().filter_map(|c| c.values.get()?.as_ref().err());
        let blocks = self.block_error.get();
        let mut errors = fixed.into_iter().flatten().chain(fields).chain(heads).chain(values);
        match errors.next().or(blocks) {
            Some(error) => Err(IndexError::Loaded(error.clone())),
            None => Ok(()),
        }
    }

    fn load_field(&self, key: &str) -> Option<Result<&FieldBitmaps, IndexError>> {
        let cell = self.fields.get(key)?;
        let count = self.file.count;
        let name = format!("{FIELD_PREFIX}{key}");
        Some(get(cell, || self.file.required(&name, |d| sections::decode_field(d, count))))
    }

    fn load_time_heads(&self, key: &str) -> Option<&TimeHeads> {
        let cell = &self.time_columns.get(key)?.heads;
        get(cell, || self.file.time_heads(key)).ok()?.as_ref()
    }

    fn load_time_values(&self, key: &str) -> Option<&[i64]> {
        let cell = &self.time_columns.get(key)?.values;
        let values = get(cell, || Ok(self.file.time_column(key)?.unwrap_or_default()));
        values.ok().map(Vec::as_slice)
    }
}

/// Failed sections read as empty here; [`LazySegment::check`] reports them afterwards.
impl SegmentParts for LazySegment {
    fn field(&self, key: &str) -> Option<&FieldBitmaps> {
        self.load_field(key)?.ok()
    }

    fn has_field(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    fn time_summary(&self, key: &str) -> Option<TimeSummary> {
        self.load_time_heads(key).map(|column| column.heads.summary)
    }

    fn time_rank(&self, key: &str, time: i64) -> Option<u32> {
        let ranks = &self.time_columns.get(key)?.ranks;
        if let Some(rank) = ranks.lock().ok().and_then(|r| r.get(&time).copied()) {
            return Some(rank);
        }
        let column = self.load_time_heads(key)?;
        let rank = column.heads.rank(time, |block| self.file.time_block(column, block));
        let rank = rank
            .map_err(|error| {
                let _ = self.block_error.set(Arc::new(error));
            })
            .ok()?;
        if let Ok(mut ranks) = ranks.lock() {
            ranks.insert(time, rank);
        }
        Some(rank)
    }

    fn time_values(&self, key: &str) -> Option<&[i64]> {
        self.load_time_values(key)
    }

    fn postings(&self) -> &Postings {
        self.postings_or_empty()
    }
}
