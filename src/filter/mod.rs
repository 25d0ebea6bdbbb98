//! The filter language: a Kibana-style query syntax with tag predicates.
//!
//! [`parse`] turns query text into the tree of [`ast`], [`print()`] writes a tree back in
//! canonical form, and [`resolve`] checks a tree against a record [`schema::Schema`] and
//! converts its values, giving a [`resolved::Query`].

pub mod ast;
mod dates;
pub mod error;
mod glob;
pub(crate) mod lex;
mod outline;
mod parse;
mod print;
#[cfg(test)]
mod proptests;
mod resolve;
pub mod resolved;
pub mod schema;

pub use error::{Diagnostic, FilterError};
pub use outline::{outline, outline_resolved};
pub use parse::{HARD_MAX_DEPTH, ParseOptions, parse};
pub use print::{escape_value, print, quote_value};
pub use resolve::{ResolveOptions, fill_byte_offset, resolve};
