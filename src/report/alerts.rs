//! The `alerts` report: alerts by day, severity and status, with the number of distinct tagged
//! users involved in each group and the times of its first and last alert.
//!
//! Alerts are counted by distinct alert id, because evidence exports have one row per entity
//! of an alert.

use std::collections::{BTreeMap, BTreeSet};

use super::chart::{ChartKind, ChartSpec};
use super::table::{Cell, Column, Table};
use super::{ReportBuilder, ReportOptions, Spellings, Window};
use crate::records::write::UserTags;
use crate::records::{Record, RecordKind};
use crate::time::Timestamp;

/// Group key: day, severity rank, and the severity and status keys of [`Spellings`].
type Key = (String, u8, String, String);

/// Counts per group.
#[derive(Default)]
struct Group {
    alert_ids: BTreeSet<String>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// Lower-cased addresses (or object ids) of the tagged users.
    tagged_users: BTreeSet<String>,
}

/// Builds the `alerts` report.
pub struct AlertsReport {
    window: Window,
    spellings: Spellings,
    groups: BTreeMap<Key, Group>,
}

impl AlertsReport {
    /// Creates an empty report.
    pub fn new(options: &ReportOptions) -> AlertsReport {
        AlertsReport {
            window: options.window.clone(),
            spellings: Spellings::default(),
            groups: BTreeMap::new(),
        }
    }
}

impl ReportBuilder for AlertsReport {
    fn add(&mut self, record: &Record, users: &[UserTags]) {
        if record.kind != RecordKind::Alert {
            return;
        }
        let day = record.time.map(|t| self.window.day(t)).unwrap_or_default();
        let severity = self.spellings.key(&field_text(record, "severity"));
        let status = self.spellings.key(&field_text(record, "status"));
        let key = (day, severity_rank(&severity), severity, status);
        let group = self.groups.entry(key).or_default();
        group.alert_ids.insert(record.id.clone());
        if let Some(time) = record.time {
            group.first = Some(group.first.map_or(time, |first| first.min(time)));
            group.last = Some(group.last.map_or(time, |last| last.max(time)));
        }
        for user in users.iter().filter(|u| !u.tags.is_empty()) {
            group.tagged_users.insert(user.address.to_lowercase());
        }
    }

    fn finish(self: Box<Self>) -> Table {
        let spellings = &self.spellings;
        let window = &self.window;
        let rows = self
            .groups
            .into_iter()
            .map(|((day, _, severity, status), group)| {
                vec![
                    day_cell(day),
                    spellings.cell(&severity),
                    spellings.cell(&status),
                    Cell::Count(group.alert_ids.len() as u64),
                    Cell::Count(group.tagged_users.len() as u64),
                    time_cell(window, group.first),
                    time_cell(window, group.last),
                ]
            })
            .collect();
        Table {
            title: "Alerts by day, severity and status".to_string(),
            time_zone: self.window.zone_name.clone(),
            columns: vec![
                Column::zoned("day"),
                Column::text("severity"),
                Column::text("status"),
                Column::number("alerts"),
                Column::number("tagged users"),
                Column::zoned("first"),
                Column::zoned("last"),
            ],
            rows,
        }
    }
}

/// Draws alerts per day, one bar series per severity.
pub fn chart_spec() -> ChartSpec {
    ChartSpec {
        kind: ChartKind::Bars,
        day_column: "day".to_string(),
        series_columns: vec!["severity".to_string()],
        value_column: "alerts".to_string(),
        y_label: "alerts".to_string(),
    }
}

/// Returns a model field as text, or an empty string.
pub(super) fn field_text(record: &Record, name: &str) -> String {
    record.field(name).and_then(|value| value.as_text()).unwrap_or_default()
}

fn time_cell(window: &Window, time: Option<Timestamp>) -> Cell {
    time.map_or(Cell::Empty, |t| Cell::Time(window.time(t)))
}

pub(super) fn day_cell(day: String) -> Cell {
    if day.is_empty() { Cell::Empty } else { Cell::Time(day) }
}

/// Orders severity keys from the most to the least severe, then unknown values by name.
fn severity_rank(severity: &str) -> u8 {
    match severity {
        "high" => 0,
        "medium" => 1,
        "low" => 2,
        "informational" => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{alert, tagged};

    fn build(records: &[(Record, Vec<UserTags>)], options: &ReportOptions) -> Table {
        let mut report: Box<dyn ReportBuilder> = Box::new(AlertsReport::new(options));
        for (record, users) in records {
            report.add(record, users);
        }
        report.finish()
    }

    #[test]
    fn groups_by_day_severity_status() {
        let records = vec![
            (
                alert("a1", "2024-06-01T10:00:00Z", "Low", "New"),
                vec![tagged("ann@x.test", &["VIP"])],
            ),
            (
                alert("a2", "2024-06-01T11:00:00Z", "High", "New"),
                vec![tagged("ann@x.test", &["VIP"])],
            ),
            (
                alert("a3", "2024-06-01T12:00:00Z", "high", "New"),
                vec![tagged("ANN@x.test", &["VIP"]), tagged("bob@x.test", &["Finance"])],
            ),
            (alert("a4", "2024-06-02T09:00:00Z", "High", "Resolved"), vec![]),
        ];
        let table = build(&records, &ReportOptions::default());
        assert_eq!(table.time_zone, "UTC");
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["day", "severity", "status", "alerts", "tagged users", "first", "last"]);
        assert_eq!(table.rows.len(), 3);
        assert_eq!(
            table.rows[0],
            vec![
                Cell::Time("2024-06-01".into()),
                Cell::text("High"),
                Cell::text("New"),
                Cell::Count(2),
                Cell::Count(2),
                Cell::Time("2024-06-01T11:00:00+00:00".into()),
                Cell::Time("2024-06-01T12:00:00+00:00".into()),
            ]
        );
        assert_eq!(table.rows[1][1], Cell::text("Low"));
        assert_eq!(table.rows[1][3], Cell::Count(1));
        assert_eq!(table.rows[1][4], Cell::Count(1));
        assert_eq!(
            table.rows[2],
            vec![
                Cell::Time("2024-06-02".into()),
                Cell::text("High"),
                Cell::text("Resolved"),
                Cell::Count(1),
                Cell::Count(0),
                Cell::Time("2024-06-02T09:00:00+00:00".into()),
                Cell::Time("2024-06-02T09:00:00+00:00".into()),
            ]
        );
    }

    #[test]
    fn distinct_users_counted_once_per_group() {
        let records = vec![
            (
                alert("a1", "2024-06-01T10:00:00Z", "High", "New"),
                vec![tagged("ann@x.test", &["VIP"])],
            ),
            (
                alert("a2", "2024-06-01T11:00:00Z", "High", "New"),
                vec![tagged("Ann@X.test", &["VIP"])],
            ),
        ];
        let table = build(&records, &ReportOptions::default());
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0][3], Cell::Count(2));
        assert_eq!(table.rows[0][4], Cell::Count(1));
    }

    #[test]
    fn days_follow_report_zone() {
        let options = ReportOptions {
            window: Window::parse("Europe/Berlin", None, None).unwrap(),
            ..ReportOptions::default()
        };
        let records = vec![
            (alert("a1", "2024-03-30T23:30:00Z", "High", "New"), vec![]),
            (alert("a2", "2024-03-31T00:30:00Z", "High", "New"), vec![]),
        ];
        let table = build(&records, &options);
        assert_eq!(table.time_zone, "Europe/Berlin");
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0][0], Cell::Time("2024-03-31".into()));
        assert_eq!(table.rows[0][3], Cell::Count(2));
        assert_eq!(table.rows[0][5], Cell::Time("2024-03-31T00:30:00+01:00".into()));
        assert_eq!(table.rows[0][6], Cell::Time("2024-03-31T01:30:00+01:00".into()));
    }

    #[test]
    fn evidence_rows_of_one_alert_count_once() {
        let records = vec![
            (
                alert("a1", "2024-06-01T10:00:00Z", "High", "New"),
                vec![tagged("ann@x.test", &["VIP"])],
            ),
            (
                alert("a1", "2024-06-01T10:00:00Z", "High", "New"),
                vec![tagged("bob@x.test", &["VIP"])],
            ),
        ];
        let table = build(&records, &ReportOptions::default());
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0][3], Cell::Count(1));
        assert_eq!(table.rows[0][4], Cell::Count(2));
    }

    #[test]
    fn spellings_grouped_ignoring_case() {
        let records = vec![
            (alert("a1", "2024-06-01T10:00:00Z", "Medium", "InProgress"), vec![]),
            (alert("a2", "2024-06-01T11:00:00Z", "medium", "inProgress"), vec![]),
            (alert("a3", "2024-06-01T12:00:00Z", "", "in progress"), vec![]),
        ];
        let table = build(&records, &ReportOptions::default());
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0][1], Cell::text("Medium"));
        assert_eq!(table.rows[0][2], Cell::text("InProgress"));
        assert_eq!(table.rows[0][3], Cell::Count(2));
        assert_eq!(table.rows[1][1], Cell::Empty);
        assert_eq!(table.rows[1][2], Cell::text("InProgress"));
    }

    #[test]
    fn emails_ignored() {
        let mut record = alert("a1", "2024-06-01T10:00:00Z", "High", "New");
        record.kind = RecordKind::Email;
        let table = build(&[(record, vec![])], &ReportOptions::default());
        assert!(table.rows.is_empty());
    }
}
