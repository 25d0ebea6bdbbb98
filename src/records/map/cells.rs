//! Multi-valued cells: comma or semicolon lists, JSON arrays and JSON objects inside a cell.

use serde_json::Value as Json;

/// Splits a multi-valued cell into its trimmed, non-empty parts.
///
/// - A JSON array (`["a@x","b@x"]`) gives its elements.
/// - Text that only looks like an array (`[a@x, b@x]`) loses its brackets and is split.
/// - A JSON object gives the values of its keys, flattened, so the `DetectionMethods` form
///   `{"Phish":["URL detonation","Spoof DMARC"]}` gives the two methods. The keys are dropped.
/// - Other text is split on `,` and `;`, but not inside double quotes, `<...>` or `(...)`.
///   A part without `@` that is followed by a `<...>` part is joined to it, so
///   `Doe, Jane <jane@x>` stays whole.
pub fn split_list(text: &str) -> Vec<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    // Without a separator or a JSON container, the cell is one item, such as a single address.
    let is_container = trimmed.starts_with(['[', '{']);
    if !is_container && memchr::memchr2(b',', b';', trimmed.as_bytes()).is_none() {
        return vec![trimmed.to_string()];
    }
    if let Some(items) = parse_json_container(trimmed) {
        return items;
    }
    let inner = trimmed
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .map(str::trim)
        .unwrap_or(trimmed);
    join_display_names(split_outside_quotes(inner))
}

/// Parses a cell that is a JSON array or object and returns its scalar items as text.
pub fn parse_json_container(text: &str) -> Option<Vec<String>> {
    let is_array = text.starts_with('[') && text.ends_with(']');
    let is_object = text.starts_with('{') && text.ends_with('}');
    if !is_array && !is_object {
        return None;
    }
    let value: Json = serde_json::from_str(text).ok()?;
    let mut items = Vec::new();
    flatten_json(&value, &mut items, 0);
    Some(items)
}

/// Maximum nesting that [`flatten_json`] follows; deeper values are kept as compact JSON text.
const MAX_FLATTEN_DEPTH: usize = 4;

/// Appends the scalar values inside `value` as text: array elements and object values.
pub fn flatten_json(value: &Json, out: &mut Vec<String>, depth: usize) {
    match value {
        Json::Null => {}
        Json::String(s) => {
            let s = s.trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
        }
        Json::Bool(b) => out.push(b.to_string()),
        Json::Number(n) => out.push(n.to_string()),
        Json::Array(items) if depth < MAX_FLATTEN_DEPTH => {
            items.iter().for_each(|item| flatten_json(item, out, depth + 1));
        }
        Json::Object(map) if depth < MAX_FLATTEN_DEPTH => {
            map.values().for_each(|item| flatten_json(item, out, depth + 1));
        }
        other => out.push(other.to_string()),
    }
}

fn split_outside_quotes(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut paren_depth = 0usize;
    for c in text.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => in_angle = true,
            '>' if !in_quotes => in_angle = false,
            '(' if !in_quotes => paren_depth += 1,
            ')' if !in_quotes => paren_depth = paren_depth.saturating_sub(1),
            ',' | ';' if !in_quotes && !in_angle && paren_depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

fn join_display_names(parts: Vec<String>) -> Vec<String> {
    let mut parts = parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).peekable();
    let mut out = Vec::new();
    while let Some(part) = parts.next() {
        let is_bare_name = !part.contains('@') && !part.contains('<');
        let next_has_named_address =
            parts.peek().is_some_and(|next| next.contains('<') && !next.starts_with('<'));
        match parts.next_if(|_| is_bare_name && next_has_named_address) {
            Some(next) => out.push(format!("{part}, {next}")),
            None => out.push(part.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threat_types_split_on_comma() {
        assert_eq!(split_list("Phish,Spam"), vec!["Phish", "Spam"]);
        assert_eq!(split_list(" Phish , Malware ,"), vec!["Phish", "Malware"]);
    }

    #[test]
    fn recipient_cell_truncated_address_kept() {
        assert_eq!(
            split_list("user1@contoso.test; USER2@contoso.test ;user3@cont"),
            vec!["user1@contoso.test", "USER2@contoso.test", "user3@cont"]
        );
    }

    #[test]
    fn json_array_cell_gives_elements() {
        assert_eq!(
            split_list(r#"["a@contoso.test","b@contoso.test"]"#),
            vec!["a@contoso.test", "b@contoso.test"]
        );
        assert_eq!(split_list("[]"), Vec::<String>::new());
    }

    #[test]
    fn bracketed_text_that_is_not_json_split() {
        assert_eq!(split_list("[user1@contoso.test]"), vec!["user1@contoso.test"]);
        assert_eq!(
            split_list("[a@contoso.test, b@contoso.test]"),
            vec!["a@contoso.test", "b@contoso.test"]
        );
    }

    #[test]
    fn detection_methods_object_gives_methods() {
        assert_eq!(
            split_list(r#"{"Phish":["URL detonation reputation","Spoof DMARC"],"Spam":["Bulk"]}"#),
            vec!["URL detonation reputation", "Spoof DMARC", "Bulk"]
        );
    }

    #[test]
    fn display_name_with_comma_kept_whole() {
        assert_eq!(
            split_list("Doe, Jane <jane@contoso.test>; user2@contoso.test"),
            vec!["Doe, Jane <jane@contoso.test>", "user2@contoso.test"]
        );
        assert_eq!(
            split_list("\"Doe, Jane\" <jane@contoso.test>"),
            vec!["\"Doe, Jane\" <jane@contoso.test>"]
        );
    }

    #[test]
    fn comma_inside_parentheses_not_split() {
        assert_eq!(
            split_list("a@contoso.test(external, opens in a new tab or window); b@contoso.test"),
            vec!["a@contoso.test(external, opens in a new tab or window)", "b@contoso.test"]
        );
    }

    #[test]
    fn single_item_cell_kept_whole() {
        assert_eq!(
            split_list("  Jane Doe <jane@contoso.test> "),
            vec!["Jane Doe <jane@contoso.test>"]
        );
        assert_eq!(split_list("\"quoted\" (note)"), vec!["\"quoted\" (note)"]);
        assert_eq!(split_list("[a@contoso.test]"), vec!["a@contoso.test"]);
        assert_eq!(split_list("{}"), Vec::<String>::new());
    }

    #[test]
    fn empty_cell_gives_no_items() {
        assert!(split_list("").is_empty());
        assert!(split_list(" ; , ").is_empty());
    }
}
