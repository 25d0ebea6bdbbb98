//! Text normalisation shared by the filter language, the catalog and the evaluator.

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// Folds a tag name for comparison: NFC, outer blanks trimmed, inner blank runs collapsed to
/// one space, full Unicode case folding (so `ß` equals `ss`), then NFC again.
pub fn fold_name(name: &str) -> String {
    let nfc: String = name.nfc().collect();
    let collapsed =
        nfc.split(char::is_whitespace).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    caseless::default_case_fold_str(&collapsed).nfc().collect()
}

/// Folds a tag name like [`fold_name`] but with compatibility normalisation (NFKC), so that
/// look-alike spellings such as full-width `ＦＩＮＡＮＣＥ` fold to the same text as `Finance`.
pub fn fold_name_compatible(name: &str) -> String {
    let nfkc: String = name.nfkc().collect();
    fold_name(&nfkc).nfkc().collect()
}

/// Folds a keyword or enumeration value for case-insensitive equality (full case folding,
/// independent of the process locale).
pub fn fold_value(value: &str) -> String {
    let mut folded = String::new();
    fold_value_into(value, &mut folded);
    folded
}

/// Folds a value like [`fold_value`] into `folded`, replacing its content, so that a caller
/// folding many values can reuse one buffer.
pub fn fold_value_into(value: &str, folded: &mut String) {
    folded.clear();
    if value.is_ascii() {
        // Full case folding maps only `A` to `Z` among ASCII characters, to `a` to `z`.
        folded.push_str(value);
        folded.make_ascii_lowercase();
    } else {
        folded.extend(value.chars().default_case_fold());
    }
}

/// Folds a mail address, UPN, domain or object id for comparison: trims, lower-cases ASCII
/// letters only (so the result never depends on the locale, and `straße` stays distinct from
/// `strasse`), and writes an internationalised domain in its ASCII form (`BÜCHER.test` becomes
/// `xn--bcher-kva.test`). Text that IDNA rejects keeps its lower-cased ASCII form.
pub fn fold_address(address: &str) -> String {
    let trimmed = address.trim();
    match trimmed.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{}", local.to_ascii_lowercase(), fold_domain(domain)),
        None => fold_domain(trimmed),
    }
}

fn fold_domain(domain: &str) -> String {
    if domain.is_ascii() {
        return domain.to_ascii_lowercase();
    }
    idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_ascii_lowercase())
}

/// Splits text into case-folded words: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold_value).collect()
}

/// Returns the Levenshtein distance between two strings, counted in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Returns the candidate closest to `name` (case-insensitive), if it is close enough to be a
/// likely typo: at most a third of the name's length, and at most 3 edits.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let limit = (lower.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_value_ascii_path_matches_full_folding() {
        let ascii: String = (0u8..=127).map(char::from).collect();
        assert_eq!(fold_value(&ascii), caseless::default_case_fold_str(&ascii));
    }

    #[test]
    fn fold_value_folds_non_ascii_fully() {
        assert_eq!(fold_value("Straße ÉTÉ"), "strasse été");
    }

    #[test]
    fn fold_value_into_replaces_buffer() {
        let mut folded = String::from("old text");
        fold_value_into("New", &mut folded);
        assert_eq!(folded, "new");
    }

    #[test]
    fn fold_name_trims_collapses_and_folds() {
        assert_eq!(fold_name("  priority   ACCOUNT "), "priority account");
    }

    #[test]
    fn fold_name_normalises_combining_marks() {
        assert_eq!(fold_name("Cafe\u{301}"), fold_name("Café"));
    }

    #[test]
    fn fold_name_full_case_folding() {
        assert_eq!(fold_name("STRASSE"), fold_name("straße"));
    }

    #[test]
    fn fold_address_ascii_only_and_idna() {
        assert_eq!(fold_address(" ILKER@Contoso.Test "), "ilker@contoso.test");
        assert_eq!(fold_address("user@BÜCHER.test"), "user@xn--bcher-kva.test");
        assert_ne!(fold_address("straße@contoso.test"), fold_address("strasse@contoso.test"));
        assert_eq!(fold_address("Contoso.COM"), "contoso.com");
    }

    #[test]
    fn words_split_on_punctuation() {
        assert_eq!(words("Overdue: invoice #4411"), vec!["overdue", "invoice", "4411"]);
    }

    #[test]
    fn closest_finds_typo() {
        assert_eq!(closest("sevrity", ["severity", "status"]), Some("severity"));
        assert_eq!(closest("zzz", ["severity", "status"]), None);
    }
}
