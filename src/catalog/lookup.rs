//! The view of users and tags that query evaluation needs.

use crate::filter::resolved::TagMatch;
use crate::filter::schema::UserField;
use crate::records::UserRef;

/// Dense id of a directory user within one lookup.
pub type UserId = u32;

/// Dense id of a tag within one lookup.
pub type TagId = u32;

/// Resolves the users that records reference and returns the tags they carry.
///
/// Implementations expand groups first, so `tags_of` returns effective tags.
pub trait TagLookup: Sync {
    /// Resolves a record's user reference to a directory user: by object id first, then by
    /// address (primary, alias, UPN, then the plus-address base). Returns `None` for users
    /// outside the directory, such as external senders.
    fn resolve(&self, user: &UserRef) -> Option<UserId>;

    /// Returns the values of one attribute of a directory user (all addresses for
    /// [`UserField::Address`]).
    fn attribute(&self, user: UserId, field: UserField) -> Vec<&str>;

    /// Returns the tags the user carries, directly or through groups, sorted.
    fn tags_of(&self, user: UserId) -> &[TagId];

    /// Returns the tags that a tag leaf selects, sorted.
    fn matching_tags(&self, tag: &TagMatch) -> Vec<TagId>;

    /// Returns the display name of a tag.
    fn tag_name(&self, tag: TagId) -> &str;

    /// Returns the users that carry a tag, directly or through groups, sorted and without
    /// repeats. Returns `None` when the lookup keeps no such lists, and callers then scan
    /// [`tags_of`](TagLookup::tags_of) instead.
    fn carriers_of(&self, tag: TagId) -> Option<&[UserId]> {
        let _ = tag;
        None
    }
}
