//! Compiles a resolved query and tests records against it.

use crate::catalog::{TagId, TagLookup, UserId};
use crate::filter::resolved::{Cmp, FieldRef, Pred, Query, RoleSel, TagMatch};
use crate::filter::schema::{FieldSource, FieldType, UserField};
use crate::records::{Record, Role, UserRef, Value};
use crate::text;

/// A user a record references, resolved against the directory when possible.
#[derive(Clone, Copy, Debug)]
pub struct InvolvedUser<'r> {
    /// The role and the reference as exported.
    pub reference: &'r UserRef,
    /// The directory user, or `None` for users outside the directory.
    pub user: Option<UserId>,
}

/// A query compiled for one tag lookup.
pub struct Matcher<'l> {
    root: Node,
    lookup: &'l dyn TagLookup,
}

/// A compiled query node; tag leaves hold the sorted ids of the tags they select.
enum Node {
    All,
    Field { field: FieldRef, pred: Pred },
    User { role: RoleSel, field: UserField, pred: Pred },
    Tag { role: RoleSel, tags: TagSet },
    Scope { role: Role, inner: Box<Node> },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

/// The tags a tag leaf selects.
enum TagSet {
    /// Any tag at all.
    Any,
    /// These tag ids, sorted.
    Ids(Vec<TagId>),
}

impl<'l> Matcher<'l> {
    /// Compiles `query`, expanding tag names and patterns over the lookup's tags.
    pub fn new(query: &Query, lookup: &'l dyn TagLookup) -> Matcher<'l> {
        Matcher { root: compile(query, lookup), lookup }
    }

    /// Resolves the users a record references.
    pub fn involved<'r>(&self, record: &'r Record) -> Vec<InvolvedUser<'r>> {
        record
            .users
            .iter()
            .map(|reference| InvolvedUser { reference, user: self.lookup.resolve(reference) })
            .collect()
    }

    /// Returns true when the record matches the query.
    pub fn matches(&self, record: &Record) -> bool {
        let users = self.involved(record);
        self.matches_involved(record, &users)
    }

    /// Returns true when the record matches the query, given its users as
    /// [`Matcher::involved`] returns them.
    pub fn matches_involved<'r>(&self, record: &'r Record, users: &[InvolvedUser<'r>]) -> bool {
        let context = Context { record, users, lookup: self.lookup, this: None };
        context.eval(&self.root)
    }

    /// Returns the names of the source columns (fields in [`Record::extra`]) that the query
    /// reads, each once.
    pub fn columns(&self) -> Vec<String> {
        let mut names = Vec::new();
        collect_columns(&self.root, &mut names);
        names
    }
}

/// Appends the source column names that the node's field tests read, skipping names already
/// in `names`. The depth of the recursion is the query's, which the parser limits.
fn collect_columns(node: &Node, names: &mut Vec<String>) {
    match node {
        Node::Field { field, .. } if field.source == FieldSource::Column => {
            if !names.contains(&field.name) {
                names.push(field.name.clone());
            }
        }
        Node::Scope { inner, .. } | Node::Not(inner) => collect_columns(inner, names),
        Node::And(children) | Node::Or(children) => {
            children.iter().for_each(|child| collect_columns(child, names));
        }
        Node::All | Node::Field { .. } | Node::User { .. } | Node::Tag { .. } => {}
    }
}

fn compile(query: &Query, lookup: &dyn TagLookup) -> Node {
    match query {
        Query::All => Node::All,
        Query::Field { field, pred } => Node::Field { field: field.clone(), pred: pred.clone() },
        Query::User { role, field, pred } => {
            Node::User { role: *role, field: *field, pred: pred.clone() }
        }
        Query::Tag { role, tag } => {
            let tags = match tag {
                TagMatch::Any => TagSet::Any,
                other => TagSet::Ids(lookup.matching_tags(other)),
            };
            Node::Tag { role: *role, tags }
        }
        Query::Scope { role, inner } => {
            Node::Scope { role: *role, inner: Box::new(compile(inner, lookup)) }
        }
        Query::And(children) => Node::And(children.iter().map(|c| compile(c, lookup)).collect()),
        Query::Or(children) => Node::Or(children.iter().map(|c| compile(c, lookup)).collect()),
        Query::Not(child) => Node::Not(Box::new(compile(child, lookup))),
    }
}

/// The state of one evaluation: the record, its resolved users and, inside a scope, its user.
struct Context<'a, 'r> {
    record: &'r Record,
    users: &'a [InvolvedUser<'r>],
    lookup: &'a dyn TagLookup,
    this: Option<InvolvedUser<'r>>,
}

impl<'a, 'r> Context<'a, 'r> {
    fn eval(&self, node: &Node) -> bool {
        match node {
            Node::All => true,
            Node::Field { field, pred } => self.field_matches(field, pred),
            Node::User { role, field, pred } => {
                self.selected(*role).any(|u| user_matches(self.lookup, u, *field, pred))
            }
            Node::Tag { role, tags } => self.selected(*role).any(|u| self.carries(u, tags)),
            Node::Scope { role, inner } => {
                self.users.iter().filter(|u| u.reference.role() == *role).any(|u| {
                    let scoped = Context { this: Some(*u), ..*self };
                    scoped.eval(inner)
                })
            }
            Node::And(children) => children.iter().all(|c| self.eval(c)),
            Node::Or(children) => children.iter().any(|c| self.eval(c)),
            Node::Not(child) => !self.eval(child),
        }
    }

    /// Iterates over the users a leaf looks at.
    fn selected(&self, role: RoleSel) -> impl Iterator<Item = InvolvedUser<'r>> + '_ {
        let this = self.this;
        self.users
            .iter()
            .copied()
            .filter(move |u| match role {
                RoleSel::Any => true,
                RoleSel::Role(r) => u.reference.role() == r,
                RoleSel::This => false,
            })
            .chain(this.filter(|_| role == RoleSel::This))
    }

    fn carries(&self, user: InvolvedUser<'_>, tags: &TagSet) -> bool {
        let Some(id) = user.user else { return false };
        let carried = self.lookup.tags_of(id);
        match tags {
            TagSet::Any => !carried.is_empty(),
            TagSet::Ids(wanted) => carried.iter().any(|t| wanted.binary_search(t).is_ok()),
        }
    }

    fn field_matches(&self, field: &FieldRef, pred: &Pred) -> bool {
        let value = match field.source {
            FieldSource::Model => self.record.field(&field.name),
            FieldSource::Column => self.record.extra_field(&field.name),
        };
        let Some(value) = value else { return false };
        if *pred == Pred::Exists {
            return has_value(value);
        }
        value.items().iter().any(|item| value_matches(item, field.ty, pred))
    }
}

/// Returns true for a present value: an empty string counts, null and an empty list do not.
fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::List(items) => items.iter().any(has_value),
        _ => true,
    }
}

fn user_matches(
    lookup: &dyn TagLookup,
    user: InvolvedUser<'_>,
    field: UserField,
    pred: &Pred,
) -> bool {
    let values = user_values(lookup, user, field);
    if *pred == Pred::Exists {
        return !values.is_empty();
    }
    if let (true, Pred::Keyword(wanted)) = (field.is_address(), pred) {
        return values.iter().any(|v| text::fold_address(v) == *wanted);
    }
    let ty = field.ty();
    values.iter().any(|v| text_matches(v, ty, pred))
}

/// Collects the values of a user attribute: from the export's reference and from the directory.
fn user_values<'r>(
    lookup: &'r dyn TagLookup,
    user: InvolvedUser<'r>,
    field: UserField,
) -> Vec<&'r str> {
    let reference = user.reference;
    let mut values: Vec<&str> = match field {
        UserField::Address => reference.address.as_deref().into_iter().collect(),
        UserField::Domain => reference.address.as_deref().and_then(domain_of).into_iter().collect(),
        UserField::Name => reference.display_name.as_deref().into_iter().collect(),
        UserField::ObjectId => reference.object_id.as_deref().into_iter().collect(),
        UserField::Upn | UserField::Department | UserField::UserType => Vec::new(),
    };
    if let Some(id) = user.user {
        values.extend(lookup.attribute(id, field));
    }
    values
}

fn domain_of(address: &str) -> Option<&str> {
    address.rsplit_once('@').map(|(_, domain)| domain)
}

fn value_matches(item: &Value, ty: FieldType, pred: &Pred) -> bool {
    match (item, pred) {
        (Value::Null, _) => false,
        (Value::List(items), _) => items.iter().any(|i| value_matches(i, ty, pred)),
        (Value::Time(t), Pred::Time { start, end }) => {
            start.is_none_or(|s| *t >= s) && end.is_none_or(|e| *t < e)
        }
        (Value::Int(n), Pred::Number(cmp, bound)) => compare(*n as f64, *cmp, *bound),
        (Value::Float(x), Pred::Number(cmp, bound)) => compare(*x, *cmp, *bound),
        (Value::Bool(b), Pred::Bool(wanted)) => b == wanted,
        (Value::Str(s), Pred::Number(cmp, bound)) => {
            s.trim().parse::<f64>().is_ok_and(|x| compare(x, *cmp, *bound))
        }
        (Value::Str(s), Pred::Bool(wanted)) => {
            s.trim().eq_ignore_ascii_case(if *wanted { "true" } else { "false" })
        }
        (Value::Str(s), Pred::Time { start, end }) => crate::time::Timestamp::parse(s)
            .is_some_and(|t| start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e)),
        (other, _) => other.as_text().is_some_and(|text| text_matches(&text, ty, pred)),
    }
}

fn compare(value: f64, cmp: Cmp, bound: f64) -> bool {
    match cmp {
        Cmp::Eq => value == bound,
        Cmp::Lt => value < bound,
        Cmp::Lte => value <= bound,
        Cmp::Gt => value > bound,
        Cmp::Gte => value >= bound,
    }
}

/// Tests a text value: keywords and enums compare whole values, text fields compare words.
fn text_matches(value: &str, ty: FieldType, pred: &Pred) -> bool {
    match pred {
        Pred::Exists => true,
        Pred::Keyword(wanted) if ty == FieldType::Enum => enum_key(value) == enum_key(wanted),
        Pred::Keyword(wanted) => text::fold_value(value) == *wanted,
        Pred::Wild(pattern) => pattern.matches(value),
        Pred::Words(wanted) => {
            let words = text::words(value);
            wanted.iter().all(|w| words.contains(w))
        }
        Pred::Phrase(wanted) => {
            let words = text::words(value);
            !wanted.is_empty()
                && words.windows(wanted.len()).any(|window| window == wanted.as_slice())
        }
        Pred::Number(..) | Pred::Bool(_) | Pred::Time { .. } | Pred::Never => false,
    }
}

/// Folds an enumeration value so that spellings across export surfaces compare equal:
/// `Intra-org`, `IntraOrg` and `intra_org` all become `intraorg`.
pub(crate) fn enum_key(value: &str) -> String {
    text::fold_value(value).chars().filter(|c| c.is_alphanumeric()).collect()
}

#[cfg(test)]
mod tests;
