//! Resolution: checks a syntax tree against a record schema and converts every value.
//!
//! Field names match the schema's names and aliases case-insensitively. `<role>.<user field>`
//! and `<role>:V` test the users of a role. `<role>:{ Q }` requires one user of the role to
//! satisfy Q, so inside it tag leaves and user fields refer to that user. Semantic errors are
//! reported left to right: the first one found stops resolution.

use jiff::tz::TimeZone;

use super::ast::{Field, FieldName, Node, Pattern, PatternPart, RangeOp, Span, TagTarget, Term};
use super::dates::{DateValue, parse_date};
use super::error::{Diagnostic, FilterError};
use super::resolved::{Cmp, FieldRef, Pred, Query, RoleSel, TagMatch};
use super::schema::{FieldDef, FieldType, Schema, UserField};
use crate::records::Role;
use crate::text;
use crate::time::Timestamp;

/// Settings for [`resolve`].
#[derive(Clone, Debug)]
pub struct ResolveOptions {
    /// The instant `now` stands for in date math, fixed once per evaluation.
    pub now: Timestamp,
    /// The time zone for date values without an offset and for rounding.
    pub tz: TimeZone,
}

impl Default for ResolveOptions {
    /// Returns options for the current time, in UTC.
    fn default() -> Self {
        ResolveOptions { now: Timestamp::from_jiff(jiff::Timestamp::now()), tz: TimeZone::UTC }
    }
}

/// Resolves a syntax tree against the schema of one record kind.
///
/// # Errors
///
/// Returns the leftmost semantic error (S codes): an unknown field or role, a value that does
/// not fit the field's type, free text where none is allowed, a malformed date or an empty tag
/// name.
pub fn resolve(
    node: &Node,
    schema: &Schema,
    options: &ResolveOptions,
) -> Result<Query, FilterError> {
    Resolver { schema, options, scope: None }.node(node)
}

/// Sets the byte offset of a diagnostic from its character offset. Resolution reads only the
/// tree, so the byte offsets of S errors are right only after this call (or for ASCII queries).
pub fn fill_byte_offset(diagnostic: &mut Diagnostic, query: &str) {
    let byte = query.char_indices().nth(diagnostic.offset).map_or(query.len(), |(i, _)| i);
    diagnostic.byte_offset = byte;
}

type RResult<T> = Result<T, FilterError>;

/// The target of a leaf: a record field or an attribute of referenced users.
enum Target {
    Field(FieldRef),
    User(RoleSel, UserField),
}

impl Target {
    fn ty(&self) -> FieldType {
        match self {
            Target::Field(f) => f.ty,
            Target::User(_, field) => field.ty(),
        }
    }

    /// Returns true for user attributes compared as addresses.
    fn is_address(&self) -> bool {
        matches!(self, Target::User(_, field) if field.is_address())
    }

    fn name(&self) -> String {
        match self {
            Target::Field(f) => f.name.clone(),
            Target::User(RoleSel::Role(role), field) => {
                format!("{role}.{}", user_field_name(*field))
            }
            Target::User(_, field) => user_field_name(*field).to_string(),
        }
    }

    fn query(self, pred: Pred) -> Query {
        match self {
            Target::Field(field) => Query::Field { field, pred },
            Target::User(role, field) => Query::User { role, field, pred },
        }
    }
}

fn user_field_name(field: UserField) -> &'static str {
    UserField::ALL.iter().find(|(_, f)| *f == field).map_or("address", |(n, _)| n)
}

fn semantic(code: &'static str, span: Span, message: String, hint: Option<String>) -> FilterError {
    FilterError {
        diagnostic: Diagnostic {
            code,
            message,
            offset: span.offset,
            // The tree keeps character offsets only, so this equals the byte offset for ASCII
            // queries alone. `fill_byte_offset` corrects it from the query text.
            byte_offset: span.offset,
            len: span.len.max(1),
            hint,
            expected: Vec::new(),
        },
    }
}

struct Resolver<'a> {
    schema: &'a Schema,
    options: &'a ResolveOptions,
    /// The role of the enclosing `<role>:{ … }` scope.
    scope: Option<Role>,
}

impl Resolver<'_> {
    fn node(&self, node: &Node) -> RResult<Query> {
        match node {
            Node::All => Ok(Query::All),
            Node::Text { value, span } => self.free_text(value, *span),
            Node::Eq { field, value, span } => {
                self.field_leaf(field, Some(value), |r, t| r.eq_pred(t, value, *span))
            }
            Node::Exists { field } => self.field_leaf(field, None, |_, _| Ok(Pred::Exists)),
            Node::Range { field, op, value, op_span, span } => {
                self.range(field, *op, value, *op_span, *span)
            }
            Node::Tag { target, value, span } => {
                let role = self.tag_role(target)?;
                Ok(Query::Tag { role, tag: tag_match(value, *span)? })
            }
            Node::HasTag { target } => {
                Ok(Query::Tag { role: self.tag_role(target)?, tag: TagMatch::Any })
            }
            Node::Scope { field, inner } => self.scope(field, inner),
            Node::And(items) => Ok(Query::And(self.all(items)?)),
            Node::Or(items) => Ok(Query::Or(self.all(items)?)),
            Node::Not(inner) => Ok(Query::Not(Box::new(self.node(inner)?))),
        }
    }

    fn all(&self, items: &[Node]) -> RResult<Vec<Query>> {
        items.iter().map(|item| self.node(item)).collect()
    }

    // ---- roles, tags, scopes ----

    fn known_role(&self, name: &str) -> Option<Role> {
        Role::parse(name).filter(|role| self.schema.roles.contains(role))
    }

    fn unknown_role(&self, name: &str, span: Span) -> FilterError {
        let roles: Vec<&str> = self.schema.roles.iter().map(|r| r.as_str()).collect();
        let message = format!("unknown role '{name}' for {} records", self.schema.kind_name);
        let hint = if roles.is_empty() {
            format!("{} records have no roles", self.schema.kind_name)
        } else {
            format!("roles: {}", roles.join(", "))
        };
        semantic("S002", span, message, Some(hint))
    }

    fn tag_role(&self, target: &TagTarget) -> RResult<RoleSel> {
        match target {
            TagTarget::Any => Ok(RoleSel::Any),
            TagTarget::SelfEntity => Ok(RoleSel::This),
            TagTarget::Role(name, span) => match self.known_role(name) {
                Some(role) => Ok(RoleSel::Role(role)),
                None => Err(self.unknown_role(name, *span)),
            },
        }
    }

    fn scope(&self, field: &Field, inner: &Node) -> RResult<Query> {
        let name = match &field.name {
            FieldName::Name(name) => name.clone(),
            FieldName::Glob(pattern) => pattern.to_string(),
        };
        // NOTE: scopes over object-list fields (`attachments:{ … }`) have no resolved form
        // yet, so they are rejected like an unknown role.
        let Some(role) = self.known_role(&name) else {
            return Err(self.unknown_role(&name, field.span));
        };
        let inner_resolver =
            Resolver { schema: self.schema, options: self.options, scope: Some(role) };
        Ok(Query::Scope { role, inner: Box::new(inner_resolver.node(inner)?) })
    }

    // ---- fields ----

    /// Finds what a field name refers to, or `None`.
    fn target(&self, name: &str) -> Option<Target> {
        if self.scope.is_some() {
            // Inside a role scope, names refer to the scope's one user.
            return UserField::parse(name).map(|field| Target::User(RoleSel::This, field));
        }
        if let Some(def) = self.schema.field(name) {
            return Some(Target::Field(field_ref(def)));
        }
        if let Some((role, rest)) = name.split_once('.')
            && let (Some(role), Some(field)) = (self.known_role(role), UserField::parse(rest))
        {
            return Some(Target::User(RoleSel::Role(role), field));
        }
        self.known_role(name).map(|role| Target::User(RoleSel::Role(role), UserField::Address))
    }

    fn unknown_field(&self, name: &str, span: Span, value: Option<&Term>) -> FilterError {
        let message = format!("unknown field '{name}'");
        let written = value.map_or_else(|| "…".to_string(), |v| v.text());
        let hint = if let Some(rest) = name.strip_prefix('-').filter(|r| self.target(r).is_some()) {
            Some(format!("use 'not {rest}:{written}'"))
        } else if name.eq_ignore_ascii_case("_exists_") {
            Some(format!("use '{written}:*'"))
        } else if let Some(role) = self.scope {
            let names: Vec<&str> = UserField::ALL.iter().map(|(n, _)| *n).collect();
            Some(format!("inside {role}:{{ … }} the fields are tag, {}", names.join(", ")))
        } else {
            let mut candidates: Vec<&str> = Vec::new();
            for def in &self.schema.fields {
                candidates.push(&def.name);
                candidates.extend(def.aliases.iter().map(String::as_str));
            }
            candidates.extend(self.schema.roles.iter().map(|r| r.as_str()));
            text::closest(name, candidates).map(|c| format!("did you mean '{c}'?"))
        };
        semantic("S001", span, message, hint)
    }

    /// Resolves a leaf on one field or, for a field pattern, on every matching field (OR-ed).
    /// `pred` converts the value for one target.
    fn field_leaf(
        &self,
        field: &Field,
        value: Option<&Term>,
        pred: impl Fn(&Self, &Target) -> RResult<Pred>,
    ) -> RResult<Query> {
        match &field.name {
            FieldName::Name(name) => match self.target(name) {
                Some(target) => {
                    let pred = pred(self, &target)?;
                    Ok(target.query(pred))
                }
                None => Err(self.unknown_field(name, field.span, value)),
            },
            FieldName::Glob(pattern) => self.expand(pattern, field.span, pred),
        }
    }

    /// Expands a field pattern over the schema's fields. Fields whose type rejects the value
    /// are left out; when every matching field rejects it, the first error is returned.
    fn expand(
        &self,
        pattern: &Pattern,
        span: Span,
        pred: impl Fn(&Self, &Target) -> RResult<Pred>,
    ) -> RResult<Query> {
        let mut queries = Vec::new();
        let mut first_error = None;
        let targets: Vec<Target> = match self.scope {
            Some(_) => UserField::ALL
                .iter()
                .filter(|(name, _)| pattern.matches(name))
                .map(|(_, field)| Target::User(RoleSel::This, *field))
                .collect(),
            None => self
                .schema
                .fields
                .iter()
                .filter(|def| pattern.matches(&def.name))
                .map(|def| Target::Field(field_ref(def)))
                .collect(),
        };
        for target in targets {
            match pred(self, &target) {
                Ok(p) => queries.push(target.query(p)),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (queries.len(), first_error) {
            (0, Some(error)) => Err(error),
            (0, None) => {
                let message = format!("no field matches '{pattern}'");
                Err(semantic("S001", span, message, None))
            }
            (1, _) => Ok(queries.remove(0)),
            _ => Ok(Query::Or(queries)),
        }
    }

    fn free_text(&self, value: &Term, span: Span) -> RResult<Query> {
        if self.scope.is_some() || self.schema.default_text.is_empty() {
            let written = value.text();
            let message = format!("free-text term '{written}' is not tied to a field");
            let hint = format!("name a field, e.g. name:{}", super::print::quote_value(&written));
            return Err(semantic("S004", span, message, Some(hint)));
        }
        let mut queries = Vec::new();
        for name in &self.schema.default_text {
            let Some(def) = self.schema.field(name) else { continue };
            let target = Target::Field(field_ref(def));
            let pred = self.eq_pred(&target, value, span)?;
            queries.push(target.query(pred));
        }
        match queries.len() {
            0 => Err(semantic("S004", span, "no default text field exists".to_string(), None)),
            1 => Ok(queries.remove(0)),
            _ => Ok(Query::Or(queries)),
        }
    }

    // ---- values ----

    fn eq_pred(&self, target: &Target, value: &Term, span: Span) -> RResult<Pred> {
        let ty = target.ty();
        match (ty, value) {
            (_, Term::Plain(s) | Term::Phrase(s)) if target.is_address() => {
                Ok(Pred::Keyword(text::fold_address(s)))
            }
            (FieldType::Keyword | FieldType::Enum, Term::Plain(s) | Term::Phrase(s)) => {
                Ok(Pred::Keyword(text::fold_value(s)))
            }
            (FieldType::Text, Term::Plain(s)) => Ok(words_or_never(text::words(s), Pred::Words)),
            (FieldType::Text, Term::Phrase(s)) => Ok(words_or_never(text::words(s), Pred::Phrase)),
            (
                FieldType::Keyword | FieldType::Enum | FieldType::Text | FieldType::Boolean,
                Term::Wild(p),
            ) => Ok(Pred::Wild(p.clone())),
            (FieldType::Integer | FieldType::Float, Term::Plain(s) | Term::Phrase(s)) => {
                Ok(Pred::Number(Cmp::Eq, self.number(target, s, span)?))
            }
            (FieldType::Boolean, Term::Plain(s) | Term::Phrase(s)) => {
                bool_value(target, s, span).map(Pred::Bool)
            }
            (FieldType::Date, Term::Plain(s) | Term::Phrase(s)) => {
                let date = self.date(s, span)?;
                Ok(Pred::Time { start: Some(date.start), end: Some(date_end(date)) })
            }
            (FieldType::Integer | FieldType::Float | FieldType::Date, Term::Wild(_)) => {
                let message = format!(
                    "wildcards are not allowed on field {} (type {})",
                    target.name(),
                    type_name(ty)
                );
                Err(semantic("S003", span, message, None))
            }
        }
    }

    fn number(&self, target: &Target, text: &str, span: Span) -> RResult<f64> {
        let trimmed = text.trim();
        let parsed = match target.ty() {
            FieldType::Integer => trimmed.parse::<i64>().ok().map(|n| n as f64),
            _ => {
                let numeric = trimmed
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
                if numeric { trimmed.parse::<f64>().ok().filter(|n| n.is_finite()) } else { None }
            }
        };
        parsed.ok_or_else(|| {
            let kind =
                if target.ty() == FieldType::Integer { "a whole number" } else { "a number" };
            let message = format!("'{text}' is not {kind} (field {})", target.name());
            semantic("S003", span, message, None)
        })
    }

    fn date(&self, text: &str, span: Span) -> RResult<DateValue> {
        parse_date(text, self.options.now, &self.options.tz).ok_or_else(|| {
            let message = format!("'{text}' is not a valid date");
            let hint = if text.contains("..") {
                "write two range clauses, such as created >= 2024-06-01 and created <= 2024-06-30"
            } else {
                "use YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm], now or date math such as now-7d/d"
            };
            semantic("S005", span, message, Some(hint.to_string()))
        })
    }

    fn range(
        &self,
        field: &Field,
        op: RangeOp,
        value: &Term,
        op_span: Span,
        span: Span,
    ) -> RResult<Query> {
        if is_tag_field(&field.name) {
            return Err(semantic(
                "S003",
                op_span,
                "ranges are not defined on tags".to_string(),
                None,
            ));
        }
        self.field_leaf(field, None, |r, target| r.range_pred(target, op, value, op_span, span))
    }

    fn range_pred(
        &self,
        target: &Target,
        op: RangeOp,
        value: &Term,
        op_span: Span,
        span: Span,
    ) -> RResult<Pred> {
        let ty = target.ty();
        if !ty.is_ordered() {
            let message = format!(
                "ranges are not defined on field {} (type {})",
                target.name(),
                type_name(ty)
            );
            return Err(semantic("S003", op_span, message, None));
        }
        let text = match value {
            Term::Plain(s) | Term::Phrase(s) => s,
            Term::Wild(_) => {
                return Err(semantic(
                    "S003",
                    span,
                    "wildcards are not allowed in a range bound".to_string(),
                    None,
                ));
            }
        };
        if ty == FieldType::Date {
            let date = self.date(text, span)?;
            let (start, end) = match op {
                RangeOp::Gte => (Some(date.start), None),
                RangeOp::Gt => (Some(date_end(date)), None),
                RangeOp::Lt => (None, Some(date.start)),
                RangeOp::Lte => (None, Some(date_end(date))),
            };
            return Ok(Pred::Time { start, end });
        }
        let number = self.number(target, text, span)?;
        let cmp = match op {
            RangeOp::Lt => Cmp::Lt,
            RangeOp::Lte => Cmp::Lte,
            RangeOp::Gt => Cmp::Gt,
            RangeOp::Gte => Cmp::Gte,
        };
        Ok(Pred::Number(cmp, number))
    }
}

/// Returns the end of a date value: the next unit for a whole unit, else the next tick.
fn date_end(date: DateValue) -> Timestamp {
    date.unit_end.unwrap_or(Timestamp(date.start.0.saturating_add(1)))
}

fn words_or_never(words: Vec<String>, make: fn(Vec<String>) -> Pred) -> Pred {
    if words.is_empty() { Pred::Never } else { make(words) }
}

fn bool_value(target: &Target, text: &str, span: Span) -> RResult<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => {
            let message = format!("'{text}' is not a boolean (field {})", target.name());
            Err(semantic("S003", span, message, Some("use true or false".to_string())))
        }
    }
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Keyword => "keyword",
        FieldType::Enum => "enum",
        FieldType::Text => "text",
        FieldType::Integer => "integer",
        FieldType::Float => "decimal",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
    }
}

fn field_ref(def: &FieldDef) -> FieldRef {
    FieldRef { name: def.name.clone(), source: def.source, ty: def.ty }
}

fn is_tag_field(name: &FieldName) -> bool {
    let written = match name {
        FieldName::Name(n) => n.clone(),
        FieldName::Glob(p) => p.to_string(),
    };
    let lower = written.to_ascii_lowercase();
    lower == "tag" || lower.ends_with(".tag")
}

/// Converts a tag value: names are folded, patterns have their literal runs folded.
fn tag_match(value: &Term, span: Span) -> RResult<TagMatch> {
    match value {
        Term::Plain(s) | Term::Phrase(s) => {
            let name = text::fold_name(s);
            if name.is_empty() {
                return Err(semantic("S006", span, "tag name is empty".to_string(), None));
            }
            Ok(TagMatch::Name(name))
        }
        Term::Wild(pattern) if pattern.is_match_all() => Ok(TagMatch::Any),
        Term::Wild(pattern) => Ok(TagMatch::Wild(fold_pattern(pattern))),
    }
}

/// Folds each literal run like a tag name, except that blanks at the ends of a run next to a
/// star are kept, since they belong to the middle of the name.
fn fold_pattern(pattern: &Pattern) -> Pattern {
    let last = pattern.parts.len().saturating_sub(1);
    let parts = pattern
        .parts
        .iter()
        .enumerate()
        .map(|(i, part)| match part {
            PatternPart::Star => PatternPart::Star,
            PatternPart::Literal(s) => {
                let folded = text::fold_name(s);
                let lead = if i > 0 && s.starts_with(char::is_whitespace) { " " } else { "" };
                let trail = if i < last && s.ends_with(char::is_whitespace) { " " } else { "" };
                let inner = if folded.is_empty() { String::new() } else { folded };
                let joined = format!("{lead}{inner}{trail}");
                PatternPart::Literal(if joined == "  " { " ".to_string() } else { joined })
            }
        })
        .collect();
    Pattern { parts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{ParseOptions, parse};

    fn schema() -> Schema {
        Schema {
            kind_name: "email".to_string(),
            fields: vec![
                FieldDef::model("severity", FieldType::Enum, &["Severity"]),
                FieldDef::model("delivery_action", FieldType::Keyword, &["DeliveryAction"]),
                FieldDef::model("sender.domain", FieldType::Keyword, &[]),
                FieldDef::model("subject", FieldType::Text, &[]),
                FieldDef::model("size", FieldType::Integer, &[]),
                FieldDef::model("ratio", FieldType::Float, &[]),
                FieldDef::model("is_read", FieldType::Boolean, &[]),
                FieldDef::model("created", FieldType::Date, &[]),
            ],
            roles: vec![Role::Sender, Role::Recipient],
            default_text: vec!["subject".to_string()],
        }
    }

    fn options() -> ResolveOptions {
        let now = "2024-06-05T10:20:30Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        ResolveOptions { now: Timestamp::from_jiff(now), tz: TimeZone::UTC }
    }

    fn ts(text: &str) -> Timestamp {
        Timestamp::from_jiff(text.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH))
    }

    fn run(query: &str, schema: &Schema, options: &ResolveOptions) -> RResult<Query> {
        let parsed = parse(query, &ParseOptions::default())?;
        resolve(&parsed.root, schema, options)
    }

    fn ok(query: &str) -> Query {
        run(query, &schema(), &options()).unwrap_or_else(|e| panic!("{query}: {e}"))
    }

    fn err(query: &str) -> Diagnostic {
        match run(query, &schema(), &options()) {
            Ok(q) => panic!("{query} resolved to {q:?}"),
            Err(e) => e.diagnostic,
        }
    }

    fn pred(query: &str) -> Pred {
        match ok(query) {
            Query::Field { pred, .. } | Query::User { pred, .. } => pred,
            other => panic!("{query}: not a leaf: {other:?}"),
        }
    }

    fn time(start: Option<&str>, end: Option<&str>) -> Pred {
        Pred::Time { start: start.map(ts), end: end.map(ts) }
    }

    #[test]
    fn field_names_ignore_case_and_match_aliases() {
        let Query::Field { field, pred } = ok("SEVERITY:High") else { panic!("field") };
        assert_eq!(field.name, "severity");
        assert_eq!(pred, Pred::Keyword("high".to_string()));
        let Query::Field { field, .. } = ok("deliveryaction:Blocked") else { panic!("field") };
        assert_eq!(field.name, "delivery_action");
    }

    #[test]
    fn role_fields_and_addresses() {
        let query = ok("recipient.department:Finance");
        let expected = Query::User {
            role: RoleSel::Role(Role::Recipient),
            field: UserField::Department,
            pred: Pred::Words(vec!["finance".to_string()]),
        };
        assert_eq!(query, expected);
        let query = ok("sender:Ada@Contoso.test");
        let expected = Query::User {
            role: RoleSel::Role(Role::Sender),
            field: UserField::Address,
            pred: Pred::Keyword("ada@contoso.test".to_string()),
        };
        assert_eq!(query, expected);
    }

    #[test]
    fn scope_leaves_refer_to_one_user() {
        let query = ok("recipient:{ tag:VIP and department:Finance }");
        let inner = Query::And(vec![
            Query::Tag { role: RoleSel::This, tag: TagMatch::Name("vip".to_string()) },
            Query::User {
                role: RoleSel::This,
                field: UserField::Department,
                pred: Pred::Words(vec!["finance".to_string()]),
            },
        ]);
        assert_eq!(query, Query::Scope { role: Role::Recipient, inner: Box::new(inner) });
    }

    #[test]
    fn record_field_in_scope_rejected() {
        let e = err("recipient:{ severity:high }");
        assert_eq!((e.code, e.offset), ("S001", 12));
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("department")));
    }

    #[test]
    fn field_pattern_in_scope_uses_user_fields() {
        let Query::Scope { inner, .. } = ok("sender:{ dep*:Finance }") else { panic!("scope") };
        let expected = Query::User {
            role: RoleSel::This,
            field: UserField::Department,
            pred: Pred::Words(vec!["finance".to_string()]),
        };
        assert_eq!(*inner, expected);
    }

    #[test]
    fn free_text_in_scope_rejected() {
        let e = err("recipient:{ VIP }");
        assert_eq!((e.code, e.offset), ("S004", 12));
    }

    #[test]
    fn free_text_needs_default_fields() {
        assert_eq!(pred("invoice overdue"), Pred::Words(vec!["invoice".into(), "overdue".into()]));
        let mut bare = schema();
        bare.default_text.clear();
        let e = run("invoice", &bare, &options()).err().map(|e| e.diagnostic.code);
        assert_eq!(e, Some("S004"));
    }

    #[test]
    fn field_pattern_expands_or_fails() {
        let Query::Or(items) = ok("s*:x") else { panic!("or") };
        let names: Vec<String> = items
            .iter()
            .filter_map(|q| match q {
                Query::Field { field, .. } => Some(field.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["severity", "sender.domain", "subject"]);
        let e = err("zz*:x");
        assert_eq!((e.code, e.offset), ("S001", 0));
    }

    #[test]
    fn unknown_field_hints() {
        let e = err("sevrity:high");
        assert_eq!(e.code, "S001");
        assert_eq!(e.hint.as_deref(), Some("did you mean 'severity'?"));
        let e = err("-severity:high");
        assert_eq!(e.hint.as_deref(), Some("use 'not severity:high'"));
        let e = err("_exists_:subject");
        assert_eq!(e.hint.as_deref(), Some("use 'subject:*'"));
    }

    #[test]
    fn unknown_role_lists_roles() {
        let e = err("severity:high and manager.tag:VIP");
        assert_eq!((e.code, e.offset, e.len), ("S002", 18, 7));
        assert_eq!(e.hint.as_deref(), Some("roles: sender, recipient"));
        assert_eq!(err("user.tag:VIP").code, "S002");
        assert_eq!(err("manager:{ tag:VIP }").code, "S002");
    }

    #[test]
    fn numbers() {
        assert_eq!(pred("size:070"), Pred::Number(Cmp::Eq, 70.0));
        assert_eq!(pred("size >= -4"), Pred::Number(Cmp::Gte, -4.0));
        assert_eq!(pred("ratio < 12.5"), Pred::Number(Cmp::Lt, 12.5));
        let e = err("size:high");
        assert_eq!(
            (e.code, e.message.as_str()),
            ("S003", "'high' is not a whole number (field size)")
        );
        assert_eq!(err("size:12.5").code, "S003");
        assert_eq!(err("ratio:inf").code, "S003");
        assert_eq!(err("size:1*").code, "S003");
    }

    #[test]
    fn booleans() {
        assert_eq!(pred("is_read:TRUE"), Pred::Bool(true));
        assert_eq!(pred("is_read:false"), Pred::Bool(false));
        assert_eq!(err("is_read:yes").code, "S003");
    }

    #[test]
    fn text_values() {
        assert_eq!(
            pred("subject:\"Invoice overdue\""),
            Pred::Phrase(vec!["invoice".into(), "overdue".into()])
        );
        assert_eq!(pred("subject:\"--\""), Pred::Never);
        assert!(matches!(pred("subject:*invoice*"), Pred::Wild(_)));
        assert_eq!(pred("subject:*"), Pred::Exists);
    }

    #[test]
    fn date_only_values_cover_whole_days() {
        let day = Some("2021-06-01T00:00:00Z");
        let next = Some("2021-06-02T00:00:00Z");
        assert_eq!(pred("created:2021-06-01"), time(day, next));
        assert_eq!(pred("created >= 2021-06-01"), time(day, None));
        assert_eq!(pred("created > 2021-06-01"), time(next, None));
        assert_eq!(pred("created < 2021-06-01"), time(None, day));
        assert_eq!(pred("created <= 2021-06-01"), time(None, next));
    }

    #[test]
    fn date_times_are_instants() {
        let at = "2024-06-03T06:30:00Z";
        assert_eq!(pred("created >= 2024-06-03T08:30:00+02:00"), time(Some(at), None));
        assert_eq!(pred("created < \"2024-06-03T06:30:00Z\""), time(None, Some(at)));
        let Pred::Time { start: Some(start), .. } = pred("created > 2024-06-03T06:30:00Z") else {
            panic!("time")
        };
        assert_eq!(start, Timestamp(ts(at).0 + 1));
    }

    #[test]
    fn date_math_uses_now_and_time_zone() {
        let yesterday = Some("2024-06-04T00:00:00Z");
        assert_eq!(pred("created >= now-1d/d"), time(yesterday, None));
        let tz = TimeZone::fixed(jiff::tz::Offset::constant(2));
        let local = ResolveOptions { tz, ..options() };
        let query = run("created >= 2024-06-03", &schema(), &local);
        let Ok(Query::Field { pred, .. }) = query else { panic!("field") };
        assert_eq!(pred, time(Some("2024-06-02T22:00:00Z"), None));
    }

    #[test]
    fn malformed_dates() {
        let e = err("created:2021-06-01..2021-06-30");
        assert_eq!(e.code, "S005");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("two range clauses")));
        assert_eq!(err("created >= 2021-13-01").code, "S005");
        assert_eq!(err("created:2021*").code, "S003");
    }

    #[test]
    fn ranges_need_ordered_fields() {
        let e = err("severity >= high");
        assert_eq!((e.code, e.offset), ("S003", 9));
        let e = err("tag > VIP");
        assert_eq!((e.code, e.message.as_str()), ("S003", "ranges are not defined on tags"));
        assert_eq!(err("recipient.tag >= A").code, "S003");
    }

    #[test]
    fn tag_values_are_folded_names() {
        let query = ok("Tag:\"priority   ACCOUNT\"");
        let expected =
            Query::Tag { role: RoleSel::Any, tag: TagMatch::Name("priority account".into()) };
        assert_eq!(query, expected);
        assert_eq!(ok("tag:*"), Query::Tag { role: RoleSel::Any, tag: TagMatch::Any });
        let Query::Tag { tag: TagMatch::Wild(p), .. } = ok("sender.tag:EXEC*") else {
            panic!("wild")
        };
        assert_eq!(p.to_string(), "exec*");
        let e = err("tag:\"   \"");
        assert_eq!((e.code, e.offset), ("S006", 4));
    }

    #[test]
    fn byte_offset_filled_from_query() {
        let query = "subject:é and sevrity:high";
        let mut e = err(query);
        assert_eq!((e.offset, e.byte_offset), (14, 14));
        fill_byte_offset(&mut e, query);
        assert_eq!(e.byte_offset, 15);
    }

    #[test]
    fn semantic_errors_left_to_right() {
        let e = err("size:x and sevrity:high");
        assert_eq!(e.code, "S003");
    }

    #[test]
    fn deepest_allowed_tree_resolves_and_prints() {
        let depth = crate::filter::HARD_MAX_DEPTH;
        let query = format!("{}severity:high{}", "not (".repeat(depth / 2), ")".repeat(depth / 2));
        let options = ParseOptions { max_depth: depth, ..ParseOptions::default() };
        let parsed = parse(&query, &options).map(|p| p.root);
        let root = parsed.unwrap_or_else(|e| panic!("{e}"));
        assert!(resolve(&root, &schema(), &self::options()).is_ok());
        assert!(crate::filter::print(&root).starts_with("not not"));
    }
}
