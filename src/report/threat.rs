//! The `threat-protection` report: emails with threats, counted per day by threat type,
//! detection technology and delivery action, and optionally per tag of the involved users.
//!
//! An email counts once under each of its threat types (an email with `Phish,Spam` counts
//! under both). Detection technologies are paired with the threat type they detected when the
//! export gives them per type, as the `DetectionMethods` object `{"Phish":["Spoof DMARC"]}` does.
//! Otherwise every technology of the email counts under every threat type. Emails without a
//! threat type are left out.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::alerts::{day_cell, field_text};
use super::chart::{ChartKind, ChartSpec};
use super::table::{Cell, Column, Table};
use super::{ReportBuilder, ReportOptions, Spellings, Window};
use crate::records::write::UserTags;
use crate::records::{Raw, Record, RecordKind, Value};

/// Group key: day, then the [`Spellings`] keys of threat type, detection technology and
/// delivery action, then the tag name.
type Key = (String, String, String, String, String);

/// The export column that lists detection technologies per threat type.
const DETECTION_COLUMN: &str = "DetectionMethods";

/// Builds the `threat-protection` report.
pub struct ThreatReport {
    window: Window,
    by_tag: bool,
    spellings: Spellings,
    groups: BTreeMap<Key, u64>,
}

impl ThreatReport {
    /// Creates an empty report; `options.by_tag` adds a tag column and one group per tag.
    pub fn new(options: &ReportOptions) -> ThreatReport {
        ThreatReport {
            window: options.window.clone(),
            by_tag: options.by_tag,
            spellings: Spellings::default(),
            groups: BTreeMap::new(),
        }
    }
}

impl ReportBuilder for ThreatReport {
    fn add(&mut self, record: &Record, users: &[UserTags]) {
        if record.kind != RecordKind::Email {
            return;
        }
        let types = list_texts(record.field("threat_types"));
        if types.is_empty() {
            return;
        }
        let day = record.time.map(|t| self.window.day(t)).unwrap_or_default();
        let action = self.spellings.key(&field_text(record, "delivery_action"));
        let tags: Vec<String> = if self.by_tag {
            // Tag names come from the catalog, which already keeps one spelling per tag, and
            // folding them further would merge distinct tags such as `Fin-ance` and `Finance`.
            tag_names(users)
        } else {
            vec![String::new()]
        };
        // Keys, not spellings, are collected so that `Phish` and `phish` in one email count once.
        let pairs: BTreeSet<(String, String)> = detections(record, &types)
            .into_iter()
            .map(|(threat, technology)| {
                (self.spellings.key(&threat), self.spellings.key(&technology))
            })
            .collect();
        for (threat, technology) in pairs {
            for tag in &tags {
                let key =
                    (day.clone(), threat.clone(), technology.clone(), action.clone(), tag.clone());
                *self.groups.entry(key).or_default() += 1;
            }
        }
    }

    fn finish(self: Box<Self>) -> Table {
        let by_tag = self.by_tag;
        let spellings = &self.spellings;
        let rows = self
            .groups
            .into_iter()
            .map(|((day, threat, technology, action, tag), emails)| {
                let mut row = vec![
                    day_cell(day),
                    spellings.cell(&threat),
                    spellings.cell(&technology),
                    spellings.cell(&action),
                ];
                if by_tag {
                    row.push(if tag.is_empty() { Cell::Empty } else { Cell::Text(tag) });
                }
                row.push(Cell::Count(emails));
                row
            })
            .collect();
        let mut columns = vec![
            Column::zoned("day"),
            Column::text("threat type"),
            Column::text("detection technology"),
            Column::text("delivery action"),
        ];
        if by_tag {
            columns.push(Column::text("tag"));
        }
        columns.push(Column::number("emails"));
        Table {
            title: "Threat protection status: emails by threat type, detection technology and \
                    delivery action"
                .to_string(),
            time_zone: self.window.zone_name,
            columns,
            rows,
        }
    }
}

/// Draws emails per day, one bar series per threat type.
pub fn chart_spec() -> ChartSpec {
    ChartSpec {
        kind: ChartKind::Bars,
        day_column: "day".to_string(),
        series_columns: vec!["threat type".to_string()],
        value_column: "emails".to_string(),
        y_label: "emails".to_string(),
    }
}

/// Returns the distinct tag names of the users, in display spelling and sorted, or one empty
/// name for an email without tagged users, so that it still counts.
fn tag_names(users: &[UserTags]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    for tag in users.iter().flat_map(|user| &user.tags) {
        if seen.insert(crate::text::fold_name(tag)) {
            names.push(tag.clone());
        }
    }
    names.sort();
    if names.is_empty() {
        names.push(String::new());
    }
    names
}

fn list_texts(value: Option<&Value>) -> Vec<String> {
    let Some(value) = value else { return Vec::new() };
    let mut texts: Vec<String> = value
        .items()
        .iter()
        .filter_map(Value::as_text)
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
        .collect();
    texts.dedup();
    texts
}

/// Returns the distinct (threat type, detection technology) pairs of an email; the technology
/// is empty when the email names none for that type.
fn detections(record: &Record, types: &[String]) -> BTreeSet<(String, String)> {
    let per_type = if types.len() > 1 { methods_per_type(record) } else { None };
    let all_methods = list_texts(record.field("detection_methods"));
    let mut pairs = BTreeSet::new();
    for threat in types {
        let methods = match &per_type {
            Some(map) => map
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(threat))
                .map(|(_, methods)| methods.clone())
                .unwrap_or_default(),
            None => all_methods.clone(),
        };
        if methods.is_empty() {
            pairs.insert((threat.clone(), String::new()));
        }
        for method in methods {
            pairs.insert((threat.clone(), method));
        }
    }
    pairs
}

/// Reads the `DetectionMethods` object of the original record (`{"Phish":["Spoof DMARC"]}`)
/// as (threat type, technologies) pairs, or `None` when the record has no such object.
fn methods_per_type(record: &Record) -> Option<Vec<(String, Vec<String>)>> {
    let cell = match &record.raw {
        Raw::Csv { header, cells } => {
            let index = header.iter().position(|h| h.eq_ignore_ascii_case(DETECTION_COLUMN))?;
            Json::String(cells.get(index)?.clone())
        }
        Raw::Json(text) => {
            let object: Json = serde_json::from_str(text).ok()?;
            let found = json_key(&object, DETECTION_COLUMN)
                .or_else(|| json_key(object.get("properties")?, DETECTION_COLUMN))?;
            found.clone()
        }
    };
    let object = match cell {
        Json::String(text) => serde_json::from_str::<Json>(&text).ok()?,
        other => other,
    };
    let Json::Object(map) = object else { return None };
    let pairs = map.into_iter().map(|(threat, methods)| (threat, json_texts(&methods))).collect();
    Some(pairs)
}

/// Returns a JSON string, or the strings of a JSON array, trimmed and non-empty.
fn json_texts(value: &Json) -> Vec<String> {
    let items = match value {
        Json::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    items
        .iter()
        .filter_map(Json::as_str)
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
        .collect()
}

fn json_key<'a>(object: &'a Json, name: &str) -> Option<&'a Json> {
    object.as_object()?.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::records::Role;
    use crate::report::testing::{email, tagged_as};

    fn threat_email(time: &str, types: &str, methods: &str, action: &str) -> Record {
        let mut record =
            email("m", time, &[("delivery_action", action)], "x@ext.test", &["a@x.test"]);
        let split = |text: &str| {
            Value::List(
                text.split(',').filter(|t| !t.is_empty()).map(|t| Value::Str(t.into())).collect(),
            )
        };
        record.fields.insert("threat_types", split(types));
        if !methods.is_empty() {
            record.fields.insert("detection_methods", split(methods));
        }
        record
    }

    fn build(records: &[(Record, Vec<UserTags>)], by_tag: bool) -> Table {
        let options = ReportOptions { by_tag, ..ReportOptions::default() };
        let mut report: Box<dyn ReportBuilder> = Box::new(ThreatReport::new(&options));
        for (record, users) in records {
            report.add(record, users);
        }
        report.finish()
    }

    fn row(day: &str, threat: &str, technology: &str, action: &str, emails: u64) -> Vec<Cell> {
        let text = |t: &str| if t.is_empty() { Cell::Empty } else { Cell::text(t) };
        vec![
            Cell::Time(day.into()),
            text(threat),
            text(technology),
            text(action),
            Cell::Count(emails),
        ]
    }

    #[test]
    fn counts_by_type_technology_action() {
        let records = vec![
            (threat_email("2024-06-01T08:00:00Z", "Phish", "URL detonation", "Blocked"), vec![]),
            (threat_email("2024-06-01T09:00:00Z", "Phish", "URL detonation", "Blocked"), vec![]),
            (threat_email("2024-06-01T10:00:00Z", "Malware", "File detonation", "Blocked"), vec![]),
            (threat_email("2024-06-01T11:00:00Z", "Spam", "", "Junked"), vec![]),
            (threat_email("2024-06-02T08:00:00Z", "Phish", "URL detonation", "Delivered"), vec![]),
            (threat_email("2024-06-02T09:00:00Z", "", "", "Delivered"), vec![]),
        ];
        let table = build(&records, false);
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["day", "threat type", "detection technology", "delivery action", "emails"]
        );
        assert_eq!(
            table.rows,
            vec![
                row("2024-06-01", "Malware", "File detonation", "Blocked", 1),
                row("2024-06-01", "Phish", "URL detonation", "Blocked", 2),
                row("2024-06-01", "Spam", "", "Junked", 1),
                row("2024-06-02", "Phish", "URL detonation", "Delivered", 1),
            ]
        );
    }

    #[test]
    fn several_types_count_under_each() {
        let record = threat_email("2024-06-01T08:00:00Z", "Phish,Spam", "Bulk", "Junked");
        let table = build(&[(record, vec![])], false);
        assert_eq!(
            table.rows,
            vec![
                row("2024-06-01", "Phish", "Bulk", "Junked", 1),
                row("2024-06-01", "Spam", "Bulk", "Junked", 1),
            ]
        );
    }

    #[test]
    fn json_detection_object_pairs_methods() {
        let mut record = threat_email(
            "2024-06-01T08:00:00Z",
            "Phish,Spam",
            "Impersonation user,Bulk",
            "Blocked",
        );
        record.raw = Raw::Json(
            r#"{"DetectionMethods":"{\"Phish\":[\"Impersonation user\"],\"Spam\":[\"Bulk\"]}"}"#
                .to_string(),
        );
        let table = build(&[(record, vec![])], false);
        assert_eq!(
            table.rows,
            vec![
                row("2024-06-01", "Phish", "Impersonation user", "Blocked", 1),
                row("2024-06-01", "Spam", "Bulk", "Blocked", 1),
            ]
        );
    }

    #[test]
    fn csv_detection_object_pairs_methods() {
        let mut record =
            threat_email("2024-06-01T08:00:00Z", "Phish,Spam", "Spoof DMARC,Bulk", "Blocked");
        record.raw = Raw::Csv {
            header: Arc::new(vec!["Timestamp".into(), "DetectionMethods".into()]),
            cells: vec![
                "2024-06-01T08:00:00Z".into(),
                r#"{"Phish":["Spoof DMARC"],"Spam":["Bulk"]}"#.into(),
            ],
        };
        let table = build(&[(record, vec![])], false);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0][2], Cell::text("Spoof DMARC"));
        assert_eq!(table.rows[1][2], Cell::text("Bulk"));
    }

    #[test]
    fn by_tag_groups_per_tag() {
        let phish = || threat_email("2024-06-01T08:00:00Z", "Phish", "URL detonation", "Blocked");
        let records = vec![
            (
                phish(),
                vec![
                    tagged_as(Role::Recipient, "a@x.test", &["VIP", "Finance"]),
                    tagged_as(Role::Sender, "b@x.test", &["vip"]),
                ],
            ),
            (phish(), vec![tagged_as(Role::Recipient, "c@x.test", &["Finance"])]),
            (phish(), vec![]),
        ];
        let table = build(&records, true);
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names[4], "tag");
        let tags: Vec<(Cell, Cell)> =
            table.rows.iter().map(|r| (r[4].clone(), r[5].clone())).collect();
        assert_eq!(
            tags,
            vec![
                (Cell::Empty, Cell::Count(1)),
                (Cell::text("Finance"), Cell::Count(2)),
                (Cell::text("VIP"), Cell::Count(1)),
            ]
        );
    }

    #[test]
    fn by_tag_keeps_distinct_tag_spellings() {
        let phish = || threat_email("2024-06-01T08:00:00Z", "Phish", "", "Blocked");
        let records = vec![
            (phish(), vec![tagged_as(Role::Recipient, "a@x.test", &["Fin-ance"])]),
            (phish(), vec![tagged_as(Role::Recipient, "b@x.test", &["Finance"])]),
        ];
        let table = build(&records, true);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0][4], Cell::text("Fin-ance"));
        assert_eq!(table.rows[1][4], Cell::text("Finance"));
    }

    #[test]
    fn repeated_type_spelling_counts_once() {
        let record = threat_email("2024-06-01T08:00:00Z", "Phish,phish", "Bulk", "Junked");
        let table = build(&[(record, vec![])], false);
        assert_eq!(table.rows, vec![row("2024-06-01", "Phish", "Bulk", "Junked", 1)]);
    }

    #[test]
    fn alerts_ignored() {
        let mut record = threat_email("2024-06-01T08:00:00Z", "Phish", "", "Blocked");
        record.kind = RecordKind::Alert;
        assert!(build(&[(record, vec![])], false).rows.is_empty());
    }
}
