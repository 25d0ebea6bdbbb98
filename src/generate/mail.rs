//! Emails and alerts: one chunk of rows at a time, each chunk from its own random stream.
//!
//! A message has 1 plus a geometric number of recipients (mean 1.6) drawn with Zipf weights,
//! or, for 0.1 % of messages, 100 to 5,000 uniformly drawn recipients (a blast). It becomes
//! one `EmailEvents` row per recipient. 0.5 % of messages raise an alert, written as one
//! `AlertEvidence` row per named user (1 to 20 users, the message's recipients first). Some
//! messages belong to a campaign and share its `EmailClusterId`.

use std::collections::HashSet;

use super::format::{push_csv_field, push_guid, push_int, push_json_str, push_timestamp};
use super::people::{push_user_address, push_user_display_name, push_user_id};
use super::rng::{Rng, Zipf, mix};
use super::{Layout, RowFormat};

/// Share of messages sent to 100–5,000 recipients.
const BLAST_SHARE: f64 = 0.001;
/// Probability of one more recipient, so that extras are geometric with mean 0.6.
const EXTRA_RECIPIENT: f64 = 0.375;
/// Share of messages with an external sender.
const EXTERNAL_SHARE: f64 = 0.95;
/// Share of messages that raise an alert.
const ALERT_SHARE: f64 = 0.005;
/// Share of external messages that belong to a campaign.
const CAMPAIGN_SHARE: f64 = 0.2;
/// Alerts follow their message by five minutes.
const ALERT_DELAY_MS: u64 = 5 * 60_000;
/// The first `EmailClusterId` of campaigns; other messages get smaller cluster ids.
pub(crate) const CAMPAIGN_CLUSTER_BASE: u64 = 4_000_000_000;

/// The tenant id written in every streaming envelope.
const TENANT_ID: &str = "c0a7f1e2-5b6d-4e8f-9a1b-2c3d4e5f6a7b";

const SUBJECTS: [&str; 12] = [
    "Invoice overdue: wire transfer needed",
    "Weekly digest, this week's news",
    "Your package could not be delivered",
    "Meeting notes from Tuesday",
    "Action required: verify your account",
    "Quarterly results",
    "Updated payroll details",
    "Shared document: Budget 2027.xlsx",
    "Re: project plan",
    "Password expires today",
    "Team lunch on Friday",
    "Security alert for your mailbox",
];
const SENDER_NAMES: [&str; 10] = [
    "billing", "news", "noreply", "support", "hr", "info", "alerts", "accounts", "invoice", "team",
];
const ALERT_TITLES: [&str; 5] = [
    "Email messages containing malicious URL removed after delivery",
    "Phish delivered due to an IP allow policy",
    "A potentially malicious URL click was detected",
    "User reported a message as phish",
    "Email messages containing malware removed after delivery",
];
const SEVERITIES: [(&str, f64); 4] =
    [("High", 0.2), ("Medium", 0.4), ("Low", 0.3), ("Informational", 0.1)];

/// Threat types with their share, their `DetectionMethods` JSON and the delivery actions
/// (action, location, probability) they lead to.
struct Threat {
    types: &'static str,
    share: f64,
    methods: &'static str,
    deliveries: &'static [(&'static str, &'static str, f64)],
}

const THREATS: [Threat; 5] = [
    Threat {
        types: "",
        share: 0.85,
        methods: "",
        deliveries: &[("Delivered", "Inbox/folder", 0.99), ("Junked", "Junk folder", 0.01)],
    },
    Threat {
        types: "Spam",
        share: 0.09,
        methods: r#"{"Spam":["Advanced filter"]}"#,
        deliveries: &[
            ("Junked", "Junk folder", 0.8),
            ("Blocked", "Quarantine", 0.1),
            ("Delivered", "Inbox/folder", 0.1),
        ],
    },
    Threat {
        types: "Phish",
        share: 0.04,
        methods: r#"{"Phish":["URL detonation reputation"]}"#,
        deliveries: &[
            ("Blocked", "Quarantine", 0.6),
            ("Delivered", "Inbox/folder", 0.3),
            ("Junked", "Junk folder", 0.1),
        ],
    },
    Threat {
        types: "Malware",
        share: 0.01,
        methods: r#"{"Malware":["File detonation"]}"#,
        deliveries: &[("Blocked", "Quarantine", 0.9), ("Replaced", "Inbox/folder", 0.1)],
    },
    Threat {
        types: "Phish,Spam",
        share: 0.01,
        methods: r#"{"Phish":["Impersonation user"],"Spam":["Bulk"]}"#,
        deliveries: &[("Blocked", "Quarantine", 0.7), ("Junked", "Junk folder", 0.3)],
    },
];

/// Column names of `EmailEvents` rows, in output order.
pub(crate) const EMAIL_COLUMNS: [&str; 20] = [
    "Timestamp",
    "NetworkMessageId",
    "InternetMessageId",
    "SenderMailFromAddress",
    "SenderFromAddress",
    "SenderDisplayName",
    "SenderObjectId",
    "SenderIPv4",
    "RecipientEmailAddress",
    "RecipientObjectId",
    "Subject",
    "EmailClusterId",
    "EmailDirection",
    "DeliveryAction",
    "DeliveryLocation",
    "ThreatTypes",
    "DetectionMethods",
    "AttachmentCount",
    "UrlCount",
    "EmailLanguage",
];

/// Column names of `AlertEvidence` rows, in output order.
pub(crate) const ALERT_COLUMNS: [&str; 14] = [
    "Timestamp",
    "AlertId",
    "Title",
    "Categories",
    "ServiceSource",
    "DetectionSource",
    "EntityType",
    "EvidenceRole",
    "AccountUpn",
    "AccountObjectId",
    "NetworkMessageId",
    "EmailSubject",
    "AdditionalFields",
    "Severity",
];

/// Everything a chunk needs to know about the whole dataset.
pub(crate) struct MailPlan<'a> {
    pub seed: u64,
    pub users: u64,
    pub total_rows: u64,
    pub start_ms: u64,
    pub span_ms: u64,
    pub campaigns: u64,
    pub layout: Layout,
    pub recipient_zipf: &'a Zipf,
    pub campaign_zipf: &'a Zipf,
}

/// Per-campaign totals of one chunk.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CampaignStats {
    pub messages: u64,
    pub rows: u64,
    pub first_ms: u64,
    pub last_ms: u64,
    pub subject: usize,
    pub threat: usize,
}

impl CampaignStats {
    /// Adds a later chunk's totals.
    pub fn merge(&mut self, later: &CampaignStats) {
        if later.messages == 0 {
            return;
        }
        if self.messages == 0 {
            *self = *later;
            return;
        }
        self.messages += later.messages;
        self.rows += later.rows;
        self.last_ms = later.last_ms;
    }
}

/// The output of one chunk.
pub(crate) struct Chunk {
    pub emails: Vec<u8>,
    pub alerts: Vec<u8>,
    pub rows: u64,
    pub messages: u64,
    pub blasts: u64,
    pub alert_count: u64,
    pub alert_rows: u64,
    pub campaigns: Vec<CampaignStats>,
}

/// One message, shared by its rows.
struct Message<'p> {
    id: (u64, u64),
    time_ms: u64,
    sender: Sender,
    subject: &'static str,
    cluster: u64,
    threat: &'p Threat,
    delivery: (&'static str, &'static str),
    attachments: u64,
    urls: u64,
    ip: u32,
    campaign: Option<u64>,
}

enum Sender {
    External { name: usize, domain: u64 },
    Internal(u64),
}

/// Stream number of the email chunks.
const STREAM_EMAILS: u64 = 2;

impl Chunk {
    /// Creates an empty chunk with room for the totals of `campaigns` campaigns.
    pub fn new(campaigns: u64) -> Chunk {
        Chunk {
            emails: Vec::new(),
            alerts: Vec::new(),
            rows: 0,
            messages: 0,
            blasts: 0,
            alert_count: 0,
            alert_rows: 0,
            campaigns: vec![CampaignStats::default(); campaigns as usize],
        }
    }

    /// Empties the chunk, keeping its buffers' memory for the next one.
    fn clear(&mut self) {
        self.emails.clear();
        self.alerts.clear();
        self.rows = 0;
        self.messages = 0;
        self.blasts = 0;
        self.alert_count = 0;
        self.alert_rows = 0;
        self.campaigns.fill(CampaignStats::default());
    }
}

/// Generates chunk `index`, which contains rows `first_row..first_row + rows`, into `chunk`.
pub(crate) fn generate_chunk(
    plan: &MailPlan,
    index: u64,
    first_row: u64,
    rows: u64,
    chunk: &mut Chunk,
) {
    chunk.clear();
    let mut rng = Rng::for_stream(plan.seed, STREAM_EMAILS, index);
    let mut recipients = Vec::new();
    while chunk.rows < rows {
        let row = first_row + chunk.rows;
        let time_ms = plan.start_ms
            + (u128::from(row) * u128::from(plan.span_ms) / u128::from(plan.total_rows.max(1)))
                as u64;
        let blast = draw_recipients(&mut rng, plan, &mut recipients);
        recipients.truncate((rows - chunk.rows) as usize);
        let message = draw_message(&mut rng, plan, index, chunk.messages, time_ms, chunk);
        for recipient in &recipients {
            push_email_row(&mut chunk.emails, plan.layout, &message, *recipient);
        }
        chunk.rows += recipients.len() as u64;
        if let Some(stats) = message.campaign.and_then(|c| chunk.campaigns.get_mut(c as usize)) {
            stats.rows += recipients.len() as u64;
        }
        chunk.messages += 1;
        chunk.blasts += u64::from(blast);
        if rng.chance(ALERT_SHARE) {
            push_alert(&mut rng, plan, &message, &recipients, chunk);
        }
    }
}

/// Fills `recipients` with distinct users and returns true for a blast.
fn draw_recipients(rng: &mut Rng, plan: &MailPlan, recipients: &mut Vec<u64>) -> bool {
    recipients.clear();
    if rng.chance(BLAST_SHARE) {
        let count = rng.between(100, 5_000).min(plan.users);
        let mut seen = HashSet::with_capacity(count as usize);
        while (seen.len() as u64) < count {
            let user = rng.below(plan.users);
            if seen.insert(user) {
                recipients.push(user);
            }
        }
        return true;
    }
    let expected = (1 + rng.geometric(EXTRA_RECIPIENT, 50)).min(plan.users);
    let mut attempts = 0;
    while (recipients.len() as u64) < expected && attempts < 100 {
        let user = plan.recipient_zipf.sample(rng);
        if !recipients.contains(&user) {
            recipients.push(user);
        }
        attempts += 1;
    }
    false
}

fn draw_message<'p>(
    rng: &mut Rng,
    plan: &MailPlan,
    chunk_index: u64,
    local: u64,
    time_ms: u64,
    chunk: &mut Chunk,
) -> Message<'p> {
    let sequence = (chunk_index << 32) | local;
    let id = (mix(mix(plan.seed ^ STREAM_EMAILS) ^ sequence), sequence);
    let external = rng.chance(EXTERNAL_SHARE);
    let campaign = (external && plan.campaigns > 0 && rng.chance(CAMPAIGN_SHARE))
        .then(|| plan.campaign_zipf.sample(rng));
    let threat = match campaign {
        Some(c) => &THREATS[1 + (mix(c) % 4) as usize],
        None if external => pick_threat(rng),
        None => &THREATS[0],
    };
    let sender = match campaign {
        Some(c) => Sender::External { name: (c % 10) as usize, domain: c },
        None if external => Sender::External {
            name: rng.below(SENDER_NAMES.len() as u64) as usize,
            domain: 5_000 + rng.below(20_000),
        },
        None => Sender::Internal(plan.recipient_zipf.sample(rng)),
    };
    let subject_index = match campaign {
        Some(c) => (mix(c ^ 1) % SUBJECTS.len() as u64) as usize,
        None => rng.below(SUBJECTS.len() as u64) as usize,
    };
    let cluster = match campaign {
        Some(c) => CAMPAIGN_CLUSTER_BASE + c,
        None => 1_000_000_000 + rng.below(3_000_000_000),
    };
    let message = Message {
        id,
        time_ms,
        sender,
        subject: SUBJECTS[subject_index],
        cluster,
        threat,
        delivery: pick_delivery(rng, threat),
        attachments: rng.geometric(0.3, 10),
        urls: rng.geometric(0.5, 30),
        ip: rng.next_u64() as u32,
        campaign,
    };
    if let Some(stats) = campaign.and_then(|c| chunk.campaigns.get_mut(c as usize)) {
        if stats.messages == 0 {
            stats.first_ms = time_ms;
            stats.subject = subject_index;
            stats.threat = THREATS.iter().position(|t| t.types == threat.types).unwrap_or(0);
        }
        stats.messages += 1;
        stats.last_ms = time_ms;
    }
    message
}

fn pick_threat(rng: &mut Rng) -> &'static Threat {
    let mut u = rng.unit();
    for threat in &THREATS {
        if u < threat.share {
            return threat;
        }
        u -= threat.share;
    }
    &THREATS[0]
}

fn pick_delivery(rng: &mut Rng, threat: &Threat) -> (&'static str, &'static str) {
    let mut u = rng.unit();
    for (action, location, share) in threat.deliveries {
        if u < *share {
            return (action, location);
        }
        u -= share;
    }
    ("Delivered", "Inbox/folder")
}

/// Returns the threat types of a campaign, by its index into the threat table.
pub(crate) fn threat_types(index: usize) -> &'static str {
    THREATS.get(index).map_or("", |t| t.types)
}

/// Returns a subject by index.
pub(crate) fn subject(index: usize) -> &'static str {
    SUBJECTS.get(index).copied().unwrap_or("")
}

/// One output value: the JSON and CSV forms differ for null, numbers and strings.
enum Value<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    Int(u64),
    Null,
}

/// Writes named values in the layout's row format.
struct RowWriter<'o> {
    out: &'o mut Vec<u8>,
    format: RowFormat,
    first: bool,
}

impl<'o> RowWriter<'o> {
    fn start(out: &'o mut Vec<u8>, layout: Layout, table: &str, time_ms: u64) -> RowWriter<'o> {
        match layout.format {
            RowFormat::Csv => {}
            RowFormat::Ndjson if layout.envelope => {
                out.extend_from_slice(b"{\"time\":\"");
                push_timestamp(out, time_ms);
                out.extend_from_slice(b"\",\"tenantId\":\"");
                out.extend_from_slice(TENANT_ID.as_bytes());
                out.extend_from_slice(b"\",\"operationName\":\"Publish\",\"category\":\"");
                out.extend_from_slice(b"AdvancedHunting-");
                out.extend_from_slice(table.as_bytes());
                out.extend_from_slice(b"\",\"properties\":{");
            }
            RowFormat::Ndjson => out.push(b'{'),
        }
        RowWriter { out, format: layout.format, first: true }
    }

    fn field(&mut self, name: &str, value: Value) {
        let out = &mut *self.out;
        match self.format {
            RowFormat::Csv => {
                if !self.first {
                    out.push(b',');
                }
                match value {
                    Value::Text(text) => push_csv_field(out, text),
                    Value::Bytes(bytes) => out.extend_from_slice(bytes),
                    Value::Int(number) => push_int(out, number),
                    Value::Null => {}
                }
            }
            RowFormat::Ndjson => {
                if !self.first {
                    out.push(b',');
                }
                push_json_str(out, name);
                out.push(b':');
                match value {
                    Value::Text(text) => push_json_str(out, text),
                    Value::Bytes(bytes) => {
                        out.push(b'"');
                        out.extend_from_slice(bytes);
                        out.push(b'"');
                    }
                    Value::Int(number) => push_int(out, number),
                    Value::Null => out.extend_from_slice(b"null"),
                }
            }
        }
        self.first = false;
    }

    fn finish(self, envelope: bool) {
        match self.format {
            RowFormat::Csv => {}
            RowFormat::Ndjson if envelope => self.out.extend_from_slice(b"}}"),
            RowFormat::Ndjson => self.out.push(b'}'),
        }
        self.out.push(b'\n');
    }
}

/// Formats a value into `scratch` and returns its bytes; the values formatted this way hold
/// no character that needs escaping.
fn formatted(scratch: &mut Vec<u8>, build: impl FnOnce(&mut Vec<u8>)) -> &[u8] {
    scratch.clear();
    build(scratch);
    scratch
}

fn push_email_row(out: &mut Vec<u8>, layout: Layout, message: &Message, recipient: u64) {
    let mut scratch = Vec::with_capacity(64);
    let mut row = RowWriter::start(out, layout, "EmailEvents", message.time_ms);
    row.field(
        "Timestamp",
        Value::Bytes(formatted(&mut scratch, |s| push_timestamp(s, message.time_ms))),
    );
    let (high, low) = message.id;
    row.field(
        "NetworkMessageId",
        Value::Bytes(formatted(&mut scratch, |s| push_guid(s, high, low))),
    );
    let internet_id = formatted(&mut scratch, |s| {
        s.push(b'<');
        push_int(s, high);
        s.push(b'.');
        push_int(s, low);
        s.push(b'@');
        push_sender_domain(s, &message.sender);
        s.push(b'>');
    })
    .to_vec();
    row.field("InternetMessageId", Value::Bytes(&internet_id));
    let sender = formatted(&mut scratch, |s| push_sender_address(s, &message.sender)).to_vec();
    row.field("SenderMailFromAddress", Value::Bytes(&sender));
    row.field("SenderFromAddress", Value::Bytes(&sender));
    let display = formatted(&mut scratch, |s| push_sender_display(s, &message.sender)).to_vec();
    row.field("SenderDisplayName", Value::Bytes(&display));
    match message.sender {
        Sender::Internal(user) => row.field(
            "SenderObjectId",
            Value::Bytes(formatted(&mut scratch, |s| push_user_id(s, user))),
        ),
        Sender::External { .. } => row.field("SenderObjectId", Value::Null),
    }
    row.field("SenderIPv4", Value::Bytes(formatted(&mut scratch, |s| push_ip(s, message.ip))));
    row.field(
        "RecipientEmailAddress",
        Value::Bytes(formatted(&mut scratch, |s| push_user_address(s, recipient))),
    );
    row.field(
        "RecipientObjectId",
        Value::Bytes(formatted(&mut scratch, |s| push_user_id(s, recipient))),
    );
    row.field("Subject", Value::Text(message.subject));
    row.field("EmailClusterId", Value::Int(message.cluster));
    let direction = match message.sender {
        Sender::Internal(_) => "Intra-org",
        Sender::External { .. } => "Inbound",
    };
    row.field("EmailDirection", Value::Text(direction));
    row.field("DeliveryAction", Value::Text(message.delivery.0));
    row.field("DeliveryLocation", Value::Text(message.delivery.1));
    row.field("ThreatTypes", Value::Text(message.threat.types));
    row.field("DetectionMethods", Value::Text(message.threat.methods));
    row.field("AttachmentCount", Value::Int(message.attachments));
    row.field("UrlCount", Value::Int(message.urls));
    row.field("EmailLanguage", Value::Text("en"));
    row.finish(layout.envelope);
}

fn push_sender_domain(out: &mut Vec<u8>, sender: &Sender) {
    match sender {
        Sender::External { domain, .. } => {
            out.extend_from_slice(b"ext");
            push_int(out, *domain);
            out.extend_from_slice(b".test");
        }
        Sender::Internal(_) => out.extend_from_slice(super::people::DOMAIN.as_bytes()),
    }
}

fn push_sender_address(out: &mut Vec<u8>, sender: &Sender) {
    match sender {
        Sender::External { name, .. } => {
            out.extend_from_slice(SENDER_NAMES[*name % SENDER_NAMES.len()].as_bytes());
            out.push(b'@');
            push_sender_domain(out, sender);
        }
        Sender::Internal(user) => push_user_address(out, *user),
    }
}

fn push_sender_display(out: &mut Vec<u8>, sender: &Sender) {
    match sender {
        Sender::External { name, domain } => {
            out.extend_from_slice(b"Ext");
            push_int(out, *domain);
            out.push(b' ');
            out.extend_from_slice(SENDER_NAMES[*name % SENDER_NAMES.len()].as_bytes());
        }
        Sender::Internal(user) => push_user_display_name(out, *user),
    }
}

fn push_ip(out: &mut Vec<u8>, ip: u32) {
    for (position, octet) in ip.to_be_bytes().iter().enumerate() {
        if position > 0 {
            out.push(b'.');
        }
        push_int(out, u64::from(*octet));
    }
}

/// Writes one alert about `message`: one `AlertEvidence` row per named user.
fn push_alert(
    rng: &mut Rng,
    plan: &MailPlan,
    message: &Message,
    recipients: &[u64],
    chunk: &mut Chunk,
) {
    let expected = rng.between(1, 20).min(plan.users) as usize;
    let mut named: Vec<u64> = recipients.iter().copied().take(expected).collect();
    let mut attempts = 0;
    while named.len() < expected && attempts < 200 {
        let user = plan.recipient_zipf.sample(rng);
        if !named.contains(&user) {
            named.push(user);
        }
        attempts += 1;
    }
    let title = ALERT_TITLES[rng.below(ALERT_TITLES.len() as u64) as usize];
    let severity = pick_severity(rng);
    let (high, low) = message.id;
    let mut alert_id = b"fa".to_vec();
    alert_id.extend_from_slice(format!("{:016x}{:08x}", mix(high ^ 0xa1e7), low).as_bytes());
    let time_ms = message.time_ms + ALERT_DELAY_MS;
    let mut scratch = Vec::with_capacity(64);
    for user in &named {
        let mut row = RowWriter::start(&mut chunk.alerts, plan.layout, "AlertEvidence", time_ms);
        row.field(
            "Timestamp",
            Value::Bytes(formatted(&mut scratch, |s| push_timestamp(s, time_ms))),
        );
        row.field("AlertId", Value::Bytes(&alert_id));
        row.field("Title", Value::Text(title));
        row.field("Categories", Value::Text(r#"["InitialAccess"]"#));
        row.field("ServiceSource", Value::Text("Microsoft Defender for Office 365"));
        row.field("DetectionSource", Value::Text("Microsoft Defender for Office 365"));
        row.field("EntityType", Value::Text("User"));
        row.field("EvidenceRole", Value::Text("Impacted"));
        row.field(
            "AccountUpn",
            Value::Bytes(formatted(&mut scratch, |s| push_user_address(s, *user))),
        );
        row.field(
            "AccountObjectId",
            Value::Bytes(formatted(&mut scratch, |s| push_user_id(s, *user))),
        );
        row.field(
            "NetworkMessageId",
            Value::Bytes(formatted(&mut scratch, |s| push_guid(s, high, low))),
        );
        row.field("EmailSubject", Value::Text(message.subject));
        row.field("AdditionalFields", Value::Null);
        row.field("Severity", Value::Text(severity));
        row.finish(plan.layout.envelope);
    }
    chunk.alert_count += 1;
    chunk.alert_rows += named.len() as u64;
}

fn pick_severity(rng: &mut Rng) -> &'static str {
    let mut u = rng.unit();
    for (name, share) in SEVERITIES {
        if u < share {
            return name;
        }
        u -= share;
    }
    "Low"
}
