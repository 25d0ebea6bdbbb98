//! Sizes of an index: its files, and the sections of the derived structures by kind.

use serde::Serialize;
use std::collections::BTreeMap;

use super::files::identity_file;
use super::query::Index;
use super::sections::{FIELD_PREFIX, HEADS_PREFIX, TIME_PREFIX};
use super::tag_file::TAG_FILE;

/// Sizes of an open index, summed over its segments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// Number of segments.
    pub segments: u64,
    /// Records stored, live or replaced.
    pub records: u64,
    /// Records that queries see: stored records minus those replaced by newer copies.
    pub live: u64,
    /// Bytes of the derived structures (`.idx` files).
    pub index_bytes: u64,
    /// Bytes of the stored originals (`.rec` files).
    pub records_bytes: u64,
    /// Bytes of the identity hashes (`.ids` files), which only ingest reads.
    pub identity_bytes: u64,
    /// Bytes of the stored tag bitmaps (`tag-bitmaps.bin`), 0 before the first query.
    pub tag_bitmap_bytes: u64,
    /// Bytes of the `.idx` sections by kind: `postings`, `keys`, `times`, `sources`, `fields`
    /// (per-value bitmaps of every field), `time_columns` and `time_block_heads` (the summary
    /// and block index of each time column). The rest of each `.idx` file is its header and
    /// section table.
    pub sections: BTreeMap<String, u64>,
}

impl Index {
    /// Returns the sizes of the index's files and sections. A file that cannot be read counts
    /// as 0 bytes, since the figures describe the store and a damaged file is reported by the
    /// commands that read it.
    pub fn stats(&self) -> IndexStats {
        let dir = self.dir();
        let size = |name: &str| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
        let mut stats = IndexStats {
            segments: self.manifest().segments.len() as u64,
            live: self.len(),
            tag_bitmap_bytes: size(TAG_FILE),
            ..IndexStats::default()
        };
        for entry in &self.manifest().segments {
            stats.records += u64::from(entry.count);
            stats.index_bytes += size(&entry.index_file);
            stats.records_bytes += size(&entry.records_file);
            stats.identity_bytes += size(&identity_file(&entry.index_file));
        }
        for (name, length) in self.section_lengths() {
            *stats.sections.entry(section_kind(name).to_string()).or_default() += length;
        }
        stats
    }
}

/// Returns the kind under which a section's size is reported.
fn section_kind(name: &str) -> &str {
    if name.starts_with(FIELD_PREFIX) {
        "fields"
    } else if name.starts_with(TIME_PREFIX) {
        "time_columns"
    } else if name.starts_with(HEADS_PREFIX) {
        "time_block_heads"
    } else {
        name
    }
}

/// Writes the figures as an aligned table, with bytes per live record.
pub fn write_table(stats: &IndexStats, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let per_record = |bytes: u64| {
        if stats.live == 0 { 0.0 } else { bytes as f64 / stats.live as f64 }
    };
    writeln!(out, "segments        {:>15}", stats.segments)?;
    writeln!(out, "records         {:>15}", stats.records)?;
    writeln!(out, "live records    {:>15}", stats.live)?;
    writeln!(out, "{:<16}{:>15} {:>18}", "file or section", "bytes", "bytes per record")?;
    let mut rows = vec![(".idx".to_string(), stats.index_bytes)];
    rows.extend(stats.sections.iter().map(|(name, bytes)| (format!("  {name}"), *bytes)));
    rows.push((".ids".to_string(), stats.identity_bytes));
    rows.push((".rec".to_string(), stats.records_bytes));
    rows.push((TAG_FILE.to_string(), stats.tag_bitmap_bytes));
    for (name, bytes) in rows {
        writeln!(out, "{name:<16}{bytes:>15} {:>18.1}", per_record(bytes))?;
    }
    Ok(())
}
