//! Property tests: printed trees parse back to the same tree, and no input makes the parser,
//! printer or resolver panic.

use proptest::prelude::*;

use super::ast::{Field, FieldName, Node, Pattern, PatternPart, RangeOp, Span, TagTarget, Term};
use super::schema::{FieldDef, FieldType, Schema};
use super::{ParseOptions, ResolveOptions, parse, print, resolve};
use crate::records::Role;

/// Returns the tree with every position set to zero, for comparing trees of different texts.
fn strip(node: &Node) -> Node {
    let field = |f: &Field| Field { name: f.name.clone(), span: Span::default() };
    let target = |t: &TagTarget| match t {
        TagTarget::Role(name, _) => TagTarget::Role(name.clone(), Span::default()),
        other => other.clone(),
    };
    match node {
        Node::All => Node::All,
        Node::Text { value, .. } => Node::Text { value: value.clone(), span: Span::default() },
        Node::Eq { field: f, value, .. } => {
            Node::Eq { field: field(f), value: value.clone(), span: Span::default() }
        }
        Node::Exists { field: f } => Node::Exists { field: field(f) },
        Node::Range { field: f, op, value, .. } => Node::Range {
            field: field(f),
            op: *op,
            value: value.clone(),
            op_span: Span::default(),
            span: Span::default(),
        },
        Node::Tag { target: t, value, .. } => {
            Node::Tag { target: target(t), value: value.clone(), span: Span::default() }
        }
        Node::HasTag { target: t } => Node::HasTag { target: target(t) },
        Node::Scope { field: f, inner } => {
            Node::Scope { field: field(f), inner: Box::new(strip(inner)) }
        }
        Node::And(items) => Node::And(items.iter().map(strip).collect()),
        Node::Or(items) => Node::Or(items.iter().map(strip).collect()),
        Node::Not(inner) => Node::Not(Box::new(strip(inner))),
    }
}

/// Characters that exercise escaping: specials, blanks, invisible and typographic characters,
/// the letters of keywords and of foreign operators.
const ALPHABET: &[char] = &[
    'a', 'n', 'd', 'o', 'r', 't', 'T', 'O', 'x', '2', '0', '-', '.', ' ', '\t', '\n', '\u{A0}',
    '\u{2003}', ':', '(', ')', '"', '\\', '*', '{', '}', '<', '>', '=', '!', '&', '|', '[', ']',
    '\'', '\u{200B}', '\u{FEFF}', '\u{1}', '\u{201C}', '\u{2019}', 'é', '𝔘', '/', '#',
];

fn text(min: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), min..8)
        .prop_map(|chars| chars.into_iter().collect::<String>())
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("and".to_string()),
        Just("or".to_string()),
        Just("not".to_string()),
        Just("Tag".to_string()),
        Just("2024-06-03T08:30".to_string()),
        text(1),
    ]
}

fn plain_text() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..3).prop_map(|words| words.join(" "))
}

fn pattern() -> impl Strategy<Value = Pattern> {
    prop::collection::vec(prop_oneof![Just(None), plain_text().prop_map(Some)], 1..4)
        .prop_map(|items| {
            let mut parts: Vec<PatternPart> = vec![PatternPart::Star];
            for item in items {
                match (item, parts.last_mut()) {
                    (None, Some(PatternPart::Star)) => {}
                    (None, _) => parts.push(PatternPart::Star),
                    (Some(s), Some(PatternPart::Literal(l))) => l.push_str(&s),
                    (Some(s), _) => parts.push(PatternPart::Literal(s)),
                }
            }
            Pattern { parts }
        })
        .prop_filter("a lone star is not a value", |p| !p.is_match_all())
}

fn term() -> impl Strategy<Value = Term> {
    prop_oneof![
        plain_text().prop_map(Term::Plain),
        text(0).prop_map(Term::Phrase),
        pattern().prop_map(Term::Wild),
    ]
}

fn is_tag_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "tag" || lower.ends_with(".tag")
}

fn field() -> impl Strategy<Value = Field> {
    let name = prop_oneof![
        plain_text().prop_map(FieldName::Name),
        pattern().prop_map(FieldName::Glob),
        Just(FieldName::Name(String::new())),
    ];
    name.prop_filter("tag fields make tag leaves", |n| match n {
        FieldName::Name(s) => !is_tag_name(s),
        FieldName::Glob(p) => !is_tag_name(&p.to_string()),
    })
    .prop_map(|name| Field { name, span: Span::default() })
}

fn target(in_scope: bool) -> impl Strategy<Value = TagTarget> {
    let role = plain_text()
        .prop_filter("`*.tag` is every role", |r| r != "*")
        .prop_map(|r| TagTarget::Role(r, Span::default()));
    let own = if in_scope { TagTarget::SelfEntity } else { TagTarget::Any };
    prop_oneof![Just(TagTarget::Any), Just(own), role]
}

fn leaf(in_scope: bool) -> BoxedStrategy<Node> {
    let span = Span::default();
    let op =
        prop_oneof![Just(RangeOp::Lt), Just(RangeOp::Lte), Just(RangeOp::Gt), Just(RangeOp::Gte)];
    let bound = prop_oneof![plain_text().prop_map(Term::Plain), text(0).prop_map(Term::Phrase)];
    let mut options = vec![
        (field(), term()).prop_map(move |(field, value)| Node::Eq { field, value, span }).boxed(),
        field()
            .prop_filter(
                "`*:*` is everything",
                |f| !matches!(&f.name, FieldName::Glob(p) if p.is_match_all()),
            )
            .prop_map(|field| Node::Exists { field })
            .boxed(),
        (field(), op, bound)
            .prop_map(move |(field, op, value)| Node::Range {
                field,
                op,
                value,
                op_span: span,
                span,
            })
            .boxed(),
        (target(in_scope), term())
            .prop_map(move |(target, value)| Node::Tag { target, value, span })
            .boxed(),
        target(in_scope).prop_map(|target| Node::HasTag { target }).boxed(),
        Just(Node::All).boxed(),
    ];
    if !in_scope {
        options.push(term().prop_map(move |value| Node::Text { value, span }).boxed());
    }
    prop::strategy::Union::new(options).boxed()
}

fn tree(in_scope: bool, depth: u32) -> BoxedStrategy<Node> {
    leaf(in_scope)
        .prop_recursive(depth, 24, 3, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Node::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Node::Or),
                inner.clone().prop_map(|n| Node::Not(Box::new(n))),
                (field(), tree(true, 1))
                    .prop_map(|(field, inner)| Node::Scope { field, inner: Box::new(inner) }),
            ]
        })
        .boxed()
}

/// Fragments that a random query is assembled from.
const FRAGMENTS: &[&str] = &[
    "a",
    "sev",
    "tag",
    "recipient.tag",
    "*.tag",
    "sender*",
    "*",
    ":",
    "(",
    ")",
    "{",
    "}",
    " ",
    " and ",
    " or ",
    "not ",
    " AND ",
    "\"x y\"",
    "\"",
    "\\",
    "\\*",
    "\\:",
    "\\or",
    "\\u00e9",
    "\\uD835\\uDD18",
    ">",
    ">=",
    "<",
    "<=",
    "2024-06-03T08:30:00Z",
    "now-1d/d",
    "==",
    "!=",
    "&&",
    "[1 TO 2]",
    "'",
    "\u{201C}",
    "\u{200B}",
    "\u{A0}",
    "\t",
    "é",
    "=",
    "-",
    "has",
];

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..16).prop_map(|parts| parts.concat())
}

fn schema() -> Schema {
    Schema {
        kind_name: "test".to_string(),
        fields: vec![
            FieldDef::model("sev", FieldType::Enum, &[]),
            FieldDef::model("a", FieldType::Text, &[]),
            FieldDef::model("sender.domain", FieldType::Keyword, &[]),
            FieldDef::model("size", FieldType::Integer, &[]),
            FieldDef::model("created", FieldType::Date, &[]),
        ],
        roles: vec![Role::Sender, Role::Recipient],
        default_text: vec!["a".to_string()],
    }
}

fn assert_round_trip(root: &Node) -> Result<(), TestCaseError> {
    let printed = print(root);
    let reparsed = parse(&printed, &ParseOptions::default());
    let reparsed = match reparsed {
        Ok(parsed) => parsed.root,
        Err(e) => return Err(TestCaseError::fail(format!("{printed:?} does not parse: {e}"))),
    };
    prop_assert_eq!(strip(&reparsed), strip(root), "printed as {:?}", printed);
    prop_assert_eq!(print(&reparsed), printed);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back(root in tree(false, 4)) {
        assert_round_trip(&root)?;
    }

    #[test]
    fn printed_queries_parse_back(q in query()) {
        if let Ok(parsed) = parse(&q, &ParseOptions::default()) {
            assert_round_trip(&parsed.root)?;
        }
    }

    #[test]
    fn random_queries_never_panic(q in query()) {
        if let Ok(parsed) = parse(&q, &ParseOptions::default()) {
            let _ = resolve(&parsed.root, &schema(), &ResolveOptions::default());
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let q = String::from_utf8_lossy(&bytes);
        let options = ParseOptions { leading_wildcards: false, ..ParseOptions::default() };
        if let Ok(parsed) = parse(&q, &options) {
            let _ = resolve(&parsed.root, &schema(), &ResolveOptions::default());
            let _ = print(&parsed.root);
        }
    }

    #[test]
    fn random_strings_never_panic(q in "\\PC{0,40}") {
        if let Ok(parsed) = parse(&q, &ParseOptions::default()) {
            let _ = resolve(&parsed.root, &schema(), &ResolveOptions::default());
        }
    }
}
