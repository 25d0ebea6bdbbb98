//! Incremental maintenance of tag bitmaps when memberships or the directory change.

use roaring::RoaringBitmap;

use super::plan::{TagSet, carries, tag_set};
use super::sections::Postings;
use crate::catalog::{TagLookup, UserId};
use crate::filter::resolved::TagMatch;
use crate::records::Role;

/// A lookup with the resolved user of each reference key of one segment.
pub type Resolved<'a> = (&'a dyn TagLookup, &'a [Option<UserId>]);

/// The change of one segment's tag bitmaps from an old lookup to a new one.
pub struct TagChange<'a> {
    /// The segment's postings.
    pub postings: &'a Postings,
    /// The lookup the bitmaps were built with.
    pub old: Resolved<'a>,
    /// The lookup to update them for.
    pub new: Resolved<'a>,
}

impl TagChange<'_> {
    /// Returns the bitmap of records where a user of the role (any role for `None`) carries
    /// a tag of `selection` under the new lookup, given `bitmap` for the old lookup.
    pub fn apply(
        &self,
        role: Option<Role>,
        selection: &TagMatch,
        bitmap: &RoaringBitmap,
    ) -> RoaringBitmap {
        let old_tags = tag_set(self.old.0, selection);
        let new_tags = tag_set(self.new.0, selection);
        let mut gained = RoaringBitmap::new();
        let mut lost = RoaringBitmap::new();
        // NOTE: every posting key is checked, so the cost follows the number of keys, not the
        // size of the change; an index from user to keys would bound it by the change.
        for ((posting_role, key), postings) in self.postings {
            if role.is_some_and(|r| r != *posting_role) {
                continue;
            }
            let before = carries(self.old.0, self.old.1, *key, &old_tags);
            let after = carries(self.new.0, self.new.1, *key, &new_tags);
            match (before, after) {
                (false, true) => gained |= postings,
                (true, false) => lost |= postings,
                _ => {}
            }
        }
        let mut result = bitmap - &lost;
        if !lost.is_empty() {
            result |= self.still_carried(role, &new_tags, &lost);
        }
        result |= gained;
        result
    }

    /// Returns the records of `touched` where some user of the role carries a tag under the
    /// new lookup.
    fn still_carried(
        &self,
        role: Option<Role>,
        tags: &TagSet,
        touched: &RoaringBitmap,
    ) -> RoaringBitmap {
        let mut kept = RoaringBitmap::new();
        for ((posting_role, key), postings) in self.postings {
            if role.is_some_and(|r| r != *posting_role) || postings.is_disjoint(touched) {
                continue;
            }
            if carries(self.new.0, self.new.1, *key, tags) {
                kept |= postings & touched;
            }
        }
        kept
    }
}
