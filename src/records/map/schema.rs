//! Model fields of each record kind, the columns that fill them, and the types of source
//! columns.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::filter::schema::{FieldDef, FieldSource, FieldType, Schema};
use crate::records::RecordKind;

use super::source::{normalized_name, strip_utc_suffix};

/// A model field and the source columns that fill it.
#[derive(Debug)]
pub(crate) struct FieldSpec {
    /// Schema name, snake_case.
    pub name: &'static str,
    /// Value type.
    pub ty: FieldType,
    /// True when the value is a list (split from one cell or taken from a JSON array).
    pub list: bool,
    /// Other query names of the field.
    pub aliases: &'static [&'static str],
    /// Source column names, in order of preference, compared by normalized name (letters and
    /// digits, case-insensitive). The first non-blank one fills the field.
    pub columns: &'static [&'static str],
}

const fn spec(name: &'static str, ty: FieldType, columns: &'static [&'static str]) -> FieldSpec {
    FieldSpec { name, ty, list: false, aliases: &[], columns }
}

const fn list(name: &'static str, ty: FieldType, columns: &'static [&'static str]) -> FieldSpec {
    FieldSpec { name, ty, list: true, aliases: &[], columns }
}

use FieldType::{Date, Enum, Integer, Keyword, Text};

/// Alert fields. Advanced Hunting `AlertInfo`/`AlertEvidence`, Graph `alert`, Security &
/// Compliance alerts and AIR investigations (whose `Data` object is searched too) fill them.
pub(crate) const ALERT_FIELDS: &[FieldSpec] = &[
    spec(
        "created",
        Date,
        &[
            "Timestamp",
            "createdDateTime",
            "Created",
            "CreationTime",
            "AlertCreationTime",
            "TimeGenerated",
            "Date",
        ],
    ),
    spec("title", Text, &["Title", "AlertDisplayName", "AlertName", "Name", "DisplayName"]),
    spec("severity", Enum, &["Severity", "AlertSeverity"]),
    spec("status", Enum, &["Status", "AlertStatus"]),
    spec("category", Enum, &["Category", "Categories", "AlertCategory"]),
    spec("source", Keyword, &["ServiceSource", "Source", "ProductName", "ProviderName"]),
    spec("detection_source", Keyword, &["DetectionSource", "DetectionTechnology"]),
    spec("alert_id", Keyword, &["AlertId", "ProviderAlertId", "SystemAlertId", "Id"]),
    spec("classification", Enum, &["Classification"]),
    spec("determination", Enum, &["Determination"]),
    spec("description", Text, &["Description", "AlertDescription"]),
    list("techniques", Keyword, &["AttackTechniques", "mitreTechniques", "Techniques"]),
    spec("incident_id", Keyword, &["IncidentId"]),
    spec("entity_type", Keyword, &["EntityType"]),
    spec("evidence_role", Enum, &["EvidenceRole"]),
    spec("assigned_to", Keyword, &["AssignedTo"]),
    spec(
        "last_updated",
        Date,
        &["lastUpdateDateTime", "LastUpdateTimeUtc", "LastUpdateTime", "LastModifiedDateTime"],
    ),
    spec("investigation_id", Keyword, &["InvestigationId"]),
    spec("investigation_type", Keyword, &["InvestigationType"]),
    spec("network_message_id", Keyword, &["NetworkMessageId"]),
];

/// Email fields. Advanced Hunting `EmailEvents`, Threat Explorer exports, `TIMailData` records
/// and Graph `analyzedEmail` fill them.
pub(crate) const EMAIL_FIELDS: &[FieldSpec] = &[
    spec(
        "received",
        Date,
        &[
            "Timestamp",
            "receivedDateTime",
            "ReceivedDate",
            "Date",
            "MessageTime",
            "loggedDateTime",
            "ReceivedTime",
            "DateTime",
            "CreationTime",
            "time",
        ],
    ),
    spec("subject", Text, &["Subject", "EmailSubject"]),
    spec("network_message_id", Keyword, &["NetworkMessageId"]),
    spec("internet_message_id", Keyword, &["InternetMessageId"]),
    spec(
        "direction",
        Enum,
        &["EmailDirection", "Directionality", "Direction", "AntispamDirection"],
    ),
    spec("delivery_action", Enum, &["DeliveryAction"]),
    spec("latest_delivery_action", Enum, &["LatestDeliveryAction"]),
    spec("delivery_location", Enum, &["LatestDeliveryLocation", "DeliveryLocation"]),
    spec("original_delivery_location", Enum, &["OriginalDeliveryLocation", "DeliveryLocation"]),
    FieldSpec {
        name: "threat_types",
        ty: Enum,
        list: true,
        aliases: &["threat_type"],
        columns: &["ThreatTypes", "ThreatType", "Threats"],
    },
    list("threat_names", Keyword, &["ThreatNames", "ThreatName"]),
    list(
        "detection_methods",
        Keyword,
        &["DetectionMethods", "DetectionTechnology", "DetectionMethod", "ThreatDetectionMethods"],
    ),
    spec("verdict", Enum, &["Verdict", "FinalVerdict"]),
    list("confidence", Keyword, &["ConfidenceLevel", "PhishConfidenceLevel", "Confidence"]),
    spec("cluster_id", Keyword, &["EmailClusterId", "ClusterId"]),
    spec("attachment_count", Integer, &["AttachmentCount", "AttachmentsCount"]),
    spec("url_count", Integer, &["UrlCount"]),
    spec("bulk_complaint_level", Integer, &["BulkComplaintLevel", "BCL"]),
    spec("sender_ip", Keyword, &["SenderIPv4", "SenderIp", "SenderIPv6"]),
    spec("policy", Keyword, &["Policy", "EmailActionPolicy", "PolicyType"]),
    spec("policy_action", Keyword, &["PolicyAction", "EmailAction"]),
    spec("language", Keyword, &["EmailLanguage", "MailLanguage", "Language"]),
    spec("detection_type", Keyword, &["DetectionType"]),
];

/// Campaign fields, filled from campaign list and campaign detail exports.
pub(crate) const CAMPAIGN_FIELDS: &[FieldSpec] = &[
    spec(
        "created",
        Date,
        &[
            "Created",
            "createdDateTime",
            "FirstSeen",
            "StartDate",
            "StartTime",
            "Start",
            "Date",
            "Timestamp",
        ],
    ),
    spec("campaign_id", Keyword, &["CampaignId", "Id"]),
    spec("name", Text, &["Name", "CampaignName"]),
    spec("type", Enum, &["Type", "CampaignType"]),
    spec("subtype", Keyword, &["Subtype", "CampaignSubtype"]),
    spec("last_seen", Date, &["LastSeen", "EndDate", "EndTime", "End", "LastActivity"]),
    spec(
        "email_count",
        Integer,
        &["EmailCount", "MessageCount", "Messages", "MailCount", "Emails"],
    ),
    spec("recipient_count", Integer, &["RecipientCount", "Recipients", "TargetedRecipients"]),
    spec("subject", Text, &["SampleSubject", "Subject"]),
    spec("inboxed_count", Integer, &["Inboxed", "InboxedCount"]),
    spec("clicked_count", Integer, &["Clicked", "ClickedLink", "ClickedCount"]),
    spec("visited_count", Integer, &["Visited", "VisitedLink", "VisitedCount"]),
];

/// Returns the model field specifications of a kind.
pub(crate) fn field_specs(kind: RecordKind) -> &'static [FieldSpec] {
    match kind {
        RecordKind::Alert => ALERT_FIELDS,
        RecordKind::Email => EMAIL_FIELDS,
        RecordKind::Campaign => CAMPAIGN_FIELDS,
    }
}

/// Returns the schema name of the field that gives a record of this kind its time.
pub(crate) fn time_field(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Alert | RecordKind::Campaign => "created",
        RecordKind::Email => "received",
    }
}

/// Returns true when `column` equals a model field name of the kind, ignoring ASCII case.
/// Such a column is served by the model field and is not kept under its own name.
pub(crate) fn is_model_name(kind: RecordKind, column: &str) -> bool {
    field_specs(kind).iter().any(|f| f.name.eq_ignore_ascii_case(column))
}

/// Returns the names of a kind's model fields in sorted order.
pub fn model_field_names(kind: RecordKind) -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<[Vec<&'static str>; 3]> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        [RecordKind::Alert, RecordKind::Email, RecordKind::Campaign].map(|kind| {
            let mut names: Vec<&'static str> = field_specs(kind).iter().map(|f| f.name).collect();
            names.sort_unstable();
            names
        })
    });
    let slot = match kind {
        RecordKind::Alert => 0,
        RecordKind::Email => 1,
        RecordKind::Campaign => 2,
    };
    names.get(slot).map_or(&[], Vec::as_slice)
}

/// Returns the schema of a kind's model fields: names, types, aliases, roles and the fields
/// that free text searches (alert `title` and `description`, email `subject`, campaign
/// `name`).
pub fn model_schema(kind: RecordKind) -> Schema {
    let fields =
        field_specs(kind).iter().map(|f| FieldDef::model(f.name, f.ty, f.aliases)).collect();
    let default_text: &[&str] = match kind {
        RecordKind::Alert => &["title", "description"],
        RecordKind::Email => &["subject"],
        RecordKind::Campaign => &["name"],
    };
    Schema {
        kind_name: kind.as_str().to_string(),
        fields,
        roles: kind.roles().to_vec(),
        default_text: default_text.iter().map(|s| s.to_string()).collect(),
    }
}

/// Returns the model schema plus one field per source column, typed by [`column_type`].
///
/// A column is left out when a model field already has its name or one of its aliases
/// (ignoring case), because the model field serves it, and when an earlier column has the same
/// name.
pub fn schema_for(kind: RecordKind, columns: &[String]) -> Schema {
    let mut schema = model_schema(kind);
    for column in columns {
        if schema.field(column).is_some() {
            continue;
        }
        schema.fields.push(FieldDef {
            name: column.clone(),
            ty: column_type(column),
            aliases: Vec::new(),
            source: FieldSource::Column,
        });
    }
    schema
}

/// Normalized names (letters and digits, lower case) of the columns that hold timestamps.
const TIME_COLUMNS: &[&str] = &[
    "timestamp",
    "time",
    "timegenerated",
    "creationtime",
    "messagetime",
    "date",
    "datetime",
    "receiveddate",
    "receiveddatetime",
    "receivedtime",
    "createddatetime",
    "createdtime",
    "created",
    "lastupdatedatetime",
    "lastupdatetime",
    "lastupdatetimeutc",
    "lastmodifieddatetime",
    "firstactivitydatetime",
    "lastactivitydatetime",
    "resolveddatetime",
    "loggeddatetime",
    "starttimeutc",
    "endtimeutc",
    "starttime",
    "endtime",
    "startdate",
    "enddate",
    "firstseen",
    "lastseen",
    "alertcreationtime",
    "processingendtime",
    "logcreationtime",
    "timestamputc",
    "querytime",
    "querystarttime",
    "clusterquerystarttime",
    "clusterqueryendtime",
];

/// Normalized names of text columns: prose that queries match word by word.
const TEXT_COLUMNS: &[&str] = &[
    "subject",
    "emailsubject",
    "title",
    "description",
    "samplesubject",
    "alertdisplayname",
    "investigationname",
    "senderdisplayname",
    "p2senderdisplayname",
    "comments",
];

/// Normalized names of the columns whose cells contain several values.
const LIST_COLUMNS: &[&str] = &[
    "threattypes",
    "threattype",
    "threatnames",
    "detectionmethods",
    "detectiontechnology",
    "recipients",
    "recipient",
    "to",
    "cc",
    "bcc",
    "tags",
    "context",
    "additionalactions",
    "categories",
    "attacktechniques",
    "threatclassification",
];

/// The value type of a source column, and whether its cells contain lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ColumnKind {
    /// The value type.
    pub ty: FieldType,
    /// True for columns whose cells contain several values (`ThreatTypes`, `Recipients`).
    pub list: bool,
}

/// Maximum number of column names that [`column_kind`] caches per thread. The cache is
/// cleared when full, so JSON inputs with ever-new key names cannot grow it without bound.
const COLUMN_CACHE_SIZE: usize = 4096;

thread_local! {
    static COLUMN_KINDS: RefCell<HashMap<String, ColumnKind>> = RefCell::new(HashMap::new());
}

/// Classifies a source column by its name. Results are cached per thread, because every row
/// of an input repeats the same column names.
pub(crate) fn column_kind(column: &str) -> ColumnKind {
    let cached = COLUMN_KINDS.with(|cache| cache.borrow().get(column).copied());
    if let Some(kind) = cached {
        return kind;
    }
    let kind = classify_column(column);
    COLUMN_KINDS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= COLUMN_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(column.to_string(), kind);
    });
    kind
}

/// Classifies a source column by its name, normalizing the name once.
fn classify_column(column: &str) -> ColumnKind {
    let base = strip_utc_suffix(column).trim();
    let normalized = normalized_name(base);
    ColumnKind { ty: type_of(base, &normalized), list: LIST_COLUMNS.contains(&normalized.as_str()) }
}

/// Returns the type of a source column from its name.
///
/// - `Date`: the common time columns (`Timestamp`, `CreationTime`, `MessageTime`,
///   `createdDateTime`, `StartTimeUtc`, `Date`, ...), and Log Analytics `_t` columns.
/// - `Integer`: names ending in `Count` or `Size` (`AttachmentCount`, `FileSize`), and
///   `BulkComplaintLevel`.
/// - `Float`: Log Analytics `_d` columns.
/// - `Boolean`: Log Analytics `_b` columns and names of the form `IsXxx` (`IsClickedThrough`).
/// - `Text`: subjects, titles, descriptions and display names.
/// - `Keyword`: everything else.
pub fn column_type(column: &str) -> FieldType {
    column_kind(column).ty
}

fn type_of(base: &str, normalized: &str) -> FieldType {
    if has_suffix_ignoring_case(base, "_t") || TIME_COLUMNS.contains(&normalized) {
        FieldType::Date
    } else if has_suffix_ignoring_case(base, "_b") || is_flag_name(base) {
        FieldType::Boolean
    } else if has_suffix_ignoring_case(base, "_d") {
        FieldType::Float
    } else if normalized.ends_with("count")
        || normalized.ends_with("size")
        || normalized == "bulkcomplaintlevel"
    {
        FieldType::Integer
    } else if TEXT_COLUMNS.contains(&normalized) {
        FieldType::Text
    } else {
        FieldType::Keyword
    }
}

fn has_suffix_ignoring_case(text: &str, suffix: &str) -> bool {
    let split = text.len().saturating_sub(suffix.len());
    text.get(split..).is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// Returns true for names such as `IsClickedThrough` or `isIncident`.
fn is_flag_name(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_with_is = matches!((chars.next(), chars.next()), (Some('I' | 'i'), Some('s')));
    starts_with_is && chars.next().is_some_and(|c| c.is_ascii_uppercase() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Role;

    #[test]
    fn model_schema_email_fields_and_roles() {
        let schema = model_schema(RecordKind::Email);
        assert_eq!(schema.kind_name, "email");
        assert_eq!(schema.roles, vec![Role::Sender, Role::Recipient]);
        assert_eq!(schema.default_text, vec!["subject"]);
        assert_eq!(schema.field("received").map(|f| f.ty), Some(FieldType::Date));
        assert_eq!(schema.field("threat_type").map(|f| f.name.as_str()), Some("threat_types"));
        assert_eq!(schema.field("bulk_complaint_level").map(|f| f.ty), Some(FieldType::Integer));
        assert_eq!(schema.field("direction").map(|f| f.ty), Some(FieldType::Enum));
    }

    #[test]
    fn model_schema_alert_and_campaign() {
        let alert = model_schema(RecordKind::Alert);
        assert_eq!(alert.roles, vec![Role::User]);
        assert_eq!(alert.default_text, vec!["title", "description"]);
        assert_eq!(alert.field("severity").map(|f| f.ty), Some(FieldType::Enum));
        assert_eq!(alert.field("created").map(|f| f.ty), Some(FieldType::Date));
        let campaign = model_schema(RecordKind::Campaign);
        assert_eq!(campaign.roles, vec![Role::Recipient, Role::Sender]);
        assert_eq!(campaign.default_text, vec!["name"]);
        assert_eq!(campaign.field("recipient_count").map(|f| f.ty), Some(FieldType::Integer));
    }

    #[test]
    fn model_field_names_unique_per_kind() {
        for kind in RecordKind::ALL {
            let schema = model_schema(kind);
            for (i, field) in schema.fields.iter().enumerate() {
                let clash = schema.fields.iter().skip(i + 1).any(|f| f.is_named(&field.name));
                assert!(!clash, "{kind}: {} defined twice", field.name);
            }
        }
    }

    #[test]
    fn schema_for_typed_columns() {
        let columns: Vec<String> =
            ["Timestamp", "Subject", "AttachmentCount", "SenderFromAddress", "subject", "Tags"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let schema = schema_for(RecordKind::Email, &columns);
        let column = |name: &str| schema.fields.iter().find(|f| f.name == name);
        assert_eq!(
            column("Timestamp").map(|f| (f.ty, f.source)),
            Some((Date, FieldSource::Column))
        );
        assert_eq!(column("AttachmentCount").map(|f| f.ty), Some(Integer));
        assert_eq!(column("SenderFromAddress").map(|f| f.ty), Some(Keyword));
        assert!(column("Subject").is_none());
        assert!(column("subject").is_some_and(|f| f.source == FieldSource::Model));
        let model_count = model_schema(RecordKind::Email).fields.len();
        assert_eq!(schema.fields.len(), model_count + 4);
    }

    #[test]
    fn column_types_from_names() {
        assert_eq!(column_type("Timestamp"), Date);
        assert_eq!(column_type("CreationTime"), Date);
        assert_eq!(column_type("TimeGenerated [UTC]"), Date);
        assert_eq!(column_type("LastDirSyncTime_t [UTC]"), Date);
        assert_eq!(column_type("FileSize"), Integer);
        assert_eq!(column_type("URL Count"), Integer);
        assert_eq!(column_type("Subject"), Text);
        assert_eq!(column_type("Title"), Text);
        assert_eq!(column_type("IsClickedThrough"), FieldType::Boolean);
        assert_eq!(column_type("AccountEnabled_b"), FieldType::Boolean);
        assert_eq!(column_type("Issuer"), Keyword);
        assert_eq!(column_type("RunningTime"), Keyword);
        assert_eq!(column_type("SenderFromAddress"), Keyword);
    }
}
