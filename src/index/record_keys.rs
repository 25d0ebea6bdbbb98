//! The reference keys of each record of a segment: the postings inverted, record to keys.
//!
//! A tag bitmap update looks up, for each record that lost a carrier, the other keys of
//! the record, so that its cost follows the records that changed instead of the number of
//! carriers.

use roaring::RoaringBitmap;

use super::sections::Postings;
use crate::records::Role;

/// The (role, key index) pairs of each record, in compressed sparse row form: the pairs of
/// record `r` are `pairs[offsets[r]..offsets[r + 1]]`, sorted by role and then key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordKeys {
    offsets: Vec<u32>,
    pairs: Vec<(Role, u32)>,
}

impl RecordKeys {
    /// Inverts a segment's postings with a counting sort: one pass counts the pairs of each
    /// record, a second one fills them in. Returns an empty mapping when the postings hold
    /// more than `u32::MAX` pairs, which no segment of the default size reaches.
    pub fn build(postings: &Postings) -> RecordKeys {
        let records = postings.values().filter_map(RoaringBitmap::max).max().map_or(0, |m| {
            // The largest record id plus one, computed in usize so that it cannot overflow.
            m as usize + 1
        });
        let mut counts = vec![0u32; records + 1];
        let mut total: u64 = 0;
        for bitmap in postings.values() {
            for record in bitmap {
                if let Some(count) = counts.get_mut(record as usize + 1) {
                    *count += 1;
                }
            }
            total += bitmap.len();
        }
        if u32::try_from(total).is_err() {
            return RecordKeys::default();
        }
        let mut sum = 0u32;
        for count in &mut counts {
            sum += *count;
            *count = sum;
        }
        let offsets = counts;
        let mut next = offsets.clone();
        let mut pairs = vec![(Role::User, 0u32); total as usize];
        // The postings iterate in (role, key) order, so each record's pairs come out sorted.
        for (pair, bitmap) in postings {
            for record in bitmap {
                let Some(slot) = next.get_mut(record as usize) else { continue };
                if let Some(entry) = pairs.get_mut(*slot as usize) {
                    *entry = *pair;
                }
                *slot += 1;
            }
        }
        RecordKeys { offsets, pairs }
    }

    /// Returns the (role, key index) pairs of a record, none for a record beyond the
    /// postings.
    pub fn of(&self, record: u32) -> &[(Role, u32)] {
        let index = record as usize;
        let (Some(start), Some(end)) = (self.offsets.get(index), self.offsets.get(index + 1))
        else {
            return &[];
        };
        self.pairs.get(*start as usize..*end as usize).unwrap_or_default()
    }

    /// Returns the records of `records` that have a key of the role (any role for `None`)
    /// for which `carries` returns true.
    pub fn still_carried(
        &self,
        role: Option<Role>,
        records: &RoaringBitmap,
        carries: impl Fn(u32) -> bool,
    ) -> RoaringBitmap {
        let mut kept = RoaringBitmap::new();
        for record in records {
            let found = self
                .of(record)
                .iter()
                .any(|(r, key)| role.is_none_or(|wanted| wanted == *r) && carries(*key));
            // Records arrive in ascending order, so each one is appended at the end.
            if found && kept.try_push(record).is_err() {
                kept.insert(record);
            }
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postings(entries: &[(Role, u32, &[u32])]) -> Postings {
        entries
            .iter()
            .map(|(role, key, records)| ((*role, *key), records.iter().copied().collect()))
            .collect()
    }

    #[test]
    fn record_keys_invert_postings() {
        let postings = postings(&[
            (Role::Sender, 0, &[0, 2]),
            (Role::Recipient, 1, &[0, 1]),
            (Role::Recipient, 2, &[0]),
        ]);
        let keys = RecordKeys::build(&postings);
        assert_eq!(keys.of(0), [(Role::Sender, 0), (Role::Recipient, 1), (Role::Recipient, 2)]);
        assert_eq!(keys.of(1), [(Role::Recipient, 1)]);
        assert_eq!(keys.of(2), [(Role::Sender, 0)]);
        assert!(keys.of(3).is_empty());
    }

    #[test]
    fn record_keys_of_empty_postings() {
        let keys = RecordKeys::build(&Postings::new());
        assert!(keys.of(0).is_empty());
    }

    #[test]
    fn still_carried_checks_role_and_key() {
        let postings = postings(&[
            (Role::Sender, 0, &[0, 1]),
            (Role::Recipient, 1, &[0, 1]),
            (Role::Recipient, 2, &[1]),
        ]);
        let keys = RecordKeys::build(&postings);
        let records: RoaringBitmap = [0, 1].into_iter().collect();
        let sender_zero = |key: u32| key == 0;
        assert_eq!(keys.still_carried(Some(Role::Sender), &records, sender_zero), records);
        let recipients = keys.still_carried(Some(Role::Recipient), &records, sender_zero);
        assert!(recipients.is_empty());
        let any = keys.still_carried(None, &records, |key| key == 2);
        assert_eq!(any.iter().collect::<Vec<_>>(), [1]);
    }
}
