//! Cleaning of mail addresses and UPNs as exports write them.

/// Cleans one exported address or UPN, or returns `None` when it names no one.
///
/// - Trims blanks and surrounding quotes, and strips a `mailto:` prefix.
/// - `Name <user@contoso.test>` becomes `user@contoso.test`; the null sender `<>` and an empty
///   value name no one.
/// - A trailing comment such as the portal's copy artefact
///   `user@contoso.test(external, opens in a new tab or window)` is removed.
/// - A BATV envelope sender `prvs=1234abcd=user@contoso.test` (also `msprvs1=`, `msprvs2=`)
///   becomes `user@contoso.test`.
///
/// The case is kept as written, because address resolution folds it. A cut address such as
/// `user3@cont` is returned as it is and is never completed.
pub fn clean_address(raw: &str) -> Option<String> {
    let mut text = trim_quotes(raw.trim());
    if let Some(inner) = angle_bracket_address(text) {
        text = trim_quotes(inner.trim());
    }
    text = strip_trailing_comment(text);
    text = strip_mailto(text);
    let text = trim_quotes(text.trim());
    if text.is_empty() || text == "<>" {
        return None;
    }
    Some(strip_batv(text).to_string())
}

fn trim_quotes(text: &str) -> &str {
    text.trim_matches(|c| c == '"' || c == '\'').trim()
}

/// Returns the text inside the last `<...>` of a display-name form, if there is one.
fn angle_bracket_address(text: &str) -> Option<&str> {
    let end = text.rfind('>')?;
    let start = text.get(..end)?.rfind('<')?;
    text.get(start + 1..end)
}

/// Removes a trailing `(...)` comment when the text before it contains an `@`.
fn strip_trailing_comment(text: &str) -> &str {
    if !text.ends_with(')') {
        return text;
    }
    match text.find('(').and_then(|open| text.get(..open)) {
        Some(head) if head.contains('@') => head.trim_end(),
        _ => text,
    }
}

fn strip_mailto(text: &str) -> &str {
    match text.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("mailto:") => text.get(7..).unwrap_or(text),
        _ => text,
    }
}

/// Strips a BATV tag (`prvs=TAG=local@domain`) from the local part.
fn strip_batv(text: &str) -> &str {
    let lower_prefix = |prefix: &str| {
        text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    let Some(prefix_len) =
        ["prvs=", "msprvs1=", "msprvs2="].iter().find(|p| lower_prefix(p)).map(|p| p.len())
    else {
        return text;
    };
    let Some(rest) = text.get(prefix_len..) else { return text };
    let at = rest.find('@').unwrap_or(rest.len());
    match rest.get(..at).and_then(|local| local.find('=')) {
        Some(eq) => rest.get(eq + 1..).filter(|core| !core.starts_with('@')).unwrap_or(text),
        None => text,
    }
}

/// Returns true for the service names that Management Activity API records put in `UserId` and
/// `UserKey`; they are not people.
pub fn is_service_account(address: &str) -> bool {
    const SERVICES: [&str; 4] =
        ["SecurityComplianceAlerts", "ThreatIntel", "AirInvestigation", "NT AUTHORITY\\SYSTEM"];
    SERVICES.iter().any(|s| s.eq_ignore_ascii_case(address.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(raw: &str) -> Option<String> {
        clean_address(raw)
    }

    #[test]
    fn plain_address_trimmed_case_kept() {
        assert_eq!(clean("  User1@Contoso.test "), Some("User1@Contoso.test".into()));
    }

    #[test]
    fn display_name_form_unwrapped() {
        assert_eq!(clean("Sender Name <sender@partner.test>"), Some("sender@partner.test".into()));
        assert_eq!(clean("\"Doe, Jane\" <jane@contoso.test>"), Some("jane@contoso.test".into()));
        assert_eq!(clean("<user1@contoso.test>"), Some("user1@contoso.test".into()));
    }

    #[test]
    fn null_sender_and_empty_name_no_one() {
        assert_eq!(clean("<>"), None);
        assert_eq!(clean(""), None);
        assert_eq!(clean("   "), None);
        assert_eq!(clean("\"\""), None);
    }

    #[test]
    fn portal_copy_artefact_removed() {
        assert_eq!(
            clean("Given.Surname@contoso.test(external, opens in a new tab or window)"),
            Some("Given.Surname@contoso.test".into())
        );
    }

    #[test]
    fn parenthesis_without_address_kept() {
        assert_eq!(clean("Finance (EMEA)"), Some("Finance (EMEA)".into()));
    }

    #[test]
    fn mailto_prefix_stripped() {
        assert_eq!(clean("MAILTO:user1@contoso.test"), Some("user1@contoso.test".into()));
    }

    #[test]
    fn batv_envelope_sender_unwrapped() {
        assert_eq!(clean("prvs=1234abcd56=user1@contoso.test"), Some("user1@contoso.test".into()));
        assert_eq!(clean("msprvs1=19x=bounces@partner.test"), Some("bounces@partner.test".into()));
        assert_eq!(clean("prvs=user1@contoso.test"), Some("prvs=user1@contoso.test".into()));
    }

    #[test]
    fn truncated_address_kept_as_is() {
        assert_eq!(clean("user3@cont"), Some("user3@cont".into()));
    }

    #[test]
    fn service_accounts_recognised() {
        assert!(is_service_account("SecurityComplianceAlerts"));
        assert!(is_service_account("threatintel"));
        assert!(is_service_account("AirInvestigation"));
        assert!(!is_service_account("user1@contoso.test"));
    }
}
