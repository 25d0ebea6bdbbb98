//! The canonical printer: a syntax tree back to query text that parses to the same tree.

use super::ast::{Field, FieldName, Node, Pattern, PatternPart, TagTarget, Term};
use super::lex;

/// Prints a tree in canonical form: lower-case keywords, minimal quoting, brackets around every
/// `and`/`or` nested in another `and`/`or` or under `not`, and value groups
/// (`severity:(high or medium)`) for chains on one field.
pub fn print(node: &Node) -> String {
    let mut out = String::new();
    write_node(&mut out, node, false);
    out
}

/// Returns `s` as a value that parses back to exactly `s`: bare when that is safe, else quoted
/// with `\"` and `\\` escaped.
pub fn quote_value(s: &str) -> String {
    if is_bare_safe(s) { s.to_string() } else { quote(s) }
}

/// Returns `s` as an unquoted value that parses back to exactly `s`, escaping specials,
/// keywords, blanks at the ends and invisible characters.
pub fn escape_value(s: &str) -> String {
    escape_text(s, false)
}

/// Returns true when `s` can be written unquoted with no escape at all and contains no blank.
fn is_bare_safe(s: &str) -> bool {
    !s.is_empty() && !s.contains(lex::is_blank) && escape_text(s, false) == s
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || lex::is_invisible(c) => push_unicode_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn push_unicode_escape(out: &mut String, c: char) {
    let mut units = [0u16; 2];
    for unit in c.encode_utf16(&mut units) {
        out.push_str(&format!("\\u{:04X}", unit));
    }
}

/// Escapes one unquoted value or field name. With `colons`, `:` stays bare (date-time bounds).
fn escape_text(s: &str, colons: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let last = chars.len().saturating_sub(1);
    let mut word_start = true;
    for (i, &c) in chars.iter().enumerate() {
        let at_end = i == 0 || i == last;
        if word_start && !lex::is_blank(c) && starts_keyword_word(&chars[i..]) {
            out.push('\\');
        }
        word_start = lex::is_blank(c);
        match c {
            '\t' => out.push_str("\\t"),
            // `\n` before "ot" would read as the escaped keyword `\not`.
            '\n' if next_is_ot(&chars[i + 1..]) => push_unicode_escape(&mut out, c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ':' if colons => out.push(':'),
            c if lex::is_special(c) => {
                out.push('\\');
                out.push(c);
            }
            c if lex::is_blank(c) && at_end => push_unicode_escape(&mut out, c),
            c if lex::is_invisible(c) || lex::is_typographic_quote(c) || c.is_control() => {
                push_unicode_escape(&mut out, c)
            }
            '\'' if i == 0 => push_unicode_escape(&mut out, c),
            '[' if i == 0 => push_unicode_escape(&mut out, c),
            '=' | '!' | '&' | '|' if forms_foreign_operator(c, chars.get(i + 1).copied()) => {
                push_unicode_escape(&mut out, c)
            }
            c => out.push(c),
        }
    }
    out
}

fn next_is_ot(rest: &[char]) -> bool {
    matches!(rest, [o, t, ..] if o.eq_ignore_ascii_case(&'o') && t.eq_ignore_ascii_case(&'t'))
}

/// Returns true when the word starting at `rest` is `and`, `or` or `not`.
fn starts_keyword_word(rest: &[char]) -> bool {
    let word: String = rest.iter().take(4).collect();
    match lex::whole_keyword(&word) {
        Some(kw) => {
            let next = rest.get(kw.as_str().len()).copied();
            lex::ends_keyword(next)
        }
        None => false,
    }
}

fn forms_foreign_operator(c: char, next: Option<char>) -> bool {
    let Some(next) = next else {
        // A field name ending in `=` or `!` before a range operator is rejected too.
        return matches!(c, '=' | '!');
    };
    let pair: String = [c, next].iter().collect();
    lex::FOREIGN_OPERATORS.iter().any(|(op, _)| *op == pair)
}

fn write_pattern(out: &mut String, pattern: &Pattern) {
    for part in &pattern.parts {
        match part {
            PatternPart::Star => out.push('*'),
            PatternPart::Literal(s) => out.push_str(&escape_text(s, false)),
        }
    }
}

fn write_term(out: &mut String, term: &Term, bound: bool) {
    match term {
        Term::Phrase(s) => out.push_str(&quote(s)),
        Term::Plain(s) if s.is_empty() => out.push_str("\"\""),
        Term::Plain(s) => out.push_str(&escape_text(s, bound && lex::starts_with_datetime(s))),
        Term::Wild(p) => write_pattern(out, p),
    }
}

fn write_field(out: &mut String, field: &Field) {
    match &field.name {
        FieldName::Name(s) if s.is_empty() => out.push_str("\"\""),
        FieldName::Name(s) => out.push_str(&escape_text(s, false)),
        FieldName::Glob(p) => write_pattern(out, p),
    }
}

fn write_tag_field(out: &mut String, target: &TagTarget, in_scope: bool) {
    match target {
        TagTarget::Any if in_scope => out.push_str("*.tag"),
        TagTarget::Any | TagTarget::SelfEntity => out.push_str("tag"),
        TagTarget::Role(role, _) => out.push_str(&escape_text(&format!("{role}.tag"), false)),
    }
}

/// The field a value-group leaf tests, compared without positions.
#[derive(PartialEq)]
enum LeafKey<'a> {
    Field(&'a FieldName),
    Tag(&'a TagTarget),
}

fn tag_key_eq(a: &TagTarget, b: &TagTarget) -> bool {
    match (a, b) {
        (TagTarget::Role(x, _), TagTarget::Role(y, _)) => x == y,
        _ => a == b,
    }
}

fn keys_match(a: &LeafKey<'_>, b: &LeafKey<'_>) -> bool {
    match (a, b) {
        (LeafKey::Field(x), LeafKey::Field(y)) => x == y,
        (LeafKey::Tag(x), LeafKey::Tag(y)) => tag_key_eq(x, y),
        _ => false,
    }
}

/// Returns the one field that every leaf under `node` tests with `field:value`, if any.
fn leaf_key(node: &Node) -> Option<LeafKey<'_>> {
    match node {
        Node::Eq { field, .. } | Node::Exists { field } => Some(LeafKey::Field(&field.name)),
        Node::Tag { target, .. } | Node::HasTag { target } => Some(LeafKey::Tag(target)),
        Node::Not(inner) => leaf_key(inner),
        Node::And(items) | Node::Or(items) => {
            let mut keys = items.iter().map(leaf_key);
            let first = keys.next()??;
            for key in keys {
                if !keys_match(&first, &key?) {
                    return None;
                }
            }
            Some(first)
        }
        _ => None,
    }
}

fn write_node(out: &mut String, node: &Node, in_scope: bool) {
    match node {
        Node::All => out.push_str("*:*"),
        Node::Text { value, .. } => write_term(out, value, false),
        Node::Eq { field, value, .. } => {
            write_field(out, field);
            out.push(':');
            write_term(out, value, false);
        }
        Node::Exists { field } => {
            write_field(out, field);
            out.push_str(":*");
        }
        Node::Range { field, op, value, .. } => {
            write_field(out, field);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            write_term(out, value, true);
        }
        Node::Tag { target, value, .. } => {
            write_tag_field(out, target, in_scope);
            out.push(':');
            write_term(out, value, false);
        }
        Node::HasTag { target } => {
            write_tag_field(out, target, in_scope);
            out.push_str(":*");
        }
        Node::Scope { field, inner } => {
            write_field(out, field);
            out.push_str(":{ ");
            write_node(out, inner, true);
            out.push_str(" }");
        }
        Node::And(items) | Node::Or(items) => write_chain(out, node, items, in_scope),
        Node::Not(inner) => {
            out.push_str("not ");
            write_operand(out, inner, in_scope);
        }
    }
}

fn write_chain(out: &mut String, node: &Node, items: &[Node], in_scope: bool) {
    if let Some(key) = leaf_key(node) {
        match key {
            LeafKey::Field(name) => {
                write_field(out, &Field { name: name.clone(), span: Default::default() })
            }
            LeafKey::Tag(target) => write_tag_field(out, target, in_scope),
        }
        out.push_str(":(");
        write_value_chain(out, node);
        out.push(')');
        return;
    }
    let keyword = if matches!(node, Node::And(_)) { " and " } else { " or " };
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(keyword);
        }
        write_operand(out, item, in_scope);
    }
}

/// Writes an operand of `and`, `or` or `not`, bracketing a nested chain.
fn write_operand(out: &mut String, node: &Node, in_scope: bool) {
    if matches!(node, Node::And(_) | Node::Or(_)) && leaf_key(node).is_none() {
        out.push('(');
        write_node(out, node, in_scope);
        out.push(')');
    } else {
        write_node(out, node, in_scope);
    }
}

/// Writes the inside of a value group: values only, the field left out.
fn write_value_chain(out: &mut String, node: &Node) {
    match node {
        Node::Eq { value, .. } | Node::Tag { value, .. } => write_term(out, value, false),
        Node::Exists { .. } | Node::HasTag { .. } => out.push('*'),
        Node::Not(inner) => {
            out.push_str("not ");
            write_value_chain(out, inner);
        }
        Node::And(items) | Node::Or(items) => {
            let keyword = if matches!(node, Node::And(_)) { " and " } else { " or " };
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(keyword);
                }
                let nested = matches!(item, Node::And(_) | Node::Or(_));
                if nested {
                    out.push('(');
                }
                write_value_chain(out, item);
                if nested {
                    out.push(')');
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(query: &str) -> String {
        match crate::filter::parse(query, &Default::default()) {
            Ok(parsed) => print(&parsed.root),
            Err(e) => panic!("{query}: {e}"),
        }
    }

    #[test]
    fn canonical_forms() {
        let cases = [
            ("", "*:*"),
            ("*:*", "*:*"),
            ("severity:high OR severity:medium", "severity:(high or medium)"),
            ("a:1 or b:2 AND c:3 or d:4", "a:1 or (b:2 and c:3) or d:4"),
            ("NOT not x", "not not x"),
            ("not (a:1 and b:2)", "not (a:1 and b:2)"),
            ("size>=10", "size >= 10"),
            ("created >= 2024-06-03T08:30:00Z", "created >= 2024-06-03T08:30:00Z"),
            (
                "recipient:{tag:VIP and department:Finance}",
                "recipient:{ tag:VIP and department:Finance }",
            ),
            ("recipient:{ *.tag:VIP }", "recipient:{ *.tag:VIP }"),
            ("sender.tag:*", "sender.tag:*"),
            ("subject:\"a \\\"b\\\"\"", "subject:\"a \\\"b\\\"\""),
            ("subject:\\or", "subject:\\or"),
            ("subject:50\\*off*", "subject:50\\*off*"),
            ("f:a\\:b", "f:a\\:b"),
            ("f:\\u0009x", "f:\\tx"),
            ("sender*:x", "sender*:x"),
        ];
        for (query, expected) in cases {
            assert_eq!(canonical(query), expected, "{query}");
        }
    }

    #[test]
    fn quote_value_bare_when_safe() {
        assert_eq!(quote_value("Finance"), "Finance");
        assert_eq!(quote_value("Priority account"), "\"Priority account\"");
        assert_eq!(quote_value("and"), "\"and\"");
        assert_eq!(quote_value("a*b"), "\"a*b\"");
        assert_eq!(quote_value("x:y"), "\"x:y\"");
        assert_eq!(quote_value("(x)"), "\"(x)\"");
        assert_eq!(quote_value("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote_value(""), "\"\"");
    }

    #[test]
    fn quote_value_trailing_backslash() {
        assert_eq!(format!("tag:{}", quote_value("C:\\temp\\")), "tag:\"C:\\\\temp\\\\\"");
    }

    const AWKWARD_NAMES: [&str; 14] = [
        "Finance",
        "Priority account",
        "say \"hi\"",
        "C:\\temp\\",
        "a:b",
        "(x)",
        "and",
        "Sales and Marketing",
        "not",
        "Ops*",
        " padded ",
        "tab\there",
        "'quoted'",
        "x == y",
    ];

    #[test]
    fn quoted_names_parse_back() {
        for name in AWKWARD_NAMES {
            let query = format!("tag:{}", quote_value(name));
            let parsed = crate::filter::parse(&query, &Default::default()).map(|p| p.root);
            let value = match parsed {
                Ok(Node::Tag { value, .. }) => value.text(),
                other => panic!("{query}: {other:?}"),
            };
            assert_eq!(value, name, "{query}");
        }
    }

    #[test]
    fn escaped_names_parse_back() {
        for name in AWKWARD_NAMES {
            let query = format!("tag:{}", escape_value(name));
            let parsed = crate::filter::parse(&query, &Default::default()).map(|p| p.root);
            let value = match parsed {
                Ok(Node::Tag { value: Term::Plain(s), .. }) => s,
                other => panic!("{query}: {other:?}"),
            };
            assert_eq!(value, name, "{query}");
        }
    }

    #[test]
    fn escape_value_escapes_specials_and_keywords() {
        assert_eq!(escape_value("a:b"), "a\\:b");
        assert_eq!(escape_value("or"), "\\or");
        assert_eq!(escape_value("this and that"), "this \\and that");
        assert_eq!(escape_value("order"), "order");
        assert_eq!(escape_value("50*off"), "50\\*off");
        assert_eq!(escape_value(" x"), "\\u0020x");
        assert_eq!(escape_value("a\tb"), "a\\tb");
        assert_eq!(escape_value("a == b"), "a \\u003D= b");
    }
}
