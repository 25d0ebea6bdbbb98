//! The Threat Explorer email list: one row per email record with its time, sender,
//! recipients, subject, delivery action and location, threats, verdict and the tags of its
//! users.
//!
//! Per-recipient exports such as Advanced Hunting `EmailEvents` hold one record per message
//! and recipient, so a message sent to three people gives three rows, as in Threat Explorer.

use super::{Cell, Column, ReportBuilder, ReportOptions, Table, Window};
use crate::index::Sort;
use crate::records::write::UserTags;
use crate::records::{Record, RecordKind, Role, Value};

/// Collects email records into the Threat Explorer list.
pub struct ExplorerReport {
    window: Window,
    order: Sort,
    /// Each row with the record's time in ticks (`i64::MIN` without one), for sorting.
    rows: Vec<(i64, Vec<Cell>)>,
}

impl ExplorerReport {
    /// Creates an empty list whose rows come out in `order`: `Sort::TimeDesc` (newest first,
    /// as Threat Explorer shows them), `Sort::Time`, or `Sort::Stored` (the order records
    /// were added in).
    pub fn new(options: &ReportOptions, order: Sort) -> ExplorerReport {
        ExplorerReport { window: options.window.clone(), order, rows: Vec::new() }
    }
}

impl ReportBuilder for ExplorerReport {
    fn add(&mut self, record: &Record, users: &[UserTags]) {
        if record.kind != RecordKind::Email {
            return;
        }
        let time = record.time.map_or(i64::MIN, |t| t.0);
        self.rows.push((time, row(record, users, &self.window)));
    }

    fn finish(self: Box<Self>) -> Table {
        let mut rows = self.rows;
        match self.order {
            Sort::Stored => {}
            Sort::Time => rows.sort_by_key(|(time, _)| *time),
            Sort::TimeDesc => rows.sort_by_key(|(time, _)| std::cmp::Reverse(*time)),
        }
        Table {
            title: "Threat Explorer emails".to_string(),
            time_zone: self.window.zone_name.clone(),
            columns: columns(),
            rows: rows.into_iter().map(|(_, row)| row).collect(),
        }
    }
}

/// Returns the columns of the list, in the order of [`row`]'s cells.
pub fn columns() -> Vec<Column> {
    vec![
        Column::zoned("time"),
        Column::text("sender"),
        Column::text("recipients"),
        Column::text("subject"),
        Column::text("delivery action"),
        Column::text("location"),
        Column::text("threats"),
        Column::text("verdict"),
        Column::text("tags"),
        Column::text("network message id"),
    ]
}

/// Returns the cells of one email record: missing fields are empty cells, and the tags are
/// the distinct tags of all its users, in the order the users appear.
pub fn row(record: &Record, users: &[UserTags], window: &Window) -> Vec<Cell> {
    let location = record.field("delivery_location").or(record.field("original_delivery_location"));
    vec![
        record.time.map_or(Cell::Empty, |t| Cell::Time(window.time(t))),
        addresses(record, Role::Sender),
        addresses(record, Role::Recipient),
        value_cell(record.field("subject"), window),
        value_cell(record.field("delivery_action"), window),
        value_cell(location, window),
        list_cell(record.field("threat_types")),
        value_cell(record.field("verdict"), window),
        Cell::List(distinct_tags(users)),
        value_cell(record.field("network_message_id"), window),
    ]
}

/// Returns the distinct addresses of a role, compared ignoring ASCII case, as one list cell.
fn addresses(record: &Record, role: Role) -> Cell {
    let mut seen: Vec<String> = Vec::new();
    for user in record.users_in(role) {
        let Some(address) = user.address.as_ref().or(user.object_id.as_ref()) else { continue };
        if !seen.iter().any(|known| known.eq_ignore_ascii_case(address)) {
            seen.push(address.clone());
        }
    }
    Cell::List(seen)
}

/// Returns the distinct tag names of the users, in first-seen order.
pub fn distinct_tags(users: &[UserTags]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in users.iter().flat_map(|user| &user.tags) {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags
}

/// Converts a field value to a cell: times in the window's zone, lists as list cells, and a
/// missing or null value as an empty cell.
pub(crate) fn value_cell(value: Option<&Value>, window: &Window) -> Cell {
    match value {
        None | Some(Value::Null) => Cell::Empty,
        Some(Value::Time(t)) => Cell::Time(window.time(*t)),
        Some(Value::List(_)) => list_cell(value),
        Some(other) => other.as_text().map_or(Cell::Empty, Cell::Text),
    }
}

/// Converts a field value to a list cell of its non-empty items.
pub(crate) fn list_cell(value: Option<&Value>) -> Cell {
    let Some(value) = value else { return Cell::List(Vec::new()) };
    let items = value.items().iter().filter_map(Value::as_text).filter(|t| !t.is_empty());
    Cell::List(items.collect())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::records::{Origin, Raw, SourceFormat, UserRef};
    use crate::time::Timestamp;

    fn email(id: &str, time: &str, subject: &str) -> Record {
        let mut fields = BTreeMap::new();
        fields.insert("subject", Value::Str(subject.to_string()));
        fields.insert("delivery_action", Value::Str("Blocked".to_string()));
        fields.insert("original_delivery_location", Value::Str("Quarantine".to_string()));
        fields.insert(
            "threat_types",
            Value::List(vec![Value::Str("Phish".into()), Value::Str("Spam".into())]),
        );
        fields.insert("network_message_id", Value::Str(id.to_string()));
        Record {
            kind: RecordKind::Email,
            id: id.to_string(),
            time: Timestamp::parse(time),
            fields,
            extra: Vec::new(),
            users: vec![
                UserRef::address(Role::Sender, "billing@fabrikam.test"),
                UserRef::address(Role::Sender, "Billing@Fabrikam.test"),
                UserRef::address(Role::Recipient, "ada@contoso.test"),
                UserRef::address(Role::Recipient, "alan@contoso.test"),
            ],
            raw: Raw::Json("{}".to_string()),
            format: SourceFormat::Json,
            origin: Origin::default(),
        }
    }

    fn tags(address: &str, tags: &[&str]) -> UserTags {
        UserTags {
            role: Role::Recipient,
            address: address.to_string(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn list(items: &[&str]) -> Cell {
        Cell::List(items.iter().map(|t| t.to_string()).collect())
    }

    #[test]
    fn row_cells_in_column_order() {
        let window = Window::utc();
        let users = [tags("ada@contoso.test", &["VIP", "Finance"]), tags("alan@x", &["VIP"])];
        let cells = row(&email("m-1", "2024-06-03T08:15:30Z", "Invoice"), &users, &window);
        assert_eq!(cells.len(), columns().len());
        assert_eq!(cells[0], Cell::Time("2024-06-03T08:15:30+00:00".into()));
        assert_eq!(cells[1], list(&["billing@fabrikam.test"]));
        assert_eq!(cells[2], list(&["ada@contoso.test", "alan@contoso.test"]));
        assert_eq!(cells[3], Cell::text("Invoice"));
        assert_eq!(cells[4], Cell::text("Blocked"));
        assert_eq!(cells[5], Cell::text("Quarantine"));
        assert_eq!(cells[6], list(&["Phish", "Spam"]));
        assert_eq!(cells[7], Cell::Empty);
        assert_eq!(cells[8], list(&["VIP", "Finance"]));
        assert_eq!(cells[9], Cell::text("m-1"));
    }

    #[test]
    fn newest_first_and_alerts_skipped() {
        let options = ReportOptions::default();
        let mut report: Box<dyn ReportBuilder> =
            Box::new(ExplorerReport::new(&options, Sort::TimeDesc));
        report.add(&email("old", "2024-06-01T00:00:00Z", "a"), &[]);
        report.add(&email("new", "2024-06-02T00:00:00Z", "b"), &[]);
        let mut alert = email("alert", "2024-06-03T00:00:00Z", "c");
        alert.kind = RecordKind::Alert;
        report.add(&alert, &[]);
        let table = report.finish();
        let ids: Vec<&Cell> = table.rows.iter().filter_map(|r| r.get(9)).collect();
        assert_eq!(ids, vec![&Cell::text("new"), &Cell::text("old")]);
    }

    #[test]
    fn oldest_first_keeps_ties_in_order() {
        let options = ReportOptions::default();
        let mut report: Box<dyn ReportBuilder> =
            Box::new(ExplorerReport::new(&options, Sort::Time));
        report.add(&email("b", "2024-06-02T00:00:00Z", "b"), &[]);
        report.add(&email("a1", "2024-06-01T00:00:00Z", "a"), &[]);
        report.add(&email("a2", "2024-06-01T00:00:00Z", "a"), &[]);
        let table = report.finish();
        let ids: Vec<&Cell> = table.rows.iter().filter_map(|r| r.get(9)).collect();
        assert_eq!(ids, vec![&Cell::text("a1"), &Cell::text("a2"), &Cell::text("b")]);
    }

    #[test]
    fn time_shown_in_report_zone() {
        let window = Window::parse("Europe/Berlin", None, None).expect("zone");
        let cells = row(&email("m", "2024-03-31T00:30:00Z", "s"), &[], &window);
        assert_eq!(cells[0], Cell::Time("2024-03-31T01:30:00+01:00".into()));
    }
}
