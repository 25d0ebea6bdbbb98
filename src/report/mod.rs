//! Reports: tag-aware summaries of alerts and emails, as tables and SVG charts.
//!
//! A report is a [`ReportBuilder`] that receives the records matching a query one at a time,
//! together with the tags of each record's users, and returns a [`Table`]. The table is written
//! as an aligned text table, CSV or JSON by [`table::write_table`], and a per-day report can be
//! drawn as an SVG chart by [`chart::render_svg`].
//!
//! Every report works in one time zone ([`Window`]): days are calendar days in that zone and
//! times carry its offset, so a report over records around a daylight-saving change puts each
//! record on its local calendar day.

pub mod alerts;
pub mod campaigns;
pub mod chart;
pub mod email;
pub mod explorer;
pub mod priority;
pub mod table;
pub mod threat;
pub mod window;

use std::fmt;
use std::str::FromStr;

use crate::records::write::UserTags;
use crate::records::{Record, RecordKind};

pub use table::{Cell, Column, ReportFormat, Table, write_table};
pub use window::Window;

/// An error of the report layer.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The time zone name is neither UTC, a fixed offset nor a known IANA zone.
    #[error(
        "invalid time zone '{zone}': {reason}; give an IANA zone such as Europe/Berlin or an offset such as +02:00"
    )]
    InvalidTimeZone {
        /// The zone as given.
        zone: String,
        /// The reason for the rejection.
        reason: String,
    },
    /// A `--since` or `--until` value is not a date or date-time.
    #[error(
        "invalid {bound} time '{value}': give a date (2024-03-31), a local date-time \
         (2024-03-31T08:00) or an RFC 3339 time (2024-03-31T08:00:00Z)"
    )]
    InvalidTime {
        /// `since` or `until`.
        bound: &'static str,
        /// The value as given.
        value: String,
    },
    /// `--until` is not after `--since`, so no record can fall in the window.
    #[error("empty time window: --until {until} is not after --since {since}; swap them")]
    EmptyWindow {
        /// The `--since` value as given.
        since: String,
        /// The `--until` value as given.
        until: String,
    },
    /// The report name is not known.
    #[error("unknown report '{0}'; expected one of: {names}", names = ReportName::NAMES.join(", "))]
    UnknownReport(String),
    /// The chart could not be drawn.
    #[error("failed to draw the chart: {0}")]
    Chart(String),
    /// The report has no breakdown by tag.
    #[error("the {0} report has no --by-tag breakdown; only threat-protection has one")]
    NoTagBreakdown(String),
    /// The report has no per-day series to draw.
    #[error("the {0} report has no chart; run it without --chart")]
    NoChart(String),
}

/// Collects the records of one report and builds its table.
pub trait ReportBuilder {
    /// Adds one matching record; `users` are its involved users that carry tags, with their
    /// tags.
    fn add(&mut self, record: &Record, users: &[UserTags]);

    /// Returns the finished table, sorted, before paging.
    fn finish(self: Box<Self>) -> Table;
}

/// Settings shared by every report.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// The time window and the zone of day buckets and displayed times.
    pub window: Window,
    /// Maximum number of rows in the output, after `offset`.
    pub limit: Option<usize>,
    /// Number of leading rows to leave out.
    pub offset: usize,
    /// Whether reports that support it add a group per tag of the involved users.
    pub by_tag: bool,
}

impl Default for ReportOptions {
    fn default() -> ReportOptions {
        ReportOptions { window: Window::utc(), limit: None, offset: 0, by_tag: false }
    }
}

impl ReportOptions {
    /// Returns whether a record belongs in the report's time window. A record without a time
    /// belongs only when the window is unbounded.
    pub fn accepts(&self, record: &Record) -> bool {
        match record.time {
            Some(time) => self.window.contains(time),
            None => self.window.since.is_none() && self.window.until.is_none(),
        }
    }

    /// Applies `offset` and `limit` to the rows of a finished table.
    pub fn page(&self, table: &mut Table) {
        let start = self.offset.min(table.rows.len());
        table.rows.drain(..start);
        if let Some(limit) = self.limit {
            table.rows.truncate(limit);
        }
    }
}

/// A report kind, as named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportName {
    /// Alerts by severity, status and day, with the distinct tagged users involved.
    Alerts,
    /// Emails by threat type, detection technology and delivery action per day.
    ThreatProtection,
    /// Delayed, quarantined, blocked or failed emails of priority accounts, per day and user.
    PriorityIssues,
    /// The Threat Explorer email list, in time order.
    Explorer {
        /// Row order: newest first by default.
        sort: crate::index::Sort,
    },
    /// Every field of one message's records, with its users' display names and tags.
    Email {
        /// The network message id.
        message_id: String,
    },
    /// Campaigns from campaign exports and email clusters, with tagged recipients per tag.
    Campaigns,
}

impl ReportName {
    /// The names accepted on the command line.
    pub const NAMES: [&'static str; 6] =
        ["alerts", "threat-protection", "priority-issues", "explorer", "email", "campaigns"];

    /// Returns the command-line name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReportName::Alerts => "alerts",
            ReportName::ThreatProtection => "threat-protection",
            ReportName::PriorityIssues => "priority-issues",
            ReportName::Explorer { .. } => "explorer",
            ReportName::Email { .. } => "email",
            ReportName::Campaigns => "campaigns",
        }
    }

    /// Returns the only record kind the report reads, which a query runner can pass on to
    /// skip other records early.
    pub fn kind(&self) -> Option<RecordKind> {
        match self {
            ReportName::Alerts => Some(RecordKind::Alert),
            ReportName::ThreatProtection | ReportName::PriorityIssues => Some(RecordKind::Email),
            ReportName::Explorer { .. } | ReportName::Email { .. } => Some(RecordKind::Email),
            ReportName::Campaigns => None,
        }
    }

    /// Returns the query that selects the report's records: the caller's query, narrowed to
    /// the records the report counts (emails with a threat type, emails of priority accounts)
    /// so that an index query materialises fewer records. The narrowing never drops a record
    /// that the builder would count, so the table is the same.
    pub fn query_for(&self, query: &str) -> String {
        let narrowing = match self {
            ReportName::ThreatProtection => Some("threat_types:*"),
            ReportName::PriorityIssues => Some("tag:\"Priority account\""),
            _ => None,
        };
        match narrowing {
            Some(narrowing) if query.trim().is_empty() => narrowing.to_string(),
            Some(narrowing) => format!("({query}) and {narrowing}"),
            None => query.to_string(),
        }
    }

    /// Creates an empty builder of this report.
    pub fn builder(&self, options: &ReportOptions) -> Box<dyn ReportBuilder> {
        match self {
            ReportName::Alerts => Box::new(alerts::AlertsReport::new(options)),
            ReportName::ThreatProtection => Box::new(threat::ThreatReport::new(options)),
            ReportName::PriorityIssues => Box::new(priority::PriorityReport::new(options)),
            ReportName::Explorer { sort } => {
                Box::new(explorer::ExplorerReport::new(options, *sort))
            }
            ReportName::Email { message_id } => {
                Box::new(email::EmailReport::new(options, message_id, None))
            }
            ReportName::Campaigns => Box::new(campaigns::CampaignsReport::new(options)),
        }
    }

    /// Returns how the report's table is drawn as a chart, if it has a per-day chart.
    pub fn chart_spec(&self) -> Option<chart::ChartSpec> {
        match self {
            ReportName::Alerts => Some(alerts::chart_spec()),
            ReportName::ThreatProtection => Some(threat::chart_spec()),
            ReportName::PriorityIssues => Some(priority::chart_spec()),
            ReportName::Explorer { .. } | ReportName::Email { .. } | ReportName::Campaigns => None,
        }
    }
}

impl fmt::Display for ReportName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportName {
    type Err = ReportError;

    fn from_str(name: &str) -> Result<ReportName, ReportError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "alerts" => Ok(ReportName::Alerts),
            "threat-protection" => Ok(ReportName::ThreatProtection),
            "priority-issues" => Ok(ReportName::PriorityIssues),
            "explorer" => Ok(ReportName::Explorer { sort: crate::index::Sort::TimeDesc }),
            "campaigns" => Ok(ReportName::Campaigns),
            // The message id follows the name on the command line and is filled in there.
            "email" => Ok(ReportName::Email { message_id: String::new() }),
            _ => Err(ReportError::UnknownReport(name.to_string())),
        }
    }
}

/// Runs a report over records: keeps those in the window, builds, sorts and pages the table.
pub fn build<'a>(
    name: &ReportName,
    options: &ReportOptions,
    records: impl IntoIterator<Item = (&'a Record, &'a [UserTags])>,
) -> Table {
    let mut builder = name.builder(options);
    for (record, users) in records {
        if options.accepts(record) {
            builder.add(record, users);
        }
    }
    let mut table = builder.finish();
    options.page(&mut table);
    table
}

/// Record and tag constructors for the report tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    use crate::records::write::UserTags;
    use crate::records::{Origin, Raw, Record, RecordKind, Role, SourceFormat, UserRef, Value};
    use crate::time::Timestamp;

    /// Returns a record of a kind at a time with text fields.
    pub fn record(
        kind: RecordKind,
        id: &str,
        time: &str,
        fields: &[(&'static str, &str)],
    ) -> Record {
        let fields: BTreeMap<&'static str, Value> =
            fields.iter().map(|(name, value)| (*name, Value::Str(value.to_string()))).collect();
        Record {
            kind,
            id: id.to_string(),
            time: Timestamp::parse(time),
            fields,
            extra: Vec::new(),
            users: Vec::new(),
            raw: Raw::Json("{}".to_string()),
            format: SourceFormat::Json,
            origin: Origin::default(),
        }
    }

    /// Returns an alert with a severity and status.
    pub fn alert(id: &str, time: &str, severity: &str, status: &str) -> Record {
        record(RecordKind::Alert, id, time, &[("severity", severity), ("status", status)])
    }

    /// Returns an email with fields, a sender and recipients.
    pub fn email(
        id: &str,
        time: &str,
        fields: &[(&'static str, &str)],
        sender: &str,
        recipients: &[&str],
    ) -> Record {
        let mut record = record(RecordKind::Email, id, time, fields);
        record.users.push(UserRef::address(Role::Sender, sender));
        for recipient in recipients {
            record.users.push(UserRef::address(Role::Recipient, *recipient));
        }
        record
    }

    /// Returns an alert user with tags.
    pub fn tagged(address: &str, tags: &[&str]) -> UserTags {
        tagged_as(Role::User, address, tags)
    }

    /// Returns a user in a role with tags.
    pub fn tagged_as(role: Role, address: &str, tags: &[&str]) -> UserTags {
        UserTags {
            role,
            address: address.to_string(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }
}

/// The display spelling of enumeration values that reports group ignoring case and
/// separators, so that `InProgress` (Defender) and `inProgress` (Graph) form one group shown
/// as first seen.
#[derive(Debug, Default)]
pub(crate) struct Spellings {
    first_seen: std::collections::HashMap<String, String>,
}

impl Spellings {
    /// Returns the grouping key of a value, remembering its first spelling.
    pub(crate) fn key(&mut self, text: &str) -> String {
        let key: String =
            text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        if !self.first_seen.contains_key(&key) {
            self.first_seen.insert(key.clone(), text.trim().to_string());
        }
        key
    }

    /// Returns the first spelling seen for a key, as a cell.
    pub(crate) fn cell(&self, key: &str) -> Cell {
        match self.first_seen.get(key) {
            Some(text) if !text.is_empty() => Cell::Text(text.clone()),
            _ => Cell::Empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_for_narrows_counted_records() {
        assert_eq!(ReportName::Alerts.query_for("tag:VIP"), "tag:VIP");
        assert_eq!(ReportName::ThreatProtection.query_for(" "), "threat_types:*");
        assert_eq!(ReportName::ThreatProtection.query_for("a or b"), "(a or b) and threat_types:*");
        assert_eq!(
            ReportName::PriorityIssues.query_for("DeliveryAction:Blocked"),
            "(DeliveryAction:Blocked) and tag:\"Priority account\""
        );
    }

    #[test]
    fn page_applies_offset_then_limit() {
        let mut table = Table {
            title: String::new(),
            time_zone: "UTC".to_string(),
            columns: vec![Column::number("n")],
            rows: (0..5).map(|n| vec![Cell::Count(n)]).collect(),
        };
        let options = ReportOptions { offset: 1, limit: Some(2), ..ReportOptions::default() };
        options.page(&mut table);
        assert_eq!(table.rows, vec![vec![Cell::Count(1)], vec![Cell::Count(2)]]);
        let beyond = ReportOptions { offset: 10, ..ReportOptions::default() };
        beyond.page(&mut table);
        assert!(table.rows.is_empty());
    }

    #[test]
    fn build_keeps_window_and_pages() {
        let options = ReportOptions {
            window: Window::parse("UTC", Some("2024-06-02"), None).unwrap(),
            limit: Some(1),
            ..ReportOptions::default()
        };
        let records = [
            testing::alert("a1", "2024-06-01T10:00:00Z", "High", "New"),
            testing::alert("a2", "2024-06-02T10:00:00Z", "High", "New"),
            testing::alert("a3", "2024-06-03T10:00:00Z", "Low", "New"),
        ];
        let no_users: &[UserTags] = &[];
        let table =
            build(&ReportName::Alerts, &options, records.iter().map(|record| (record, no_users)));
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0][0], Cell::Time("2024-06-02".into()));
        assert_eq!(table.rows[0][3], Cell::Count(1));
    }

    #[test]
    fn names_round_trip() {
        for name in [ReportName::Alerts, ReportName::ThreatProtection, ReportName::PriorityIssues] {
            assert_eq!(name.as_str().parse::<ReportName>().unwrap(), name);
        }
        assert!("nope".parse::<ReportName>().is_err());
    }
}
