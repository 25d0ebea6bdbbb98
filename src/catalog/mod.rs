//! Tags, their members and the lookup that evaluation uses.
//!
//! A [`Catalog`] contains the system tag "Priority account" and the custom tags, each with direct
//! members (mailbox users and groups) kept by object id, and the [`Settings`] that limit them.
//! Every operation checks all its input first and changes nothing when it fails. Groups count
//! with their current members in the loaded [`Directory`](crate::directory::Directory): a tag
//! on a group covers users who join the group later. Microsoft Defender instead expands a
//! group once, when the tag is assigned; tagq deliberately does not.
//!
//! Catalogs change only through a [`Session`](crate::store::Session) of the store, which
//! checks the actor's role groups (see [`RoleGroup`]) and writes an audit entry per change.
//!
//! ```
//! use std::path::Path;
//! use tagq::catalog::{Membership, TagLookup};
//! use tagq::records::{Role, UserRef};
//! use tagq::store::Store;
//!
//! let csv = "id,kind,address,display_name,aliases,mailbox,members\n\
//!            u1,user,user1@contoso.test,User One,,,\n";
//! let (directory, _report) = tagq::directory::parse(csv.as_bytes(), Path::new("dir.csv"))?;
//! let temp = tempfile::tempdir()?;
//! let store = Store::open(temp.path())?;
//! let session = store.owner_session()?;
//! session.import_directory(&directory, "dir.csv")?;
//! session.create_tag("Finance", "Finance team")?;
//! let report = session.import_members("Finance", b"USER1@contoso.test\r\n", false)?;
//! assert!(report.applied && report.problems.is_empty());
//!
//! let snapshot = session.read()?;
//! let lookup = Membership::new(&snapshot.directory, &snapshot.catalog);
//! let user = lookup.resolve(&UserRef::address(Role::Recipient, "user1+news@contoso.test"));
//! let tags: Vec<&str> = user.map(|u| lookup.tags_of(u)).unwrap_or(&[]).iter()
//!     .map(|t| lookup.tag_name(*t)).collect();
//! assert_eq!(tags, ["Finance"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod audit;
mod error;
mod lazy;
pub mod lookup;
mod members;
mod membership;
mod roles;
mod settings;
mod tags;
mod view;

pub use audit::{AuditEntry, AuditOperation};
pub use error::{CatalogError, InvalidReason, MemberProblem};
pub use lazy::LazyMembership;
pub use lookup::{TagId, TagLookup, UserId};
pub use members::{ImportReport, LineNote, MemberReport};
pub use membership::Membership;
pub use roles::{Assignment, Permission, Role, RoleGroup, RoleTable, normalize_actor};
pub use settings::{KEYS as SETTING_KEYS, Limits, Settings};
pub use tags::{Catalog, Member, MemberKind, SYSTEM_TAG_NAME, Tag, TagKind};
pub use view::{MemberView, Orphan, OrphanReason, TagView};

#[cfg(test)]
mod tests;
