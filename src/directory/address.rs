//! Address normalisation: the key under which addresses are compared.
//!
//! Two addresses are equal when their keys are equal. The key is the trimmed address with its
//! local part lower-cased in ASCII only, so the result never depends on the process locale and
//! `straße` stays distinct from `strasse`. The domain is converted to its ASCII (IDNA) form, so
//! `BÜCHER.test` and `xn--bcher-kva.test` are the same domain. Dots are kept and nothing is
//! matched by prefix.

/// The reason a text is not a usable mail address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// The text is empty after trimming.
    Empty,
    /// The text is wrapped in quotes, or contains a quote.
    Quoted,
    /// The text is not of the form `local@domain`.
    Syntax,
}

impl AddressError {
    /// Returns the reason as a short lower-case phrase.
    pub fn reason(self) -> &'static str {
        match self {
            AddressError::Empty => "empty address",
            AddressError::Quoted => "quoted address; remove the quotes",
            AddressError::Syntax => "invalid address syntax",
        }
    }
}

/// Returns the comparison key of an address, or why the text is not an address.
pub fn address_key(text: &str) -> Result<String, AddressError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddressError::Empty);
    }
    // An apostrophe inside a local part is valid (`o'brien@`), so single quotes only count
    // when they wrap the whole text.
    let single_quoted = text.len() > 1 && text.starts_with('\'') && text.ends_with('\'');
    if single_quoted || text.contains(['"', '\u{201C}', '\u{201D}', '\u{2018}', '\u{2019}']) {
        return Err(AddressError::Quoted);
    }
    let (local, domain) = text.rsplit_once('@').ok_or(AddressError::Syntax)?;
    if local.is_empty() || domain.is_empty() || local.contains('@') {
        return Err(AddressError::Syntax);
    }
    if text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
    {
        return Err(AddressError::Syntax);
    }
    let domain = domain_key(domain)?;
    Ok(format!("{}@{domain}", local.to_ascii_lowercase()))
}

/// Converts a domain to lower-case ASCII, applying IDNA to non-ASCII labels.
fn domain_key(domain: &str) -> Result<String, AddressError> {
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return Err(AddressError::Syntax);
    }
    let ascii = if domain.is_ascii() {
        domain.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(domain).map_err(|_| AddressError::Syntax)?
    };
    // UTS 46 mapping can turn a character into a space or other punctuation (U+00B4 becomes
    // a space and a combining accent), so the result is checked rather than trusted.
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if ascii.is_empty() || !ascii.chars().all(valid) {
        return Err(AddressError::Syntax);
    }
    Ok(ascii)
}

/// Returns the key of the plus address's base (`user+x@d` gives `user@d`), or `None` when the
/// key has no `+` in its local part.
pub fn plus_base(key: &str) -> Option<String> {
    let (local, domain) = key.rsplit_once('@')?;
    let (base, _) = local.split_once('+')?;
    if base.is_empty() {
        return None;
    }
    Some(format!("{base}@{domain}"))
}

/// Returns the domain of an address as written, or `None` without an `@`.
pub fn domain_of(address: &str) -> Option<&str> {
    address.rsplit_once('@').map(|(_, domain)| domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_folds_ascii_case_only() {
        assert_eq!(address_key(" ILKER@Contoso.TEST ").as_deref(), Ok("ilker@contoso.test"));
        assert_eq!(address_key("straße@contoso.test").as_deref(), Ok("straße@contoso.test"));
        assert_ne!(address_key("straße@contoso.test"), address_key("strasse@contoso.test"));
        assert_eq!(address_key("İlker@contoso.test").as_deref(), Ok("İlker@contoso.test"));
    }

    #[test]
    fn key_converts_unicode_domain_to_ascii() {
        assert_eq!(address_key("user@BÜCHER.test").as_deref(), Ok("user@xn--bcher-kva.test"));
        assert_eq!(
            address_key("user@xn--bcher-kva.TEST").as_deref(),
            Ok("user@xn--bcher-kva.test")
        );
    }

    #[test]
    fn key_rejects_bad_syntax_and_quotes() {
        assert_eq!(address_key("not-an-address"), Err(AddressError::Syntax));
        assert_eq!(address_key("@contoso.test"), Err(AddressError::Syntax));
        assert_eq!(address_key("user@"), Err(AddressError::Syntax));
        assert_eq!(address_key("a b@contoso.test"), Err(AddressError::Syntax));
        assert_eq!(address_key("a@@contoso.test"), Err(AddressError::Syntax));
        assert_eq!(address_key("\"user2@contoso.test\""), Err(AddressError::Quoted));
        assert_eq!(address_key("'user2@contoso.test'"), Err(AddressError::Quoted));
        assert_eq!(address_key("\u{201C}user2@contoso.test\u{201D}"), Err(AddressError::Quoted));
        assert_eq!(address_key("o'brien@contoso.test").as_deref(), Ok("o'brien@contoso.test"));
        assert_eq!(address_key("   "), Err(AddressError::Empty));
    }

    #[test]
    fn key_rejects_domain_that_maps_to_space() {
        assert_eq!(address_key("user@0\u{B4}"), Err(AddressError::Syntax));
        assert_eq!(address_key("user@contoso!.test"), Err(AddressError::Syntax));
    }

    #[test]
    fn key_keeps_guest_upn_hash() {
        let upn = "ext.user_partner.test#EXT#@contoso.onmicrosoft.test";
        assert_eq!(
            address_key(upn).as_deref(),
            Ok("ext.user_partner.test#ext#@contoso.onmicrosoft.test")
        );
    }

    #[test]
    fn plus_base_strips_tag() {
        assert_eq!(plus_base("user1+x@contoso.test").as_deref(), Some("user1@contoso.test"));
        assert_eq!(plus_base("user1@contoso.test"), None);
        assert_eq!(plus_base("+x@contoso.test"), None);
    }

    proptest::proptest! {
        #[test]
        fn key_is_idempotent(text in "\\PC{0,40}") {
            if let Ok(key) = address_key(&text) {
                proptest::prop_assert_eq!(address_key(&key), Ok(key.clone()));
            }
        }

        #[test]
        fn key_ignores_ascii_case_of_addresses(
            local in "[a-zA-Z0-9._+'-]{1,12}",
            domain in "[a-zA-Z0-9\u{E0}-\u{FF}-]{1,10}\\.[a-z]{2,4}",
        ) {
            let address = format!("{local}@{domain}");
            if let Ok(key) = address_key(&address) {
                proptest::prop_assert_eq!(address_key(&address.to_ascii_uppercase()), Ok(key.clone()));
                proptest::prop_assert_eq!(address_key(&key), Ok(key.clone()));
            }
        }
    }
}
