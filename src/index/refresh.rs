//! Incremental maintenance of tag bitmaps when memberships or the directory change.

use std::sync::OnceLock;

use roaring::RoaringBitmap;

use super::plan::{TagSet, carries, tag_set};
use super::record_keys::RecordKeys;
use super::sections::Postings;
use crate::catalog::{TagLookup, UserId};
use crate::filter::resolved::TagMatch;
use crate::records::Role;

/// A lookup with the resolved user of each reference key of one segment.
pub type Resolved<'a> = (&'a dyn TagLookup, &'a [Option<UserId>]);

/// The reference keys of a segment by resolved user: (user, key index) pairs sorted by user.
pub type KeysByUser = Vec<(UserId, u32)>;

/// Builds the [`KeysByUser`] of a segment from the resolved user of each key.
pub fn keys_by_user(users: &[Option<UserId>]) -> KeysByUser {
    let mut pairs: KeysByUser =
        (0u32..).zip(users).filter_map(|(key, user)| Some(((*user)?, key))).collect();
    pairs.sort_unstable();
    pairs
}

/// The change of one segment's tag bitmaps from an old lookup to a new one.
pub struct TagChange<'a> {
    /// The segment's postings.
    pub postings: &'a Postings,
    /// The lookup the bitmaps were built with.
    pub old: Resolved<'a>,
    /// The lookup to update them for.
    pub new: Resolved<'a>,
    /// The keys by user, when both lookups resolve every key to the same user.
    pub same_users: Option<&'a KeysByUser>,
    /// The keys of each record, built from `postings` when a record first loses a carrier.
    pub record_keys: &'a OnceLock<RecordKeys>,
}

const ROLES: [Role; 3] = [Role::User, Role::Sender, Role::Recipient];

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
        if let Some(keys) = self.same_users
            && let Some(old) = carrier_list(self.old.0, &old_tags)
            && let Some(new) = carrier_list(self.new.0, &new_tags)
        {
            return self.apply_by_users(role, keys, (&old, &new), &new_tags, bitmap);
        }
        self.apply_by_keys(role, &old_tags, &new_tags, bitmap)
    }

    /// Updates the bitmap from the users that gained or lost a selected tag (`carriers`, old
    /// and new), touching only their keys' postings and the keys of the records that lost a
    /// carrier.
    fn apply_by_users(
        &self,
        role: Option<Role>,
        keys: &KeysByUser,
        carriers: (&[UserId], &[UserId]),
        new_tags: &TagSet,
        bitmap: &RoaringBitmap,
    ) -> RoaringBitmap {
        let (gained_users, lost_users) = sorted_difference(carriers.0, carriers.1);
        let gained = self.postings_of(role, keys, &gained_users);
        let lost = self.postings_of(role, keys, &lost_users);
        let mut result = bitmap - &lost;
        if !lost.is_empty() {
            result |= self.still_carried(role, new_tags, &lost);
        }
        result | gained
    }

    fn role_postings(&self, role: Option<Role>, key: u32) -> impl Iterator<Item = &RoaringBitmap> {
        let roles = ROLES.into_iter().filter(move |r| role.is_none_or(|wanted| wanted == *r));
        roles.filter_map(move |r| self.postings.get(&(r, key)))
    }

    fn postings_of(
        &self,
        role: Option<Role>,
        keys: &KeysByUser,
        users: &[UserId],
    ) -> RoaringBitmap {
        let mut records = RoaringBitmap::new();
        for user in users {
            for key in keys_of(keys, *user) {
                for posting in self.role_postings(role, key) {
                    records |= posting;
                }
            }
        }
        records
    }

    /// Updates the bitmap by checking every posting key under both lookups.
    fn apply_by_keys(
        &self,
        role: Option<Role>,
        old_tags: &TagSet,
        new_tags: &TagSet,
        bitmap: &RoaringBitmap,
    ) -> RoaringBitmap {
        let mut gained = RoaringBitmap::new();
        let mut lost = RoaringBitmap::new();
        for ((posting_role, key), postings) in self.postings {
            if role.is_some_and(|r| r != *posting_role) {
                continue;
            }
            let before = carries(self.old.0, self.old.1, *key, old_tags);
            let after = carries(self.new.0, self.new.1, *key, new_tags);
            match (before, after) {
                (false, true) => gained |= postings,
                (true, false) => lost |= postings,
                _ => {}
            }
        }
        let mut result = bitmap - &lost;
        if !lost.is_empty() {
            result |= self.still_carried(role, new_tags, &lost);
        }
        result |= gained;
        result
    }

    /// Returns the records of `touched` where some user of the role carries a tag under the
    /// new lookup. Each record's own keys are checked, so the cost follows the number of
    /// touched records and their keys, whatever the number of carriers.
    fn still_carried(
        &self,
        role: Option<Role>,
        tags: &TagSet,
        touched: &RoaringBitmap,
    ) -> RoaringBitmap {
        let record_keys = self.record_keys.get_or_init(|| RecordKeys::build(self.postings));
        record_keys.still_carried(role, touched, |key| carries(self.new.0, self.new.1, key, tags))
    }
}

/// Returns the key indexes of a user.
fn keys_of(keys: &KeysByUser, user: UserId) -> impl Iterator<Item = u32> + '_ {
    let start = keys.partition_point(|(u, _)| *u < user);
    keys.get(start..).unwrap_or_default().iter().take_while(move |(u, _)| *u == user).map(|p| p.1)
}

/// Returns the users that carry a tag of the set, sorted, when the lookup keeps carrier lists.
fn carrier_list(lookup: &dyn TagLookup, tags: &TagSet) -> Option<Vec<UserId>> {
    let TagSet::Ids(ids) = tags else { return None };
    let mut users = Vec::new();
    for tag in ids {
        users.extend_from_slice(lookup.carriers_of(*tag)?);
    }
    users.sort_unstable();
    users.dedup();
    Some(users)
}

/// Returns the users only in `new` (gained) and only in `old` (lost); both inputs sorted.
fn sorted_difference(old: &[UserId], new: &[UserId]) -> (Vec<UserId>, Vec<UserId>) {
    let (mut gained, mut lost) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    loop {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => (i, j) = (i + 1, j + 1),
            (Some(a), Some(b)) if a < b => {
                lost.push(*a);
                i += 1;
            }
            (_, Some(b)) => {
                gained.push(*b);
                j += 1;
            }
            (Some(a), None) => {
                lost.push(*a);
                i += 1;
            }
            (None, None) => break,
        }
    }
    (gained, lost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_difference_splits_gained_and_lost() {
        let (gained, lost) = sorted_difference(&[1, 3, 5, 9], &[2, 3, 9, 10]);
        assert_eq!(gained, [2, 10]);
        assert_eq!(lost, [1, 5]);
    }

    #[test]
    fn keys_of_user_found_by_binary_search() {
        let keys = keys_by_user(&[Some(4), None, Some(2), Some(4)]);
        assert_eq!(keys_of(&keys, 4).collect::<Vec<_>>(), [0, 3]);
        assert_eq!(keys_of(&keys, 2).collect::<Vec<_>>(), [2]);
        assert_eq!(keys_of(&keys, 7).count(), 0);
    }
}
