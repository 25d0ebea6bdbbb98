//! Tag views for listings: direct members, effective users and orphaned members.

use super::error::CatalogError;
use super::members::effective_users;
use super::tags::{Catalog, MemberKind, Tag, TagKind};
use crate::directory::{Directory, ObjectRef};
use crate::time::Timestamp;

/// A member as shown in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberView {
    /// Entra object id.
    pub object_id: String,
    /// Address in the directory's spelling (a group without address shows its name).
    pub address: String,
    /// Display name.
    pub display_name: String,
}

/// The reason a member no longer counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrphanReason {
    /// The object id is not in the current directory.
    NotInDirectory,
    /// The user is soft-deleted.
    Deleted,
    /// The user no longer has a mailbox.
    NoMailbox,
}

impl OrphanReason {
    /// Returns the reason as a short lower-case phrase.
    pub fn as_str(self) -> &'static str {
        match self {
            OrphanReason::NotInDirectory => "not in the directory",
            OrphanReason::Deleted => "deleted",
            OrphanReason::NoMailbox => "no mailbox",
        }
    }
}

/// A member that is kept by object id but not counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Orphan {
    /// Entra object id.
    pub object_id: String,
    /// User or group.
    pub kind: MemberKind,
    /// The reason it does not count.
    pub reason: OrphanReason,
}

/// A tag with its members resolved against the current directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagView {
    /// The name as its creator spelled it.
    pub name: String,
    /// System or custom.
    pub kind: TagKind,
    /// Description, empty when none.
    pub description: String,
    /// Creation time (display with `to_string()`: RFC 3339 in UTC).
    pub created: Timestamp,
    /// Time of the last change of description or members.
    pub modified: Timestamp,
    /// Direct user members that count.
    pub direct_users: Vec<MemberView>,
    /// Direct group members found in the directory.
    pub direct_groups: Vec<MemberView>,
    /// Distinct users the tag applies to: direct users and the current members of its groups,
    /// in directory order.
    pub effective_users: Vec<MemberView>,
    /// Members that are listed but not counted.
    pub orphaned: Vec<Orphan>,
}

impl Catalog {
    /// Returns the view of one tag.
    pub fn view(&self, name: &str, directory: &Directory) -> Result<TagView, CatalogError> {
        let tag = self.tag(name).ok_or_else(|| self.not_found(name))?;
        Ok(view_of(tag, directory))
    }

    /// Returns the views of all tags, the system tag first.
    pub fn views(&self, directory: &Directory) -> Vec<TagView> {
        self.tags.iter().map(|tag| view_of(tag, directory)).collect()
    }
}

fn view_of(tag: &Tag, directory: &Directory) -> TagView {
    let mut view = TagView {
        name: tag.name.clone(),
        kind: tag.kind,
        description: tag.description.clone(),
        created: tag.created,
        modified: tag.modified,
        direct_users: Vec::new(),
        direct_groups: Vec::new(),
        effective_users: Vec::new(),
        orphaned: Vec::new(),
    };
    for member in &tag.members {
        let orphan =
            |reason| Orphan { object_id: member.object_id.clone(), kind: member.kind, reason };
        match directory.by_object_id(&member.object_id) {
            None => view.orphaned.push(orphan(OrphanReason::NotInDirectory)),
            Some(object @ ObjectRef::User(index)) => match directory.user(index) {
                Some(user) if user.deleted => view.orphaned.push(orphan(OrphanReason::Deleted)),
                Some(user) if !user.has_mailbox => {
                    view.orphaned.push(orphan(OrphanReason::NoMailbox))
                }
                _ => view.direct_users.extend(member_view(directory, object)),
            },
            Some(object @ ObjectRef::Group(_)) => {
                view.direct_groups.extend(member_view(directory, object))
            }
        }
    }
    let effective = effective_users(&tag.members, directory);
    view.effective_users =
        effective.into_iter().filter_map(|i| member_view(directory, ObjectRef::User(i))).collect();
    view
}

fn member_view(directory: &Directory, object: ObjectRef) -> Option<MemberView> {
    let display_name = match object {
        ObjectRef::User(i) => directory.user(i)?.display_name.clone(),
        ObjectRef::Group(i) => directory.group(i)?.display_name.clone(),
    };
    Some(MemberView {
        object_id: directory.object_id(object)?.to_string(),
        address: directory.display_address(object)?.to_string(),
        display_name,
    })
}
