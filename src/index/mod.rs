//! The persistent index: ingest records once, answer queries from roaring bitmaps.
//!
//! The index lives in the `index/` folder of the store directory:
//!
//! - `manifest.json`: the segments and sources of the current state, in the store's versioned,
//!   checksummed JSON envelope, replaced atomically by every change;
//! - `seg-NNNNNNNN-gGENERATION.rec`: the originals of a segment's records (JSON text or CSV
//!   cells), mapped again when a record is printed or tested;
//! - `seg-NNNNNNNN-gGENERATION.idx`: the derived structures: times per record, records per
//!   source, postings per (role, user reference key), per-value bitmaps of model fields and
//!   time columns, in sections that are read when a query first needs them, with bitmaps in
//!   the portable roaring format (see [`sections`]);
//! - `seg-NNNNNNNN-gGENERATION.ids`: the identity hash of every record, which only ingest
//!   reads to find the records that a new copy replaces;
//! - `tag-bitmaps.bin`: tag bitmaps and resolved users that earlier queries built, reused
//!   while the directory snapshot and the tag carriers stay the same (see [`tag_file`]);
//! - `lock`: writers lock it exclusively, open indexes hold it shared.
//!
//! Segment files carry a format version and CRC-32 checksums (see [`codec`]); a damaged file
//! is reported with its name and byte offset. An ingest writes new files, flushes them, and then
//! replaces the manifest, so a crash leaves the previous state.
//!
//! Queries give exactly the records that the streaming filter gives on the same records and
//! catalog: the planner answers tag leaves and enumeration values from bitmaps where the
//! semantics are provably the same, and tests every other candidate record with the same
//! [`Matcher`](crate::eval::Matcher) (see [`plan`]).
//!
//! ```no_run
//! use std::path::{Path, PathBuf};
//! use tagq::index::{self, Index, IngestOptions, QueryRequest};
//!
//! let store = Path::new("store");
//! let summary = index::ingest(store, &[PathBuf::from("emails.csv")], &IngestOptions::default(), &mut |_| {})?;
//! let (directory, catalog) = (tagq::directory::Directory::default(), tagq::catalog::Catalog::new(tagq::time::Timestamp(0)));
//! let lookup = tagq::catalog::Membership::new(&directory, &catalog);
//! let index = Index::open(store)?;
//! let request = QueryRequest { query: "recipient.tag:Finance".into(), ..QueryRequest::default() };
//! let stats = index.session(&lookup).count(&request)?;
//! println!("{} added, {} matched", summary.added.values().sum::<u64>(), stats.matched);
//! # Ok::<(), tagq::index::IndexError>(())
//! ```

pub mod codec;
mod error;
pub mod files;
mod ingest;
mod lazy;
pub mod manifest;
pub mod plan;
mod query;
mod rebuild;
mod record_keys;
mod refresh;
pub mod sections;
pub mod segment;
mod spool;
mod stats;
pub mod tag_file;
pub mod time_blocks;

pub use error::IndexError;
pub use ingest::{IngestOptions, IngestSummary, ingest};
pub use query::{Hit, Index, QueryRequest, QueryStats, Session, SnapshotKeys, Sort, remap};
pub use rebuild::{RebuildSummary, rebuild};
pub use stats::{IndexStats, write_table as write_stats_table};
pub use tag_file::DirectoryKey;
