//! Ingest: read exports, map their records and add them to the index in one atomic batch.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender};

use rayon::prelude::*;

use super::error::IndexError;
use super::files::{self, lock_exclusive};
use super::manifest::{DEFAULT_SEGMENT_SIZE, Manifest, SegmentEntry, Source, format_name};
use roaring::RoaringBitmap;

use super::sections::encode_identities;
use super::segment::{
    self, NO_TIME, RefKey, SegmentIndex, StoredBody, StoredRecord, record_identity_hash,
};
use super::spool::RecordsSpool;
use crate::eval::stream::InputError;
use crate::records::map::{self, ExtraColumns, MapContext, MapError, Mapped};
use crate::records::read::{self, ReadError, ReadOptions};
use crate::records::{Raw, RawBody, RawItem, Record, RecordKind};

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
    /// The segment's files, named from its position and the batch's generation.
    records_file: String,
    index_file: String,
    records: RecordsSpool,
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
/// Memory stays bounded by the segment size. The derived structures of one segment are kept
/// until it is full, and its originals go to a temporary file as they arrive. The batch also
/// keeps a 128-bit hash and a location per record to find repeated identities.
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
    /// Reads and maps `input` on one thread and the rayon pool, and adds its records on this
    /// thread, so that building the segment overlaps with reading and mapping the next items.
    fn read_input(
        &mut self,
        input: &Path,
        options: &IngestOptions,
        read: &mut u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), IndexError> {
        let reader = match read::open(input, &options.read) {
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
        let (sender, receiver) = mpsc::sync_channel(MAPPED_BATCHES_IN_FLIGHT);
        std::thread::scope(|scope| {
            let mapper = scope.spawn(|| read_and_map(reader, &context, sender));
            let added = self.add_batches(receiver, &context, read, progress);
            // The receiver is gone once `add_batches` returns, so the mapper stops sending.
            let reader = match mapper.join() {
                Ok(reader) => reader,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let warnings = reader.warnings();
            let warnings = warnings.iter().map(ToString::to_string);
            self.summary.warnings.extend(warnings);
            added
        })
    }

    /// Adds the records of the mapped batches in input order, until the mapper stops or adding
    /// fails.
    fn add_batches(
        &mut self,
        receiver: Receiver<Result<Vec<MappedItem>, ReadError>>,
        context: &MapContext,
        read: &mut u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), IndexError> {
        let mut sources: HashMap<RecordKind, u32> = HashMap::new();
        for batch in receiver {
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    self.summary.rejected.push(e.into());
                    break;
                }
            };
            let mut added = Vec::with_capacity(batch.len());
            for item in batch {
                match item {
                    Ok(Ingested::Record(item)) => {
                        let IngestRecord { record, line, body, hash } = *item;
                        let source = source_of(&record, context, &mut self.manifest, &mut sources);
                        self.summary.bytes += body_len(&body);
                        let stored = StoredRecord { source, line, body };
                        *read += 1;
                        self.add(stored, &record, hash)?;
                        added.push(record);
                    }
                    Ok(Ingested::Skipped { table }) => {
                        *self.summary.skipped_tables.entry(table).or_default() += 1;
                    }
                    Err(e) => self.summary.rejected.push(e.into()),
                }
            }
            // A record owns dozens of small allocations, so it is freed on the pool rather
            // than on this thread, which builds the segment.
            rayon::spawn(move || drop(added));
            progress(*read);
        }
        Ok(())
    }

    /// Adds one record to the segment being filled, marking an earlier copy in the batch as
    /// replaced, and writes the segment when it is full.
    fn add(&mut self, stored: StoredRecord, record: &Record, hash: u128) -> Result<(), IndexError> {
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
        builder.records.push(&stored)?;
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
        let head = head.filter(|_| reopen);
        let position = if head.is_some() { written - 1 } else { written };
        let (records_file, index_file) = files::segment_names(position, self.generation);
        let mut builder = Builder {
            position,
            base: 0,
            records: RecordsSpool::create(self.dir, &records_file)?,
            records_file,
            index_file,
            index: SegmentIndex::default(),
            keys: HashMap::new(),
            hashes: Vec::new(),
            replaced: RoaringBitmap::new(),
        };
        let Some(entry) = head else { return Ok(builder) };
        builder.base = entry.count;
        for record in files::read_records(self.dir, &entry.records_file, entry.count)? {
            builder.records.push(&record)?;
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
        let Builder {
            position, records, records_file, index_file, index, hashes, replaced, ..
        } = builder;
        records.finish(order.as_deref())?;
        let index = &index;
        files::write_file(self.dir, &index_file, &segment::encode_index(index))?;
        let identities = encode_identities(&hashes);
        files::write_file(self.dir, &files::identity_file(&index_file), &identities)?;
        let mut all_replaced: BTreeSet<u32> = self
            .manifest
            .segments
            .get(position)
            .map(|s| s.replaced.iter().copied().collect())
            .unwrap_or_default();
        all_replaced.extend(replaced.iter());
        let times = || index.times.iter().copied().filter(|t| *t != NO_TIME);
        let entry = SegmentEntry {
            records_file,
            index_file,
            count: index.count,
            min_time: times().min(),
            max_time: times().max(),
            replaced: all_replaced.into_iter().collect(),
        };
        match self.manifest.segments.get_mut(position) {
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

/// Batches of mapped items that the mapper may send ahead of the records being added. Each
/// batch contains at most [`read::DEFAULT_BATCH_ITEMS`] items and about 4 MiB of text, unless the
/// read options ask for more.
const MAPPED_BATCHES_IN_FLIGHT: usize = 2;

/// A mapped item of an input: a record with what ingest stores of it, or a skipped table row.
type MappedItem = Result<Ingested, MapError>;

/// The result of mapping an item for ingest.
enum Ingested {
    /// A record.
    Record(Box<IngestRecord>),
    /// A row of a table that contains neither alerts, emails nor campaigns.
    Skipped {
        /// The table name.
        table: String,
    },
}

/// A mapped record with its original content and identity hash.
struct IngestRecord {
    record: Box<Record>,
    /// 1-based line where the record starts in its input.
    line: u64,
    body: StoredBody,
    /// [`record_identity_hash`] of the record.
    hash: u128,
}

/// Reads the batches of `reader`, maps each on the rayon pool and sends them in order, until
/// the input ends, a read error (sent as the last message) or the receiver is dropped.
/// Returns the reader for its warnings.
fn read_and_map(
    mut reader: read::Reader,
    context: &MapContext,
    sender: SyncSender<Result<Vec<MappedItem>, ReadError>>,
) -> read::Reader {
    for items in reader.by_ref() {
        let items = match items {
            Ok(items) => items,
            Err(e) => {
                let _ = sender.send(Err(e));
                break;
            }
        };
        let mapped = items.into_par_iter().map(|item| map_for_ingest(item, context)).collect();
        if sender.send(Ok(mapped)).is_err() {
            break;
        }
    }
    reader
}

/// Maps one item and takes what ingest stores of it: the original text or cells, and the
/// identity hash.
fn map_for_ingest(item: RawItem, context: &MapContext) -> MappedItem {
    let line = item.line;
    let multi_line = match &item.body {
        RawBody::Json(text) => memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_some(),
        RawBody::Csv { .. } => false,
    };
    let (mapped, original) = if multi_line {
        // The record's raw form of a multi-line element is a compact rendering, but the
        // original text is stored.
        (map::map_item(&item, context)?, Some(item.body))
    } else {
        // The raw form of a one-line item is its text or cells, moved rather than copied.
        (map::map_item_owned(item, context, &ExtraColumns::default())?, None)
    };
    let mut record = match mapped {
        Mapped::Record(record) => record,
        Mapped::Skipped { table } => return Ok(Ingested::Skipped { table }),
    };
    let raw = match original {
        Some(RawBody::Json(text)) => Raw::Json(text),
        Some(RawBody::Csv { header, cells }) => Raw::Csv { header, cells },
        None => std::mem::replace(&mut record.raw, Raw::Json(String::new())),
    };
    let body = match raw {
        Raw::Json(text) => StoredBody::Json(text),
        Raw::Csv { header, cells } => {
            // `source_of` reads the header of a source's first record.
            record.raw = Raw::Csv { header, cells: Vec::new() };
            StoredBody::Csv(cells)
        }
    };
    let hash = record_identity_hash(&record);
    Ok(Ingested::Record(Box::new(IngestRecord { record, line, body, hash })))
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
