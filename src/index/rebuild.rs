//! Rebuilding the derived structures of every segment from the stored originals.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::error::IndexError;
use super::files::{self, lock_exclusive};
use super::manifest::Manifest;
use super::query::remap;
use super::sections::encode_identities;
use super::segment::{self, SegmentIndex, record_identity_hash};

/// Figures of a rebuild.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebuildSummary {
    /// Segments rebuilt.
    pub segments: usize,
    /// Records mapped again.
    pub records: u64,
}

/// Rewrites the derived-structure and identity files of every segment from its originals and
/// publishes a new manifest; the originals are kept as they are.
///
/// # Errors
///
/// Returns [`IndexError`] when the manifest or an originals file is missing or damaged, or a
/// stored record no longer maps.
pub fn rebuild(store: &Path) -> Result<RebuildSummary, IndexError> {
    let dir = files::index_dir(store);
    let _lock = lock_exclusive(&dir)?;
    let Some(mut manifest) = files::load_manifest(&dir)? else {
        return Ok(RebuildSummary::default());
    };
    let generation = manifest.generation + 1;
    let rebuilt: Vec<Result<(String, u32), IndexError>> = manifest
        .segments
        .par_iter()
        .enumerate()
        .map(|(position, _)| {
            let (index, hashes) = rebuild_segment(&dir, &manifest, position)?;
            let (_, index_file) = files::segment_names(position, generation);
            files::write_file(&dir, &index_file, &segment::encode_index(&index))?;
            let identities = encode_identities(&hashes);
            files::write_file(&dir, &files::identity_file(&index_file), &identities)?;
            Ok((index_file, index.count))
        })
        .collect();
    let mut summary = RebuildSummary::default();
    for (entry, result) in manifest.segments.iter_mut().zip(rebuilt) {
        let (index_file, count) = result?;
        entry.index_file = index_file;
        summary.segments += 1;
        summary.records += u64::from(count);
    }
    manifest.generation = generation;
    files::publish(&dir, &manifest)?;
    Ok(summary)
}

fn rebuild_segment(
    dir: &Path,
    manifest: &Manifest,
    position: usize,
) -> Result<(SegmentIndex, Vec<u128>), IndexError> {
    let Some(entry) = manifest.segments.get(position) else {
        return Ok((SegmentIndex::default(), Vec::new()));
    };
    let mut hashes = Vec::with_capacity(entry.count as usize);
    let records = files::read_records(dir, &entry.records_file, entry.count)?;
    let mut index = SegmentIndex::default();
    let mut keys = HashMap::new();
    for (id, stored) in records.iter().enumerate() {
        let remap_error = |reason: String| IndexError::Remap {
            path: dir.join(&entry.records_file),
            record: id as u32,
            reason,
        };
        let source = manifest
            .sources
            .get(stored.source as usize)
            .ok_or_else(|| remap_error(format!("unknown source {}", stored.source)))?;
        let record = remap(stored, source).map_err(remap_error)?;
        hashes.push(record_identity_hash(&record));
        index.append(stored.source, &record, &mut keys);
    }
    Ok((index, hashes))
}
