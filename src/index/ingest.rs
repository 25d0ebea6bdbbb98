//! Ingest: read exports, map their records and add them to the index in one atomic batch.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::error::IndexError;
use super::files::{self, lock_exclusive};
use super::manifest::{DEFAULT_SEGMENT_SIZE, Manifest, SegmentEntry, Source, format_name};
use roaring::RoaringBitmap;

use super::sections::encode_identities;
use super::segment::{
    self, NO_TIME, RecordsWriter, RefKey, SegmentIndex, StoredBody, StoredRecord,
    record_identity_hash,
};
use crate::eval::stream::InputError;
use crate::records::map::{self, MapContext, Mapped};
use crate::records::read::{self, ReadOptions};
use crate::records::{RawBody, Record, RecordKind};

/// How to ingest.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// Input format, delimiter and encoding overrides.
    pub read: ReadOptions,
    /// Map every record as this kind, overriding detection.
    pub kind: Option<RecordKind>,
    /// Records per segment; used only when the index is created.
    pub segment_size: u32,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            read: ReadOptions::default(),
            kind: None,
            segment_size: DEFAULT_SEGMENT_SIZE,
        }
    }
}

/// The outcome of an ingest.
#[derive(Debug, Default)]
pub struct IngestSummary {
    /// New records per kind, replacements included.
    pub added: BTreeMap<RecordKind, u64>,
    /// Records that were replaced by a newer copy with the same identity (in the index or
    /// earlier in the same batch).
    pub replaced: u64,
    /// Inputs or records that could not be read or mapped, with their reasons.
    pub rejected: Vec<InputError>,
    /// Rows of tables that hold neither alerts, emails nor campaigns, by table name.
    pub skipped_tables: BTreeMap<String, u64>,
    /// Warnings about inputs.
    pub warnings: Vec<String>,
    /// Bytes of record text read (JSON text or CSV cells), for throughput figures.
    pub bytes: u64,
}

/// The location of a record of the batch, with its kind for the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Location {
    segment: u32,
    record: u32,
    kind: Option<RecordKind>,
}

/// The segment being filled: the records of an open head segment, then the batch's records.
struct Builder {
    position: usize,
    /// Records that were in the segment before the batch; ids below it never move.
    base: u32,
    records: RecordsWriter,
    index: SegmentIndex,
    keys: HashMap<RefKey, u32>,
    hashes: Vec<u128>,
    /// Records of the batch in this segment that a later copy replaced.
    replaced: RoaringBitmap,
}

/// The state of one ingest batch. Each segment is written as soon as it is full, and the
/// manifest is published once at the end, so a crash leaves the previous state.
struct Batch<'a> {
    dir: &'a Path,
    manifest: Manifest,
    /// The segments as they were before the batch.
    before: Vec<SegmentEntry>,
    generation: u64,
    builder: Option<Builder>,
    /// True once the open head segment of the index was taken up by the batch.
    head_taken: bool,
    /// The newest copy of each identity hash of the batch.
    seen: HashMap<u128, Location>,
    /// Records of written segments that a later copy replaced, by segment position.
    replaced: BTreeMap<usize, BTreeSet<u32>>,
    summary: IngestSummary,
}

/// Reads `inputs` (`-` is standard input) and adds their records to the index of the store
/// directory `store` as one batch: either all of them are published or, on error or crash,
/// none. `progress` receives the number of records read so far after each read batch.
///
/// Memory stays bounded by the segment size: the records of one segment are held, encoded,
/// until it is full, and the batch keeps a 128-bit hash and a location per record to find
/// repeated identities.
///
/// # Errors
///
/// Returns [`IndexError`] when the index cannot be read or written. Unreadable inputs and
/// records are reported in [`IngestSummary::rejected`]; the readable ones are still added.
pub fn ingest(
    store: &Path,
    inputs: &[PathBuf],
    options: &IngestOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<IngestSummary, IndexError> {
    if options.segment_size == 0 {
        return Err(IndexError::Invalid("the segment size must be at least 1".into()));
    }
    let dir = files::index_dir(store);
    let _lock = lock_exclusive(&dir)?;
    let manifest =
        files::load_manifest(&dir)?.unwrap_or_else(|| Manifest::new(options.segment_size));
    let mut batch = Batch {
        dir: &dir,
        before: manifest.segments.clone(),
        generation: manifest.generation + 1,
        manifest,
        builder: None,
        head_taken: false,
        seen: HashMap::new(),
        replaced: BTreeMap::new(),
        summary: IngestSummary::default(),
    };
    let mut read = 0;
    for input in inputs {
        batch.read_input(input, options, &mut read, progress)?;
    }
    if let Some(builder) = batch.builder.take() {
        batch.write(builder)?;
    }
    batch.mark_stored_copies()?;
    batch.apply_replaced();
    batch.manifest.generation = batch.generation;
    files::publish(&dir, &batch.manifest)?;
    Ok(batch.summary)
}

impl Batch<'_> {
    fn read_input(
        &mut self,
        input: &Path,
        options: &IngestOptions,
        read: &mut u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), IndexError> {
        let mut reader = match read::open(input, &options.read) {
            Ok(reader) => reader,
            Err(e) => {
                self.summary.rejected.push(e.into());
                return Ok(());
            }
        };
        let context = MapContext {
            file: Arc::from(reader.name()),
            format: reader.format(),
            kind: options.kind,
        };
        let mut sources: HashMap<RecordKind, u32> = HashMap::new();
        for items in reader.by_ref() {
            let items = match items {
                Ok(items) => items,
                Err(e) => {
                    self.summary.rejected.push(e.into());
                    break;
                }
            };
            let mapped: Vec<_> = items
                .into_par_iter()
                .map(|item| {
                    let result = map::map_item(&item, &context);
                    (item, result)
                })
                .collect();
            for (item, result) in mapped {
                match result {
                    Ok(Mapped::Record(record)) => {
                        let source = source_of(&record, &context, &mut self.manifest, &mut sources);
                        let body = match item.body {
                            RawBody::Json(text) => StoredBody::Json(text),
                            RawBody::Csv { cells, .. } => StoredBody::Csv(cells),
                        };
                        self.summary.bytes += body_len(&body);
                        let stored = StoredRecord { source, line: item.line, body };
                        *read += 1;
                        self.add(stored, &record)?;
                    }
                    Ok(Mapped::Skipped { table }) => {
                        *self.summary.skipped_tables.entry(table).or_default() += 1;
                    }
                    Err(e) => self.summary.rejected.push(e.into()),
                }
            }
            progress(*read);
        }
        let warnings = reader.warnings().iter().map(ToString::to_string);
        self.summary.warnings.extend(warnings);
        Ok(())
    }

    /// Adds one record to the segment being filled, marking an earlier copy in the batch as
    /// replaced, and writes the segment when it is full.
    fn add(&mut self, stored: StoredRecord, record: &Record) -> Result<(), IndexError> {
        let hash = record_identity_hash(record);
        let kind = self.manifest.sources.get(stored.source as usize).and_then(Source::record_kind);
        if self.builder.is_none() {
            self.builder = Some(self.start_builder()?);
        }
        let Some(builder) = self.builder.as_mut() else { return Ok(()) };
        let location =
            Location { segment: builder.position as u32, record: builder.index.count, kind };
        if let Some(old) = self.seen.insert(hash, location) {
            let pending = old.segment as usize == builder.position && old.record >= builder.base;
            if pending {
                builder.replaced.insert(old.record);
            } else {
                self.replaced.entry(old.segment as usize).or_default().insert(old.record);
            }
            self.summary.replaced += 1;
            if let Some(count) = old.kind.and_then(|k| self.summary.added.get_mut(&k)) {
                *count = count.saturating_sub(1);
            }
        }
        if let Some(kind) = kind {
            *self.summary.added.entry(kind).or_default() += 1;
        }
        builder.records.push(&stored);
        builder.hashes.push(hash);
        builder.index.append(stored.source, record, &mut builder.keys);
        if builder.index.count >= self.manifest.segment_size
            && let Some(builder) = self.builder.take()
        {
            self.write(builder)?;
        }
        Ok(())
    }

    /// Starts the next segment: the open head segment of the index when the batch has not
    /// filled it yet, else a new one.
    fn start_builder(&mut self) -> Result<Builder, IndexError> {
        let written = self.manifest.segments.len();
        let head = self.before.last().filter(|s| s.count < self.manifest.segment_size);
        let reopen = head.is_some() && !self.head_taken;
        self.head_taken = true;
        let mut builder = Builder {
            position: written,
            base: 0,
            records: RecordsWriter::default(),
            index: SegmentIndex::default(),
            keys: HashMap::new(),
            hashes: Vec::new(),
            replaced: RoaringBitmap::new(),
        };
        let Some(entry) = head.filter(|_| reopen) else { return Ok(builder) };
        builder.position = written - 1;
        builder.base = entry.count;
        for record in files::read_records(self.dir, &entry.records_file, entry.count)? {
            builder.records.push(&record);
        }
        builder.index = files::read_index(self.dir, &entry.index_file, entry.count)?;
        builder.keys = builder.index.key_map();
        builder.hashes = files::read_identities(self.dir, &entry.index_file, entry.count)?;
        Ok(builder)
    }

    /// Sorts the batch's records of a segment by time and writes the segment's files.
    fn write(&mut self, mut builder: Builder) -> Result<(), IndexError> {
        let order = sort_by_time(&mut builder);
        if let Some(order) = &order {
            self.relocate(&builder, order);
        }
        let (records_file, index_file) = files::segment_names(builder.position, self.generation);
        let records = builder.records.finish(order.as_deref());
        files::write_file(self.dir, &records_file, &records)?;
        drop(records);
        let index = &builder.index;
        files::write_file(self.dir, &index_file, &segment::encode_index(index))?;
        let identities = encode_identities(&builder.hashes);
        files::write_file(self.dir, &files::identity_file(&index_file), &identities)?;
        let mut replaced: BTreeSet<u32> = self
            .manifest
            .segments
            .get(builder.position)
            .map(|s| s.replaced.iter().copied().collect())
            .unwrap_or_default();
        replaced.extend(builder.replaced.iter());
        let times = || index.times.iter().copied().filter(|t| *t != NO_TIME);
        let entry = SegmentEntry {
            records_file,
            index_file,
            count: index.count,
            min_time: times().min(),
            max_time: times().max(),
            replaced: replaced.into_iter().collect(),
        };
        match self.manifest.segments.get_mut(builder.position) {
            Some(slot) => *slot = entry,
            None => self.manifest.segments.push(entry),
        }
        Ok(())
    }

    /// Points the batch's identities at the ids their records got from sorting; `order`
    /// lists the new positions' old ids from the builder's base on.
    fn relocate(&mut self, builder: &Builder, order: &[u32]) {
        let segment = builder.position as u32;
        for (new, old) in (builder.base..).zip(order.iter().skip(builder.base as usize)) {
            let Some(hash) = builder.hashes.get(new as usize) else { continue };
            if let Some(location) = self.seen.get_mut(hash)
                && location.segment == segment
                && location.record == *old
            {
                location.record = new;
            }
        }
    }

    /// Marks the records stored before the batch whose identity the batch brings again.
    fn mark_stored_copies(&mut self) -> Result<(), IndexError> {
        if self.seen.is_empty() {
            return Ok(());
        }
        for (position, entry) in self.before.iter().enumerate() {
            let hashes = files::read_identities(self.dir, &entry.index_file, entry.count)?;
            let already: BTreeSet<u32> = entry.replaced.iter().copied().collect();
            for (id, hash) in hashes.iter().enumerate() {
                let id = id as u32;
                if !already.contains(&id) && self.seen.contains_key(hash) {
                    self.replaced.entry(position).or_default().insert(id);
                    self.summary.replaced += 1;
                }
            }
        }
        Ok(())
    }

    /// Adds the replacements found during the batch to the manifest's segment entries.
    fn apply_replaced(&mut self) {
        for (position, ids) in std::mem::take(&mut self.replaced) {
            let Some(entry) = self.manifest.segments.get_mut(position) else { continue };
            let mut all: BTreeSet<u32> = entry.replaced.iter().copied().collect();
            all.extend(ids);
            entry.replaced = all.into_iter().collect();
        }
    }
}

/// Sorts the records added since the builder's base by time, stably, and returns the old id
/// of each new position, or `None` when they are in time order already.
fn sort_by_time(builder: &mut Builder) -> Option<Vec<u32>> {
    let base = builder.base as usize;
    let tail = builder.index.times.get(base..).unwrap_or_default();
    if tail.is_sorted() {
        return None;
    }
    let mut order: Vec<u32> = (0..builder.index.count).collect();
    let times = &builder.index.times;
    if let Some(tail) = order.get_mut(base..) {
        tail.sort_by_key(|id| times.get(*id as usize).copied().unwrap_or(NO_TIME));
    }
    let mut new_id = vec![0u32; order.len()];
    for (new, old) in order.iter().enumerate() {
        if let Some(slot) = new_id.get_mut(*old as usize) {
            *slot = new as u32;
        }
    }
    let renumber = |bitmap: &RoaringBitmap| -> RoaringBitmap {
        let mut ids: Vec<u32> =
            bitmap.iter().map(|id| new_id.get(id as usize).copied().unwrap_or(id)).collect();
        ids.sort_unstable();
        RoaringBitmap::from_sorted_iter(ids).unwrap_or_default()
    };
    let index = &mut builder.index;
    let fields = index.fields.values_mut().flat_map(|f| f.values.values_mut());
    for bitmap in index.sources.values_mut().chain(index.postings.values_mut()).chain(fields) {
        *bitmap = renumber(bitmap);
    }
    builder.replaced = renumber(&builder.replaced);
    let permute = |column: &mut Vec<i64>| {
        *column =
            order.iter().map(|old| column.get(*old as usize).copied().unwrap_or(NO_TIME)).collect();
    };
    permute(&mut index.times);
    index.time_columns.values_mut().for_each(permute);
    let hashes = &builder.hashes;
    builder.hashes =
        order.iter().map(|old| hashes.get(*old as usize).copied().unwrap_or(0)).collect();
    Some(order)
}

fn body_len(body: &StoredBody) -> u64 {
    match body {
        StoredBody::Json(text) => text.len() as u64,
        StoredBody::Csv(cells) => cells.iter().map(|c| c.len() as u64 + 1).sum(),
    }
}

/// Returns the source of a record, adding one for the first record of each kind in an input.
fn source_of(
    record: &Record,
    context: &MapContext,
    manifest: &mut Manifest,
    sources: &mut HashMap<RecordKind, u32>,
) -> u32 {
    if let Some(source) = sources.get(&record.kind) {
        return *source;
    }
    let header = match &record.raw {
        crate::records::Raw::Csv { header, .. } => Some(header.as_ref().clone()),
        crate::records::Raw::Json(_) => None,
    };
    let source = Source {
        file: context.file.to_string(),
        format: format_name(context.format).to_string(),
        kind_override: context.kind.map(|k| k.as_str().to_string()),
        kind: record.kind.as_str().to_string(),
        columns: record.extra.iter().map(|(name, _)| name.clone()).collect(),
        header,
    };
    let id = manifest.sources.len() as u32;
    manifest.sources.push(source);
    sources.insert(record.kind, id);
    id
}
