//! Opening the index and running queries over it.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::error::IndexError;
use super::files;
use super::lazy::LazySegment;
use super::manifest::{Manifest, Source};
use super::plan::{self, Plan, SegmentEval, TagCache, TagCacheKey, TagSet};
use super::record_keys::RecordKeys;
use super::refresh::{KeysByUser, keys_by_user};
use super::segment::{StoredBody, StoredRecord};
use super::tag_file::{self, DirectoryKey, SegmentTags, StoredTag, TagFile};
use crate::catalog::{TagLookup, UserId};
use crate::eval::Matcher;
use crate::filter::resolved::Query;
use crate::filter::{self, ParseOptions, ResolveOptions};
use crate::records::map::{self, MapContext, Mapped};
use crate::records::{RawBody, RawItem, Record, RecordKind};

/// The order of query results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Ingest order: segment by segment, each ingest batch in time order.
    #[default]
    Stored,
    /// Oldest first; records without a time come first.
    Time,
    /// Newest first; records without a time come last.
    TimeDesc,
}

/// A query and its options.
#[derive(Clone, Debug, Default)]
pub struct QueryRequest {
    /// The query text.
    pub query: String,
    /// Parser limits.
    pub parse: ParseOptions,
    /// Time zone and the instant that `now` means.
    pub resolve: ResolveOptions,
    /// Only records of this kind.
    pub kind: Option<RecordKind>,
    /// Result order.
    pub sort: Sort,
    /// At most this many results.
    pub limit: Option<u64>,
}

/// A matching record's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Segment number.
    pub segment: u32,
    /// Record id within the segment.
    pub record: u32,
    /// The record's time in microseconds, or `i64::MIN` without one.
    pub time: i64,
}

/// The figures of an evaluated query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Matching records (before `limit`).
    pub matched: u64,
    /// Records that were materialised and tested record by record.
    pub tested: u64,
}

/// An open index: the manifest and the derived structures of every segment, with the
/// originals loaded on first use. It holds the index's shared lock until dropped, so the files
/// it reads are not removed by a concurrent ingest (which waits for the lock).
pub struct Index {
    dir: PathBuf,
    manifest: Manifest,
    segments: Vec<Segment>,
    _lock: Option<File>,
}

struct Segment {
    records_file: String,
    index_file: String,
    count: u32,
    index: LazySegment,
    live: RoaringBitmap,
    records: OnceLock<Arc<Vec<StoredRecord>>>,
    /// The keys of each record, built when a tag bitmap update first needs them. They
    /// depend only on the postings, so every session of the index shares them.
    record_keys: OnceLock<RecordKeys>,
}

impl Index {
    /// Opens the index of the store directory `store`; an index with no records when nothing
    /// was ingested. Opening reads the manifest and the section table of each segment; the
    /// sections are read and checked when a query first needs them.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError`] for unreadable or damaged files.
    pub fn open(store: &Path) -> Result<Index, IndexError> {
        let dir = files::index_dir(store);
        if !dir.exists() {
            let manifest = Manifest::new(super::manifest::DEFAULT_SEGMENT_SIZE);
            return Ok(Index { dir, manifest, segments: Vec::new(), _lock: None });
        }
        let lock = files::lock_shared(&dir)?;
        let Some(manifest) = files::load_manifest(&dir)? else {
            let manifest = Manifest::new(super::manifest::DEFAULT_SEGMENT_SIZE);
            return Ok(Index { dir, manifest, segments: Vec::new(), _lock: Some(lock) });
        };
        let segments = manifest
            .segments
            .par_iter()
            .map(|entry| {
                let index = LazySegment::open(&dir.join(&entry.index_file), entry.count)?;
                let mut live = RoaringBitmap::new();
                live.insert_range(0..entry.count);
                for id in &entry.replaced {
                    live.remove(*id);
                }
                Ok(Segment {
                    records_file: entry.records_file.clone(),
                    index_file: entry.index_file.clone(),
                    count: entry.count,
                    index,
                    live,
                    records: OnceLock::new(),
                    record_keys: OnceLock::new(),
                })
            })
            .collect::<Vec<Result<Segment, IndexError>>>();
        // The first damaged segment in order is reported, whichever thread found it first.
        let segments = segments.into_iter().collect::<Result<Vec<_>, IndexError>>()?;
        Ok(Index { dir, manifest, segments, _lock: Some(lock) })
    }

    /// Returns the manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Returns the index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the name and length in bytes of every section of every segment's `.idx` file.
    pub(super) fn section_lengths(&self) -> Vec<(&str, u64)> {
        let tables = self.segments.iter().flat_map(|s| s.index.file().sections());
        tables.map(|(name, section)| (name, section.length)).collect()
    }

    /// Returns the number of live records.
    pub fn len(&self) -> u64 {
        self.segments.iter().map(|s| s.live.len()).sum()
    }

    /// Returns true when the index contains no live record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the bytes of the derived-structure files, for size figures.
    pub fn index_bytes(&self) -> u64 {
        self.manifest
            .segments
            .iter()
            .filter_map(|s| std::fs::metadata(self.dir.join(&s.index_file)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Starts a query session with a tag lookup. The session caches resolved users and tag
    /// bitmaps, so it must be dropped when the catalog or the directory changes.
    pub fn session<'a>(&'a self, lookup: &'a dyn TagLookup) -> Session<'a> {
        Session {
            index: self,
            lookup,
            users: (0..self.segments.len()).map(|_| OnceLock::new()).collect(),
            keys_by_user: (0..self.segments.len()).map(|_| OnceLock::new()).collect(),
            resolved: Mutex::new(HashMap::new()),
            tags: (0..self.segments.len()).map(|_| Mutex::new(TagCache::new())).collect(),
            stored: None,
        }
    }

    /// Starts a query session that loads resolved users and tag bitmaps from the index
    /// folder where they were built with the same directory snapshot and the same tag
    /// carriers. Call [`Session::save_tag_bitmaps`] afterwards to keep what the session
    /// built for the next process.
    pub fn stored_session<'a>(
        &'a self,
        lookup: &'a dyn TagLookup,
        directory: DirectoryKey,
    ) -> Session<'a> {
        let file = tag_file::load(&self.dir, directory);
        self.session_with_file(lookup, file, directory, None)
    }

    /// Starts a session like [`Index::stored_session`] for a directory snapshot known by its
    /// fingerprint, with the catalog's fingerprint. When the stored file was built with the
    /// same snapshot, the session takes a tag's carriers from a stored bitmap that records
    /// the same catalog fingerprint instead of asking `lookup`. A query that finds all it
    /// needs in the file thus calls `lookup` only for tag names. `keys.users` is called only
    /// when the file is missing or belongs to another snapshot.
    pub fn stored_session_keyed<'a>(
        &'a self,
        lookup: &'a dyn TagLookup,
        keys: &SnapshotKeys<'_>,
    ) -> Session<'a> {
        let file = tag_file::load_fingerprint(&self.dir, keys.directory);
        let directory = match &file {
            Some(file) => file.directory,
            None => match (keys.users)() {
                Some(users) => DirectoryKey::from_fingerprint(keys.directory, users),
                None => DirectoryKey::unknown(),
            },
        };
        self.session_with_file(lookup, file, directory, keys.catalog)
    }

    fn session_with_file<'a>(
        &'a self,
        lookup: &'a dyn TagLookup,
        file: Option<TagFile>,
        directory: DirectoryKey,
        catalog: Option<u64>,
    ) -> Session<'a> {
        let stored = Stored {
            changed: AtomicBool::new(file.is_none()),
            file: file.unwrap_or_else(|| TagFile::new(directory)),
            catalog,
            carriers: Mutex::new(HashMap::new()),
        };
        Session { stored: Some(stored), ..self.session(lookup) }
    }

    /// Returns the stored state of a segment when it fits the segment's files.
    fn stored_segment<'s>(&self, stored: &'s Stored, segment: usize) -> Option<&'s SegmentTags> {
        let data = self.segments.get(segment)?;
        let state = stored.file.segments.get(&data.index_file)?;
        let fits = tag_file::fits_counts(state, data.index.key_count() as usize, data.count);
        fits.then_some(state)
    }

    fn records(&self, segment: usize) -> Result<Arc<Vec<StoredRecord>>, IndexError> {
        let Some(slot) = self.segments.get(segment) else {
            return Ok(Arc::new(Vec::new()));
        };
        if let Some(records) = slot.records.get() {
            return Ok(records.clone());
        }
        let records = Arc::new(files::read_records(&self.dir, &slot.records_file, slot.count)?);
        Ok(slot.records.get_or_init(|| records).clone())
    }

    /// Maps a stored record again, exactly as at ingest.
    pub fn materialise(&self, segment: u32, record: u32) -> Result<Record, IndexError> {
        let records = self.records(segment as usize)?;
        let path = || {
            let name = self.segments.get(segment as usize).map(|s| s.records_file.as_str());
            self.dir.join(name.unwrap_or_default())
        };
        let remap_error = |reason: String| IndexError::Remap { path: path(), record, reason };
        let stored = records
            .get(record as usize)
            .ok_or_else(|| remap_error("no such record".to_string()))?;
        let source = self
            .manifest
            .sources
            .get(stored.source as usize)
            .ok_or_else(|| remap_error(format!("unknown source {}", stored.source)))?;
        remap(stored, source).map_err(remap_error)
    }
}

/// Maps a stored original with its source's context.
pub fn remap(stored: &StoredRecord, source: &Source) -> Result<Record, String> {
    let body = match &stored.body {
        StoredBody::Json(text) => RawBody::Json(text.clone()),
        StoredBody::Csv(cells) => RawBody::Csv {
            header: Arc::new(source.header.clone().unwrap_or_default()),
            cells: cells.clone(),
        },
    };
    let item = RawItem { line: stored.line, body };
    let context = MapContext {
        file: Arc::from(source.file.as_str()),
        format: source.source_format(),
        kind: source.kind_override(),
    };
    match map::map_item(&item, &context) {
        Ok(Mapped::Record(record)) => Ok(*record),
        Ok(Mapped::Skipped { table }) => Err(format!("it is now a row of table {table}")),
        Err(e) => Err(e.to_string()),
    }
}

static EMPTY_KEYS: KeysByUser = Vec::new();

/// Queries over an index with one tag lookup.
pub struct Session<'a> {
    index: &'a Index,
    lookup: &'a dyn TagLookup,
    users: Vec<OnceLock<Arc<Vec<Option<UserId>>>>>,
    /// The reference keys of each segment by resolved user, built with the users.
    keys_by_user: Vec<OnceLock<Arc<KeysByUser>>>,
    resolved: Mutex<HashMap<String, Arc<Compiled>>>,
    /// Tag bitmaps per segment, built with `lookup`.
    tags: Vec<Mutex<TagCache>>,
    /// Users and tag bitmaps from the index folder, for sessions that keep them.
    stored: Option<Stored>,
}

/// The fingerprints that a process checks the stored tag bitmaps against, for
/// [`Index::stored_session_keyed`].
pub struct SnapshotKeys<'k> {
    /// The directory snapshot's fingerprint, as [`DirectoryKey::of`] computes it.
    pub directory: u64,
    /// The catalog's fingerprint, or `None` when unknown. Equal fingerprints must mean equal
    /// catalogs, since the session then takes tag carriers from the file.
    pub catalog: Option<u64>,
    /// Counts the directory's users, or returns `None` when the directory cannot be read.
    pub users: &'k dyn Fn() -> Option<u32>,
}

/// Users and tag bitmaps loaded from the index folder.
struct Stored {
    file: TagFile,
    /// The current catalog's fingerprint, if known.
    catalog: Option<u64>,
    /// Users carrying a selected tag, by tag cache key, under the session's lookup.
    carriers: Mutex<HashMap<TagCacheKey, Arc<RoaringBitmap>>>,
    /// True when the session built something that the file lacks.
    changed: AtomicBool,
}

/// A query parsed and resolved for every source.
struct Compiled {
    /// Distinct resolved queries with their plans.
    variants: Vec<(Query, Plan)>,
    /// The variant of each source, or `None` for sources of another kind.
    by_source: Vec<Option<usize>>,
    /// Per segment, the live records of each variant's sources, built on first use. Sources
    /// and replaced records are fixed while the index is open, so repeated queries reuse them.
    universes: Vec<OnceLock<Vec<RoaringBitmap>>>,
}

impl<'a> Session<'a> {
    /// Moves the session to a changed catalog or directory, updating the tag bitmaps built so
    /// far. The postings of reference keys whose user gained a selected tag are ORed in. The
    /// records of keys whose user lost it are checked again, and those where another user of
    /// the role still carries a selected tag are kept. That check reads each record's keys
    /// from a mapping that the first removal in a segment builds from all its postings, and
    /// that later sessions of the index reuse. With `same_directory`, the caller
    /// states that `lookup` resolves references like the old lookup (only tags or members
    /// changed), so the resolved users are reused instead of being resolved again.
    pub fn refresh<'b>(self, lookup: &'b dyn TagLookup, same_directory: bool) -> Session<'b>
    where
        'a: 'b,
    {
        let index: &'b Index = self.index;
        let mut next = index.session(lookup);
        if same_directory {
            for (old, new) in self.users.iter().zip(next.users.iter_mut()) {
                if let Some(users) = old.get() {
                    *new = OnceLock::from(users.clone());
                }
            }
            for (old, new) in self.keys_by_user.iter().zip(next.keys_by_user.iter_mut()) {
                if let Some(keys) = old.get() {
                    *new = OnceLock::from(keys.clone());
                }
            }
        }
        for (segment, cache) in self.tags.iter().enumerate() {
            let Ok(cache) = cache.lock() else { continue };
            if cache.is_empty() {
                continue;
            }
            let old_users = self.users(segment);
            let new_users = next.users(segment);
            let Some(data) = index.segments.get(segment) else { continue };
            let mut updated = TagCache::new();
            let change = super::refresh::TagChange {
                postings: data.index.postings_or_empty(),
                old: (self.lookup, old_users),
                new: (lookup, new_users),
                same_users: same_directory.then(|| next.keys_by_user(segment)),
                record_keys: &data.record_keys,
            };
            for (key, (selection, bitmap)) in cache.iter() {
                let bitmap = change.apply(key.0, selection, bitmap);
                updated.insert(key.clone(), (selection.clone(), bitmap));
            }
            if let Some(slot) = next.tags.get_mut(segment) {
                *slot = Mutex::new(updated);
            }
        }
        next
    }

    fn users(&self, segment: usize) -> &[Option<UserId>] {
        let (Some(slot), Some(data)) = (self.users.get(segment), self.index.segments.get(segment))
        else {
            return &[];
        };
        slot.get_or_init(|| {
            let stored = self.stored.as_ref();
            let loaded = stored.and_then(|s| self.index.stored_segment(s, segment));
            if let Some(users) = loaded.and_then(|state| state.users.clone()) {
                return Arc::new(users);
            }
            if let Some(stored) = stored {
                stored.changed.store(true, Ordering::Relaxed);
            }
            // A failed read resolves no key; `LazySegment::check` reports it after the query.
            let Ok(keys) = data.index.keys() else {
                return Arc::new(vec![None; data.index.key_count() as usize]);
            };
            let users: Vec<Option<UserId>> = keys
                .iter()
                .map(|key| self.lookup.resolve(&key.to_user_ref(crate::records::Role::User)))
                .collect();
            // Built now, next to the resolution that dominates, so that a later refresh
            // does not pay for it.
            if let Some(keys) = self.keys_by_user.get(segment) {
                keys.get_or_init(|| Arc::new(keys_by_user(&users)));
            }
            Arc::new(users)
        })
    }

    /// Returns the reference keys of a segment by resolved user.
    fn keys_by_user(&self, segment: usize) -> &KeysByUser {
        let users = self.users(segment);
        match self.keys_by_user.get(segment) {
            Some(slot) => slot.get_or_init(|| Arc::new(keys_by_user(users))),
            None => &EMPTY_KEYS,
        }
    }

    fn compile(&self, request: &QueryRequest) -> Result<Arc<Compiled>, IndexError> {
        let cache_key = format!("{:?}|{:?}|{:?}", request.query, request.kind, request.resolve);
        if let Ok(cache) = self.resolved.lock()
            && let Some(compiled) = cache.get(&cache_key)
        {
            return Ok(compiled.clone());
        }
        let parsed = filter::parse(&request.query, &request.parse)
            .map_err(|e| IndexError::Query(Box::new(e)))?;
        let used = self.used_sources()?;
        let mut variants: Vec<(Query, Plan)> = Vec::new();
        let mut by_source = Vec::with_capacity(self.index.manifest.sources.len());
        for (position, source) in self.index.manifest.sources.iter().enumerate() {
            let kind = source.record_kind();
            let wanted = kind.is_some_and(|k| request.kind.is_none_or(|w| w == k));
            let Some(kind) = kind.filter(|_| wanted && used.contains(&(position as u32))) else {
                by_source.push(None);
                continue;
            };
            let schema = map::schema_for(kind, &source.columns);
            let query = filter::resolve(&parsed.root, &schema, &request.resolve).map_err(|e| {
                IndexError::Resolve { file: source.file.clone(), kind, error: Box::new(e) }
            })?;
            let variant = match variants.iter().position(|(q, _)| *q == query) {
                Some(found) => found,
                None => {
                    let plan = plan::compile(&query, self.lookup);
                    variants.push((query, plan));
                    variants.len() - 1
                }
            };
            by_source.push(Some(variant));
        }
        let universes = self.index.segments.iter().map(|_| OnceLock::new()).collect();
        let compiled = Arc::new(Compiled { variants, by_source, universes });
        if let Ok(mut cache) = self.resolved.lock() {
            cache.insert(cache_key, compiled.clone());
        }
        Ok(compiled)
    }

    /// Returns the sources that have live records.
    fn used_sources(&self) -> Result<std::collections::HashSet<u32>, IndexError> {
        let mut used = std::collections::HashSet::new();
        for segment in &self.index.segments {
            for (source, bitmap) in segment.index.sources()? {
                if !bitmap.is_disjoint(&segment.live) {
                    used.insert(*source);
                }
            }
        }
        Ok(used)
    }

    /// Returns the plan of each distinct resolved form of the query, as text.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError`] when the query does not parse or does not fit some source.
    pub fn explain(&self, request: &QueryRequest) -> Result<String, IndexError> {
        let compiled = self.compile(request)?;
        let mut out = String::new();
        for (position, (_, plan)) in compiled.variants.iter().enumerate() {
            let sources: Vec<String> = self
                .index
                .manifest
                .sources
                .iter()
                .zip(&compiled.by_source)
                .filter(|(_, v)| **v == Some(position))
                .map(|(s, _)| format!("{} ({})", s.file, s.kind))
                .collect();
            out.push_str(&format!("plan for {}:\n", sources.join(", ")));
            out.push_str(&plan::render(plan));
            let mode = if plan::is_all_bitmap(plan) {
                "decided from bitmaps and columns; records are read only for fields that a segment keeps no bitmaps or instants for"
            } else {
                "candidates from bitmaps, then each candidate record is tested"
            };
            out.push_str(&format!("  => {mode}\n"));
        }
        if compiled.variants.is_empty() {
            out.push_str("no records of the requested kind in the index\n");
        }
        Ok(out)
    }

    /// Returns the matching records' positions in the requested order and limit, with figures.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError`] for a query that does not parse or fit, or a damaged file.
    pub fn hits(&self, request: &QueryRequest) -> Result<(Vec<Hit>, QueryStats), IndexError> {
        let compiled = self.compile(request)?;
        let per_segment: Vec<Result<(RoaringBitmap, u64), IndexError>> =
            (0..self.index.segments.len())
                .into_par_iter()
                .map(|segment| self.segment_matches(segment, &compiled))
                .collect();
        let mut hits = Vec::new();
        let mut stats = QueryStats::default();
        for (segment, result) in per_segment.into_iter().enumerate() {
            let (matched, tested) = result?;
            stats.matched += matched.len();
            stats.tested += tested;
            let times = match self.index.segments.get(segment) {
                Some(data) => Some(data.index.times()?),
                None => None,
            };
            for record in &matched {
                let time = times.and_then(|t| t.get(record as usize)).copied().unwrap_or(i64::MIN);
                hits.push(Hit { segment: segment as u32, record, time });
            }
        }
        match request.sort {
            Sort::Stored => {}
            Sort::Time => hits.sort_by_key(|h| h.time),
            Sort::TimeDesc => hits.sort_by_key(|h| std::cmp::Reverse(h.time)),
        }
        if let Some(limit) = request.limit {
            hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Ok((hits, stats))
    }

    /// Counts the matching records; an all-bitmap plan reads no record.
    ///
    /// # Errors
    ///
    /// As [`Session::hits`].
    pub fn count(&self, request: &QueryRequest) -> Result<QueryStats, IndexError> {
        let compiled = self.compile(request)?;
        let mut stats = QueryStats::default();
        for segment in 0..self.index.segments.len() {
            let (matched, tested) = self.segment_matches(segment, &compiled)?;
            stats.matched += matched.len();
            stats.tested += tested;
        }
        if let Some(limit) = request.limit {
            stats.matched = stats.matched.min(limit);
        }
        Ok(stats)
    }

    /// Runs the query and calls `on_match` with every matching record, materialised.
    ///
    /// # Errors
    ///
    /// The outer error is an index error; the inner one is the first error of `on_match`.
    pub fn run<E>(
        &self,
        request: &QueryRequest,
        on_match: &mut dyn FnMut(&Record) -> Result<(), E>,
    ) -> Result<Result<QueryStats, E>, IndexError> {
        let (hits, stats) = self.hits(request)?;
        for hit in hits {
            let record = self.index.materialise(hit.segment, hit.record)?;
            if let Err(e) = on_match(&record) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(stats))
    }

    /// Returns the matching records of one segment and how many were tested one by one.
    fn segment_matches(
        &self,
        segment: usize,
        compiled: &Compiled,
    ) -> Result<(RoaringBitmap, u64), IndexError> {
        let Some(data) = self.index.segments.get(segment) else {
            return Ok((RoaringBitmap::new(), 0));
        };
        self.load_tag_bitmaps(segment, compiled);
        let eval = SegmentEval {
            index: &data.index,
            lookup: self.lookup,
            users: self.users(segment),
            cache: self.tags.get(segment),
            records: data.count,
        };
        let mut matched = RoaringBitmap::new();
        let mut tested = 0;
        let universes = match compiled.universes.get(segment) {
            Some(cell) => match cell.get() {
                Some(universes) => universes,
                None => {
                    let _ = cell.set(variant_universes(data, compiled)?);
                    cell.get().map(Vec::as_slice).unwrap_or_default()
                }
            },
            None => &[],
        };
        for ((query, plan), universe) in compiled.variants.iter().zip(universes) {
            if universe.is_empty() {
                continue;
            }
            let bounds = eval.bounds(plan, universe);
            data.index.check()?;
            let (certain, candidates) = bounds.into_certain_and_unsure();
            if matched.is_empty() {
                matched = certain;
            } else {
                matched |= certain;
            }
            if candidates.is_empty() {
                continue;
            }
            tested += candidates.len();
            matched |= self.test(segment, query, &candidates)?;
        }
        Ok((matched, tested))
    }

    /// Fills the segment's tag bitmap cache from the stored bitmaps of the compiled plans'
    /// tag leaves: unchanged where the carriers are the same, updated where they differ.
    fn load_tag_bitmaps(&self, segment: usize, compiled: &Compiled) {
        let Some(stored) = &self.stored else { return };
        let Some(cache) = self.tags.get(segment) else { return };
        let mut leaves = Vec::new();
        for (_, plan) in &compiled.variants {
            plan::tag_leaves(plan, &mut leaves);
        }
        let state = self.index.stored_segment(stored, segment);
        for (role, tags, selection) in leaves {
            let key = plan::tag_cache_key(role, selection);
            if cache.lock().is_ok_and(|c| c.contains_key(&key)) {
                continue;
            }
            let carriers = self.carriers(stored, &key, tags);
            let Some(entry) = state.and_then(|s| s.tags.get(&key)) else {
                stored.changed.store(true, Ordering::Relaxed);
                continue;
            };
            if stored.catalog.is_some() && entry.catalog != stored.catalog {
                // Record the current catalog, so that the next process can skip the lookup.
                stored.changed.store(true, Ordering::Relaxed);
            }
            let bitmap = if entry.carriers == *carriers {
                entry.bitmap.clone()
            } else {
                stored.changed.store(true, Ordering::Relaxed);
                let Some(data) = self.index.segments.get(segment) else { continue };
                let users = self.users(segment);
                tag_file::update_postings(
                    data.index.postings_or_empty(),
                    users,
                    role,
                    &entry.carriers,
                    &carriers,
                    &entry.bitmap,
                )
            };
            if let Ok(mut cache) = cache.lock() {
                cache.insert(key, (selection.clone(), bitmap));
            }
        }
    }

    /// Returns the users that carry a tag of a leaf, computed once per session. A stored
    /// bitmap of the leaf built under the current catalog already lists them.
    fn carriers(&self, stored: &Stored, key: &TagCacheKey, tags: &TagSet) -> Arc<RoaringBitmap> {
        if let Ok(known) = stored.carriers.lock()
            && let Some(carriers) = known.get(key)
        {
            return carriers.clone();
        }
        let from_file = stored.catalog.and_then(|catalog| {
            let entries = stored.file.segments.values().filter_map(|s| s.tags.get(key));
            entries.into_iter().find(|entry| entry.catalog == Some(catalog))
        });
        let carriers = match from_file {
            Some(entry) => Arc::new(entry.carriers.clone()),
            None => {
                let users = stored.file.directory.users();
                Arc::new(tag_file::carriers(self.lookup, users, tags))
            }
        };
        if let Ok(mut known) = stored.carriers.lock() {
            known.insert(key.clone(), carriers.clone());
        }
        carriers
    }

    /// Writes the resolved users and tag bitmaps of a session from
    /// [`Index::stored_session`] to the index folder when the session built any that the
    /// folder lacked. Returns whether it wrote the file.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError::Io`] when the file cannot be written.
    pub fn save_tag_bitmaps(&self) -> Result<bool, IndexError> {
        let Some(stored) = &self.stored else { return Ok(false) };
        // An index without segments has no bitmaps to keep, and may have no folder yet.
        if !stored.changed.load(Ordering::Relaxed) || self.index.segments.is_empty() {
            return Ok(false);
        }
        let mut file = TagFile::new(stored.file.directory);
        let carriers = stored.carriers.lock().map(|c| c.clone()).unwrap_or_default();
        for (segment, data) in self.index.segments.iter().enumerate() {
            let mut state = self.index.stored_segment(stored, segment).cloned().unwrap_or_default();
            if let Some(users) = self.users.get(segment).and_then(|slot| slot.get()) {
                state.users = Some(users.to_vec());
            }
            if let Some(Ok(cache)) = self.tags.get(segment).map(|c| c.lock()) {
                for (key, (_, bitmap)) in cache.iter() {
                    let Some(carriers) = carriers.get(key) else { continue };
                    // Without a current fingerprint, the old one still names a catalog
                    // under which the users are the same.
                    let old = state.tags.get(key);
                    let same = old.filter(|old| old.carriers == **carriers);
                    let catalog = stored.catalog.or(same.and_then(|old| old.catalog));
                    let carriers = (**carriers).clone();
                    let entry = StoredTag { carriers, catalog, bitmap: bitmap.clone() };
                    state.tags.insert(key.clone(), entry);
                }
            }
            file.segments.insert(data.index_file.clone(), state);
        }
        tag_file::save(&self.index.dir, &file)?;
        Ok(true)
    }

    /// Tests candidate records one by one with the streaming matcher.
    fn test(
        &self,
        segment: usize,
        query: &Query,
        candidates: &RoaringBitmap,
    ) -> Result<RoaringBitmap, IndexError> {
        let matcher = Matcher::new(query, self.lookup);
        let mut matched = RoaringBitmap::new();
        for record in candidates {
            let materialised = self.index.materialise(segment as u32, record)?;
            if matcher.matches(&materialised) {
                matched.insert(record);
            }
        }
        Ok(matched)
    }
}

/// Returns, for each variant of `compiled`, the live records of the segment's sources that
/// the variant evaluates.
fn variant_universes(
    data: &Segment,
    compiled: &Compiled,
) -> Result<Vec<RoaringBitmap>, IndexError> {
    let mut universes = vec![RoaringBitmap::new(); compiled.variants.len()];
    for (source, bitmap) in data.index.sources()? {
        let variant = compiled.by_source.get(*source as usize).copied().flatten();
        if let Some(universe) = variant.and_then(|v| universes.get_mut(v)) {
            *universe |= bitmap;
        }
    }
    for universe in &mut universes {
        *universe &= &data.live;
    }
    Ok(universes)
}
