//! Format tests with small placeholder fixtures, and a run over real sample exports.

use std::sync::Arc;

use super::*;
use crate::records::{RawBody, RawItem, Role, UserRef, Value};
use crate::time::Timestamp;

fn ctx(format: SourceFormat, kind: Option<RecordKind>) -> MapContext {
    MapContext { file: Arc::from("input.test"), format, kind }
}

fn csv_items(text: &str) -> Vec<RawItem> {
    let mut lines = text.lines();
    let header: Vec<String> =
        lines.next().unwrap_or_default().split('\t').map(String::from).collect();
    let header = Arc::new(header);
    lines
        .enumerate()
        .map(|(i, line)| RawItem {
            line: i as u64 + 2,
            body: RawBody::Csv {
                header: Arc::clone(&header),
                cells: line.split('\t').map(String::from).collect(),
            },
        })
        .collect()
}

/// Maps the first row of a tab-separated fixture (tabs keep commas inside cells simple).
fn map_csv_row(text: &str, kind: Option<RecordKind>) -> Record {
    let items = csv_items(text);
    let item = items.first().expect("fixture has a data row");
    expect_record(map_item(item, &ctx(SourceFormat::Csv, kind)))
}

fn map_json_text(text: &str, kind: Option<RecordKind>) -> Result<Mapped, MapError> {
    let item = RawItem { line: 7, body: RawBody::Json(text.to_string()) };
    map_item(&item, &ctx(SourceFormat::Ndjson, kind))
}

fn expect_record(mapped: Result<Mapped, MapError>) -> Record {
    match mapped {
        Ok(Mapped::Record(record)) => *record,
        other => panic!("expected a record, got {other:?}"),
    }
}

fn text(record: &Record, field: &str) -> Option<String> {
    match record.field(field) {
        Some(Value::Str(s)) => Some(s.clone()),
        other => panic!("field {field}: expected text, got {other:?}"),
    }
}

fn list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::List(items)) => items.iter().filter_map(Value::as_text).collect(),
        other => panic!("expected a list, got {other:?}"),
    }
}

fn addresses(record: &Record, role: Role) -> Vec<String> {
    record.users_in(role).filter_map(|u| u.address.clone()).collect()
}

fn time(text: &str) -> Value {
    Value::Time(parse_timestamp(text).expect("valid fixture time"))
}

const EMAIL_EVENTS: &str = "Timestamp\tNetworkMessageId\tInternetMessageId\tSenderMailFromAddress\tSenderFromAddress\tSenderDisplayName\tSenderObjectId\tRecipientEmailAddress\tRecipientObjectId\tSubject\tEmailClusterId\tEmailDirection\tDeliveryAction\tDeliveryLocation\tThreatTypes\tThreatNames\tDetectionMethods\tConfidenceLevel\tBulkComplaintLevel\tAttachmentCount\tUrlCount\tEmailLanguage\tLatestDeliveryLocation
2024-06-02T08:15:30.069Z\tnm-1\t<m1@partner.test>\tprvs=0123abcd=bounce@partner.test\tSales Team <sales@partner.test>\tSales Team\t\tUser1@Contoso.test\toid-user1\tInvoice overdue\t383769773\tInbound\tDelivered\tInbox/folder\tPhish,Spam\tHTML/Phish.A\t{\"Phish\":[\"URL detonation reputation\",\"Spoof DMARC\"]}\t{\"Phish\":\"High\"}\t4\t2\t1\ten\tJunk folder";

#[test]
fn email_events_csv_fields() {
    let record = map_csv_row(EMAIL_EVENTS, None);
    assert_eq!(record.kind, RecordKind::Email);
    assert_eq!(record.time, parse_timestamp("2024-06-02T08:15:30.069Z"));
    assert_eq!(record.field("received"), Some(&time("2024-06-02T08:15:30.069Z")));
    assert_eq!(text(&record, "subject").as_deref(), Some("Invoice overdue"));
    assert_eq!(text(&record, "network_message_id").as_deref(), Some("nm-1"));
    assert_eq!(text(&record, "direction").as_deref(), Some("Inbound"));
    assert_eq!(text(&record, "delivery_action").as_deref(), Some("Delivered"));
    assert_eq!(text(&record, "delivery_location").as_deref(), Some("Junk"));
    assert_eq!(text(&record, "original_delivery_location").as_deref(), Some("Inbox"));
    assert_eq!(list(record.field("threat_types")), vec!["Phish", "Spam"]);
    assert_eq!(
        list(record.field("detection_methods")),
        vec!["URL detonation reputation", "Spoof DMARC"]
    );
    assert_eq!(list(record.field("confidence")), vec!["High"]);
    assert_eq!(text(&record, "cluster_id").as_deref(), Some("383769773"));
    assert_eq!(record.field("bulk_complaint_level"), Some(&Value::Int(4)));
    assert_eq!(record.field("attachment_count"), Some(&Value::Int(2)));
    assert_eq!(record.field("url_count"), Some(&Value::Int(1)));
    assert_eq!(text(&record, "language").as_deref(), Some("en"));
}

#[test]
fn email_events_csv_users_and_id() {
    let record = map_csv_row(EMAIL_EVENTS, None);
    assert_eq!(record.id, "nm-1/user1@contoso.test");
    assert_eq!(addresses(&record, Role::Sender), vec!["sales@partner.test"]);
    assert_eq!(addresses(&record, Role::Recipient), vec!["User1@Contoso.test"]);
    let recipient = record.users_in(Role::Recipient).next();
    assert_eq!(recipient.and_then(|u| u.object_id.as_deref()), Some("oid-user1"));
    let sender = record.users_in(Role::Sender).next();
    assert_eq!(sender.and_then(|u| u.display_name.as_deref()), Some("Sales Team"));
}

#[test]
fn email_events_csv_extra_typed() {
    let record = map_csv_row(EMAIL_EVENTS, None);
    assert!(record.extra_field("Subject").is_none(), "model field serves Subject");
    assert_eq!(record.extra_field("Timestamp"), Some(&time("2024-06-02T08:15:30.069Z")));
    assert_eq!(record.extra_field("AttachmentCount"), Some(&Value::Int(2)));
    assert_eq!(list(record.extra_field("ThreatTypes")), vec!["Phish", "Spam"]);
    assert_eq!(
        list(record.extra_field("DetectionMethods")),
        vec!["URL detonation reputation", "Spoof DMARC"]
    );
    assert_eq!(record.extra_field("SenderObjectId"), Some(&Value::Str(String::new())));
    assert_eq!(record.extra_field("DeliveryAction"), Some(&Value::Str("Delivered".into())));
    assert!(matches!(&record.raw, Raw::Csv { cells, .. } if cells.len() == 23));
    assert_eq!(record.format, SourceFormat::Csv);
    assert_eq!(record.origin.line, 2);
    assert_eq!(&*record.origin.file, "input.test");
}

const ENVELOPE_EMAIL: &str = r#"{"Tenant":"DefaultTenant","category":"AdvancedHunting-EmailEvents","operationName":"Publish","properties":{"Timestamp":"2024-06-02T08:15:30Z","NetworkMessageId":"nm-2","SenderFromAddress":"user2@contoso.test","SenderMailFromAddress":"user2@contoso.test","SenderObjectId":"oid-user2","RecipientEmailAddress":"user3@contoso.test","RecipientObjectId":"oid-user3","Subject":"Quarterly numbers","EmailClusterId":12345,"EmailDirection":"Intra-org","DeliveryAction":"Delivered","DeliveryLocation":"Inbox/folder","ThreatTypes":null,"AttachmentCount":1,"AuthenticationDetails":"{\"DKIM\":\"pass\"}"},"tenantId":"tenant-1","time":"2024-06-02T08:16:00.1234567Z"}"#;

#[test]
fn envelope_email_events_mapped() {
    let record = expect_record(map_json_text(ENVELOPE_EMAIL, None));
    assert_eq!(record.kind, RecordKind::Email);
    assert_eq!(record.id, "nm-2/user3@contoso.test");
    assert_eq!(addresses(&record, Role::Sender), vec!["user2@contoso.test"]);
    assert_eq!(addresses(&record, Role::Recipient), vec!["user3@contoso.test"]);
    assert_eq!(text(&record, "cluster_id").as_deref(), Some("12345"));
    assert_eq!(text(&record, "delivery_location").as_deref(), Some("Inbox"));
    assert!(record.field("threat_types").is_none());
    assert_eq!(record.extra_field("EmailClusterId"), Some(&Value::Int(12345)));
    assert_eq!(record.extra_field("ThreatTypes"), Some(&Value::Null));
    assert_eq!(record.extra_field("time"), Some(&time("2024-06-02T08:16:00.1234567Z")));
    assert_eq!(
        record.extra_field("category"),
        Some(&Value::Str("AdvancedHunting-EmailEvents".into()))
    );
    assert_eq!(
        record.extra_field("AuthenticationDetails"),
        Some(&Value::Str("{\"DKIM\":\"pass\"}".into()))
    );
    assert!(record.extra_field("properties").is_none());
    assert_eq!(record.raw, Raw::Json(ENVELOPE_EMAIL.to_string()));
    assert_eq!(record.format, SourceFormat::Ndjson);
}

#[test]
fn envelope_other_tables_skipped() {
    for table in
        ["EmailUrlInfo", "EmailAttachmentInfo", "EmailPostDeliveryEvents", "UrlClickEvents"]
    {
        let text = format!(
            r#"{{"category":"AdvancedHunting-{table}","properties":{{"NetworkMessageId":"nm-1"}}}}"#
        );
        let mapped = map_json_text(&text, None).expect("maps");
        assert_eq!(mapped, Mapped::Skipped { table: table.to_string() });
        let forced = map_json_text(&text, Some(RecordKind::Email)).expect("maps");
        assert_eq!(forced, Mapped::Skipped { table: table.to_string() }, "--kind keeps skips");
    }
}

#[test]
fn csv_part_tables_skipped_unless_kind_given() {
    let url_info = "Timestamp\tNetworkMessageId\tUrl\tUrlDomain\tUrlLocation\n2024-06-02T08:15:30Z\tnm-1\thttps://partner.test/a\tpartner.test\tBody";
    let items = csv_items(url_info);
    let mapped = map_item(&items[0], &ctx(SourceFormat::Csv, None)).expect("maps");
    assert_eq!(mapped, Mapped::Skipped { table: "EmailUrlInfo".to_string() });
    let forced =
        expect_record(map_item(&items[0], &ctx(SourceFormat::Csv, Some(RecordKind::Email))));
    assert_eq!(forced.kind, RecordKind::Email);
    let attachment = r#"{"NetworkMessageId":"nm-1","RecipientEmailAddress":"user1@contoso.test","FileName":"a.pdf","FileType":"pdf","SHA256":"00"}"#;
    let mapped = map_json_text(attachment, None).expect("maps");
    assert_eq!(mapped, Mapped::Skipped { table: "EmailAttachmentInfo".to_string() });
}

#[test]
fn map_item_runs_on_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MapContext>();
    assert_send_sync::<Mapped>();
    assert_send_sync::<MapError>();
    use rayon::prelude::*;
    let items: Vec<RawItem> = (0..64)
        .map(|i| RawItem {
            line: i,
            body: RawBody::Json(ENVELOPE_EMAIL.replace("nm-2", &format!("nm-{i}"))),
        })
        .collect();
    let context = ctx(SourceFormat::Ndjson, None);
    let ids: Vec<String> =
        items.par_iter().map(|item| expect_record(map_item(item, &context)).id).collect();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(id, &format!("nm-{i}/user3@contoso.test"));
    }
}

const ALERT_INFO: &str = "Timestamp\tAlertId\tTitle\tCategory\tSeverity\tServiceSource\tDetectionSource\tAttackTechniques
2024-06-03T10:00:00Z\tda-1\tPhish delivered due to an IP allow policy\tInitialAccess\tMedium\tMicrosoft Defender for Office 365\tMicrosoft Defender for Office 365\t[\"Phishing (T1566)\"]";

#[test]
fn alert_info_csv_fields() {
    let record = map_csv_row(ALERT_INFO, None);
    assert_eq!(record.kind, RecordKind::Alert);
    assert_eq!(record.id, "da-1");
    assert_eq!(record.time, parse_timestamp("2024-06-03T10:00:00Z"));
    assert_eq!(
        text(&record, "title").as_deref(),
        Some("Phish delivered due to an IP allow policy")
    );
    assert_eq!(text(&record, "severity").as_deref(), Some("Medium"));
    assert_eq!(text(&record, "category").as_deref(), Some("InitialAccess"));
    assert_eq!(text(&record, "source").as_deref(), Some("Microsoft Defender for Office 365"));
    assert_eq!(text(&record, "alert_id").as_deref(), Some("da-1"));
    assert_eq!(list(record.field("techniques")), vec!["Phishing (T1566)"]);
    assert_eq!(list(record.extra_field("AttackTechniques")), vec!["Phishing (T1566)"]);
    assert!(record.users.is_empty());
}

const ALERT_EVIDENCE: &str = "Timestamp\tAlertId\tTitle\tEntityType\tEvidenceRole\tAccountUpn\tAccountObjectId\tAdditionalFields
2024-06-03T10:00:00Z\tda-2\tSuspicious inbox rule\tUser\tImpacted\tuser4@contoso.test\toid-user4\t
2024-06-03T10:00:00Z\tda-2\tSuspicious inbox rule\tMailbox\tImpacted\t\t\t{\"MailboxPrimaryAddress\":\"user5@contoso.test\",\"Upn\":\"account5@contoso.test\",\"AadId\":\"oid-user5\",\"Type\":\"mailbox\"}
2024-06-03T10:00:00Z\tda-2\tSuspicious inbox rule\tMailMessage\tRelated\t\t\t{\"Recipient\":\"user6@contoso.test\",\"Sender\":\"attacker@partner.test\",\"Type\":\"mailMessage\"}";

#[test]
fn alert_evidence_one_record_per_row() {
    let items = csv_items(ALERT_EVIDENCE);
    let records: Vec<Record> = items
        .iter()
        .map(|item| expect_record(map_item(item, &ctx(SourceFormat::Csv, None))))
        .collect();
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.id == "da-2" && r.kind == RecordKind::Alert));
    let account = records.first().and_then(|r| r.users.first());
    assert_eq!(account.and_then(|u| u.address.as_deref()), Some("user4@contoso.test"));
    assert_eq!(account.and_then(|u| u.object_id.as_deref()), Some("oid-user4"));
    assert_eq!(text(&records[0], "evidence_role").as_deref(), Some("Impacted"));
}

#[test]
fn alert_evidence_mailbox_primary_and_upn() {
    let items = csv_items(ALERT_EVIDENCE);
    let record = expect_record(map_item(&items[1], &ctx(SourceFormat::Csv, None)));
    assert_eq!(addresses(&record, Role::User), vec!["user5@contoso.test", "account5@contoso.test"]);
    assert!(record.users.iter().all(|u| u.object_id.as_deref() == Some("oid-user5")));
}

#[test]
fn alert_evidence_mail_message_recipient_and_sender() {
    let items = csv_items(ALERT_EVIDENCE);
    let record = expect_record(map_item(&items[2], &ctx(SourceFormat::Csv, None)));
    assert_eq!(addresses(&record, Role::User), vec!["user6@contoso.test", "attacker@partner.test"]);
}

const EXPLORER: &str = "Date\tSubject\tRecipient\tTags\tSender address\tSender IP\tDelivery action\tLatest delivery location\tOriginal delivery location\tThreat type\tDetection technology\tNetwork message ID\tInternet message ID\tMail language\tDirectionality\tAttachment Count\tURL Count
6/3/2024, 9:41:07 AM\tPayroll update\tuser7@contoso.test(external, opens in a new tab or window)\tPriority account, Finance\t\"Payroll Desk\" <payroll@partner.test>\t192.0.2.10\tDelivered to junk\tJunk folder\tInbox/folder\tPhish, Spam\tSpoof DMARC, URL detonation\tnm-7\t<m7@partner.test>\ten\tInbound\t0\t3";

#[test]
fn threat_explorer_csv_mapped() {
    let record = map_csv_row(EXPLORER, None);
    assert_eq!(record.kind, RecordKind::Email);
    assert_eq!(record.id, "nm-7/user7@contoso.test");
    assert_eq!(record.time, parse_timestamp("2024-06-03T09:41:07Z"));
    assert_eq!(addresses(&record, Role::Recipient), vec!["user7@contoso.test"]);
    assert_eq!(addresses(&record, Role::Sender), vec!["payroll@partner.test"]);
    assert_eq!(text(&record, "delivery_action").as_deref(), Some("Junked"));
    assert_eq!(text(&record, "delivery_location").as_deref(), Some("Junk"));
    assert_eq!(text(&record, "original_delivery_location").as_deref(), Some("Inbox"));
    assert_eq!(text(&record, "direction").as_deref(), Some("Inbound"));
    assert_eq!(text(&record, "sender_ip").as_deref(), Some("192.0.2.10"));
    assert_eq!(list(record.field("threat_types")), vec!["Phish", "Spam"]);
    assert_eq!(list(record.field("detection_methods")), vec!["Spoof DMARC", "URL detonation"]);
    assert_eq!(record.field("url_count"), Some(&Value::Int(3)));
    assert_eq!(list(record.extra_field("Tags")), vec!["Priority account", "Finance"]);
    assert_eq!(record.extra_field("Attachment Count"), Some(&Value::Int(0)));
}

const TI_MAIL: &str = r#"{"CreationTime":"2024-06-04T07:00:00","Id":"audit-1","Operation":"TIMailData","RecordType":28,"UserKey":"ThreatIntel","UserId":"ThreatIntel","Workload":"ThreatIntelligence","NetworkMessageId":"nm-9","InternetMessageId":"<m9@partner.test>","MessageTime":"2024-06-04T06:59:58","P1Sender":"prvs=77aa=bounce@partner.test","P2Sender":"Billing <billing@partner.test>","Recipients":["user8@contoso.test","USER9@contoso.test"],"Subject":"Overdue invoice","Verdict":"Phish","DeliveryAction":"DeliveredAsSpam","OriginalDeliveryLocation":"JunkFolder","LatestDeliveryLocation":"Quarantine","Directionality":"Intraorg","DetectionMethod":"URL malicious reputation","PhishConfidenceLevel":"High","Policy":"Phish","PolicyAction":"MoveToJmf","SenderIp":"192.0.2.20","AuthDetails":[{"Name":"SPF","Value":"Fail"}]}"#;

#[test]
fn ti_mail_data_mapped() {
    let record = expect_record(map_json_text(TI_MAIL, None));
    assert_eq!(record.kind, RecordKind::Email);
    assert_eq!(record.id, "nm-9");
    assert_eq!(record.time, parse_timestamp("2024-06-04T06:59:58Z"));
    assert_eq!(
        addresses(&record, Role::Recipient),
        vec!["user8@contoso.test", "USER9@contoso.test"]
    );
    assert_eq!(addresses(&record, Role::Sender), vec!["billing@partner.test"]);
    assert_eq!(text(&record, "verdict").as_deref(), Some("Phish"));
    assert_eq!(list(record.field("threat_types")), vec!["Phish"]);
    assert_eq!(text(&record, "delivery_action").as_deref(), Some("Junked"));
    assert_eq!(text(&record, "delivery_location").as_deref(), Some("Quarantine"));
    assert_eq!(text(&record, "original_delivery_location").as_deref(), Some("Junk"));
    assert_eq!(text(&record, "direction").as_deref(), Some("Intraorg"));
    assert_eq!(list(record.field("detection_methods")), vec!["URL malicious reputation"]);
    assert_eq!(list(record.field("confidence")), vec!["High"]);
    assert_eq!(text(&record, "policy_action").as_deref(), Some("MoveToJmf"));
    assert_eq!(
        list(record.extra_field("Recipients")),
        vec!["user8@contoso.test", "USER9@contoso.test"]
    );
    assert_eq!(
        record.extra_field("AuthDetails"),
        Some(&Value::List(vec![Value::Str(r#"{"Name":"SPF","Value":"Fail"}"#.into())]))
    );
    assert!(record.users.iter().all(|u| u.address.as_deref() != Some("ThreatIntel")));
}

#[test]
fn ti_mail_threat_names_from_attachments() {
    let text = TI_MAIL.replace(
        r#""Verdict":"Phish","#,
        r#""Verdict":"Malware","AttachmentData":[{"FileName":"a.eml","MalwareFamily":"HTML/Phish.A"},{"FileName":"b.eml","MalwareFamily":"HTML/Phish.A"}],"#,
    );
    let record = expect_record(map_json_text(&text, None));
    assert_eq!(list(record.field("threat_names")), vec!["HTML/Phish.A"]);
    assert_eq!(list(record.field("threat_types")), vec!["Malware"]);
}

#[test]
fn ti_mail_envelope_sender_when_no_header_sender() {
    let text = TI_MAIL.replace(r#""P2Sender":"Billing <billing@partner.test>","#, "");
    let record = expect_record(map_json_text(&text, None));
    assert_eq!(addresses(&record, Role::Sender), vec!["bounce@partner.test"]);
}

#[test]
fn recipients_string_that_looks_like_array() {
    let text = TI_MAIL.replace(
        r#""Recipients":["user8@contoso.test","USER9@contoso.test"]"#,
        r#""Recipients":"[user8@contoso.test]""#,
    );
    let record = expect_record(map_json_text(&text, None));
    assert_eq!(addresses(&record, Role::Recipient), vec!["user8@contoso.test"]);
    assert_eq!(list(record.extra_field("Recipients")), vec!["user8@contoso.test"]);
}

const COMPLIANCE_ALERT: &str = r#"{"CreationTime":"2024-06-05T08:10:44","Id":"audit-2","Operation":"AlertEntityGenerated","RecordType":"40","UserId":"SecurityComplianceAlerts","UserKey":"SecurityComplianceAlerts","Workload":"SecurityComplianceCenter","AlertId":"sc-1","AlertType":"System","Name":"Email reported by user as malware or phish","Severity":"Low","Status":"Active","Category":"ThreatManagement","Source":"Office 365 Security & Compliance","EntityType":"User","AlertEntityId":"user10@contoso.test(external, opens in a new tab or window)","ObjectId":"user10@contoso.test(external, opens in a new tab or window)","Data":"{\"etype\":\"User\",\"eid\":\"user10@contoso.test\",\"ts\":\"2024-06-05T05:10:44.5371861Z\",\"f3u\":\"user10@contoso.test\",\"trc\":\"user11@contoso.test\",\"tsd\":\"sender@partner.test(external, opens in a new tab or window)\",\"ad\":\"A user reported a message\"}"}"#;

#[test]
fn compliance_alert_users_from_entity_and_data() {
    let record = expect_record(map_json_text(COMPLIANCE_ALERT, None));
    assert_eq!(record.kind, RecordKind::Alert);
    assert_eq!(record.id, "sc-1");
    assert_eq!(record.time, parse_timestamp("2024-06-05T08:10:44Z"));
    assert_eq!(
        addresses(&record, Role::User),
        vec!["user10@contoso.test", "user11@contoso.test", "sender@partner.test"]
    );
    assert_eq!(
        text(&record, "title").as_deref(),
        Some("Email reported by user as malware or phish")
    );
    assert_eq!(text(&record, "description").as_deref(), Some("A user reported a message"));
    assert_eq!(text(&record, "source").as_deref(), Some("Office 365 Security & Compliance"));
    assert_eq!(text(&record, "status").as_deref(), Some("Active"));
    assert!(matches!(record.extra_field("Data"), Some(Value::Str(s)) if s.contains("f3u")));
}

#[test]
fn compliance_alert_service_user_never_a_person() {
    let text = COMPLIANCE_ALERT
        .replace(r#""EntityType":"User""#, r#""EntityType":"MalwareFamily""#)
        .replace(r#""Data":"{"#, r#""Data":"{\"x\":1,"#);
    let text = text.split(r#","Data":"#).next().unwrap_or_default().to_string() + "}";
    let record = expect_record(map_json_text(&text, None));
    assert!(record.users.is_empty(), "users: {:?}", record.users);
}

const AIR: &str = r#"{"CreationTime":"2024-06-06T12:00:00","Id":"air-1","Operation":"AirInvestigationData","RecordType":64,"UserId":"AirInvestigation","UserKey":"AirInvestigation","Workload":"AirInvestigation","InvestigationId":"urn:SubmissionInvestigation:1","InvestigationType":"SubmissionInvestigation","Status":"Running","RunningTime":"312","LastUpdateTimeUtc":"2024-06-06T12:05:00","Data":"{\"Severity\":\"Low\",\"Status\":\"InProgress\",\"ProviderName\":\"OATP\",\"ProviderAlertId\":\"pa-1\",\"AlertDisplayName\":\"Email reported by user as malware or phish\",\"Description\":\"A user reported a message\",\"Category\":\"ThreatManagement\",\"TimeGenerated\":\"2024-06-06T11:59:00.00Z\",\"Entities\":[{\"Type\":\"mailMessage\",\"Recipient\":\"user12@contoso.test\",\"P1Sender\":\"<>\"},{\"Type\":\"mailbox\",\"MailboxPrimaryAddress\":\"user12@contoso.test\",\"Upn\":\"account12@contoso.test\",\"AadId\":\"oid-12\"},{\"Type\":\"mailCluster\",\"QueryTime\":\"6/6/2024 11:59:59 PM\"}]}","Actions":[{"ActionType":"EmailRemediation","Entities":[{"Type":"mailMessage","Recipient":"user13@contoso.test"}]}]}"#;

#[test]
fn air_investigation_users_and_fields() {
    let record = expect_record(map_json_text(AIR, None));
    assert_eq!(record.kind, RecordKind::Alert);
    assert_eq!(record.id, "air-1");
    assert_eq!(
        addresses(&record, Role::User),
        vec!["user12@contoso.test", "account12@contoso.test", "user13@contoso.test"]
    );
    let mailbox = record.users.iter().find(|u| u.object_id.is_some());
    assert_eq!(mailbox.and_then(|u| u.address.as_deref()), Some("user12@contoso.test"));
    assert_eq!(
        text(&record, "title").as_deref(),
        Some("Email reported by user as malware or phish")
    );
    assert_eq!(text(&record, "severity").as_deref(), Some("Low"));
    assert_eq!(text(&record, "status").as_deref(), Some("Running"));
    assert_eq!(text(&record, "alert_id").as_deref(), Some("pa-1"));
    assert_eq!(text(&record, "source").as_deref(), Some("OATP"));
    assert_eq!(text(&record, "investigation_type").as_deref(), Some("SubmissionInvestigation"));
    assert_eq!(record.field("last_updated"), Some(&time("2024-06-06T12:05:00Z")));
    assert_eq!(record.extra_field("RunningTime"), Some(&Value::Str("312".into())));
}

const GRAPH_ALERT: &str = r##"{"@odata.type":"#microsoft.graph.security.alert","id":"ga-1","title":"Suspicious email sending patterns detected","severity":"high","status":"inProgress","classification":"truePositive","determination":"compromisedUser","category":"InitialAccess","serviceSource":"microsoftDefenderForOffice365","detectionSource":"microsoftDefenderForOffice365","createdDateTime":"2024-06-07T09:00:00.1234567Z","lastUpdateDateTime":"2024-06-07T10:00:00Z","incidentId":"42","mitreTechniques":["T1566.001","T1078"],"description":"Mail sent from a compromised account","evidence":[{"@odata.type":"#microsoft.graph.security.userEvidence","roles":["compromised"],"userAccount":{"userPrincipalName":"user14@contoso.test","azureAdUserId":"oid-14","displayName":"User Fourteen"}},{"@odata.type":"#microsoft.graph.security.mailboxEvidence","primaryAddress":"user15@contoso.test","userAccount":{"userPrincipalName":"account15@contoso.test","azureAdUserId":"oid-15"}},{"@odata.type":"#microsoft.graph.security.analyzedMessageEvidence","recipientEmailAddress":"user16@contoso.test","p1Sender":{"emailAddress":"bounce@partner.test"},"p2Sender":{"emailAddress":"sender@partner.test","displayName":"Sender"}},{"@odata.type":"#microsoft.graph.security.ipEvidence","ipAddress":"192.0.2.30"}]}"##;

#[test]
fn graph_alert_evidence_users() {
    let record = expect_record(map_json_text(GRAPH_ALERT, None));
    assert_eq!(record.kind, RecordKind::Alert);
    assert_eq!(record.id, "ga-1");
    assert_eq!(
        addresses(&record, Role::User),
        vec![
            "user14@contoso.test",
            "user15@contoso.test",
            "account15@contoso.test",
            "user16@contoso.test",
            "sender@partner.test",
            "bounce@partner.test"
        ]
    );
    let first = record.users.first();
    assert_eq!(first.and_then(|u| u.object_id.as_deref()), Some("oid-14"));
    assert_eq!(first.and_then(|u| u.display_name.as_deref()), Some("User Fourteen"));
}

#[test]
fn graph_alert_fields() {
    let record = expect_record(map_json_text(GRAPH_ALERT, None));
    assert_eq!(record.time, parse_timestamp("2024-06-07T09:00:00.1234567Z"));
    assert_eq!(text(&record, "severity").as_deref(), Some("high"));
    assert_eq!(text(&record, "status").as_deref(), Some("inProgress"));
    assert_eq!(text(&record, "classification").as_deref(), Some("truePositive"));
    assert_eq!(text(&record, "determination").as_deref(), Some("compromisedAccount"));
    assert_eq!(text(&record, "source").as_deref(), Some("microsoftDefenderForOffice365"));
    assert_eq!(text(&record, "incident_id").as_deref(), Some("42"));
    assert_eq!(list(record.field("techniques")), vec!["T1566.001", "T1078"]);
    assert!(matches!(record.extra_field("evidence"), Some(Value::List(items)) if items.len() == 4));
}

const CAMPAIGN: &str = "Campaign ID\tName\tType\tSubtype\tFirst seen\tLast seen\tRecipients\tInboxed\tClicked\tSender
cmp-1\tFake DocuSign notices\tPhish\tATP-DocuSign\t2024-06-01T00:00:00Z\t2024-06-05T12:00:00Z\t120\t15\t3\tnotices@partner.test
cmp-2\tInvoice malware\tMalware\tW32/Example\t2024-06-02\t2024-06-04\tuser17@contoso.test; user18@contoso.test\t\t\tbilling@partner.test";

#[test]
fn campaign_rows_mapped() {
    let items = csv_items(CAMPAIGN);
    let first = expect_record(map_item(&items[0], &ctx(SourceFormat::Csv, None)));
    assert_eq!(first.kind, RecordKind::Campaign);
    assert_eq!(first.id, "cmp-1");
    assert_eq!(first.time, parse_timestamp("2024-06-01T00:00:00Z"));
    assert_eq!(text(&first, "name").as_deref(), Some("Fake DocuSign notices"));
    assert_eq!(text(&first, "type").as_deref(), Some("Phish"));
    assert_eq!(text(&first, "subtype").as_deref(), Some("ATP-DocuSign"));
    assert_eq!(first.field("last_seen"), Some(&time("2024-06-05T12:00:00Z")));
    assert_eq!(first.field("recipient_count"), Some(&Value::Int(120)));
    assert_eq!(first.field("clicked_count"), Some(&Value::Int(3)));
    assert!(addresses(&first, Role::Recipient).is_empty());
    assert_eq!(addresses(&first, Role::Sender), vec!["notices@partner.test"]);
    let second = expect_record(map_item(&items[1], &ctx(SourceFormat::Csv, None)));
    assert_eq!(
        addresses(&second, Role::Recipient),
        vec!["user17@contoso.test", "user18@contoso.test"]
    );
    assert!(second.field("recipient_count").is_none());
}

#[test]
fn generic_alert_csv_keeps_columns() {
    let record = map_csv_row("AlertId\tSeverity\tTag\nA-1\thigh\t", None);
    assert_eq!(record.kind, RecordKind::Alert);
    assert_eq!(record.id, "A-1");
    assert_eq!(text(&record, "severity").as_deref(), Some("high"));
    assert_eq!(record.extra_field("AlertId"), Some(&Value::Str("A-1".into())));
    assert_eq!(record.extra_field("Tag"), Some(&Value::Str(String::new())));
    assert!(record.extra_field("Severity").is_none());
}

#[test]
fn recipient_list_cell_truncated_address_kept() {
    let record = map_csv_row(
        "NetworkMessageId\tRecipients\nm-1\tuser1@contoso.test; USER2@contoso.test ;user3@cont",
        None,
    );
    assert_eq!(record.kind, RecordKind::Email);
    assert_eq!(
        addresses(&record, Role::Recipient),
        vec!["user1@contoso.test", "USER2@contoso.test", "user3@cont"]
    );
    assert_eq!(record.id, "m-1", "a row with several recipients keeps the message id");
}

#[test]
fn generic_email_without_ids_uses_file_and_line() {
    let record = map_csv_row("Subject\tTo\nHello\tuser1@contoso.test", None);
    assert_eq!(record.kind, RecordKind::Email);
    assert_eq!(record.id, "input.test:2");
}

#[test]
fn kind_override_wins_over_detection() {
    let record = map_csv_row("Severity\tRecipient\nhigh\tuser1@contoso.test", None);
    assert_eq!(record.kind, RecordKind::Email);
    let forced =
        map_csv_row("Severity\tRecipient\nhigh\tuser1@contoso.test", Some(RecordKind::Alert));
    assert_eq!(forced.kind, RecordKind::Alert);
    assert_eq!(text(&forced, "severity").as_deref(), Some("high"));
    let campaign = map_csv_row(
        "Name\tRecipient\nSpring phish\tuser1@contoso.test",
        Some(RecordKind::Campaign),
    );
    assert_eq!(campaign.kind, RecordKind::Campaign);
    assert_eq!(addresses(&campaign, Role::Recipient), vec!["user1@contoso.test"]);
}

#[test]
fn unparseable_time_names_column_and_value() {
    let items = csv_items("AlertId\tTimestamp\nA-1\tyesterday");
    let error = map_item(&items[0], &ctx(SourceFormat::Csv, None)).expect_err("must fail");
    match &error {
        MapError::InvalidTime { file, line, column, value } => {
            assert_eq!(&**file, "input.test");
            assert_eq!(*line, 2);
            assert_eq!(column, "Timestamp");
            assert_eq!(value, "yesterday");
        }
        other => panic!("unexpected error {other:?}"),
    }
    let message = error.to_string();
    assert!(message.starts_with("input.test:2: column 'Timestamp'"), "{message}");
}

#[test]
fn unparseable_nested_time_names_path() {
    let text = AIR
        .replace(r#"\"Severity\":\"Low\""#, r#"\"Severity\":\"Low\",\"createdDateTime\":\"soon\""#);
    let error = map_json_text(&text, None).expect_err("must fail");
    assert!(
        matches!(&error, MapError::InvalidTime { column, .. } if column == "Data.createdDateTime"),
        "{error:?}"
    );
}

#[test]
fn empty_time_cell_is_no_time() {
    let record = map_csv_row("AlertId\tTimestamp\nA-1\t", None);
    assert_eq!(record.time, None);
    assert_eq!(record.extra_field("Timestamp"), Some(&Value::Null));
}

#[test]
fn invalid_json_reports_line() {
    let error = map_json_text("{\"a\":", None).expect_err("must fail");
    assert!(error.to_string().starts_with("input.test:7: invalid JSON record"), "{error}");
    let error = map_json_text("[1,2]", None).expect_err("must fail");
    assert!(matches!(error, MapError::NotAnObject { found: "array", .. }));
}

#[test]
fn json_extra_values_typed() {
    let record = expect_record(map_json_text(
        r#"{"AlertId":"A-9","Score":1.5,"Count":3,"Big":18446744073709551615,"Flag":true,"Nothing":null,"Names":["a","b"],"Nested":{"k":"v"}}"#,
        None,
    ));
    assert_eq!(record.extra_field("Score"), Some(&Value::Float(1.5)));
    assert_eq!(record.extra_field("Count"), Some(&Value::Int(3)));
    assert_eq!(record.extra_field("Big"), Some(&Value::Str("18446744073709551615".into())));
    assert_eq!(record.extra_field("Flag"), Some(&Value::Bool(true)));
    assert_eq!(record.extra_field("Nothing"), Some(&Value::Null));
    assert_eq!(list(record.extra_field("Names")), vec!["a", "b"]);
    assert_eq!(record.extra_field("Nested"), Some(&Value::Str(r#"{"k":"v"}"#.into())));
}

#[test]
fn pretty_printed_item_kept_on_one_line() {
    let record = expect_record(map_json_text(
        "{\n  \"AlertId\": \"A-1\",\n  \"Severity\": \"low\"\n}",
        None,
    ));
    assert_eq!(record.raw, Raw::Json(r#"{"AlertId":"A-1","Severity":"low"}"#.to_string()));
}

#[test]
fn same_user_twice_merged() {
    let record = map_csv_row(
        "AlertId\tAccountUpn\tUserPrincipalName\tAccountObjectId\nA-1\tUser1@contoso.test\tuser1@CONTOSO.test\toid-1",
        None,
    );
    assert_eq!(record.users.len(), 1);
    assert_eq!(
        record.users.first(),
        Some(&UserRef {
            role: Some(Role::User),
            address: Some("User1@contoso.test".into()),
            object_id: Some("oid-1".into()),
            display_name: None,
        })
    );
}

#[test]
fn model_time_is_record_time() {
    let record = map_csv_row("AlertId\tCreationTime\nA-1\t12/31/2023 11:59:59 PM", None);
    assert_eq!(record.time, Some(Timestamp(17_040_671_990_000_000)));
}

/// Maps every record of the real sample exports in the folder `TAGQ_SAMPLES` names. The JSON
/// samples wrap each record as `{"events":[{"event":{"original":"<record as JSON text>"}}]}`.
#[test]
fn real_samples_map() {
    let Some(folder) = std::env::var_os("TAGQ_SAMPLES") else {
        println!("skipped: TAGQ_SAMPLES not set");
        return;
    };
    let folder = std::path::PathBuf::from(folder);
    check_email_log(&folder.join("test-email.log"));
    check_ti_mail(&unwrap_events(&folder.join("test-wl-threatintelligence.json")));
    check_compliance_alerts(&unwrap_events(&folder.join("test-sec-comp-alerts-events.json")));
    check_air(&unwrap_events(&folder.join("test-wl-airinvestigation.json")));
}

fn unwrap_events(path: &std::path::Path) -> Vec<Mapped> {
    let text = std::fs::read_to_string(path).expect("sample readable");
    let document: serde_json::Value = serde_json::from_str(&text).expect("sample is JSON");
    let events = document["events"].as_array().expect("events array");
    events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let original = event["event"]["original"].as_str().expect("event.original string");
            let item = RawItem { line: i as u64 + 1, body: RawBody::Json(original.to_string()) };
            let context = MapContext {
                file: Arc::from(path.display().to_string()),
                format: SourceFormat::Json,
                kind: None,
            };
            map_item(&item, &context).expect("sample record maps")
        })
        .collect()
}

fn records(mapped: &[Mapped]) -> Vec<&Record> {
    mapped
        .iter()
        .filter_map(|m| match m {
            Mapped::Record(r) => Some(&**r),
            Mapped::Skipped { .. } => None,
        })
        .collect()
}

fn check_email_log(path: &std::path::Path) {
    let text = std::fs::read_to_string(path).expect("sample readable");
    let context =
        MapContext { file: Arc::from("test-email.log"), format: SourceFormat::Ndjson, kind: None };
    let mapped: Vec<Mapped> = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let item = RawItem { line: i as u64 + 1, body: RawBody::Json(line.to_string()) };
            map_item(&item, &context).expect("sample line maps")
        })
        .collect();

    let emails = records(&mapped);
    assert_eq!(emails.len(), 1);
    let email = emails[0];
    assert_eq!(email.kind, RecordKind::Email);
    assert!(email.id.contains("a194a8a6-d97c-4be1-ae31-08dacc512345"), "id {}", email.id);
    assert_eq!(addresses(email, Role::Recipient).len(), 1);
    let sender = addresses(email, Role::Sender);
    assert!(sender.iter().any(|a| a.starts_with("user@testMSFTalerts")), "sender {sender:?}");

    let mut skipped: Vec<&str> = mapped
        .iter()
        .filter_map(|m| match m {
            Mapped::Skipped { table } => Some(table.as_str()),
            Mapped::Record(_) => None,
        })
        .collect();
    skipped.sort_unstable();
    assert_eq!(
        skipped,
        vec!["EmailAttachmentInfo", "EmailPostDeliveryEvents", "EmailUrlInfo", "UrlClickEvents"]
    );
}

fn check_ti_mail(mapped: &[Mapped]) {
    let emails = records(mapped);
    assert_eq!(emails.len(), 5);
    for email in emails {
        assert_eq!(email.kind, RecordKind::Email);
        assert_eq!(addresses(email, Role::Recipient), vec!["user@example.com"]);
        assert_eq!(addresses(email, Role::Sender), vec!["sender@example.com"]);
        assert!(email.time.is_some());
    }
}

fn check_compliance_alerts(mapped: &[Mapped]) {
    let alerts = records(mapped);
    assert_eq!(alerts.len(), 4);
    let all: Vec<String> = alerts.iter().flat_map(|a| addresses(a, Role::User)).collect();
    assert!(all.iter().all(|a| !a.eq_ignore_ascii_case("SecurityComplianceAlerts")), "{all:?}");
    assert_eq!(addresses(alerts[0], Role::User), vec!["asr@testsiem.onmicrosoft.com"]);
    assert_eq!(addresses(alerts[1], Role::User), vec!["asr@testsiem.onmicrosoft.com"]);
    assert!(addresses(alerts[2], Role::User).is_empty());
    let fourth = addresses(alerts[3], Role::User);
    assert_eq!(fourth.first().map(String::as_str), Some("GivenName.SureName@domain.TLD"));
    assert!(fourth.iter().all(|a| !a.contains("external")), "{fourth:?}");
}

fn check_air(mapped: &[Mapped]) {
    let alerts = records(mapped);
    assert_eq!(alerts.len(), 3);
    for alert in &alerts {
        assert_eq!(alert.kind, RecordKind::Alert);
        assert!(addresses(alert, Role::User).iter().any(|a| a == "user@example.com"));
    }
    let third = addresses(alerts[2], Role::User);
    assert!(third.iter().any(|a| a == "account@example.com"), "{third:?}");
}

/// Maps `text` by the borrowed fast path and by the `serde_json::Value` path, and checks that
/// both give the same result. Returns whether the fast path took the object.
fn check_json_paths_agree(text: &str, kind: Option<RecordKind>) -> bool {
    let context = ctx(SourceFormat::Ndjson, kind);
    let extra = ExtraColumns::default();
    let slow = map_json_value(7, text, &context, &extra);
    if object::parse(text).is_none() {
        assert!(slow.is_err(), "only the value path parsed {text}");
        return false;
    }
    let Some(fast) = build_flat_json(7, text, &context, &extra) else { return false };
    let fast = fast.map(|built| built.into_mapped(|| Raw::Json(text.to_string())));
    match (&fast, &slow) {
        (Ok(fast), Ok(slow)) => assert_eq!(fast, slow, "{text}"),
        (Err(fast), Err(slow)) => assert_eq!(fast.to_string(), slow.to_string(), "{text}"),
        _ => panic!("paths disagree on {text}: {fast:?} and {slow:?}"),
    }
    true
}

#[test]
fn json_fast_path_matches_value_path() {
    let taken = [
        r#"{"category":"AdvancedHunting-EmailEvents","time":"2026-10-01T00:00:00Z","properties":{"Timestamp":"2026-10-01T00:00:00.000Z","NetworkMessageId":"m-1","SenderFromAddress":"Ext <a@ext.test>","SenderObjectId":null,"RecipientEmailAddress":"B@Contoso.test","Subject":"Caf\u00e9 \"menu\"","EmailClusterId":1770700525,"ThreatTypes":"Phish,Spam","DetectionMethods":"{\"Phish\":[\"URL detonation\"]}","AttachmentCount":0,"UrlCount":1.0,"Big":18446744073709551616,"Flag":true,"Tags":["x",1,null]}}"#,
        r#"{"category":"AdvancedHunting-AlertEvidence","properties":{"AlertId":"da1","EntityType":"Mailbox","AdditionalFields":"{\"MailboxPrimaryAddress\":\"m@contoso.test\",\"AadId\":\"o-1\"}","Severity":"High"}}"#,
        r#"{"category":"AdvancedHunting-AlertInfo","properties":{"AlertId":"da2","Title":"T","Timestamp":"2026-10-01T00:00:00Z"}}"#,
        r#"{"category":"AdvancedHunting-EmailUrlInfo","properties":{"Url":"https://x.test"}}"#,
        r#"{"NetworkMessageId":"m-2","Recipients":"a@contoso.test; b@contoso.test","Sender":"s@ext.test","Timestamp":""}"#,
        r#"{"NetworkMessageId":"m-3","Url":"https://x.test","UrlLocation":"Body"}"#,
        r#"{"CampaignId":"c-1","Recipients":["a@contoso.test","b@contoso.test"],"Sender":"s@ext.test"}"#,
        r#"{"Timestamp":"not a time","RecipientEmailAddress":"a@contoso.test"}"#,
        r#"{"Title":"no users","Severity":"low","LastSeen":"2026-10-01T00:00:00Z"}"#,
        r#"{"category":"Other","properties":"text","Recipient":"a@contoso.test"}"#,
    ];
    for text in taken {
        for kind in [None, Some(RecordKind::Alert), Some(RecordKind::Email)] {
            assert!(check_json_paths_agree(text, kind), "fast path declined {text}");
        }
    }
}

#[test]
fn json_fast_path_declines_value_only_shapes() {
    let declined = [
        r#"{"a":"1","a":"2","Recipient":"x@contoso.test"}"#,
        r#"{"Recipient":"x@contoso.test","Data":{"k":"v"}}"#,
        r#"{"category":"AdvancedHunting-EmailEvents","category":"x","properties":{"Subject":"s"}}"#,
        r#"{"category":"AdvancedHunting-EmailEvents","properties":{"Subject":"s","Subject":"t"}}"#,
        r#"{"category":"AdvancedHunting-EmailEvents","properties":{"Subject":"s","Nested":{}}}"#,
        r#"{"RecordType":28,"Operation":"TIMailData","Recipients":["a@contoso.test"]}"#,
        r##"{"@odata.type":"#microsoft.graph.security.alert","id":"g-1"}"##,
        "[1,2]",
        "{\"a\":",
    ];
    for text in declined {
        assert!(!check_json_paths_agree(text, None), "fast path took {text}");
    }
}

fn map_with_extra(text: &str, extra: &ExtraColumns) -> Result<Mapped, MapError> {
    let item = RawItem { line: 3, body: RawBody::Json(text.to_string()) };
    map_item_with(&item, &ctx(SourceFormat::Ndjson, None), extra)
}

#[test]
fn extra_columns_keep_only_named() {
    let text = r#"{"NetworkMessageId":"m-1","RecipientEmailAddress":"a@contoso.test","EmailLanguage":"en","UrlCount":2,"Custom Time":"2026-10-01T00:00:00Z"}"#;
    let mut extra = ExtraColumns::default();
    extra.keep_only(RecordKind::Email, vec!["emaillanguage".to_string()]);
    let pruned = expect_record(map_with_extra(text, &extra));
    let full = expect_record(map_with_extra(text, &ExtraColumns::default()));
    let names = |record: &Record| record.extra.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&pruned), ["EmailLanguage"]);
    assert!(names(&full).len() > 1);
    assert_eq!(pruned.fields, full.fields);
    assert_eq!(pruned.users, full.users);
    assert_eq!(pruned.raw, full.raw);
    extra.keep_only(RecordKind::Alert, Vec::new());
    assert_eq!(extra.kept(RecordKind::Alert), Some(&[][..]));
    assert_eq!(extra.kept(RecordKind::Campaign), None);
}

#[test]
fn extra_columns_left_out_times_still_checked() {
    let text = r#"{"NetworkMessageId":"m-1","RecipientEmailAddress":"a@contoso.test","LastSeen":"yesterday"}"#;
    let mut extra = ExtraColumns::default();
    extra.keep_only(RecordKind::Email, Vec::new());
    let error = map_with_extra(text, &extra).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("LastSeen"), "{error}");
}

#[test]
fn field_names_unique_per_kind() {
    for kind in RecordKind::ALL {
        let mut names: Vec<&str> = schema::field_specs(kind).iter().map(|f| f.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "{kind}");
    }
}

#[test]
fn compile_time_column_keys_match() {
    let lists = [
        generic::SENDER_COLUMNS,
        generic::RECIPIENT_COLUMNS,
        generic::ALERT_USER_COLUMNS,
        generic::ALERT_OBJECT_ID_COLUMNS,
        generic::CAMPAIGN_SENDER_COLUMNS,
        generic::ID_COLUMNS,
        source::columns!["SenderDisplayName", "P2SenderDisplayName", "x_1-Y"],
    ];
    for column in lists.iter().flat_map(|list| list.iter()) {
        assert!(column.key_matches_name(), "{}", column.name);
    }
}

#[test]
fn owned_mapping_matches_borrowed() {
    let mut items =
        csv_items("NetworkMessageId\tRecipientEmailAddress\tSubject\nm-1\ta@contoso.test\tHi");
    let texts = [
        r#"{"NetworkMessageId":"m-2","RecipientEmailAddress":"a@contoso.test"}"#,
        " {\"NetworkMessageId\":\"m-3\",\"Recipient\":\"a@contoso.test\"}\t",
        "{\n  \"NetworkMessageId\": \"m-4\",\n  \"Recipient\": \"a@contoso.test\"\n}",
        r#"{"category":"AdvancedHunting-EmailUrlInfo","properties":{"Url":"https://x.test"}}"#,
        r#"{"Timestamp":"not a time","Recipient":"a@contoso.test"}"#,
        "[1]",
    ];
    items.extend(texts.iter().map(|t| RawItem { line: 1, body: RawBody::Json(t.to_string()) }));
    let context = ctx(SourceFormat::Ndjson, None);
    let extra = ExtraColumns::default();
    for item in items {
        let borrowed = map_item(&item, &context);
        let owned = map_item_owned(item.clone(), &context, &extra);
        match (&borrowed, &owned) {
            (Ok(borrowed), Ok(owned)) => assert_eq!(borrowed, owned, "{item:?}"),
            (Err(borrowed), Err(owned)) => {
                assert_eq!(borrowed.to_string(), owned.to_string(), "{item:?}")
            }
            _ => panic!("results differ for {item:?}: {borrowed:?} and {owned:?}"),
        }
    }
}
