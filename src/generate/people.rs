//! Users, groups and tags: their addresses and ids, the directory file and the tag files.
//!
//! User `i` (0-based) is `first.last.i@contoso.test`. Users are also Zipf ranks: user 0
//! receives the most mail. Ids are GUIDs derived from the index, so any part of the output
//! can name a user without a lookup table.

use std::collections::{BTreeSet, HashSet};

use super::format::{push_csv_field, push_guid, push_int};
use super::rng::{Rng, Zipf, mix};

/// The organisation's mail domain.
pub(crate) const DOMAIN: &str = "contoso.test";

const FIRST_NAMES: [&str; 16] = [
    "ada",
    "alan",
    "barbara",
    "claude",
    "donald",
    "edsger",
    "frances",
    "grace",
    "hedy",
    "ivan",
    "john",
    "katherine",
    "leslie",
    "margaret",
    "niklaus",
    "radia",
];
const LAST_NAMES: [&str; 16] = [
    "allen",
    "backus",
    "cerf",
    "dijkstra",
    "engelbart",
    "floyd",
    "goldberg",
    "hamilton",
    "iverson",
    "johnson",
    "knuth",
    "lamport",
    "liskov",
    "minsky",
    "perlman",
    "ritchie",
];

/// Namespace mixed into user ids, so that users and groups never share an id.
const USER_NAMESPACE: u64 = 0x7573_6572;
/// Namespace mixed into group ids.
const GROUP_NAMESPACE: u64 = 0x6772_6f75;

fn first_name(index: u64) -> &'static str {
    FIRST_NAMES[(index % 16) as usize]
}

fn last_name(index: u64) -> &'static str {
    LAST_NAMES[(index / 16 % 16) as usize]
}

/// Appends user `index`'s primary address.
pub(crate) fn push_user_address(out: &mut Vec<u8>, index: u64) {
    out.extend_from_slice(first_name(index).as_bytes());
    out.push(b'.');
    out.extend_from_slice(last_name(index).as_bytes());
    out.push(b'.');
    push_int(out, index);
    out.push(b'@');
    out.extend_from_slice(DOMAIN.as_bytes());
}

/// Returns user `index`'s primary address.
pub fn user_address(index: u64) -> String {
    let mut out = Vec::with_capacity(40);
    push_user_address(&mut out, index);
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends user `index`'s object id.
pub(crate) fn push_user_id(out: &mut Vec<u8>, index: u64) {
    push_guid(out, mix(index ^ USER_NAMESPACE), index);
}

/// Appends user `index`'s display name, `Ada Allen 17`.
pub(crate) fn push_user_display_name(out: &mut Vec<u8>, index: u64) {
    push_capitalized(out, first_name(index));
    out.push(b' ');
    push_capitalized(out, last_name(index));
    out.push(b' ');
    push_int(out, index);
}

fn push_capitalized(out: &mut Vec<u8>, word: &str) {
    let mut bytes = word.bytes();
    if let Some(first) = bytes.next() {
        out.push(first.to_ascii_uppercase());
    }
    out.extend(bytes);
}

fn push_group_id(out: &mut Vec<u8>, index: u64) {
    push_guid(out, mix(index ^ GROUP_NAMESPACE), index);
}

/// The header of tagq's simple directory CSV.
pub(crate) const DIRECTORY_HEADER: &str = "id,kind,address,display_name,aliases,mailbox,members\n";

/// Appends the directory rows of users `range`.
pub(crate) fn push_user_rows(out: &mut Vec<u8>, range: std::ops::Range<u64>) {
    for index in range {
        push_user_id(out, index);
        out.extend_from_slice(b",user,");
        push_user_address(out, index);
        out.push(b',');
        push_user_display_name(out, index);
        out.extend_from_slice(b",,true,\n");
    }
}

/// The rule that chooses a tag's users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Users drawn uniformly at random.
    Uniform,
    /// Users drawn with the recipients' Zipf weights, so heavy recipients are over-represented.
    Heavy,
    /// Users reached through two overlapping groups, each nesting groups to depth 3.
    Nested,
}

impl Flavour {
    /// Every flavour, in output order.
    pub const ALL: [Flavour; 3] = [Flavour::Uniform, Flavour::Heavy, Flavour::Nested];

    /// Returns the lower-case name used in tag names.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Uniform => "uniform",
            Flavour::Heavy => "heavy",
            Flavour::Nested => "nested",
        }
    }
}

/// A direct member of a tag or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Member {
    /// A user, by index.
    User(u64),
    /// A group, by index into the generated groups.
    Group(usize),
}

/// A generated group.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// Lower-case name, also the local part of its address.
    pub name: String,
    /// Direct members.
    pub members: Vec<Member>,
}

/// A generated tag: its direct members and the users they cover.
#[derive(Clone, Debug)]
pub(crate) struct Tag {
    /// The tag's name, `uniform-10k`.
    pub name: String,
    /// The rule that chose the users.
    pub flavour: Flavour,
    /// The number of users the tag covers.
    pub size: u64,
    /// Direct members: users, or for nested tags the two top groups.
    pub members: Vec<Member>,
    /// The users the tag covers after group expansion, sorted by index.
    pub users: Vec<u64>,
}

/// Returns a short label of a tag size: `10`, `250`, `1k`, `100k`.
pub(crate) fn size_label(size: u64) -> String {
    if size >= 1_000 && size.is_multiple_of(1_000) {
        format!("{}k", size / 1_000)
    } else {
        size.to_string()
    }
}

/// Draws `count` distinct users uniformly from `0..users` (Floyd's algorithm), sorted.
pub(crate) fn sample_uniform(rng: &mut Rng, users: u64, count: u64) -> Vec<u64> {
    let count = count.min(users);
    let mut chosen = BTreeSet::new();
    for top in users - count..users {
        let candidate = rng.below(top + 1);
        if !chosen.insert(candidate) {
            chosen.insert(top);
        }
    }
    chosen.into_iter().collect()
}

/// Draws `count` distinct users with Zipf weights. Heavy tails make late draws repeat, so
/// after `64 × count` draws the rest are filled uniformly.
fn sample_heavy(rng: &mut Rng, zipf: &Zipf, users: u64, count: u64) -> Vec<u64> {
    let count = count.min(users);
    let mut chosen = HashSet::new();
    let mut draws = 0;
    while (chosen.len() as u64) < count && draws < 64 * count {
        chosen.insert(zipf.sample(rng));
        draws += 1;
    }
    while (chosen.len() as u64) < count {
        chosen.insert(rng.below(users));
    }
    let mut sorted: Vec<u64> = chosen.into_iter().collect();
    sorted.sort_unstable();
    sorted
}

/// Builds one tag. Nested tags append their groups to `groups`.
pub(crate) fn build_tag(
    rng: &mut Rng,
    zipf: &Zipf,
    users: u64,
    flavour: Flavour,
    size: u64,
    groups: &mut Vec<Group>,
) -> Tag {
    let name = format!("{}-{}", flavour.as_str(), size_label(size));
    let (members, covered) = match flavour {
        Flavour::Uniform => {
            let chosen = sample_uniform(rng, users, size);
            (chosen.iter().map(|u| Member::User(*u)).collect(), chosen)
        }
        Flavour::Heavy => {
            let chosen = sample_heavy(rng, zipf, users, size);
            (chosen.iter().map(|u| Member::User(*u)).collect(), chosen)
        }
        Flavour::Nested => {
            let chosen = sample_uniform(rng, users, size);
            let tops = build_nested_groups(&name, &chosen, groups);
            let covered = expand(&tops, groups);
            (tops, covered)
        }
    };
    Tag { name, flavour, size: covered.len() as u64, members, users: covered }
}

/// Builds three levels of groups over `chosen` and returns the two top groups.
///
/// Leaves (depth 3) contain consecutive runs of `chosen` that overlap their neighbour by about
/// 10 %. Middle group `i` (depth 2) holds leaves `i` and `i + 1`, and the two top groups
/// (depth 1) share a middle group, so a user is reached along several paths.
fn build_nested_groups(tag: &str, chosen: &[u64], groups: &mut Vec<Group>) -> Vec<Member> {
    let count = chosen.len();
    let leaves = (count / 5).clamp(2, 16);
    let overlap = (count / (leaves * 10)).max(1);
    let mut leaf_ids = Vec::with_capacity(leaves);
    for leaf in 0..leaves {
        let start = leaf * count / leaves;
        let end = (leaf + 1) * count / leaves + overlap;
        let members = (start..end)
            .filter_map(|i| chosen.get(i % count.max(1)).map(|u| Member::User(*u)))
            .collect();
        leaf_ids.push(push_group(groups, format!("{tag}-leaf-{leaf}"), members));
    }
    let mut middle_ids = Vec::with_capacity(leaves);
    for middle in 0..leaves {
        let members =
            vec![Member::Group(leaf_ids[middle]), Member::Group(leaf_ids[(middle + 1) % leaves])];
        middle_ids.push(push_group(groups, format!("{tag}-mid-{middle}"), members));
    }
    let half = leaves / 2;
    let first = middle_ids[..=half].iter().map(|g| Member::Group(*g)).collect();
    let second = middle_ids[half..].iter().map(|g| Member::Group(*g)).collect();
    vec![
        Member::Group(push_group(groups, format!("{tag}-top-a"), first)),
        Member::Group(push_group(groups, format!("{tag}-top-b"), second)),
    ]
}

fn push_group(groups: &mut Vec<Group>, name: String, members: Vec<Member>) -> usize {
    groups.push(Group { name, members });
    groups.len() - 1
}

/// Returns the users reached from `members` through any depth of groups, sorted, each once.
fn expand(members: &[Member], groups: &[Group]) -> Vec<u64> {
    let mut users = BTreeSet::new();
    let mut seen = HashSet::new();
    let mut pending: Vec<Member> = members.to_vec();
    while let Some(member) = pending.pop() {
        match member {
            Member::User(user) => {
                users.insert(user);
            }
            Member::Group(group) => {
                if seen.insert(group)
                    && let Some(group) = groups.get(group)
                {
                    pending.extend_from_slice(&group.members);
                }
            }
        }
    }
    users.into_iter().collect()
}

/// Appends a group's address.
fn push_group_address(out: &mut Vec<u8>, group: &Group) {
    out.extend_from_slice(group.name.as_bytes());
    out.push(b'@');
    out.extend_from_slice(DOMAIN.as_bytes());
}

/// Appends the directory rows of the groups; members are given by object id.
pub(crate) fn push_group_rows(out: &mut Vec<u8>, groups: &[Group]) {
    for (index, group) in groups.iter().enumerate() {
        push_group_id(out, index as u64);
        out.extend_from_slice(b",group,");
        push_group_address(out, group);
        out.push(b',');
        push_csv_field(out, &format!("Group {}", group.name));
        out.extend_from_slice(b",,,");
        for (position, member) in group.members.iter().enumerate() {
            if position > 0 {
                out.push(b';');
            }
            match member {
                Member::User(user) => push_user_id(out, *user),
                Member::Group(group) => push_group_id(out, *group as u64),
            }
        }
        out.push(b'\n');
    }
}

/// Appends a tag's member file: one address per line, of a user or a group.
pub(crate) fn push_member_lines(out: &mut Vec<u8>, tag: &Tag, groups: &[Group]) {
    for member in &tag.members {
        match member {
            Member::User(user) => push_user_address(out, *user),
            Member::Group(group) => {
                if let Some(group) = groups.get(*group) {
                    push_group_address(out, group);
                }
            }
        }
        out.push(b'\n');
    }
}

/// Appends one user address per line.
pub(crate) fn push_user_lines(out: &mut Vec<u8>, users: &[u64]) {
    for user in users {
        push_user_address(out, *user);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_address_is_lower_case_and_unique() {
        assert_eq!(user_address(0), "ada.allen.0@contoso.test");
        assert_eq!(user_address(17), "alan.backus.17@contoso.test");
        assert_ne!(user_address(1), user_address(257));
    }

    #[test]
    fn uniform_sample_is_distinct_and_sized() {
        let mut rng = Rng::for_stream(1, 1, 1);
        let chosen = sample_uniform(&mut rng, 1_000, 250);
        assert_eq!(chosen.len(), 250);
        assert!(chosen.windows(2).all(|w| w[0] < w[1]));
        assert!(chosen.iter().all(|u| *u < 1_000));
    }

    #[test]
    fn heavy_sample_favours_low_ranks() {
        let mut rng = Rng::for_stream(1, 1, 2);
        let zipf = Zipf::new(10_000, 1.0);
        let chosen = sample_heavy(&mut rng, &zipf, 10_000, 100);
        assert_eq!(chosen.len(), 100);
        let low = chosen.iter().filter(|u| **u < 1_000).count();
        assert!(low > 50, "only {low} of 100 in the top 10 %");
    }

    #[test]
    fn nested_tag_covers_all_chosen_users() {
        for size in [10, 100, 1_000] {
            let mut groups = Vec::new();
            let mut rng = Rng::for_stream(2, 2, size);
            let zipf = Zipf::new(5_000, 1.0);
            let tag = build_tag(&mut rng, &zipf, 5_000, Flavour::Nested, size, &mut groups);
            assert_eq!(tag.size, size, "size {size}");
            assert_eq!(tag.members.len(), 2);
            assert!(groups.len() >= 2 * 2 + 2);
            let mut rng = Rng::for_stream(2, 2, size);
            assert_eq!(tag.users, sample_uniform(&mut rng, 5_000, size));
        }
    }

    #[test]
    fn nested_groups_reach_depth_three() {
        let mut groups = Vec::new();
        let mut rng = Rng::for_stream(3, 3, 3);
        let zipf = Zipf::new(1_000, 1.0);
        let tag = build_tag(&mut rng, &zipf, 1_000, Flavour::Nested, 100, &mut groups);
        let Member::Group(top) = tag.members[0] else { panic!("top member is a user") };
        let Member::Group(middle) = groups[top].members[0] else { panic!("no middle group") };
        let Member::Group(leaf) = groups[middle].members[0] else { panic!("no leaf group") };
        assert!(matches!(groups[leaf].members[0], Member::User(_)));
    }

    #[test]
    fn group_rows_name_members_by_id() {
        let groups = vec![
            Group { name: "g-a".into(), members: vec![Member::User(3), Member::Group(1)] },
            Group { name: "g-b".into(), members: vec![Member::User(4)] },
        ];
        let mut out = Vec::new();
        push_group_rows(&mut out, &groups);
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.contains(",group,g-a@contoso.test,Group g-a,,,"), "{first}");
        assert_eq!(first.rsplit(',').next().unwrap().split(';').count(), 2);
    }
}
