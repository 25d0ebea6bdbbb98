//! Normalisation of enumeration values that different surfaces spell as different words.
//!
//! Values that differ only in case or separators (`Intra-org`, `Intraorg`, `intraOrg`) are
//! left alone, because queries compare enumerations ignoring case and non-alphanumerics. Only
//! true synonyms are rewritten to one spelling:
//!
//! | field | exported | stored |
//! |---|---|---|
//! | `delivery_action` (also `latest_`) | `DeliveredAsSpam`, `Delivered to junk`, `junked` | `Junked` |
//! | `delivery_location`, `original_delivery_location` | `Inbox/folder`, `inbox` | `Inbox` |
//! | | `Junk`, `JunkFolder`, `Junk folder`, `junkFolder` | `Junk` |
//! | | `On-premises/External`, `On-prem/external`, `external` | `External` |
//! | | `Deleted items`, `Deleted Items folder`, `deletedFolder` | `Deleted` |
//! | `determination` | `compromisedUser`, `compromisedAccount` | `compromisedAccount` |
//! | | `clean`, `notMalicious` | `notMalicious` |
//! | | `insufficientData`, `notEnoughDataToValidate` | `notEnoughDataToValidate` |
//! | | `confirmedUserActivity`, `confirmedActivity` | `confirmedActivity` |

use super::source::normalized_name;

/// Returns the stored spelling of a model field's value (see the module table).
pub(crate) fn normalize_enum(field: &str, value: &str) -> String {
    let canonical = match field {
        "delivery_action" | "latest_delivery_action" => delivery_action(&normalized_name(value)),
        "delivery_location" | "original_delivery_location" => {
            delivery_location(&normalized_name(value))
        }
        "determination" => determination(&normalized_name(value)),
        _ => None,
    };
    canonical.map_or_else(|| value.to_string(), String::from)
}

fn delivery_action(normalized: &str) -> Option<&'static str> {
    matches!(normalized, "deliveredasspam" | "deliveredtojunk" | "junked").then_some("Junked")
}

fn delivery_location(normalized: &str) -> Option<&'static str> {
    match normalized {
        "inboxfolder" | "inbox" => Some("Inbox"),
        "junk" | "junkfolder" | "junkemail" | "junkemailfolder" => Some("Junk"),
        "onpremisesexternal" | "onpremexternal" | "external" => Some("External"),
        "deleteditems" | "deleteditemsfolder" | "deletedfolder" => Some("Deleted"),
        _ => None,
    }
}

fn determination(normalized: &str) -> Option<&'static str> {
    match normalized {
        "compromiseduser" | "compromisedaccount" => Some("compromisedAccount"),
        "clean" | "notmalicious" => Some("notMalicious"),
        "insufficientdata" | "notenoughdatatovalidate" => Some("notEnoughDataToValidate"),
        "confirmeduseractivity" | "confirmedactivity" => Some("confirmedActivity"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_delivery_synonyms_become_junked() {
        for value in ["DeliveredAsSpam", "Delivered to junk", "junked", "Junked"] {
            assert_eq!(normalize_enum("delivery_action", value), "Junked", "{value}");
        }
        assert_eq!(normalize_enum("delivery_action", "Delivered"), "Delivered");
        assert_eq!(normalize_enum("delivery_action", "Blocked"), "Blocked");
    }

    #[test]
    fn delivery_location_synonyms() {
        assert_eq!(normalize_enum("delivery_location", "Inbox/folder"), "Inbox");
        assert_eq!(normalize_enum("original_delivery_location", "JunkFolder"), "Junk");
        assert_eq!(normalize_enum("delivery_location", "On-premises/External"), "External");
        assert_eq!(normalize_enum("delivery_location", "Deleted Items folder"), "Deleted");
        assert_eq!(normalize_enum("delivery_location", "Quarantine"), "Quarantine");
    }

    #[test]
    fn separator_variants_kept_as_exported() {
        assert_eq!(normalize_enum("direction", "Intra-org"), "Intra-org");
        assert_eq!(normalize_enum("severity", "medium"), "medium");
    }

    #[test]
    fn determination_two_spellings_merged() {
        assert_eq!(normalize_enum("determination", "compromisedUser"), "compromisedAccount");
        assert_eq!(normalize_enum("determination", "clean"), "notMalicious");
        assert_eq!(normalize_enum("determination", "malware"), "malware");
    }
}
