//! Tags, their members and the lookup that evaluation uses.
//!
//! A [`Catalog`] contains the system tag "Priority account" and the custom tags, each with direct
//! members (mailbox users and groups) kept by object id, and the [`Settings`] that limit them.
//! Every operation checks all its input first and changes nothing when it fails. Groups count
//! with their current members in the loaded [`Directory`](crate::directory::Directory): a tag
//! on a group covers users who join the group later. Microsoft Defender instead expands a
//! group once, when the tag is assigned; tagq deliberately does not.

mod error;
pub mod lookup;
mod members;
mod membership;
mod settings;
mod tags;
mod view;

pub use error::{CatalogError, InvalidReason, MemberProblem};
pub use lookup::{TagId, TagLookup, UserId};
pub use members::{ImportReport, LineNote, MemberReport};
pub use membership::Membership;
pub use settings::{KEYS as SETTING_KEYS, Limits, Settings};
pub use tags::{Catalog, Member, MemberKind, SYSTEM_TAG_NAME, Tag, TagKind};
pub use view::{MemberView, Orphan, OrphanReason, TagView};

#[cfg(test)]
mod tests;
