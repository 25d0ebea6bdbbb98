//! A query resolved against a schema: every field known and typed, every value converted.

use crate::filter::ast::Pattern;
use crate::filter::schema::{FieldSource, FieldType, UserField};
use crate::records::Role;
use crate::time::Timestamp;

/// A field of the record, after resolution.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    /// Schema name, or column name for a source column.
    pub name: String,
    /// Location of the value in the record.
    pub source: FieldSource,
    /// Value type.
    pub ty: FieldType,
}

/// Comparison of an ordered value against a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// Equal.
    Eq,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
}

/// A test on one scalar value. A field holds when any of its elements passes.
#[derive(Clone, Debug, PartialEq)]
pub enum Pred {
    /// The field has a value (an empty string counts; null and an empty list do not).
    Exists,
    /// The whole value equals this text after case folding (keyword, enum; value folded). For
    /// address-like user attributes both sides are folded with `text::fold_address` instead.
    Keyword(String),
    /// The whole value matches the pattern, case-insensitively (any field type with text).
    Wild(Pattern),
    /// Every word occurs in the value, in any order (text fields; words case-folded).
    Words(Vec<String>),
    /// The words occur adjacent and in this order (text fields; words case-folded).
    Phrase(Vec<String>),
    /// Numeric comparison.
    Number(Cmp, f64),
    /// Boolean equality.
    Bool(bool),
    /// The instant lies in `[start, end)`; a missing side is unbounded.
    Time {
        /// Inclusive lower bound.
        start: Option<Timestamp>,
        /// Exclusive upper bound.
        end: Option<Timestamp>,
    },
    /// Matches nothing (a text value without any word).
    Never,
}

/// The users a user predicate tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleSel {
    /// Every involved user.
    Any,
    /// The users of one role.
    Role(Role),
    /// The one user of the enclosing scope.
    This,
}

/// The tag selection of a tag leaf. Names are folded with `crate::text::fold_name`.
#[derive(Clone, Debug, PartialEq)]
pub enum TagMatch {
    /// One tag, by folded name.
    Name(String),
    /// Tags whose folded name matches the folded pattern.
    Wild(Pattern),
    /// Any tag at all (`tag:*`).
    Any,
}

/// A resolved query.
#[derive(Clone, Debug, PartialEq)]
pub enum Query {
    /// Every record.
    All,
    /// A test on a record field.
    Field {
        /// The field.
        field: FieldRef,
        /// The test.
        pred: Pred,
    },
    /// A test on an attribute of the referenced users.
    User {
        /// Which users.
        role: RoleSel,
        /// Which attribute.
        field: UserField,
        /// The test.
        pred: Pred,
    },
    /// Some selected user carries a matching tag.
    Tag {
        /// Which users.
        role: RoleSel,
        /// Which tags.
        tag: TagMatch,
    },
    /// One user of the role satisfies the inner query (whose leaves use [`RoleSel::This`]).
    Scope {
        /// The role.
        role: Role,
        /// The query about one user.
        inner: Box<Query>,
    },
    /// All hold.
    And(Vec<Query>),
    /// One holds.
    Or(Vec<Query>),
    /// Does not hold.
    Not(Box<Query>),
}
