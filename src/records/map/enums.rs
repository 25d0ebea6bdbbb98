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

use super::source::{normalized_name, strip_utc_suffix};

/// Returns the stored spelling of a model field's value (see the module table).
pub(crate) fn normalize_enum(field: &str, value: &str) -> String {
    let synonyms: fn(&str) -> Option<&'static str> = match field {
        "delivery_action" | "latest_delivery_action" => delivery_action,
        "delivery_location" | "original_delivery_location" => delivery_location,
        "determination" => determination,
        _ => return value.to_string(),
    };
    let canonical = match ascii_normalized(value) {
        Some(Some(normalized)) => synonyms(normalized.as_str()),
        Some(None) => None,
        None => synonyms(&normalized_name(value)),
    };
    canonical.map_or_else(|| value.to_string(), String::from)
}

/// Maximum length of a normalized value that [`ascii_normalized`] keeps on the stack. Every
/// synonym in the tables is shorter.
const MAX_SYNONYM_LEN: usize = 32;

/// The normalized form of an ASCII value, built on the stack.
struct Normalized {
    bytes: [u8; MAX_SYNONYM_LEN],
    len: usize,
}

impl Normalized {
    fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..self.len).unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

/// Returns `None` for a value that is not ASCII, `Some(None)` for an ASCII value whose
/// normalized form is too long to be a synonym, and else the form that [`normalized_name`]
/// returns, without allocating.
fn ascii_normalized(value: &str) -> Option<Option<Normalized>> {
    let value = strip_utc_suffix(value);
    if !value.is_ascii() {
        return None;
    }
    let mut normalized = Normalized { bytes: [0; MAX_SYNONYM_LEN], len: 0 };
    for byte in value.bytes().filter(u8::is_ascii_alphanumeric) {
        let Some(slot) = normalized.bytes.get_mut(normalized.len) else { return Some(None) };
        *slot = byte.to_ascii_lowercase();
        normalized.len += 1;
    }
    Some(Some(normalized))
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
    fn stack_normalization_matches_normalized_name() {
        for value in ["Inbox/folder", "Junk folder [UTC]", "x", "", "A-b_C 9"] {
            let normalized = ascii_normalized(value).flatten();
            assert_eq!(normalized.as_ref().map(Normalized::as_str), Some(&*normalized_name(value)));
        }
        assert!(ascii_normalized(&"a".repeat(MAX_SYNONYM_LEN + 1)).is_some_and(|n| n.is_none()));
        assert!(ascii_normalized("Größe").is_none());
        assert_eq!(normalize_enum("delivery_location", "INBOX\u{2060}"), "Inbox");
    }

    #[test]
    fn determination_two_spellings_merged() {
        assert_eq!(normalize_enum("determination", "compromisedUser"), "compromisedAccount");
        assert_eq!(normalize_enum("determination", "clean"), "notMalicious");
        assert_eq!(normalize_enum("determination", "malware"), "malware");
    }
}
