//! Runs the filter-language conformance cases of `tests/data/filter_cases.txt`: each query is
//! parsed, its tree rendered in the compact notation of the data file and compared, and then
//! resolved against a schema that carries every field and role the cases use.

use std::fmt::Write as _;

use tagq::filter::ast::{FieldName, Node, TagTarget, Term};
use tagq::filter::schema::{FieldDef, FieldType, Schema};
use tagq::filter::{ParseOptions, ResolveOptions, parse, resolve};
use tagq::records::Role;

/// One case of the data file.
#[derive(Debug, Default)]
struct Case {
    id: String,
    query: Option<String>,
    generate: Option<String>,
    options: Option<String>,
    tree: Option<String>,
    flat_or: Option<String>,
    error: Option<String>,
    resolve: Option<String>,
    warn: Option<String>,
}

fn load_cases() -> Vec<Case> {
    let text = include_str!("data/filter_cases.txt");
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(id) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            cases.push(Case { id: id.to_string(), ..Case::default() });
            continue;
        }
        let (key, value) = line.split_once(" =").unwrap_or_else(|| panic!("bad line: {line}"));
        let value = value.strip_prefix(' ').unwrap_or(value).to_string();
        let case = cases.last_mut().unwrap_or_else(|| panic!("line before any case: {line}"));
        let slot = match key {
            "query" => &mut case.query,
            "generate" => &mut case.generate,
            "options" => &mut case.options,
            "tree" => &mut case.tree,
            "flat_or" => &mut case.flat_or,
            "error" => &mut case.error,
            "resolve" => &mut case.resolve,
            "warn" => &mut case.warn,
            other => panic!("unknown key {other} in case {}", case.id),
        };
        *slot = Some(value);
    }
    cases
}

fn decode_query(text: &str) -> String {
    text.replace('␣', " ")
        .replace("⟨TAB⟩", "\t")
        .replace("⟨NBSP⟩", "\u{A0}")
        .replace("⟨ZWSP⟩", "\u{200B}")
        .replace("⟨EMSP⟩", "\u{2003}")
}

fn generate_query(spec: &str) -> String {
    let parts: Vec<&str> = spec.splitn(3, ' ').collect();
    match parts.as_slice() {
        ["nest", n, leaf] => {
            let n: usize = n.parse().expect("nest depth");
            format!("{}{leaf}{}", "(".repeat(n), ")".repeat(n))
        }
        ["ip_or", n] => {
            let n: usize = n.parse().expect("value count");
            let values: Vec<String> = (0..n)
                .map(|i| format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256))
                .collect();
            format!("ip:({})", values.join(" or "))
        }
        _ => panic!("unknown generator {spec}"),
    }
}

fn case_options(spec: Option<&str>) -> ParseOptions {
    let mut options = ParseOptions::default();
    for setting in spec.unwrap_or("").split(',').filter(|s| !s.is_empty()) {
        let (key, value) = setting.trim().split_once('=').expect("option key=value");
        match key {
            "leading_wildcards" => options.leading_wildcards = value == "true",
            "max_query_bytes" => options.max_query_bytes = value.parse().expect("number"),
            "max_depth" => options.max_depth = value.parse().expect("number"),
            "max_conditions" => options.max_conditions = value.parse().expect("number"),
            other => panic!("unknown option {other}"),
        }
    }
    options
}

/// Builds the schema of one synthetic record kind with every field and role the cases use.
fn test_schema() -> Schema {
    let mut fields = vec![
        FieldDef::model("severity", FieldType::Enum, &[]),
        FieldDef::model("status", FieldType::Enum, &[]),
        FieldDef::model("subject", FieldType::Text, &[]),
        FieldDef::model("title", FieldType::Text, &[]),
        FieldDef::model("size", FieldType::Integer, &[]),
        FieldDef::model("risk_score", FieldType::Integer, &[]),
        FieldDef::model("score", FieldType::Integer, &[]),
        FieldDef::model("created", FieldType::Date, &[]),
    ];
    let keywords = [
        "source",
        "sender.domain",
        "url",
        "payload",
        "path",
        "display_name",
        "process.args",
        "user_agent",
        "notification",
        "origin",
        "file.name",
        "ip",
    ];
    fields.extend(keywords.iter().map(|name| FieldDef::model(name, FieldType::Keyword, &[])));
    Schema {
        kind_name: "test".to_string(),
        fields,
        roles: vec![Role::Sender, Role::Recipient, Role::User],
        default_text: vec!["subject".to_string(), "title".to_string()],
    }
}

fn json(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn render_term(term: &Term) -> String {
    match term {
        Term::Plain(s) => json(s),
        Term::Phrase(s) => format!("phrase({})", json(s)),
        Term::Wild(p) => format!("wild({})", json(&p.to_string())),
    }
}

/// Renders a tag value: names are keywords, so quoting does not show.
fn render_tag_value(term: &Term) -> String {
    match term {
        Term::Plain(s) | Term::Phrase(s) => json(s),
        Term::Wild(p) => format!("wild({})", json(&p.to_string())),
    }
}

fn render_field(name: &FieldName, schema: &Schema) -> String {
    match name {
        FieldName::Name(n) => schema.field(n).map_or_else(|| n.clone(), |f| f.name.clone()),
        FieldName::Glob(p) => format!("glob({})", json(&p.to_string())),
    }
}

fn render_target(target: &TagTarget) -> String {
    match target {
        TagTarget::Any => "any".to_string(),
        TagTarget::SelfEntity => "self".to_string(),
        TagTarget::Role(role, _) => role.clone(),
    }
}

fn render(node: &Node, schema: &Schema) -> String {
    let mut out = String::new();
    match node {
        Node::All => out.push_str("all()"),
        Node::Text { value, .. } => write!(out, "text({})", render_term(value)).unwrap_or(()),
        Node::Eq { field, value, .. } => {
            let field = render_field(&field.name, schema);
            write!(out, "eq({field},{})", render_term(value)).unwrap_or(());
        }
        Node::Exists { field } => {
            write!(out, "exists({})", render_field(&field.name, schema)).unwrap_or(())
        }
        Node::Range { field, op, value, .. } => {
            let op = match op.as_str() {
                "<" => "lt",
                "<=" => "lte",
                ">" => "gt",
                _ => "gte",
            };
            let field = render_field(&field.name, schema);
            write!(out, "range({field},{op},{})", render_term(value)).unwrap_or(());
        }
        Node::Tag { target, value, .. } => {
            let target = render_target(target);
            write!(out, "tag({target},{})", render_tag_value(value)).unwrap_or(());
        }
        Node::HasTag { target } => write!(out, "hastag({})", render_target(target)).unwrap_or(()),
        Node::Scope { field, inner } => {
            let field = render_field(&field.name, schema);
            write!(out, "scope({field},{})", render(inner, schema)).unwrap_or(());
        }
        Node::And(items) | Node::Or(items) => {
            out.push_str(if matches!(node, Node::And(_)) { "and(" } else { "or(" });
            let rendered: Vec<String> = items.iter().map(|i| render(i, schema)).collect();
            out.push_str(&rendered.join(","));
            out.push(')');
        }
        Node::Not(inner) => write!(out, "not({})", render(inner, schema)).unwrap_or(()),
    }
    out
}

/// Removes blanks outside string literals, so that spacing in the data file does not matter.
fn normalise(notation: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in notation.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

fn code_and_offset(code: &str, offset: usize) -> String {
    format!("{code} @{offset}")
}

/// Runs one case; returns a description of every mismatch.
fn run_case(case: &Case, schema: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    let query = match (&case.query, &case.generate) {
        (Some(q), _) => decode_query(q),
        (None, Some(spec)) => generate_query(spec),
        (None, None) => return vec![format!("{}: no query", case.id)],
    };
    let options = case_options(case.options.as_deref());
    let parsed = match parse(&query, &options) {
        Ok(parsed) => parsed,
        Err(error) => {
            let got = code_and_offset(error.code(), error.offset());
            if case.error.as_deref() != Some(got.as_str()) {
                problems.push(format!(
                    "{}: expected {:?}, got error {got} ({error})",
                    case.id, case.error
                ));
            }
            return problems;
        }
    };
    if let Some(expected) = &case.error {
        problems.push(format!("{}: expected {expected}, but the query parsed", case.id));
        return problems;
    }
    if let Some(expected) = &case.tree {
        let got = normalise(&render(&parsed.root, schema));
        if got != normalise(expected) {
            problems.push(format!("{}: tree\n  expected {expected}\n  got      {got}", case.id));
        }
    }
    if let Some(spec) = &case.flat_or {
        let (count, field) = spec.split_once(' ').expect("flat_or = COUNT FIELD");
        let count: usize = count.parse().expect("count");
        let flat = match &parsed.root {
            Node::Or(items) => {
                items.len() == count
                    && items.iter().all(|i| matches!(i, Node::Eq { field: f, .. } if f.name == FieldName::Name(field.to_string())))
            }
            _ => false,
        };
        if !flat {
            problems.push(format!("{}: expected one flat or of {count} {field} values", case.id));
        }
    }
    let warnings: Vec<String> =
        parsed.warnings.iter().map(|w| code_and_offset(w.code, w.offset)).collect();
    let expected_warnings: Vec<String> = case
        .warn
        .as_deref()
        .map(|w| w.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    if warnings != expected_warnings {
        problems
            .push(format!("{}: warnings {warnings:?}, expected {expected_warnings:?}", case.id));
    }
    if case.resolve.as_deref() == Some("skip") {
        return problems;
    }
    match (resolve(&parsed.root, schema, &ResolveOptions::default()), &case.resolve) {
        (Ok(_), None) => {}
        (Ok(_), Some(expected)) => {
            problems.push(format!("{}: expected {expected} from resolution, got success", case.id))
        }
        (Err(error), expected) => {
            let got = code_and_offset(error.code(), error.offset());
            if expected.as_deref() != Some(got.as_str()) {
                problems.push(format!(
                    "{}: resolution gave {got} ({error}), expected {expected:?}",
                    case.id
                ));
            }
        }
    }
    problems
}

#[test]
fn conformance_cases() {
    let schema = test_schema();
    let cases = load_cases();
    assert!(cases.len() >= 100, "only {} cases loaded", cases.len());
    let problems: Vec<String> = cases.iter().flat_map(|case| run_case(case, &schema)).collect();
    assert!(problems.is_empty(), "{} mismatches:\n{}", problems.len(), problems.join("\n"));
}
