//! tagq: find the alerts, emails and campaigns that involve tagged users.
//!
//! Security teams tag their most important people (the built-in "Priority account" tag and
//! custom tags such as "Finance") and need every record that touches those people. tagq keeps
//! the tags and a snapshot of the directory, reads exported records (CSV, JSON, NDJSON from
//! Defender, Sentinel, the Office 365 Management Activity API and Microsoft Graph) and selects
//! records with a Kibana-style filter language that has tag predicates.
//!
//! The modules follow the data's path:
//! - [`directory`]: users, groups, address resolution and group expansion;
//! - [`catalog`]: tags and their members;
//! - [`records`]: the record model and the readers and writers of export formats;
//! - [`filter`]: the filter language (parser, syntax tree, resolution against a schema);
//! - [`eval`]: record-at-a-time evaluation of a resolved query;
//! - [`index`]: the persistent roaring-bitmap index that `tagq query` reads;
//! - [`store`]: the on-disk store with atomic commits;
//! - [`generate`]: synthetic datasets in the export shapes, for benchmarks;
//! - [`api`]: the embedding API for report pipelines: a store's queries and reports in a few calls.

pub mod api;
pub mod catalog;
#[doc(hidden)]
pub mod cli;
pub mod directory;
pub mod eval;
pub mod filter;
pub mod generate;
pub mod index;
pub mod records;
pub mod report;
pub mod store;
pub mod text;
pub mod time;
