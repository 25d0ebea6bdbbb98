//! Record-at-a-time evaluation of resolved queries (the streaming mode).
//!
//! [`Matcher`] compiles a [`Query`] once against a [`TagLookup`] (expanding tag names and
//! patterns into tag ids) and then tests records. [`stream`] runs the whole filter job over
//! input files: read, map, evaluate in parallel, and hand matches to the caller in input order.
//!
//! [`Query`]: crate::filter::resolved::Query
//! [`TagLookup`]: crate::catalog::TagLookup

mod matcher;
pub mod stream;
mod tags;

pub use matcher::{InvolvedUser, Matcher};
pub use tags::user_tags;

pub(crate) use matcher::enum_key;
