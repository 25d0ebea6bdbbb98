//! Detection of the input format and of the CSV delimiter from the first bytes of an input.

use std::io;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::InputFormat;
use super::encoding::Prefix;

/// Maximum bytes read ahead to find the first non-blank byte or the CSV header line.
const MAX_LEADING_BYTES: usize = 1 << 20;

/// Maximum length of a first line that detection parses to tell NDJSON from a JSON document.
/// A longer first line is taken as one JSON document.
const MAX_PROBE_LINE: usize = 64 << 20;

/// Detects the format from content. A first non-blank `[` starts a JSON array. A `{` starts
/// NDJSON when the first line is a complete JSON object, and one JSON document otherwise.
/// Anything else is CSV.
///
/// A compact API response is one line too. So a first-line object that wraps a record list (a
/// `value` or `events` array) and is the only content of the input is one JSON document.
pub(super) fn detect_format(prefix: &mut Prefix) -> io::Result<InputFormat> {
    prefix.fill_until(MAX_LEADING_BYTES, |b| first_non_blank(b).is_some())?;
    let Some(start) = first_non_blank(&prefix.bytes) else {
        return Ok(InputFormat::Csv);
    };
    match prefix.bytes.get(start) {
        Some(b'[') => Ok(InputFormat::Json),
        Some(b'{') => detect_object_stream(prefix, start),
        _ => Ok(InputFormat::Csv),
    }
}

fn detect_object_stream(prefix: &mut Prefix, start: usize) -> io::Result<InputFormat> {
    let limit = start.saturating_add(MAX_PROBE_LINE);
    prefix.fill_until(limit, |b| {
        memchr::memchr(b'\n', b.get(start..).unwrap_or_default()).is_some()
    })?;
    let tail = prefix.bytes.get(start..).unwrap_or_default();
    let line_end = match memchr::memchr(b'\n', tail) {
        Some(i) => start + i,
        None if prefix.at_eof() => prefix.bytes.len(),
        None => return Ok(InputFormat::Json),
    };
    let line = prefix.bytes.get(start..line_end).unwrap_or_default();
    let Ok(probe) = serde_json::from_slice::<WrapperProbe>(line) else {
        return Ok(InputFormat::Json);
    };
    if !probe.is_wrapper() {
        return Ok(InputFormat::Ndjson);
    }
    let after = line_end + 1;
    prefix.fill_until(after.saturating_add(MAX_LEADING_BYTES), |b| {
        first_non_blank(b.get(after..).unwrap_or_default()).is_some()
    })?;
    let rest = prefix.bytes.get(after..).unwrap_or_default();
    if first_non_blank(rest).is_some() { Ok(InputFormat::Ndjson) } else { Ok(InputFormat::Json) }
}

/// The keys of an object that mark it as a wrapper around a list of records.
#[derive(Deserialize)]
struct WrapperProbe {
    value: Option<Box<RawValue>>,
    events: Option<Box<RawValue>>,
}

impl WrapperProbe {
    fn is_wrapper(&self) -> bool {
        let is_array = |raw: &Option<Box<RawValue>>| {
            raw.as_ref().is_some_and(|r| r.get().trim_start().starts_with('['))
        };
        is_array(&self.value) || is_array(&self.events)
    }
}

fn first_non_blank(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| !b.is_ascii_whitespace())
}

/// The delimiters that sniffing considers, with their display names.
const CANDIDATES: [(u8, &str); 3] = [(b',', "','"), (b';', "';'"), (b'\t', "tab")];

/// The outcome of delimiter sniffing when it cannot choose.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Ambiguous {
    pub(super) first: &'static str,
    pub(super) second: &'static str,
}

/// Chooses the delimiter from the header line: the one candidate (`,`, `;` or tab) that occurs
/// outside quotes. A header with none is one column, read with `,`. A header with two
/// candidates is ambiguous.
pub(super) fn sniff_delimiter(prefix: &mut Prefix) -> io::Result<Result<u8, Ambiguous>> {
    prefix.fill_until(MAX_LEADING_BYTES, |b| header_line_end(b).is_some())?;
    let end = header_line_end(&prefix.bytes).unwrap_or(prefix.bytes.len());
    let header = prefix.bytes.get(..end).unwrap_or_default();
    let found: Vec<(u8, &'static str)> =
        CANDIDATES.iter().copied().filter(|(byte, _)| occurs_unquoted(header, *byte)).collect();
    Ok(match found.as_slice() {
        [] => Ok(b','),
        [(byte, _)] => Ok(*byte),
        [(_, first), (_, second), ..] => Err(Ambiguous { first, second }),
    })
}

/// Finds the end of the first line, skipping newlines inside quoted fields.
fn header_line_end(bytes: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, byte) in bytes.iter().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn occurs_unquoted(line: &[u8], needle: u8) -> bool {
    let mut quoted = false;
    for byte in line {
        if *byte == b'"' {
            quoted = !quoted;
        } else if *byte == needle && !quoted {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn prefix(text: &str) -> Prefix {
        Prefix::new(Box::new(Cursor::new(text.as_bytes().to_vec())))
    }

    fn format_of(text: &str) -> InputFormat {
        detect_format(&mut prefix(text)).unwrap()
    }

    fn delimiter_of(text: &str) -> Result<u8, Ambiguous> {
        sniff_delimiter(&mut prefix(text)).unwrap()
    }

    #[test]
    fn array_is_json_document() {
        assert_eq!(format_of("  \n[{\"a\":1}]"), InputFormat::Json);
    }

    #[test]
    fn object_lines_are_ndjson() {
        assert_eq!(format_of("{\"a\":1}\n{\"a\":2}\n"), InputFormat::Ndjson);
        assert_eq!(format_of("{\"a\":1}"), InputFormat::Ndjson);
    }

    #[test]
    fn pretty_object_is_json_document() {
        assert_eq!(format_of("{\n  \"value\": []\n}"), InputFormat::Json);
    }

    #[test]
    fn compact_wrapper_alone_is_json_document() {
        assert_eq!(format_of("{\"value\":[{\"a\":1}]}\n"), InputFormat::Json);
        assert_eq!(format_of("{\"events\":[]}"), InputFormat::Json);
    }

    #[test]
    fn compact_wrapper_followed_by_lines_is_ndjson() {
        assert_eq!(format_of("{\"value\":[1]}\n{\"value\":[2]}\n"), InputFormat::Ndjson);
    }

    #[test]
    fn text_is_csv() {
        assert_eq!(format_of("AlertId,Severity\n"), InputFormat::Csv);
        assert_eq!(format_of(""), InputFormat::Csv);
    }

    #[test]
    fn semicolon_delimiter_sniffed() {
        assert_eq!(delimiter_of("Severity;Recipient;Subject\r\nhigh;a;\"b, c\"\r\n"), Ok(b';'));
    }

    #[test]
    fn tab_delimiter_sniffed() {
        assert_eq!(delimiter_of("Severity\tRecipient\n"), Ok(b'\t'));
    }

    #[test]
    fn comma_inside_quotes_ignored() {
        assert_eq!(delimiter_of("\"Time, UTC\";Severity\n"), Ok(b';'));
    }

    #[test]
    fn ambiguous_delimiter_detected() {
        let found = delimiter_of("Severity;Recipient,Subject\r\nhigh;a,x\r\n");
        assert_eq!(found, Err(Ambiguous { first: "','", second: "';'" }));
    }

    #[test]
    fn single_column_uses_comma() {
        assert_eq!(delimiter_of("AlertId\nA-1\n"), Ok(b','));
    }
}
