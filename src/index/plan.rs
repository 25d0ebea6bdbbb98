//! The query planner: which leaves bitmaps decide exactly, and how a segment is evaluated.
//!
//! Every plan node evaluates to a pair of bitmaps over a segment's records: `upper`, the
//! records that may match, and `unsure ⊆ upper`, those that only a test can decide. A leaf
//! that bitmaps decide exactly gives an empty `unsure`; any other leaf gives
//! `upper = unsure = all`. `and`, `or` and `not` combine the pairs, so the records in
//! `upper − unsure` match for certain and only those in `unsure` need testing with the
//! record-at-a-time [`Matcher`](crate::eval::Matcher).
//!
//! Exact leaves, and why they agree with the matcher:
//! - a tag leaf for any user or one role: the matcher resolves each user reference through
//!   [`TagLookup::resolve`], which reads only the object id and the address, and checks the
//!   user's tags. The tag bitmap is the union of the postings of the (role, object id, address)
//!   keys whose resolved user carries a selected tag, so it holds exactly the same records;
//! - `field:value` (a keyword test) on a model field or a source column: the matcher compares
//!   the case-folded text of each non-null scalar of the value with the folded query value
//!   (for enumerations, both without non-alphanumeric characters), and the field bitmaps are
//!   keyed by that folded text. A source column is read as the first column whose name
//!   matches ignoring ASCII case, and the bitmaps index that same column. A field with too
//!   many distinct values in a segment has no bitmaps there, and the leaf is tested record by
//!   record in that segment.
//!
//! - a time window on a model field: the matcher tests each instant of the value; the time
//!   column holds the instant of records whose field is exactly one instant, marks absent and
//!   null fields (which never match), and marks every other value (lists, text) so that those
//!   records are tested.
//!
//! Scopes, user attributes, numbers, text and time windows on source columns are tested record
//! by record on the candidates the exact leaves leave.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use roaring::{MultiOps, RoaringBitmap};

use super::sections::Postings;
use super::segment::{FieldBitmaps, SegmentIndex, TIME_ABSENT, TIME_COMPLEX, field_key};
use crate::catalog::{TagId, TagLookup, UserId};
use crate::eval::enum_key;
use crate::filter::resolved::{Pred, Query, RoleSel, TagMatch};
use crate::filter::schema::{FieldSource, FieldType};
use crate::records::Role;
use crate::time::Timestamp;

/// A compiled plan.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Every record.
    All,
    /// Records where a user of the role (any role for `None`) carries one of the tags.
    Tag {
        /// The role, or `None` for every role.
        role: Option<Role>,
        /// The tags.
        tags: TagSet,
        /// The tag selection as resolved, which keys the tag bitmap cache.
        selection: TagMatch,
        /// The leaf as written, for display.
        label: String,
    },
    /// Records whose field has this value.
    Value {
        /// Field key (see [`field_key`]).
        field: String,
        /// The case-folded value, or for an enumeration the folded value without
        /// non-alphanumeric characters.
        key: String,
        /// True for an enumeration, whose values compare without non-alphanumerics.
        enumeration: bool,
    },
    /// Records whose model field contains one instant in `[start, end)`, from a time column.
    TimeRange {
        /// Field key (see [`field_key`]).
        field: String,
        /// Inclusive lower bound in microseconds.
        start: Option<i64>,
        /// Exclusive upper bound in microseconds.
        end: Option<i64>,
    },
    /// A leaf tested record by record.
    Test(String),
    /// All hold.
    And(Vec<Plan>),
    /// One holds.
    Or(Vec<Plan>),
    /// Does not hold.
    Not(Box<Plan>),
}

/// The tags of a tag leaf.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TagSet {
    /// Any tag.
    Any,
    /// These tags, sorted.
    Ids(Vec<TagId>),
}

/// Compiles a resolved query, expanding tag names and patterns like the matcher does.
pub fn compile(query: &Query, lookup: &dyn TagLookup) -> Plan {
    match query {
        Query::All => Plan::All,
        Query::Tag { role: RoleSel::Any, tag } => tag_plan(None, tag, lookup),
        Query::Tag { role: RoleSel::Role(role), tag } => tag_plan(Some(*role), tag, lookup),
        Query::Field { field, pred: Pred::Keyword(value) } => {
            let enumeration = field.ty == FieldType::Enum;
            let key = if enumeration { enum_key(value) } else { value.clone() };
            Plan::Value { field: field_key(field.source, &field.name), key, enumeration }
        }
        Query::Field { field, pred: Pred::Time { start, end } }
            if field.source == FieldSource::Model =>
        {
            Plan::TimeRange {
                field: field_key(field.source, &field.name),
                start: start.map(|t| t.0),
                end: end.map(|t| t.0),
            }
        }
        Query::And(children) => Plan::And(children.iter().map(|c| compile(c, lookup)).collect()),
        Query::Or(children) => Plan::Or(children.iter().map(|c| compile(c, lookup)).collect()),
        Query::Not(child) => Plan::Not(Box::new(compile(child, lookup))),
        other => Plan::Test(describe(other)),
    }
}

fn tag_plan(role: Option<Role>, tag: &TagMatch, lookup: &dyn TagLookup) -> Plan {
    let tags = tag_set(lookup, tag);
    let role_name = role.map_or("any user", Role::as_str);
    let label = match tag {
        TagMatch::Name(name) => format!("{role_name} tag {name:?}"),
        TagMatch::Wild(pattern) => format!("{role_name} tag matching {pattern:?}"),
        TagMatch::Any => format!("{role_name} with any tag"),
    };
    Plan::Tag { role, tags, selection: tag.clone(), label }
}

fn describe(query: &Query) -> String {
    match query {
        Query::Field { field, pred } => format!("field {} {pred:?}", field.name),
        Query::User { role, field, pred } => format!("user {role:?} {field:?} {pred:?}"),
        Query::Tag { role, tag } => format!("tag {role:?} {tag:?}"),
        Query::Scope { role, .. } => format!("scope over each {role}"),
        _ => "expression".to_string(),
    }
}

/// Returns true when the plan needs no record tests in any segment that has bitmaps for its
/// value leaves.
pub fn is_all_bitmap(plan: &Plan) -> bool {
    match plan {
        Plan::All | Plan::Tag { .. } | Plan::Value { .. } | Plan::TimeRange { .. } => true,
        Plan::Test(_) => false,
        Plan::And(children) | Plan::Or(children) => children.iter().all(is_all_bitmap),
        Plan::Not(child) => is_all_bitmap(child),
    }
}

/// Renders the plan as an indented tree.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    render_into(plan, 0, &mut out);
    out
}

fn render_into(plan: &Plan, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let _ = match plan {
        Plan::All => writeln!(out, "{indent}all records"),
        Plan::Tag { label, tags, .. } => {
            let count = match tags {
                TagSet::Any => "all tags".to_string(),
                TagSet::Ids(ids) => format!("{} tag(s)", ids.len()),
            };
            writeln!(out, "{indent}bitmap: {label} ({count}, union of postings)")
        }
        Plan::Value { field, key, .. } => writeln!(out, "{indent}bitmap: {field} = {key:?}"),
        Plan::TimeRange { field, start, end } => {
            let bound =
                |t: &Option<i64>| t.map_or("unbounded".to_string(), |t| Timestamp(t).to_string());
            writeln!(out, "{indent}column scan: {field} in [{}, {})", bound(start), bound(end))
        }
        Plan::Test(text) => writeln!(out, "{indent}test on candidates: {text}"),
        Plan::And(children) => {
            let _ = writeln!(out, "{indent}and (bitmap operands first, stop when empty)");
            children.iter().for_each(|c| render_into(c, depth + 1, out));
            Ok(())
        }
        Plan::Or(children) => {
            let _ = writeln!(out, "{indent}or");
            children.iter().for_each(|c| render_into(c, depth + 1, out));
            Ok(())
        }
        Plan::Not(child) => {
            let _ = writeln!(out, "{indent}not");
            render_into(child, depth + 1, out);
            Ok(())
        }
    };
}

/// The bounds of a plan node over one segment: `upper - unsure ⊆ matches ⊆ upper`.
///
/// Most nodes are decided by bitmaps alone, so their `unsure` set is empty and costs no
/// allocation. Keeping the uncertain records instead of a lower bound spares a copy of every
/// exact result.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    /// Records that may match; the others do not.
    pub upper: RoaringBitmap,
    /// Records of `upper` that must be tested one by one; the rest of `upper` match.
    pub unsure: RoaringBitmap,
}

impl Bounds {
    fn exact(bitmap: RoaringBitmap) -> Bounds {
        Bounds { upper: bitmap, unsure: RoaringBitmap::new() }
    }

    fn unknown(universe: &RoaringBitmap) -> Bounds {
        Bounds { upper: universe.clone(), unsure: universe.clone() }
    }

    /// Splits the bounds into the records that match for certain and those to test.
    pub fn into_certain_and_unsure(self) -> (RoaringBitmap, RoaringBitmap) {
        let mut certain = self.upper;
        if !self.unsure.is_empty() {
            certain -= &self.unsure;
        }
        (certain, self.unsure)
    }
}

/// Tag bitmaps of one segment with their tag selection, by role and the selection's text,
/// built from one tag lookup.
pub type TagCache = HashMap<TagCacheKey, (TagMatch, RoaringBitmap)>;

/// The key of a tag leaf's bitmap: the role and the tag selection's text.
pub type TagCacheKey = (Option<Role>, String);

/// Returns the cache key of a tag leaf.
pub fn tag_cache_key(role: Option<Role>, selection: &TagMatch) -> TagCacheKey {
    (role, format!("{selection:?}"))
}

/// The parts of a segment's derived structures that plans read.
pub trait SegmentParts {
    /// Returns the per-value bitmaps of a field, or `None` when no record has the field.
    fn field(&self, key: &str) -> Option<&FieldBitmaps>;
    /// Returns true when some record of the segment has the field.
    fn has_field(&self, key: &str) -> bool;
    /// Returns the summary of a time column, or `None` when no record has an instant in the
    /// field. A summary that claims nothing ([`TimeSummary::default`]) makes every window scan
    /// the column.
    fn time_summary(&self, key: &str) -> Option<TimeSummary>;
    /// Returns the number of values below `time` in a time column that its summary marks
    /// sorted, or `None` when it cannot be read.
    fn time_rank(&self, key: &str, time: i64) -> Option<u32>;
    /// Returns the values of a time column, or `None` when it is missing or cannot be read.
    fn time_values(&self, key: &str) -> Option<&[i64]>;
    /// Returns the postings.
    fn postings(&self) -> &Postings;
}

impl SegmentParts for SegmentIndex {
    fn field(&self, key: &str) -> Option<&FieldBitmaps> {
        self.fields.get(key)
    }

    fn has_field(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    fn time_summary(&self, key: &str) -> Option<TimeSummary> {
        self.time_columns.get(key).map(|_| TimeSummary::default())
    }

    fn time_rank(&self, key: &str, time: i64) -> Option<u32> {
        let column = self.time_columns.get(key)?;
        u32::try_from(column.partition_point(|t| *t < time)).ok()
    }

    fn time_values(&self, key: &str) -> Option<&[i64]> {
        self.time_columns.get(key).map(Vec::as_slice)
    }

    fn postings(&self) -> &Postings {
        &self.postings
    }
}

/// Evaluates plans over one segment, with the directory users of its reference keys
/// resolved once.
pub struct SegmentEval<'a> {
    /// The segment's derived structures.
    pub index: &'a dyn SegmentParts,
    /// The tag lookup.
    pub lookup: &'a dyn TagLookup,
    /// The resolved user of each reference key.
    pub users: &'a [Option<UserId>],
    /// Tag bitmaps built so far with this lookup, if the caller keeps them.
    pub cache: Option<&'a Mutex<TagCache>>,
    /// The number of records in the segment, live or replaced.
    pub records: u32,
}

/// The range and order of one time column, which let a time window skip the column scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeSummary {
    /// Earliest and latest instant in the column, if it contains any.
    pub range: Option<(i64, i64)>,
    /// True when every record of the segment contains exactly one instant.
    pub all_instants: bool,
    /// True when every record contains one instant and they never decrease with the id.
    pub sorted: bool,
}

impl TimeSummary {
    /// Summarises the time column of a segment of `count` records.
    pub fn of(column: &[i64], count: u32) -> TimeSummary {
        let instants = column.iter().copied().filter(|t| *t != TIME_ABSENT && *t != TIME_COMPLEX);
        let range = instants.fold(None, |range: Option<(i64, i64)>, t| match range {
            None => Some((t, t)),
            Some((min, max)) => Some((min.min(t), max.max(t))),
        });
        let all_instants = column.len() == count as usize
            && column.iter().all(|t| *t != TIME_ABSENT && *t != TIME_COMPLEX);
        let sorted = all_instants && column.windows(2).all(|pair| matches!(pair, [a, b] if a <= b));
        TimeSummary { range, all_instants, sorted }
    }

    /// Returns the exact bounds of a window over `universe` without a scan: all or none of
    /// the records when the column's range lies inside or outside the window, or an id
    /// range of a sorted column, whose ends `rank` gives as the number of values below a
    /// time. Returns `None` when the column must be scanned.
    fn window(
        &self,
        start: Option<i64>,
        end: Option<i64>,
        universe: &RoaringBitmap,
        rank: impl Fn(i64) -> Option<u32>,
    ) -> Option<Bounds> {
        if !self.all_instants {
            return None;
        }
        let (min, max) = self.range?;
        let inside = |t: i64| start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e);
        if inside(min) && inside(max) {
            return Some(Bounds::exact(universe.clone()));
        }
        if start.is_some_and(|s| max < s) || end.is_some_and(|e| min >= e) {
            return Some(Bounds::exact(RoaringBitmap::new()));
        }
        if !self.sorted {
            return None;
        }
        let first = match start {
            Some(start) => rank(start)?,
            None => 0,
        };
        let last = match end {
            Some(end) => Some(rank(end)?.max(first)),
            None => None,
        };
        // Trimming the universe costs far less than building the range as a bitmap when a
        // window spans most of a segment.
        let mut ids = universe.clone();
        ids.remove_range(..first);
        if let Some(last) = last {
            ids.remove_range(last..);
        }
        Some(Bounds::exact(ids))
    }
}

impl SegmentEval<'_> {
    /// Returns the records of `bitmap` that are in `universe`. A bitmap of the segment's
    /// records is copied as it is when the universe contains every record, which costs less
    /// than intersecting it with a dense universe.
    fn restrict(&self, bitmap: &RoaringBitmap, universe: &RoaringBitmap) -> RoaringBitmap {
        if universe.len() == u64::from(self.records) { bitmap.clone() } else { bitmap & universe }
    }

    /// Evaluates `plan` over the records of `universe`.
    pub fn bounds(&self, plan: &Plan, universe: &RoaringBitmap) -> Bounds {
        match plan {
            Plan::All => Bounds::exact(universe.clone()),
            Plan::Tag { role, tags, selection, .. } => {
                Bounds::exact(self.cached_tag_bitmap(*role, tags, selection, universe))
            }
            Plan::Value { field, key, enumeration } => {
                self.value_bounds(field, key, *enumeration, universe)
            }
            Plan::TimeRange { field, start, end } => {
                self.time_bounds(field, *start, *end, universe)
            }
            Plan::Test(_) => Bounds::unknown(universe),
            Plan::And(children) => self.and_bounds(children, universe),
            Plan::Or(children) => self.or_bounds(children, universe),
            Plan::Not(child) => {
                // The records the child may match but is unsure of stay unsure; those it
                // rules out match the negation.
                let inner = self.bounds(child, universe);
                let mut upper = universe - &inner.upper;
                upper |= &inner.unsure;
                Bounds { upper, unsure: inner.unsure }
            }
        }
    }

    /// Intersects the children in the order of [`cost_rank`] and stops when the upper bound is
    /// empty. Each child is evaluated over the upper bound so far, so its upper bound is the
    /// new one.
    fn and_bounds(&self, children: &[Plan], universe: &RoaringBitmap) -> Bounds {
        let mut order: Vec<&Plan> = children.iter().collect();
        // Bitmap operands first, then column scans, then record tests: each narrows the
        // universe that the later ones scan or test.
        order.sort_by_key(|p| cost_rank(p));
        let mut result: Option<Bounds> = None;
        for child in order {
            let bounds = self.bounds(child, result.as_ref().map_or(universe, |b| &b.upper));
            result = Some(match result {
                None => bounds,
                Some(mut so_far) => {
                    so_far.unsure &= &bounds.upper;
                    so_far.unsure |= bounds.unsure;
                    Bounds { upper: bounds.upper, unsure: so_far.unsure }
                }
            });
            if result.as_ref().is_some_and(|b| b.upper.is_empty()) {
                break;
            }
        }
        result.unwrap_or_else(|| Bounds::exact(universe.clone()))
    }

    /// Evaluates a time window from the column's summary when it decides the window (see
    /// [`TimeSummary`]), and otherwise scans the column over the universe. Records whose
    /// field contains something else than one instant go to the upper bound only, so they are
    /// tested.
    fn time_bounds(
        &self,
        field: &str,
        start: Option<i64>,
        end: Option<i64>,
        universe: &RoaringBitmap,
    ) -> Bounds {
        let Some(summary) = self.index.time_summary(field) else {
            // No record contains an instant here. A field absent everywhere matches nothing,
            // while text values must be tested.
            return if self.index.has_field(field) {
                Bounds::unknown(universe)
            } else {
                Bounds::exact(RoaringBitmap::new())
            };
        };
        let rank = |time| self.index.time_rank(field, time);
        if let Some(bounds) = summary.window(start, end, universe, rank) {
            return bounds;
        }
        let Some(column) = self.index.time_values(field) else {
            // The column could not be read; the caller reports that error after the plan.
            return Bounds::unknown(universe);
        };
        let mut lower = RoaringBitmap::new();
        let mut complex = RoaringBitmap::new();
        for id in universe {
            match column.get(id as usize).copied().unwrap_or(TIME_COMPLEX) {
                TIME_ABSENT => {}
                TIME_COMPLEX => {
                    complex.insert(id);
                }
                t if start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e) => {
                    lower.insert(id);
                }
                _ => {}
            }
        }
        let upper = &lower | &complex;
        Bounds { upper, unsure: complex }
    }

    fn or_bounds(&self, children: &[Plan], universe: &RoaringBitmap) -> Bounds {
        let mut upper = RoaringBitmap::new();
        let mut lower = RoaringBitmap::new();
        let mut unsure = RoaringBitmap::new();
        for child in children {
            let bounds = self.bounds(child, universe);
            upper |= &bounds.upper;
            let (certain, child_unsure) = bounds.into_certain_and_unsure();
            lower |= certain;
            unsure |= child_unsure;
        }
        // A record that one child matches for certain matches, whatever the other children return.
        unsure -= &lower;
        Bounds { upper, unsure }
    }

    fn value_bounds(
        &self,
        field: &str,
        key: &str,
        enumeration: bool,
        universe: &RoaringBitmap,
    ) -> Bounds {
        let bitmaps = match self.index.field(field) {
            None => return Bounds::exact(RoaringBitmap::new()),
            Some(bitmaps) if bitmaps.dropped => return Bounds::unknown(universe),
            Some(bitmaps) => bitmaps,
        };
        if !enumeration {
            let selected = bitmaps.values.get(key).map(|bitmap| self.restrict(bitmap, universe));
            return Bounds::exact(selected.unwrap_or_default());
        }
        // The enumeration key of a value is its folded form without non-alphanumerics.
        let selected = bitmaps
            .values
            .iter()
            .filter(|(value, _)| alphanumeric(value) == key)
            .map(|(_, bitmap)| bitmap)
            .union();
        Bounds::exact(selected & universe)
    }

    /// Returns the tag bitmap within the universe, from the cache when it has one.
    fn cached_tag_bitmap(
        &self,
        role: Option<Role>,
        tags: &TagSet,
        selection: &TagMatch,
        universe: &RoaringBitmap,
    ) -> RoaringBitmap {
        let Some(cache) = self.cache else { return self.tag_bitmap(role, tags) & universe };
        let key = tag_cache_key(role, selection);
        if let Ok(cache) = cache.lock()
            && let Some((_, bitmap)) = cache.get(&key)
        {
            return self.restrict(bitmap, universe);
        }
        let bitmap = self.tag_bitmap(role, tags);
        let result = &bitmap & universe;
        if let Ok(mut cache) = cache.lock() {
            cache.insert(key, (selection.clone(), bitmap));
        }
        result
    }

    /// Unions the postings of the keys whose user carries one of the tags.
    pub fn tag_bitmap(&self, role: Option<Role>, tags: &TagSet) -> RoaringBitmap {
        if matches!(tags, TagSet::Ids(ids) if ids.is_empty()) {
            return RoaringBitmap::new();
        }
        self.index
            .postings()
            .iter()
            .filter(|((posting_role, key), _)| {
                role.is_none_or(|r| r == *posting_role) && self.carries(*key, tags)
            })
            .map(|(_, bitmap)| bitmap)
            .union()
    }

    fn carries(&self, key: u32, tags: &TagSet) -> bool {
        carries(self.lookup, self.users, key, tags)
    }
}

fn alphanumeric(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Orders `and` operands: bitmaps, then column scans, then anything that tests records.
fn cost_rank(plan: &Plan) -> u8 {
    match plan {
        Plan::All | Plan::Tag { .. } | Plan::Value { .. } => 0,
        Plan::TimeRange { .. } => 2,
        Plan::Test(_) => 3,
        Plan::And(children) | Plan::Or(children) => {
            children.iter().map(cost_rank).max().unwrap_or(0).max(1)
        }
        Plan::Not(child) => cost_rank(child).max(1),
    }
}

/// Returns true when the user of reference key `key` carries one of the tags.
pub fn carries(lookup: &dyn TagLookup, users: &[Option<UserId>], key: u32, tags: &TagSet) -> bool {
    let Some(Some(user)) = users.get(key as usize) else { return false };
    let carried = lookup.tags_of(*user);
    match tags {
        TagSet::Any => !carried.is_empty(),
        TagSet::Ids(wanted) => carried.iter().any(|t| wanted.binary_search(t).is_ok()),
    }
}

/// Returns the tags a tag selection names in a lookup.
pub fn tag_set(lookup: &dyn TagLookup, selection: &TagMatch) -> TagSet {
    match selection {
        TagMatch::Any => TagSet::Any,
        other => TagSet::Ids(lookup.matching_tags(other)),
    }
}

/// Collects the tag leaves of a plan: role, tags and selection.
pub fn tag_leaves<'p>(plan: &'p Plan, leaves: &mut Vec<(Option<Role>, &'p TagSet, &'p TagMatch)>) {
    match plan {
        Plan::Tag { role, tags, selection, .. } => leaves.push((*role, tags, selection)),
        Plan::And(children) | Plan::Or(children) => {
            for child in children {
                tag_leaves(child, leaves);
            }
        }
        Plan::Not(child) => tag_leaves(child, leaves),
        Plan::All | Plan::Value { .. } | Plan::TimeRange { .. } | Plan::Test(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(column: &[i64], start: Option<i64>, end: Option<i64>) -> Option<Vec<u32>> {
        let summary = TimeSummary::of(column, column.len() as u32);
        let mut universe = RoaringBitmap::new();
        universe.insert_range(0..column.len() as u32);
        let rank = |time| u32::try_from(column.partition_point(|t| *t < time)).ok();
        let bounds = summary.window(start, end, &universe, rank)?;
        assert!(bounds.unsure.is_empty());
        Some(bounds.upper.iter().collect())
    }

    #[test]
    fn sorted_column_window_is_id_range() {
        let column = [10, 20, 20, 30, 40];
        assert_eq!(window(&column, Some(20), Some(40)), Some(vec![1, 2, 3]));
        assert_eq!(window(&column, None, Some(20)), Some(vec![0]));
        assert_eq!(window(&column, Some(35), None), Some(vec![4]));
        assert_eq!(window(&column, Some(25), Some(26)), Some(vec![]));
    }

    #[test]
    fn column_range_inside_or_outside_window() {
        let column = [30, 10, 20];
        assert_eq!(window(&column, Some(10), Some(31)), Some(vec![0, 1, 2]));
        assert_eq!(window(&column, Some(31), None), Some(vec![]));
        assert_eq!(window(&column, None, Some(10)), Some(vec![]));
        assert_eq!(window(&column, Some(15), Some(25)), None);
    }

    #[test]
    fn unsorted_stored_column_falls_back_to_scan() {
        let column = crate::index::time_blocks::encode_column(&[30, 10, 20, 40]);
        let checksum = crc32fast::hash(&column.heads);
        let mut decoder =
            crate::index::codec::Decoder::section(&column.heads, 0, checksum, 0).unwrap();
        let heads = crate::index::time_blocks::decode_heads(&mut decoder, 4).unwrap();
        let mut universe = RoaringBitmap::new();
        universe.insert_range(0..4);
        let ranked = std::cell::Cell::new(false);
        let rank = |_| {
            ranked.set(true);
            Some(0)
        };
        assert!(heads.summary.window(Some(15), Some(35), &universe, rank).is_none());
        assert!(!ranked.get(), "an unsorted column was ranked");
        let outside = heads.summary.window(Some(41), None, &universe, |_| None).unwrap();
        assert!(outside.upper.is_empty());
    }

    #[test]
    fn absent_or_complex_time_needs_scan() {
        assert_eq!(window(&[10, TIME_ABSENT, 30], None, Some(100)), None);
        assert_eq!(window(&[10, TIME_COMPLEX, 30], Some(0), None), None);
        let short = TimeSummary::of(&[10, 20], 3);
        assert!(!short.all_instants);
    }
}
