//! The syntax tree the parser produces, before resolution against a record schema.

/// A range of the query text: offset and length in Unicode characters (0-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// 0-based offset in characters.
    pub offset: usize,
    /// Length in characters.
    pub len: usize,
}

impl Span {
    /// Creates a span.
    pub fn new(offset: usize, len: usize) -> Span {
        Span { offset, len }
    }
}

/// A value as written in the query, escapes decoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Term {
    /// An unquoted value without an unescaped `*`; ends trimmed, inner blanks kept.
    Plain(String),
    /// A quoted value.
    Phrase(String),
    /// An unquoted value with at least one unescaped `*`.
    Wild(Pattern),
}

impl Term {
    /// Returns the value's text (for a pattern, its literal parts joined by `*`).
    pub fn text(&self) -> String {
        match self {
            Term::Plain(s) | Term::Phrase(s) => s.clone(),
            Term::Wild(p) => p.to_string(),
        }
    }
}

/// One piece of a wildcard pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PatternPart {
    /// Literal text (an escaped `\*` is a literal star here).
    Literal(String),
    /// An unescaped `*`: any run of characters, none included.
    Star,
}

/// A wildcard pattern such as `conto*` or `*S3 Browser*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// The literal runs and stars, in order; adjacent stars are merged.
    pub parts: Vec<PatternPart>,
}

impl Pattern {
    /// Returns true when the pattern is a lone `*`.
    pub fn is_match_all(&self) -> bool {
        self.parts == [PatternPart::Star]
    }
}

impl std::fmt::Display for Pattern {
    /// Writes the pattern with literal stars escaped as `\*`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in &self.parts {
            match part {
                PatternPart::Star => f.write_str("*")?,
                PatternPart::Literal(s) => f.write_str(&s.replace('*', "\\*"))?,
            }
        }
        Ok(())
    }
}

/// A field name as written: a name or, with an unescaped `*`, a pattern over field names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldName {
    /// A plain (possibly dotted) name, such as `severity` or `sender.domain`.
    Name(String),
    /// A field pattern such as `sender*` or `*`.
    Glob(Pattern),
}

/// A field as written, with its position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// The name or pattern.
    pub name: FieldName,
    /// Position of the field name in the query.
    pub span: Span,
}

/// A range operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RangeOp {
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

impl RangeOp {
    /// Returns the operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeOp::Lt => "<",
            RangeOp::Lte => "<=",
            RangeOp::Gt => ">",
            RangeOp::Gte => ">=",
        }
    }
}

/// The users whose tags a tag leaf tests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TagTarget {
    /// `tag:` or `*.tag:`: every involved user.
    Any,
    /// `<role>.tag:`: the users of the named role (the name is checked at resolution).
    Role(String, Span),
    /// `tag:` inside a `<role>:{ … }` scope: the scope's one user.
    SelfEntity,
}

/// A node of the syntax tree. `and`/`or` are flat and n-ary; groups add no node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Matches every record: the empty query or `*:*`.
    All,
    /// A free-text term, matched against the kind's default text fields.
    Text {
        /// The term.
        value: Term,
        /// Position of the term.
        span: Span,
    },
    /// `field:value`.
    Eq {
        /// The field.
        field: Field,
        /// The value.
        value: Term,
        /// Position of the value.
        span: Span,
    },
    /// `field:*`.
    Exists {
        /// The field.
        field: Field,
    },
    /// `field <op> bound`.
    Range {
        /// The field.
        field: Field,
        /// The operator.
        op: RangeOp,
        /// The bound (a wildcard is rejected by the parser).
        value: Term,
        /// Position of the operator.
        op_span: Span,
        /// Position of the bound.
        span: Span,
    },
    /// `tag:V`, `<role>.tag:V`, or `tag:V` inside a scope.
    Tag {
        /// Whose tags.
        target: TagTarget,
        /// The tag name or pattern (`*` alone is [`Node::HasTag`]).
        value: Term,
        /// Position of the value.
        span: Span,
    },
    /// `tag:*` or `<role>.tag:*`: some user carries any tag.
    HasTag {
        /// Whose tags.
        target: TagTarget,
    },
    /// `path:{ inner }`: one element of `path` satisfies `inner`.
    Scope {
        /// The role or object-list field.
        field: Field,
        /// The query about one element.
        inner: Box<Node>,
    },
    /// All children hold.
    And(Vec<Node>),
    /// At least one child holds.
    Or(Vec<Node>),
    /// The child does not hold.
    Not(Box<Node>),
}

/// A parse that succeeded, with its warnings.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The syntax tree.
    pub root: Node,
    /// Warnings (W codes) found while parsing.
    pub warnings: Vec<super::error::Diagnostic>,
}
