//! Tests of record evaluation against a small in-memory lookup.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Matcher;
use crate::catalog::{TagId, TagLookup, UserId};
use crate::filter::ast::PatternPart;
use crate::filter::resolved::{Cmp, FieldRef, Pred, Query, RoleSel, TagMatch};
use crate::filter::schema::{FieldSource, FieldType, UserField};
use crate::records::{Origin, Raw, Record, RecordKind, Role, SourceFormat, UserRef, Value};
use crate::text;
use crate::time::Timestamp;

/// Users by lower-case address, each with its tag ids; tags by name.
struct FakeLookup {
    users: Vec<(&'static str, Vec<TagId>)>,
    tags: Vec<&'static str>,
}

impl FakeLookup {
    fn new() -> FakeLookup {
        FakeLookup {
            users: vec![
                ("ada@contoso.test", vec![0, 1]),
                ("alan@contoso.test", vec![1]),
                ("kat@contoso.test", vec![]),
            ],
            tags: vec!["Priority account", "Finance"],
        }
    }
}

impl TagLookup for FakeLookup {
    fn resolve(&self, user: &UserRef) -> Option<UserId> {
        let address = user.address.as_deref()?.to_ascii_lowercase();
        self.users.iter().position(|(a, _)| *a == address).map(|i| i as UserId)
    }

    fn attribute(&self, user: UserId, field: UserField) -> Vec<&str> {
        match field {
            UserField::Address => vec![self.users[user as usize].0],
            UserField::Department if user == 0 => vec!["Finance"],
            _ => Vec::new(),
        }
    }

    fn tags_of(&self, user: UserId) -> &[TagId] {
        &self.users[user as usize].1
    }

    fn matching_tags(&self, tag: &TagMatch) -> Vec<TagId> {
        (0..self.tags.len() as TagId)
            .filter(|t| match tag {
                TagMatch::Any => true,
                TagMatch::Name(name) => text::fold_name(self.tags[*t as usize]) == *name,
                TagMatch::Wild(pattern) => pattern.matches(self.tags[*t as usize]),
            })
            .collect()
    }

    fn tag_name(&self, tag: TagId) -> &str {
        self.tags[tag as usize]
    }
}

fn email(recipients: &[&str], fields: &[(&'static str, Value)]) -> Record {
    let mut users = vec![UserRef::address(Role::Sender, "billing@fabrikam.test")];
    users.extend(recipients.iter().map(|r| UserRef::address(Role::Recipient, *r)));
    Record {
        kind: RecordKind::Email,
        id: "m-1".into(),
        time: None,
        fields: fields.iter().cloned().collect::<BTreeMap<_, _>>(),
        extra: vec![(
            "ThreatTypes".into(),
            Value::List(vec![Value::Str("Phish".into()), Value::Str("Spam".into())]),
        )],
        users,
        raw: Raw::Json("{}".into()),
        format: SourceFormat::Ndjson,
        origin: Origin { file: Arc::from("-"), line: 1 },
    }
}

fn field(name: &str, ty: FieldType) -> FieldRef {
    FieldRef { name: name.into(), source: FieldSource::Model, ty }
}

fn tag(role: RoleSel, name: &str) -> Query {
    Query::Tag { role, tag: TagMatch::Name(text::fold_name(name)) }
}

fn matches(query: &Query, record: &Record) -> bool {
    let lookup = FakeLookup::new();
    Matcher::new(query, &lookup).matches(record)
}

#[test]
fn tag_on_any_recipient() {
    let record = email(&["kat@contoso.test", "ADA@contoso.test"], &[]);
    assert!(matches(&tag(RoleSel::Any, "priority ACCOUNT"), &record));
    assert!(matches(&tag(RoleSel::Role(Role::Recipient), "Priority account"), &record));
    assert!(!matches(&tag(RoleSel::Role(Role::Sender), "Priority account"), &record));
}

#[test]
fn external_sender_carries_no_tag() {
    let record = email(&[], &[]);
    assert!(!matches(&Query::Tag { role: RoleSel::Any, tag: TagMatch::Any }, &record));
    assert!(matches(&Query::Not(Box::new(tag(RoleSel::Any, "Finance"))), &record));
}

#[test]
fn scope_needs_one_user_with_both_tags() {
    let both = Query::Scope {
        role: Role::Recipient,
        inner: Box::new(Query::And(vec![
            tag(RoleSel::This, "Priority account"),
            tag(RoleSel::This, "Finance"),
        ])),
    };
    assert!(matches(&both, &email(&["ada@contoso.test"], &[])));
    let spread = email(&["alan@contoso.test", "kat@contoso.test"], &[]);
    assert!(!matches(&both, &spread));
}

#[test]
fn scope_department_of_same_user() {
    let query = Query::Scope {
        role: Role::Recipient,
        inner: Box::new(Query::User {
            role: RoleSel::This,
            field: UserField::Department,
            pred: Pred::Words(vec!["finance".into()]),
        }),
    };
    assert!(matches(&query, &email(&["ada@contoso.test"], &[])));
    assert!(!matches(&query, &email(&["alan@contoso.test"], &[])));
}

#[test]
fn multi_valued_column_matches_any_element() {
    let query = Query::Field {
        field: FieldRef {
            name: "threattypes".into(),
            source: FieldSource::Column,
            ty: FieldType::Keyword,
        },
        pred: Pred::Keyword("phish".into()),
    };
    assert!(matches(&query, &email(&[], &[])));
}

#[test]
fn enum_ignores_case_and_separators() {
    let record = email(&[], &[("direction", Value::Str("Intra-org".into()))]);
    let query = Query::Field {
        field: field("direction", FieldType::Enum),
        pred: Pred::Keyword("intraorg".into()),
    };
    assert!(matches(&query, &record));
}

#[test]
fn text_words_any_order_phrase_in_order() {
    let record = email(&[], &[("subject", Value::Str("Overdue: invoice #4411".into()))]);
    let subject = field("subject", FieldType::Text);
    let words = Query::Field {
        field: subject.clone(),
        pred: Pred::Words(vec!["invoice".into(), "overdue".into()]),
    };
    let phrase = Query::Field {
        field: subject.clone(),
        pred: Pred::Phrase(vec!["invoice".into(), "overdue".into()]),
    };
    let other = Query::Field { field: subject, pred: Pred::Words(vec!["paid".into()]) };
    assert!(matches(&words, &record));
    assert!(!matches(&phrase, &record));
    assert!(!matches(&other, &record));
}

#[test]
fn missing_field_fails_and_not_passes() {
    let query = Query::Field { field: field("verdict", FieldType::Enum), pred: Pred::Exists };
    let record = email(&[], &[]);
    assert!(!matches(&query, &record));
    assert!(matches(&Query::Not(Box::new(query)), &record));
}

#[test]
fn numbers_and_times_compare() {
    let at = Timestamp::from_unix_seconds(1_717_400_000);
    let record = email(&[], &[("url_count", Value::Int(5)), ("received", Value::Time(at))]);
    let count = Query::Field {
        field: field("url_count", FieldType::Integer),
        pred: Pred::Number(Cmp::Gte, 5.0),
    };
    let window = Query::Field {
        field: field("received", FieldType::Date),
        pred: Pred::Time { start: Some(at), end: Some(Timestamp(at.0 + 1)) },
    };
    let before = Query::Field {
        field: field("received", FieldType::Date),
        pred: Pred::Time { start: None, end: Some(at) },
    };
    assert!(matches(&count, &record));
    assert!(matches(&window, &record));
    assert!(!matches(&before, &record));
}

#[test]
fn address_and_domain_of_users() {
    let record = email(&["ada@contoso.test"], &[]);
    let address = Query::User {
        role: RoleSel::Role(Role::Recipient),
        field: UserField::Address,
        pred: Pred::Keyword("ada@contoso.test".into()),
    };
    let domain = Query::User {
        role: RoleSel::Role(Role::Sender),
        field: UserField::Domain,
        pred: Pred::Keyword("fabrikam.test".into()),
    };
    assert!(matches(&address, &record));
    assert!(matches(&domain, &record));
}

#[test]
fn wildcard_tag_expands_over_names() {
    let pattern = crate::filter::ast::Pattern {
        parts: vec![PatternPart::Literal("prio".into()), PatternPart::Star],
    };
    let query = Query::Tag { role: RoleSel::Any, tag: TagMatch::Wild(pattern) };
    assert!(matches(&query, &email(&["ada@contoso.test"], &[])));
    assert!(!matches(&query, &email(&["alan@contoso.test"], &[])));
}

#[test]
fn columns_lists_each_source_column_once() {
    let column = |name: &str| Query::Field {
        field: FieldRef { name: name.into(), source: FieldSource::Column, ty: FieldType::Keyword },
        pred: Pred::Exists,
    };
    let query = Query::And(vec![
        column("ThreatTypes"),
        Query::Not(Box::new(Query::Or(vec![column("EmailLanguage"), column("ThreatTypes")]))),
        Query::Scope { role: Role::Recipient, inner: Box::new(column("Extra")) },
        Query::Field { field: field("subject", FieldType::Text), pred: Pred::Exists },
        tag(RoleSel::Any, "Finance"),
    ]);
    let lookup = FakeLookup::new();
    let columns = Matcher::new(&query, &lookup).columns();
    assert_eq!(columns, ["ThreatTypes", "EmailLanguage", "Extra"]);
}

#[test]
fn matches_involved_agrees_with_matches() {
    let lookup = FakeLookup::new();
    let matcher = Matcher::new(&tag(RoleSel::Role(Role::Recipient), "Finance"), &lookup);
    for recipients in [&["alan@contoso.test"][..], &["kat@contoso.test"], &[]] {
        let record = email(recipients, &[]);
        let users = matcher.involved(&record);
        assert_eq!(matcher.matches_involved(&record, &users), matcher.matches(&record));
    }
}
