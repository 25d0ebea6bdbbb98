//! Campaigns: type, first and last seen, emails, recipients and tagged recipients per tag.
//!
//! Campaign records (rows of a campaign export) are merged by campaign id. Emails are grouped
//! by their cluster id (`EmailClusterId`), which Defender gives to messages of similar content
//! and origin, so a set of email exports without a campaign export still shows its
//! campaigns. When a campaign row names a cluster id (an `EmailClusterId` or `ClusterId`
//! column), the emails of that cluster count towards the campaign instead of forming a row of
//! their own. This needs the campaign row itself to match the query: when only the emails
//! match, as for a tag query on a campaign export that lists no recipients, they form a
//! cluster row. Emails without a cluster id belong to no group and are left out.
//!
//! For a campaign, the email and recipient counts are the export's `email_count` and
//! `recipient_count` when present. Recipients that the row lists by address and the messages
//! and recipients of its cluster's emails are counted too, and the larger figure is shown. For an email group, the counts are distinct network
//! message ids and distinct recipient addresses. Tagged recipients are distinct recipient
//! addresses that carry the tag, with one numeric column per tag seen. An email cluster is
//! named after the subject of its earliest email.

use std::collections::{BTreeMap, BTreeSet};

use super::explorer::list_cell;
use super::{Cell, Column, ReportBuilder, ReportOptions, Table, Window};
use crate::records::write::UserTags;
use crate::records::{Record, RecordKind, Role, Value};
use crate::time::Timestamp;

/// Collects campaign and email records into one row per campaign or email cluster.
pub struct CampaignsReport {
    window: Window,
    groups: BTreeMap<(Source, String), Group>,
}

/// The origin of a group's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// Rows of a campaign export, merged by campaign id.
    Campaign,
    /// Emails with the same cluster id.
    Cluster,
}

/// The figures of one campaign or cluster.
#[derive(Default)]
struct Group {
    name: Option<String>,
    /// The time of the email whose subject is the name, for email clusters.
    named_at: Option<Timestamp>,
    kinds: Vec<String>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    exported_emails: Option<u64>,
    exported_recipients: Option<u64>,
    messages: BTreeSet<String>,
    /// The cluster ids that a campaign export row names.
    clusters: BTreeSet<String>,
    recipients: BTreeSet<String>,
    tagged: BTreeMap<String, BTreeSet<String>>,
}

impl CampaignsReport {
    /// Creates an empty report.
    pub fn new(options: &ReportOptions) -> CampaignsReport {
        CampaignsReport { window: options.window.clone(), groups: BTreeMap::new() }
    }
}

impl ReportBuilder for CampaignsReport {
    fn add(&mut self, record: &Record, users: &[UserTags]) {
        let key = match record.kind {
            RecordKind::Campaign => (Source::Campaign, record.id.clone()),
            RecordKind::Email => match text(record.field("cluster_id")) {
                Some(cluster) => (Source::Cluster, cluster),
                None => return,
            },
            RecordKind::Alert => return,
        };
        let source = key.0;
        let group = self.groups.entry(key).or_default();
        match source {
            Source::Campaign => group.add_campaign(record),
            Source::Cluster => group.add_email(record),
        }
        group.add_recipients(record, users);
    }

    fn finish(mut self: Box<Self>) -> Table {
        self.merge_clusters();
        let tags: BTreeSet<&String> =
            self.groups.values().flat_map(|group| group.tagged.keys()).collect();
        let mut columns = vec![
            Column::text("campaign"),
            Column::text("source"),
            Column::text("name"),
            Column::text("type"),
            Column::zoned("first seen"),
            Column::zoned("last seen"),
            Column::number("emails"),
            Column::number("recipients"),
        ];
        columns.extend(tags.iter().map(|tag| Column::number(format!("tagged: {tag}"))));
        let mut rows: Vec<(Option<Timestamp>, Vec<Cell>)> = self
            .groups
            .iter()
            .map(|((source, id), group)| (group.first, group.row(*source, id, &tags, &self.window)))
            .collect();
        rows.sort_by_key(|(first, _)| first.map_or(i64::MIN, |t| t.0));
        Table {
            title: "Campaigns".to_string(),
            time_zone: self.window.zone_name.clone(),
            columns,
            rows: rows.into_iter().map(|(_, row)| row).collect(),
        }
    }
}

impl CampaignsReport {
    /// Moves the figures of email clusters that a campaign names into that campaign.
    fn merge_clusters(&mut self) {
        let mut owners: BTreeMap<String, String> = BTreeMap::new();
        for ((source, id), group) in &self.groups {
            if *source == Source::Campaign {
                for cluster in &group.clusters {
                    owners.entry(cluster.clone()).or_insert_with(|| id.clone());
                }
            }
        }
        for (cluster, campaign) in owners {
            let Some(emails) = self.groups.remove(&(Source::Cluster, cluster)) else { continue };
            if let Some(owner) = self.groups.get_mut(&(Source::Campaign, campaign)) {
                owner.absorb(emails);
            }
        }
    }
}

impl Group {
    /// Adds the messages, recipients and times of a cluster's emails to a campaign.
    fn absorb(&mut self, emails: Group) {
        self.see(emails.first);
        self.see(emails.last);
        self.messages.extend(emails.messages);
        self.recipients.extend(emails.recipients);
        for (tag, addresses) in emails.tagged {
            self.tagged.entry(tag).or_default().extend(addresses);
        }
    }

    fn add_campaign(&mut self, record: &Record) {
        for column in ["EmailClusterId", "ClusterId"] {
            if let Some(cluster) = text(record.extra_field(column)) {
                self.clusters.insert(cluster);
            }
        }
        self.set_name(text(record.field("name")));
        if let Some(kind) = text(record.field("type")) {
            self.add_kind(kind);
        }
        self.see(record.time);
        self.see(time(record.field("last_seen")));
        if let Some(n) = count(record.field("email_count")) {
            self.exported_emails = Some(self.exported_emails.unwrap_or(0).max(n));
        }
        if let Some(n) = count(record.field("recipient_count")) {
            self.exported_recipients = Some(self.exported_recipients.unwrap_or(0).max(n));
        }
    }

    fn add_email(&mut self, record: &Record) {
        let earlier = match (record.time, self.named_at) {
            (Some(time), Some(named_at)) => time < named_at,
            (Some(_), None) => true,
            (None, None) => self.name.is_none(),
            (None, Some(_)) => false,
        };
        if let Some(subject) = text(record.field("subject")).filter(|_| earlier) {
            self.name = Some(subject);
            self.named_at = record.time;
        }
        if let Cell::List(kinds) = list_cell(record.field("threat_types")) {
            kinds.into_iter().for_each(|kind| self.add_kind(kind));
        }
        self.see(record.time);
        let message = text(record.field("network_message_id")).unwrap_or_else(|| record.id.clone());
        self.messages.insert(message.to_ascii_lowercase());
    }

    /// Counts the record's recipients and those of them that carry tags.
    fn add_recipients(&mut self, record: &Record, users: &[UserTags]) {
        for user in record.users_in(Role::Recipient) {
            if let Some(address) = user.address.as_ref().or(user.object_id.as_ref()) {
                self.recipients.insert(address.to_ascii_lowercase());
            }
        }
        for user in users.iter().filter(|user| user.role == Role::Recipient) {
            for tag in &user.tags {
                let addresses = self.tagged.entry(tag.clone()).or_default();
                addresses.insert(user.address.to_ascii_lowercase());
            }
        }
    }

    /// Keeps the first campaign name seen.
    fn set_name(&mut self, name: Option<String>) {
        if self.name.is_none() {
            self.name = name;
        }
    }

    fn add_kind(&mut self, kind: String) {
        if !kind.is_empty() && !self.kinds.contains(&kind) {
            self.kinds.push(kind);
        }
    }

    fn see(&mut self, time: Option<Timestamp>) {
        let Some(time) = time else { return };
        self.first = Some(self.first.map_or(time, |first| first.min(time)));
        self.last = Some(self.last.map_or(time, |last| last.max(time)));
    }

    fn row(
        &self,
        source: Source,
        id: &str,
        tags: &BTreeSet<&String>,
        window: &Window,
    ) -> Vec<Cell> {
        let (source_name, emails, recipients) = match source {
            Source::Campaign => {
                let listed = self.recipients.len() as u64;
                let recipients = self.exported_recipients.map_or(listed, |n| n.max(listed));
                let messages = self.messages.len() as u64;
                let emails = match self.exported_emails {
                    Some(n) => Cell::Count(n.max(messages)),
                    None if messages > 0 => Cell::Count(messages),
                    None => Cell::Empty,
                };
                ("campaign export", emails, recipients)
            }
            Source::Cluster => {
                let emails = Cell::Count(self.messages.len() as u64);
                ("email cluster", emails, self.recipients.len() as u64)
            }
        };
        let time_cell =
            |t: Option<Timestamp>| t.map_or(Cell::Empty, |t| Cell::Time(window.time(t)));
        let mut row = vec![
            Cell::text(id),
            Cell::text(source_name),
            self.name.clone().map_or(Cell::Empty, Cell::Text),
            Cell::List(self.kinds.clone()),
            time_cell(self.first),
            time_cell(self.last),
            emails,
            Cell::Count(recipients),
        ];
        for tag in tags {
            let tagged = self.tagged.get(*tag).map_or(0, BTreeSet::len);
            row.push(Cell::Count(tagged as u64));
        }
        row
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_text).map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

fn time(value: Option<&Value>) -> Option<Timestamp> {
    match value {
        Some(Value::Time(t)) => Some(*t),
        _ => None,
    }
}

fn count(value: Option<&Value>) -> Option<u64> {
    match value {
        Some(Value::Int(n)) => u64::try_from(*n).ok(),
        Some(Value::Float(x)) if *x >= 0.0 && x.fract() == 0.0 => Some(*x as u64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::records::{Origin, Raw, SourceFormat, UserRef};

    fn record(kind: RecordKind, id: &str, time: &str, recipients: &[&str]) -> Record {
        Record {
            kind,
            id: id.to_string(),
            time: Timestamp::parse(time),
            fields: BTreeMap::new(),
            extra: Vec::new(),
            users: recipients.iter().map(|a| UserRef::address(Role::Recipient, *a)).collect(),
            raw: Raw::Json("{}".to_string()),
            format: SourceFormat::Json,
            origin: Origin::default(),
        }
    }

    fn email(message: &str, cluster: &str, time: &str, recipient: &str) -> Record {
        let mut email = record(RecordKind::Email, message, time, &[recipient]);
        email.fields.insert("cluster_id", Value::Str(cluster.to_string()));
        email.fields.insert("network_message_id", Value::Str(message.to_string()));
        email.fields.insert("subject", Value::Str(format!("subject of {message}")));
        email.fields.insert("threat_types", Value::List(vec![Value::Str("Phish".into())]));
        email
    }

    fn tagged(address: &str, tags: &[&str]) -> Vec<UserTags> {
        let tags = tags.iter().map(|t| t.to_string()).collect();
        vec![UserTags { role: Role::Recipient, address: address.to_string(), tags }]
    }

    fn build(records: &[(Record, Vec<UserTags>)]) -> Table {
        let mut report: Box<dyn ReportBuilder> =
            Box::new(CampaignsReport::new(&ReportOptions::default()));
        for (record, users) in records {
            report.add(record, users);
        }
        report.finish()
    }

    #[test]
    fn emails_grouped_by_cluster() {
        let table = build(&[
            (email("m-2", "401", "2024-06-03T09:00:00Z", "b@x"), tagged("b@x", &["VIP"])),
            (email("m-1", "401", "2024-06-03T08:00:00Z", "a@x"), tagged("a@x", &["VIP", "Fin"])),
            (email("m-1", "401", "2024-06-03T08:00:00Z", "c@x"), Vec::new()),
            (email("m-3", "402", "2024-06-04T08:00:00Z", "a@x"), tagged("A@x", &["VIP"])),
            (record(RecordKind::Email, "m-4", "2024-06-05T08:00:00Z", &["d@x"]), Vec::new()),
        ]);
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names[8..], ["tagged: Fin", "tagged: VIP"]);
        assert_eq!(table.rows.len(), 2);
        let first = &table.rows[0];
        assert_eq!(first[0], Cell::text("401"));
        assert_eq!(first[1], Cell::text("email cluster"));
        assert_eq!(first[2], Cell::text("subject of m-1"));
        assert_eq!(first[3], Cell::List(vec!["Phish".to_string()]));
        assert_eq!(first[4], Cell::Time("2024-06-03T08:00:00+00:00".into()));
        assert_eq!(first[5], Cell::Time("2024-06-03T09:00:00+00:00".into()));
        assert_eq!(first[6], Cell::Count(2));
        assert_eq!(first[7], Cell::Count(3));
        assert_eq!(first[8], Cell::Count(1));
        assert_eq!(first[9], Cell::Count(2));
        let second = &table.rows[1];
        assert_eq!(second[0], Cell::text("402"));
        assert_eq!(second[8], Cell::Count(0));
        assert_eq!(second[9], Cell::Count(1));
    }

    #[test]
    fn cluster_emails_count_towards_campaign() {
        let mut campaign = record(RecordKind::Campaign, "cmp-1", "2024-06-01T00:00:00Z", &[]);
        campaign.fields.insert("email_count", Value::Int(1));
        campaign.extra.push(("EmailClusterId".to_string(), Value::Int(401)));
        let table = build(&[
            (campaign, Vec::new()),
            (email("m-1", "401", "2024-06-03T08:00:00Z", "a@x"), tagged("a@x", &["VIP"])),
            (email("m-2", "401", "2024-06-04T08:00:00Z", "b@x"), Vec::new()),
            (email("m-3", "402", "2024-06-05T08:00:00Z", "c@x"), Vec::new()),
        ]);
        assert_eq!(table.rows.len(), 2);
        let row = &table.rows[0];
        assert_eq!(row[0], Cell::text("cmp-1"));
        assert_eq!(row[4], Cell::Time("2024-06-01T00:00:00+00:00".into()));
        assert_eq!(row[5], Cell::Time("2024-06-04T08:00:00+00:00".into()));
        assert_eq!(row[6], Cell::Count(2));
        assert_eq!(row[7], Cell::Count(2));
        assert_eq!(row[8], Cell::Count(1));
        assert_eq!(table.rows[1][0], Cell::text("402"));
    }

    #[test]
    fn campaign_rows_merged_by_id() {
        let mut first = record(RecordKind::Campaign, "cmp-1", "2024-06-01T00:00:00Z", &[]);
        first.fields.insert("name", Value::Str("Fake notices".into()));
        first.fields.insert("type", Value::Str("Phish".into()));
        first.fields.insert("recipient_count", Value::Int(120));
        first.fields.insert("email_count", Value::Int(130));
        first.fields.insert(
            "last_seen",
            Value::Time(Timestamp::parse("2024-06-05T12:00:00Z").expect("time")),
        );
        let listed =
            record(RecordKind::Campaign, "cmp-2", "2024-06-02T00:00:00Z", &["u1@x", "u2@x"]);
        let table = build(&[(first, Vec::new()), (listed, tagged("u1@x", &["VIP"]))]);
        assert_eq!(table.rows.len(), 2);
        let row = &table.rows[0];
        assert_eq!(row[0], Cell::text("cmp-1"));
        assert_eq!(row[1], Cell::text("campaign export"));
        assert_eq!(row[2], Cell::text("Fake notices"));
        assert_eq!(row[5], Cell::Time("2024-06-05T12:00:00+00:00".into()));
        assert_eq!(row[6], Cell::Count(130));
        assert_eq!(row[7], Cell::Count(120));
        assert_eq!(row[8], Cell::Count(0));
        let row = &table.rows[1];
        assert_eq!(row[6], Cell::Empty);
        assert_eq!(row[7], Cell::Count(2));
        assert_eq!(row[8], Cell::Count(1));
    }
}
