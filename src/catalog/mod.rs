//! Tags, their members and the lookup that evaluation uses.

pub mod lookup;

pub use lookup::{TagId, TagLookup, UserId};
