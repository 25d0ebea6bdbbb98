//! Ingest: read exports, map their records and add them to the index in one atomic batch.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::error::IndexError;
use super::files::{self, lock_exclusive};
use super::manifest::{DEFAULT_SEGMENT_SIZE, Manifest, SegmentEntry, Source, format_name};
use super::segment::{self, Entry, NO_TIME, SegmentIndex, StoredBody, StoredRecord};
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
    /// Records that replaced an older copy with the same identity (in the index or earlier
    /// in the same batch).
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

/// One new record before it gets its id.
struct Pending {
    source: u32,
    stored: StoredRecord,
    entry: Entry,
}

/// Reads `inputs` (`-` is standard input) and adds their records to the index of the store
/// directory `store` as one batch: either all of them are published or, on error or crash,
/// none. `progress` receives the number of records read so far after each read batch.
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
    let mut manifest =
        files::load_manifest(&dir)?.unwrap_or_else(|| Manifest::new(options.segment_size));
    let mut summary = IngestSummary::default();
    // NOTE: the whole batch stays in memory until `append`: 10.4 GiB peak for 1 M emails of
    // 475 bytes. Most of it is likely each `Entry`'s per-record field key strings and
    // one-element `BTreeSet`s, an estimate that was not profiled.
    let mut pending = Vec::new();
    for input in inputs {
        read_input(input, options, &mut manifest, &mut pending, &mut summary, progress);
    }
    let pending = drop_duplicates(pending, &mut summary);
    mark_replaced(&dir, &mut manifest, &pending, &mut summary)?;
    for item in &pending {
        let kind = manifest.sources.get(item.source as usize).and_then(Source::record_kind);
        if let Some(kind) = kind {
            *summary.added.entry(kind).or_default() += 1;
        }
    }
    append(&dir, &mut manifest, pending)?;
    manifest.generation += 1;
    files::publish(&dir, &manifest)?;
    Ok(summary)
}

fn read_input(
    input: &Path,
    options: &IngestOptions,
    manifest: &mut Manifest,
    pending: &mut Vec<Pending>,
    summary: &mut IngestSummary,
    progress: &mut dyn FnMut(u64),
) {
    let mut reader = match read::open(input, &options.read) {
        Ok(reader) => reader,
        Err(e) => {
            summary.rejected.push(e.into());
            return;
        }
    };
    let context =
        MapContext { file: Arc::from(reader.name()), format: reader.format(), kind: options.kind };
    let mut sources: HashMap<RecordKind, u32> = HashMap::new();
    for batch in reader.by_ref() {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                summary.rejected.push(e.into());
                break;
            }
        };
        let mapped: Vec<_> = batch
            .into_par_iter()
            .map(|item| {
                let result = map::map_item(&item, &context);
                (item, result)
            })
            .collect();
        for (item, result) in mapped {
            match result {
                Ok(Mapped::Record(record)) => {
                    let source = source_of(&record, &context, manifest, &mut sources);
                    let body = match item.body {
                        RawBody::Json(text) => StoredBody::Json(text),
                        RawBody::Csv { cells, .. } => StoredBody::Csv(cells),
                    };
                    summary.bytes += body_len(&body);
                    let entry = Entry::of(&record);
                    let stored = StoredRecord { source, line: item.line, body };
                    pending.push(Pending { source, stored, entry });
                }
                Ok(Mapped::Skipped { table }) => {
                    *summary.skipped_tables.entry(table).or_default() += 1;
                }
                Err(e) => summary.rejected.push(e.into()),
            }
        }
        progress(pending.len() as u64);
    }
    summary.warnings.extend(reader.warnings().iter().map(ToString::to_string));
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

/// Keeps the last copy of each identity within the batch.
fn drop_duplicates(pending: Vec<Pending>, summary: &mut IngestSummary) -> Vec<Pending> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(pending.len());
    for (position, item) in pending.iter().enumerate() {
        last.insert(item.entry.id.as_str(), position);
    }
    let keep: Vec<bool> = pending
        .iter()
        .enumerate()
        .map(|(i, item)| last.get(item.entry.id.as_str()) == Some(&i))
        .collect();
    drop(last);
    let before = pending.len();
    let kept: Vec<Pending> =
        pending.into_iter().zip(keep).filter_map(|(item, keep)| keep.then_some(item)).collect();
    summary.replaced += (before - kept.len()) as u64;
    kept
}

/// Marks stored records whose identity comes again in this batch as replaced.
fn mark_replaced(
    dir: &Path,
    manifest: &mut Manifest,
    pending: &[Pending],
    summary: &mut IngestSummary,
) -> Result<(), IndexError> {
    if manifest.segments.is_empty() || pending.is_empty() {
        return Ok(());
    }
    // NOTE: this reads the identities of every segment, so ingest time grows with the
    // index size; a persistent identity table would avoid it.
    let incoming: std::collections::HashSet<&str> =
        pending.iter().map(|p| p.entry.id.as_str()).collect();
    for entry in &mut manifest.segments {
        let index = files::read_index(dir, &entry.index_file, entry.count)?;
        let mut replaced: std::collections::BTreeSet<u32> =
            entry.replaced.iter().copied().collect();
        for (id, identity) in index.ids.iter().enumerate() {
            let id = id as u32;
            if !replaced.contains(&id) && incoming.contains(identity.as_str()) {
                replaced.insert(id);
                summary.replaced += 1;
            }
        }
        entry.replaced = replaced.into_iter().collect();
    }
    Ok(())
}

/// Appends the batch, sorted by time, to the head segment and new segments, writing new files.
fn append(
    dir: &Path,
    manifest: &mut Manifest,
    mut pending: Vec<Pending>,
) -> Result<(), IndexError> {
    if pending.is_empty() {
        return Ok(());
    }
    pending.sort_by_key(|p| p.entry.time);
    let generation = manifest.generation + 1;
    let size = manifest.segment_size;
    let mut queue = pending.into_iter().peekable();
    let head_open = manifest.segments.last().is_some_and(|s| s.count < size);
    let mut position =
        if head_open { manifest.segments.len() - 1 } else { manifest.segments.len() };
    while queue.peek().is_some() {
        let (mut records, mut index) = match manifest.segments.get(position) {
            Some(entry) => (
                files::read_records(dir, &entry.records_file, entry.count)?,
                files::read_index(dir, &entry.index_file, entry.count)?,
            ),
            None => (Vec::new(), SegmentIndex::default()),
        };
        let mut keys = index.key_map();
        while index.count < size {
            let Some(item) = queue.next() else { break };
            records.push(item.stored);
            index.append(item.source, item.entry, &mut keys);
        }
        let (records_file, index_file) = files::segment_names(position, generation);
        files::write_file(dir, &records_file, &segment::encode_records(&records))?;
        files::write_file(dir, &index_file, &segment::encode_index(&index))?;
        let replaced =
            manifest.segments.get(position).map(|s| s.replaced.clone()).unwrap_or_default();
        let entry = SegmentEntry {
            records_file,
            index_file,
            count: index.count,
            min_time: index.times.iter().copied().filter(|t| *t != NO_TIME).min(),
            max_time: index.times.iter().copied().filter(|t| *t != NO_TIME).max(),
            replaced,
        };
        match manifest.segments.get_mut(position) {
            Some(slot) => *slot = entry,
            None => manifest.segments.push(entry),
        }
        position += 1;
    }
    Ok(())
}
