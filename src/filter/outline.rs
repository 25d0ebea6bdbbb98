//! Indented outlines of syntax trees and resolved queries, for `tagq explain`.

use std::fmt::Write;

use super::ast::{FieldName, Node, TagTarget, Term};
use super::resolved::{Pred, Query, RoleSel, TagMatch};
use super::schema::FieldSource;

/// Writes a syntax tree as an outline: one node per line, children indented by two spaces.
pub fn outline(node: &Node) -> String {
    let mut out = String::new();
    write_node(&mut out, node, 0);
    out
}

/// Writes a resolved query as an outline: one node per line, children indented by two spaces.
pub fn outline_resolved(query: &Query) -> String {
    let mut out = String::new();
    write_query(&mut out, query, 0);
    out
}

fn line(out: &mut String, depth: usize, text: &str) {
    let _ = writeln!(out, "{:indent$}{text}", "", indent = depth * 2);
}

fn term(value: &Term) -> String {
    match value {
        Term::Plain(s) => format!("{s:?}"),
        Term::Phrase(s) => format!("phrase {s:?}"),
        Term::Wild(p) => format!("wildcard {:?}", p.to_string()),
    }
}

fn field(name: &FieldName) -> String {
    match name {
        FieldName::Name(n) => n.clone(),
        FieldName::Glob(p) => format!("pattern {:?}", p.to_string()),
    }
}

fn target(target: &TagTarget) -> String {
    match target {
        TagTarget::Any => "any user".to_string(),
        TagTarget::Role(role, _) => format!("role {role}"),
        TagTarget::SelfEntity => "the scoped user".to_string(),
    }
}

fn write_node(out: &mut String, node: &Node, depth: usize) {
    match node {
        Node::All => line(out, depth, "all records"),
        Node::Text { value, .. } => line(out, depth, &format!("free text {}", term(value))),
        Node::Eq { field: f, value, .. } => {
            line(out, depth, &format!("{} = {}", field(&f.name), term(value)))
        }
        Node::Exists { field: f } => line(out, depth, &format!("{} exists", field(&f.name))),
        Node::Range { field: f, op, value, .. } => {
            line(out, depth, &format!("{} {} {}", field(&f.name), op.as_str(), term(value)))
        }
        Node::Tag { target: t, value, .. } => {
            line(out, depth, &format!("tag of {} = {}", target(t), term(value)))
        }
        Node::HasTag { target: t } => line(out, depth, &format!("{} has any tag", target(t))),
        Node::Scope { field: f, inner } => {
            line(out, depth, &format!("one element of {} with", field(&f.name)));
            write_node(out, inner, depth + 1);
        }
        Node::And(children) | Node::Or(children) => {
            line(out, depth, if matches!(node, Node::And(_)) { "and" } else { "or" });
            for child in children {
                write_node(out, child, depth + 1);
            }
        }
        Node::Not(child) => {
            line(out, depth, "not");
            write_node(out, child, depth + 1);
        }
    }
}

fn pred(pred: &Pred) -> String {
    match pred {
        Pred::Exists => "exists".to_string(),
        Pred::Keyword(k) => format!("equals {k:?}"),
        Pred::Wild(p) => format!("matches {:?}", p.to_string()),
        Pred::Words(w) => format!("has words {w:?}"),
        Pred::Phrase(w) => format!("has phrase {w:?}"),
        Pred::Number(cmp, x) => format!("{cmp:?} {x}").to_lowercase(),
        Pred::Bool(b) => format!("is {b}"),
        Pred::Time { start, end } => {
            let bound =
                |t: &Option<crate::time::Timestamp>| t.map_or("-".into(), |t| t.to_string());
            format!("in [{}, {})", bound(start), bound(end))
        }
        Pred::Never => "matches nothing".to_string(),
    }
}

fn role(role: RoleSel) -> String {
    match role {
        RoleSel::Any => "any user".to_string(),
        RoleSel::Role(r) => format!("a {r}"),
        RoleSel::This => "the scoped user".to_string(),
    }
}

fn write_query(out: &mut String, query: &Query, depth: usize) {
    match query {
        Query::All => line(out, depth, "all records"),
        Query::Field { field, pred: p } => {
            let source = match field.source {
                FieldSource::Model => "field",
                FieldSource::Column => "column",
            };
            let ty = format!("{:?}", field.ty).to_lowercase();
            line(out, depth, &format!("{source} {} ({ty}) {}", field.name, pred(p)));
        }
        Query::User { role: r, field, pred: p } => {
            let name = format!("{field:?}").to_lowercase();
            line(out, depth, &format!("{} of {} {}", name, role(*r), pred(p)));
        }
        Query::Tag { role: r, tag } => {
            let tags = match tag {
                TagMatch::Name(n) => format!("tag {n:?}"),
                TagMatch::Wild(p) => format!("a tag matching {:?}", p.to_string()),
                TagMatch::Any => "any tag".to_string(),
            };
            line(out, depth, &format!("{} carries {tags}", role(*r)));
        }
        Query::Scope { role: r, inner } => {
            line(out, depth, &format!("one {r} with"));
            write_query(out, inner, depth + 1);
        }
        Query::And(children) | Query::Or(children) => {
            line(out, depth, if matches!(query, Query::And(_)) { "and" } else { "or" });
            for child in children {
                write_query(out, child, depth + 1);
            }
        }
        Query::Not(child) => {
            line(out, depth, "not");
            write_query(out, child, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{ParseOptions, parse};

    #[test]
    fn outline_indents_children() {
        let parsed =
            parse("tag:VIP and (severity:high or not status:new)", &ParseOptions::default())
                .expect("parses");
        let expected = "and\n  tag of any user = \"VIP\"\n  or\n    severity = \"high\"\n    not\n      status = \"new\"\n";
        assert_eq!(outline(&parsed.root), expected);
    }
}
