//! The `priority-issues` report: emails to or from users tagged "Priority account" that were
//! delayed, quarantined, blocked or failed, counted per day, user and issue.
//!
//! The issue is read from the delivery fields that the mappers fill (`delivery_action`,
//! `latest_delivery_action`, `delivery_location`, `policy_action`), checked in this order:
//!
//! | issue | when |
//! |---|---|
//! | failed | a location or action `Failed`, or an action naming a bounce |
//! | quarantined | a location `Quarantine`, or an action or policy action naming quarantine |
//! | blocked | an action `Blocked`, or a location `Dropped` |
//! | delayed | an action or location naming a delay, deferral or pending delivery |
//!
//! So a message that was blocked into quarantine is "quarantined". An email with several
//! priority users counts once for each of them.

use std::collections::BTreeMap;

use super::alerts::{day_cell, field_text};
use super::chart::{ChartKind, ChartSpec};
use super::table::{Cell, Column, Table};
use super::{ReportBuilder, ReportOptions, Window};
use crate::catalog::SYSTEM_TAG_NAME;
use crate::records::write::UserTags;
use crate::records::{Record, RecordKind};

/// A delivery problem of an email.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Issue {
    /// Delivery failed or bounced.
    Failed,
    /// The email went to quarantine.
    Quarantined,
    /// The email was blocked or dropped.
    Blocked,
    /// Delivery was delayed or is pending.
    Delayed,
}

impl Issue {
    /// Returns the name shown in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Issue::Failed => "failed",
            Issue::Quarantined => "quarantined",
            Issue::Blocked => "blocked",
            Issue::Delayed => "delayed",
        }
    }

    /// Classifies an email by its delivery fields (see the module table), or returns `None`
    /// for an email without a delivery problem.
    pub fn of(record: &Record) -> Option<Issue> {
        let fold = |name: &str| -> String {
            field_text(record, name)
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect()
        };
        let actions = [fold("delivery_action"), fold("latest_delivery_action")];
        let location = fold("delivery_location");
        let policy = fold("policy_action");
        let action_has = |word: &str| actions.iter().any(|a| a.contains(word));
        if location == "failed" || action_has("fail") || action_has("bounce") {
            Some(Issue::Failed)
        } else if location.contains("quarantine")
            || action_has("quarantine")
            || policy.contains("quarantine")
        {
            Some(Issue::Quarantined)
        } else if action_has("blocked") || location == "dropped" {
            Some(Issue::Blocked)
        } else if ["delay", "defer", "pending"]
            .iter()
            .any(|word| action_has(word) || location.contains(word))
        {
            Some(Issue::Delayed)
        } else {
            None
        }
    }
}

/// Group key: day, lower-cased address, role name and issue.
type Key = (String, String, &'static str, Issue);

/// Counts of one group.
struct Group {
    /// The address as the first email of the group wrote it.
    address: String,
    emails: u64,
}

/// Builds the `priority-issues` report.
pub struct PriorityReport {
    window: Window,
    groups: BTreeMap<Key, Group>,
}

impl PriorityReport {
    /// Creates an empty report.
    pub fn new(options: &ReportOptions) -> PriorityReport {
        PriorityReport { window: options.window.clone(), groups: BTreeMap::new() }
    }
}

impl ReportBuilder for PriorityReport {
    fn add(&mut self, record: &Record, users: &[UserTags]) {
        if record.kind != RecordKind::Email {
            return;
        }
        let Some(issue) = Issue::of(record) else { return };
        let day = record.time.map(|t| self.window.day(t)).unwrap_or_default();
        let mut seen = Vec::new();
        for user in users.iter().filter(|u| u.tags.iter().any(|t| is_priority_tag(t))) {
            let key = (day.clone(), user.address.to_lowercase(), user.role.as_str(), issue);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key.clone());
            let group = self
                .groups
                .entry(key)
                .or_insert(Group { address: user.address.clone(), emails: 0 });
            group.emails += 1;
        }
    }

    fn finish(self: Box<Self>) -> Table {
        let rows = self
            .groups
            .into_iter()
            .map(|((day, _, role, issue), group)| {
                vec![
                    day_cell(day),
                    Cell::Text(group.address),
                    Cell::text(role),
                    Cell::text(issue.as_str()),
                    Cell::Count(group.emails),
                ]
            })
            .collect();
        Table {
            title: "Email issues for priority accounts".to_string(),
            time_zone: self.window.zone_name,
            columns: vec![
                Column::zoned("day"),
                Column::text("user"),
                Column::text("role"),
                Column::text("issue"),
                Column::number("emails"),
            ],
            rows,
        }
    }
}

/// Draws emails per day, one bar series per issue.
pub fn chart_spec() -> ChartSpec {
    ChartSpec {
        kind: ChartKind::Bars,
        day_column: "day".to_string(),
        series_columns: vec!["issue".to_string()],
        value_column: "emails".to_string(),
        y_label: "emails".to_string(),
    }
}

/// Returns whether a tag name is the built-in "Priority account" tag, ignoring case.
fn is_priority_tag(name: &str) -> bool {
    crate::text::fold_name(name) == crate::text::fold_name(SYSTEM_TAG_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Role;
    use crate::report::testing::{email, tagged_as};

    const PRIORITY: &str = "Priority account";

    /// A model field name and its text.
    type Field = (&'static str, &'static str);

    fn delivery(time: &str, fields: &[(&'static str, &str)]) -> Record {
        email("m", time, fields, "boss@x.test", &["ann@x.test"])
    }

    fn build(records: &[(Record, Vec<UserTags>)]) -> Table {
        let mut report: Box<dyn ReportBuilder> =
            Box::new(PriorityReport::new(&ReportOptions::default()));
        for (record, users) in records {
            report.add(record, users);
        }
        report.finish()
    }

    #[test]
    fn issue_classification() {
        let cases: [(&[Field], Option<Issue>); 10] = [
            (&[("delivery_action", "Delivered"), ("delivery_location", "Inbox")], None),
            (&[("delivery_action", "Junked"), ("delivery_location", "Junk")], None),
            (
                &[("delivery_action", "Blocked"), ("delivery_location", "Quarantine")],
                Some(Issue::Quarantined),
            ),
            (
                &[("delivery_action", "Blocked"), ("policy_action", "Quarantine")],
                Some(Issue::Quarantined),
            ),
            (&[("delivery_action", "Blocked")], Some(Issue::Blocked)),
            (
                &[("delivery_action", "Delivered"), ("delivery_location", "Dropped")],
                Some(Issue::Blocked),
            ),
            (
                &[("delivery_action", "Delivered"), ("delivery_location", "Failed")],
                Some(Issue::Failed),
            ),
            (&[("latest_delivery_action", "Moved to quarantine")], Some(Issue::Quarantined)),
            (&[("delivery_action", "Delayed")], Some(Issue::Delayed)),
            (&[("delivery_action", "Pending"), ("delivery_location", "")], Some(Issue::Delayed)),
        ];
        for (fields, expected) in cases {
            let record = delivery("2024-06-01T08:00:00Z", fields);
            assert_eq!(Issue::of(&record), expected, "{fields:?}");
        }
    }

    #[test]
    fn rows_per_day_user_and_issue() {
        let boss = || tagged_as(Role::Sender, "Boss@x.test", &[PRIORITY]);
        let ann = || tagged_as(Role::Recipient, "ann@x.test", &["priority ACCOUNT", "VIP"]);
        let finance = || tagged_as(Role::Recipient, "fin@x.test", &["Finance"]);
        let blocked = [("delivery_action", "Blocked")];
        let quarantined = [("delivery_location", "Quarantine")];
        let records = vec![
            (delivery("2024-06-01T08:00:00Z", &blocked), vec![boss(), ann()]),
            (
                delivery("2024-06-01T09:00:00Z", &blocked),
                vec![tagged_as(Role::Sender, "boss@X.test", &[PRIORITY])],
            ),
            (delivery("2024-06-01T10:00:00Z", &quarantined), vec![ann()]),
            (delivery("2024-06-01T11:00:00Z", &blocked), vec![finance()]),
            (delivery("2024-06-02T08:00:00Z", &[("delivery_action", "Delivered")]), vec![ann()]),
        ];
        let table = build(&records);
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["day", "user", "role", "issue", "emails"]);
        let row = |user: &str, role: &str, issue: &str, emails: u64| {
            vec![
                Cell::Time("2024-06-01".into()),
                Cell::text(user),
                Cell::text(role),
                Cell::text(issue),
                Cell::Count(emails),
            ]
        };
        assert_eq!(
            table.rows,
            vec![
                row("ann@x.test", "recipient", "quarantined", 1),
                row("ann@x.test", "recipient", "blocked", 1),
                row("Boss@x.test", "sender", "blocked", 2),
            ]
        );
    }
}
