//! Whole-value wildcard matching for [`Pattern`].

use super::ast::{Pattern, PatternPart};
use crate::text::fold_value;

impl Pattern {
    /// Returns true when the pattern matches the whole of `text`, ignoring case: `*` matches any
    /// run of characters, none included. Both sides are case-folded with
    /// [`fold_value`]. Runs in O(pattern × text) time at worst, never exponentially.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = fold_value(text).chars().collect();
        let pattern = self.folded_items();
        glob_match(&pattern, &text)
    }

    /// Returns the pattern as folded characters, `None` standing for a star.
    fn folded_items(&self) -> Vec<Option<char>> {
        let mut items = Vec::new();
        for part in &self.parts {
            match part {
                PatternPart::Star => items.push(None),
                PatternPart::Literal(s) => items.extend(fold_value(s).chars().map(Some)),
            }
        }
        items
    }
}

/// Matches with the classic two-pointer method: on a mismatch, retry from the last star with
/// one more character absorbed by it.
fn glob_match(pattern: &[Option<char>], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(None) => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(Some(c)) if Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, absorbed)) => {
                    p = star + 1;
                    t = absorbed + 1;
                    backtrack = Some((star, absorbed + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(Option::is_none))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(parts: &[Option<&str>]) -> Pattern {
        let parts = parts
            .iter()
            .map(|p| match p {
                None => PatternPart::Star,
                Some(s) => PatternPart::Literal(s.to_string()),
            })
            .collect();
        Pattern { parts }
    }

    #[test]
    fn matches_prefix_suffix_infix() {
        assert!(pattern(&[Some("conto"), None]).matches("Contoso.com"));
        assert!(pattern(&[None, Some("invoice"), None]).matches("Your INVOICE is due"));
        assert!(pattern(&[None, Some(".exe")]).matches("setup.exe"));
        assert!(!pattern(&[None, Some(".exe")]).matches("setup.exe.txt"));
    }

    #[test]
    fn matches_whole_value_only() {
        assert!(!pattern(&[Some("conto")]).matches("contoso"));
        assert!(pattern(&[Some("a"), None, Some("b")]).matches("ab"));
        assert!(pattern(&[None]).matches(""));
    }

    #[test]
    fn literal_star_is_not_a_wildcard() {
        assert!(pattern(&[Some("Ops*")]).matches("ops*"));
        assert!(!pattern(&[Some("Ops*")]).matches("ops-1"));
    }

    #[test]
    fn many_stars_stay_fast() {
        let mut parts = vec![None; 1];
        for _ in 0..50 {
            parts.push(Some("a"));
            parts.push(None);
        }
        parts.push(Some("b"));
        let text = "a".repeat(5_000);
        assert!(!pattern(&parts).matches(&text));
    }
}
