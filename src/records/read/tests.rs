//! Tests of the readers over in-memory inputs and, when `TAGQ_SAMPLES` names a folder, over
//! real export samples.

use std::io::Cursor;
use std::path::PathBuf;

use super::*;

/// Reads everything; returns the items and the first error, if any.
fn read_bytes(bytes: &[u8], options: &ReadOptions) -> Result<(Vec<RawItem>, Reader), ReadError> {
    let mut reader = open_reader("t.in", Cursor::new(bytes.to_vec()), options)?;
    let mut items = Vec::new();
    for batch in reader.by_ref() {
        items.extend(batch?);
    }
    Ok((items, reader))
}

fn read_items(text: &str) -> Vec<RawItem> {
    match read_bytes(text.as_bytes(), &ReadOptions::default()) {
        Ok((items, _)) => items,
        Err(error) => panic!("unexpected error: {error}"),
    }
}

fn read_error(bytes: &[u8], options: &ReadOptions) -> String {
    match read_bytes(bytes, options) {
        Ok((items, _)) => panic!("expected an error, read {} items", items.len()),
        Err(error) => error.to_string(),
    }
}

fn csv_parts(item: &RawItem) -> (Vec<String>, Vec<String>) {
    match &item.body {
        RawBody::Csv { header, cells } => (header.to_vec(), cells.clone()),
        RawBody::Json(text) => panic!("expected a CSV row, got JSON {text}"),
    }
}

fn json_text(item: &RawItem) -> &str {
    match &item.body {
        RawBody::Json(text) => text,
        RawBody::Csv { .. } => panic!("expected JSON, got a CSV row"),
    }
}

fn cell<'a>(item: &'a RawItem, column: &str) -> &'a str {
    let RawBody::Csv { header, cells } = &item.body else { panic!("expected a CSV row") };
    let index = header.iter().position(|h| h == column).unwrap_or_else(|| panic!("{column}"));
    &cells[index]
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

// CSV

#[test]
fn utf8_bom_header_stripped() {
    let items = read_items("\u{FEFF}AlertId,Severity\r\nA-1,High\r\n");
    assert_eq!(items.len(), 1);
    let (header, _) = csv_parts(&items[0]);
    assert_eq!(header, ["AlertId", "Severity"]);
    assert_eq!(cell(&items[0], "AlertId"), "A-1");
}

#[test]
fn bom_inside_field_kept() {
    let items = read_items("\u{FEFF}AlertId,Title\nA-1,\u{FEFF}x\n");
    assert_eq!(cell(&items[0], "Title"), "\u{FEFF}x");
}

#[test]
fn utf16le_with_bom_loads() {
    let bytes = utf16le("\u{FEFF}Severity,Recipient\r\nhigh,user1@contoso.test\r\n");
    let (items, reader) = read_bytes(&bytes, &ReadOptions::default()).unwrap();
    assert_eq!(reader.encoding(), Encoding::Utf16Le);
    assert_eq!(items.len(), 1);
    assert_eq!(cell(&items[0], "Severity"), "high");
    assert_eq!(cell(&items[0], "Recipient"), "user1@contoso.test");
}

#[test]
fn utf16be_with_bom_loads() {
    let bytes = utf16be("\u{FEFF}Severity,Recipient\r\nhigh,user1@contoso.test\r\n");
    let (items, _) = read_bytes(&bytes, &ReadOptions::default()).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(cell(&items[0], "Recipient"), "user1@contoso.test");
}

#[test]
fn utf16_without_bom_rejected() {
    let bytes = utf16le("Severity,Recipient\r\nhigh,user1@contoso.test\r\n");
    let error = read_error(&bytes, &ReadOptions::default());
    assert_eq!(
        error,
        "t.in: file looks like UTF-16 without a byte-order mark; pass --encoding utf-16le"
    );
}

#[test]
fn utf16_without_bom_loads_with_encoding() {
    let bytes = utf16le("Severity,Recipient\r\nhigh,user1@contoso.test\r\n");
    let options = ReadOptions { encoding: Some(Encoding::Utf16Le), ..ReadOptions::default() };
    let (items, _) = read_bytes(&bytes, &options).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(cell(&items[0], "Severity"), "high");
}

#[test]
fn utf16_invalid_header_is_encoding_error() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(utf16le("a,b"));
    bytes.extend([0x00, 0xD8]);
    bytes.extend(utf16le("c\n1,2\n"));
    let error = read_error(&bytes, &ReadOptions::default());
    assert!(error.starts_with("t.in:1: invalid UTF-16LE text"), "{error}");
}

#[test]
fn semicolon_delimiter_sniffed() {
    let items =
        read_items("Severity;Recipient;Subject\r\nhigh;user1@contoso.test;Rechnung, dringend\r\n");
    let (header, cells) = csv_parts(&items[0]);
    assert_eq!(header.len(), 3);
    assert_eq!(cells.len(), 3);
    assert_eq!(cell(&items[0], "Subject"), "Rechnung, dringend");
}

#[test]
fn ambiguous_delimiter_rejected() {
    let text = "Severity;Recipient,Subject\r\nhigh;user1@contoso.test,x\r\n";
    let error = read_error(text.as_bytes(), &ReadOptions::default());
    assert!(error.contains("pass --delimiter"), "{error}");
    assert!(error.starts_with("t.in:1: "), "{error}");
}

#[test]
fn ambiguous_delimiter_resolved_when_given() {
    let text = "Severity;Recipient,Subject\r\nhigh;user1@contoso.test,x\r\n";
    let options = ReadOptions { delimiter: Some(b';'), ..ReadOptions::default() };
    let (items, _) = read_bytes(text.as_bytes(), &options).unwrap();
    assert_eq!(cell(&items[0], "Recipient,Subject"), "user1@contoso.test,x");
}

#[test]
fn quoted_newline_keeps_record_line() {
    let text = "AlertId,Description,Severity\n\"A-2\",\"line one\r\nline two, more\",high\n\"A-3\",\"said \"\"hi\"\"\",low\n";
    let items = read_items(text);
    assert_eq!(items.len(), 2);
    assert_eq!(cell(&items[0], "Description"), "line one\r\nline two, more");
    assert_eq!(cell(&items[1], "Description"), "said \"hi\"");
    assert_eq!(items[0].line, 2);
    assert_eq!(items[1].line, 4);
}

#[test]
fn empty_quoted_last_field() {
    let items = read_items("AlertId,Severity,Tag\n\"A-1\",\"high\",\"\"\n\"A-2\",\"low\",\"\"");
    assert_eq!(items.len(), 2);
    for item in &items {
        let (_, cells) = csv_parts(item);
        assert_eq!(cells.len(), 3);
        assert_eq!(cell(item, "Tag"), "");
    }
}

#[test]
fn crlf_and_lf_rows_read_alike() {
    let items = read_items("a,b\r\n1,2\n3,4\r\n");
    assert_eq!(items.len(), 2);
    assert_eq!(cell(&items[1], "b"), "4");
    assert_eq!(items[1].line, 3);
}

#[test]
fn short_row_is_error_with_line() {
    let error = read_error(b"a,b,c,d\n1,2,3,4\n1,2,3\n", &ReadOptions::default());
    assert_eq!(
        error,
        "t.in:3: row has 3 fields but the header has 4; fix the row or check --delimiter"
    );
}

#[test]
fn long_row_is_error_not_truncated() {
    let error = read_error(b"a,b\n1,2,3\n", &ReadOptions::default());
    assert!(error.starts_with("t.in:2: row has 3 fields but the header has 2"), "{error}");
}

#[test]
fn rows_before_error_are_delivered() {
    let options = ReadOptions { batch_items: 100, ..ReadOptions::default() };
    let mut reader = open_reader("t.in", Cursor::new(b"a,b\n1,2\n3\n".to_vec()), &options).unwrap();
    let first = reader.next().unwrap().unwrap();
    assert_eq!(first.len(), 1);
    assert!(reader.next().unwrap().is_err());
    assert!(reader.next().is_none());
}

#[test]
fn invalid_utf8_names_line() {
    let error = read_error(b"a,b\n1,2\n3,\xFF\xFE\xFD\n", &ReadOptions::default());
    assert!(error.starts_with("t.in:3: invalid UTF-8 text"), "{error}");
}

#[test]
fn empty_csv_has_no_items() {
    let (items, reader) = read_bytes(b"", &ReadOptions::default()).unwrap();
    assert!(items.is_empty());
    assert_eq!(reader.format(), SourceFormat::Csv);
}

#[test]
fn header_only_csv_has_header() {
    let (items, reader) = read_bytes(b"a,b\n", &ReadOptions::default()).unwrap();
    assert!(items.is_empty());
    assert_eq!(reader.csv_header(), Some(&["a".to_string(), "b".to_string()][..]));
}

#[test]
fn batches_respect_batch_items() {
    let mut text = String::from("n\n");
    for i in 0..25 {
        text.push_str(&format!("{i}\n"));
    }
    let options = ReadOptions { batch_items: 10, ..ReadOptions::default() };
    let reader = open_reader("t.in", Cursor::new(text.into_bytes()), &options).unwrap();
    let sizes: Vec<usize> = reader.map(|b| b.unwrap().len()).collect();
    assert_eq!(sizes, [10, 10, 5]);
}

fn capped_csv(rows: usize) -> Vec<u8> {
    let mut text = String::from("AlertId,Severity\n");
    for n in 0..rows {
        text.push_str(&format!("A-{n},low\n"));
    }
    text.into_bytes()
}

#[test]
fn portal_cap_row_count_warned() {
    let (items, reader) = read_bytes(&capped_csv(10_000), &ReadOptions::default()).unwrap();
    assert_eq!(items.len(), 10_000);
    let warnings: Vec<String> = reader.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["t.in: row count equals a known portal export cap (10000); data may be truncated"]
    );
}

#[test]
fn portal_cap_200000_warned() {
    let (_, reader) = read_bytes(&capped_csv(200_000), &ReadOptions::default()).unwrap();
    let warnings = reader.warnings();
    assert_eq!(warnings, [ReadWarning::PortalCap { file: "t.in".to_string(), rows: 200_000 }]);
}

#[test]
fn other_row_count_not_warned() {
    let (_, reader) = read_bytes(&capped_csv(9_999), &ReadOptions::default()).unwrap();
    assert!(reader.warnings().is_empty());
}

// NDJSON

#[test]
fn ndjson_lines_become_items() {
    let items = read_items("{\"a\":1}\r\n\n  \n{\"a\":2}\n");
    assert_eq!(items.len(), 2);
    assert_eq!(json_text(&items[0]), "{\"a\":1}");
    assert_eq!(items[0].line, 1);
    assert_eq!(json_text(&items[1]), "{\"a\":2}");
    assert_eq!(items[1].line, 4);
}

#[test]
fn ndjson_bom_tolerated() {
    let items = read_items("\u{FEFF}{\"a\":1}\n{\"a\":2}");
    assert_eq!(items.len(), 2);
    assert_eq!(json_text(&items[0]), "{\"a\":1}");
}

#[test]
fn ndjson_invalid_line_names_line_and_column() {
    let error = read_error(b"{\"a\":1}\n{\"a\":2}\n{\"a\":}\n", &ReadOptions::default());
    assert!(error.starts_with("t.in:3:6: invalid JSON: "), "{error}");
}

#[test]
fn ndjson_non_object_line_rejected() {
    let options = ReadOptions { format: Some(InputFormat::Ndjson), ..ReadOptions::default() };
    let error = read_error(b"{\"a\":1}\n[1]\n", &options);
    assert!(error.contains("t.in:2:1: invalid JSON: expected a JSON object"), "{error}");
}

#[test]
fn explicit_format_respected() {
    let options = ReadOptions { format: Some(InputFormat::Csv), ..ReadOptions::default() };
    let (items, reader) = read_bytes(b"{\"a\":1}\n", &options).unwrap();
    assert_eq!(reader.format(), SourceFormat::Csv);
    assert!(items.is_empty());
}

// JSON documents

#[test]
fn json_array_elements_with_lines() {
    let text = "[\n  {\"id\": 1},\n  {\n    \"id\": 2\n  }\n]";
    let (items, reader) = read_bytes(text.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), SourceFormat::Json);
    assert_eq!(items.len(), 2);
    assert_eq!(json_text(&items[0]), "{\"id\": 1}");
    assert_eq!(items[0].line, 2);
    assert_eq!(items[1].line, 3);
}

#[test]
fn empty_json_array_has_no_items() {
    assert!(read_items("[]").is_empty());
}

#[test]
fn graph_value_array_unwrapped() {
    let text = "{\n \"@odata.context\": \"x\",\n \"value\": [\n  {\"id\": \"a\"},\n  {\"id\": \"b\"}\n ],\n \"@odata.nextLink\": \"y\"\n}";
    let items = read_items(text);
    assert_eq!(items.len(), 2);
    assert_eq!(json_text(&items[1]), "{\"id\": \"b\"}");
    assert_eq!(items[1].line, 5);
}

#[test]
fn compact_graph_response_unwrapped() {
    let items = read_items("{\"value\":[{\"id\":\"a\"},{\"id\":\"b\"}]}");
    assert_eq!(items.len(), 2);
}

#[test]
fn events_wrapper_yields_original() {
    let text = r#"{
    "events": [
        {
            "event": {"original": "{\"Id\":\"r1\",\"Data\":\"{\\\"x\\\":1}\"}"},
            "o365audit": {"Id": "r1"}
        },
        {
            "event": {"original": "{\"Id\":\"r2\"}"}
        }
    ]
}"#;
    let items = read_items(text);
    assert_eq!(items.len(), 2);
    assert_eq!(json_text(&items[0]), r#"{"Id":"r1","Data":"{\"x\":1}"}"#);
    assert_eq!(items[0].line, 3);
    assert_eq!(json_text(&items[1]), r#"{"Id":"r2"}"#);
    assert_eq!(items[1].line, 7);
}

#[test]
fn events_wrapper_invalid_original_names_element_line() {
    let text = "{\"events\": [\n  {\"event\": {\"original\": \"{\\\"a\\\": 1}\"}},\n  {\"event\": {\"original\": \"{\\\"a\\\": }\"}}\n]}";
    let error = read_error(text.as_bytes(), &ReadOptions::default());
    assert_eq!(error, "t.in:3: invalid JSON: event.original, column 7: expected value");
}

#[test]
fn json_element_not_object_names_its_line() {
    let error = read_error(b"[\n{\"a\": 1},\n\n  \"text\"\n]", &ReadOptions::default());
    assert_eq!(error, "t.in:4: invalid JSON: array element is not a JSON object");
}

#[test]
fn plain_object_is_one_item() {
    let items = read_items("{\n  \"id\": \"a\",\n  \"value\": 5,\n  \"n\": [1, 2]\n}");
    assert_eq!(items.len(), 1);
    assert_eq!(json_text(&items[0]), "{\"id\":\"a\",\"value\":5,\"n\":[1,2]}");
    assert_eq!(items[0].line, 1);
}

#[test]
fn json_array_of_scalars_rejected() {
    let error = read_error(b"[1, 2]", &ReadOptions::default());
    assert!(error.contains("is not a JSON object"), "{error}");
}

#[test]
fn json_syntax_error_names_line() {
    let error = read_error(b"[\n{\"a\": 1},\n{\"a\": }\n]", &ReadOptions::default());
    assert!(error.starts_with("t.in:3:"), "{error}");
}

#[test]
fn json_trailing_content_rejected() {
    let error = read_error(b"[{\"a\": 1}] x", &ReadOptions::default());
    assert!(error.contains("trailing characters"), "{error}");
}

#[test]
fn json_document_large_array_streams_in_batches() {
    let mut text = String::from("[");
    for i in 0..10_000 {
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(&format!("{{\"id\":{i}}}"));
    }
    text.push(']');
    let options = ReadOptions { batch_items: 1000, ..ReadOptions::default() };
    let reader = open_reader("t.in", Cursor::new(text.into_bytes()), &options).unwrap();
    let batches: Vec<Vec<RawItem>> = reader.map(Result::unwrap).collect();
    assert_eq!(batches.len(), 10);
    let last = batches.last().and_then(|b| b.last()).unwrap();
    assert_eq!(json_text(last), "{\"id\":9999}");
    assert_eq!(last.line, 10_000);
}

#[test]
fn dropped_json_reader_stops_parser() {
    let text = format!("[{}]", vec!["{\"a\":1}"; 50_000].join(","));
    let options = ReadOptions { batch_items: 10, ..ReadOptions::default() };
    let mut reader = open_reader("t.in", Cursor::new(text.into_bytes()), &options).unwrap();
    assert!(reader.next().is_some());
    drop(reader);
}

// Robustness

/// A small deterministic generator, so failures reproduce.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn random_bytes_never_panic() {
    let formats =
        [None, Some(InputFormat::Csv), Some(InputFormat::Json), Some(InputFormat::Ndjson)];
    let encodings = [None, Some(Encoding::Utf8), Some(Encoding::Utf16Le), Some(Encoding::Utf16Be)];
    let alphabet = b"{}[]\",;:\t\r\n \\abc0\x00\xFF\xFE\xEF\xBB\xBF";
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..400 {
        let len = (next_random(&mut state) % 200) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                let r = next_random(&mut state);
                if round % 2 == 0 { r as u8 } else { alphabet[(r as usize) % alphabet.len()] }
            })
            .collect();
        for format in formats {
            for encoding in encodings {
                let options =
                    ReadOptions { format, encoding, batch_items: 3, ..ReadOptions::default() };
                // Errors are fine; a panic fails the test.
                let _ = read_bytes(&bytes, &options);
            }
        }
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    let text = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
    let error = read_error(text.as_bytes(), &ReadOptions::default());
    assert_eq!(error, "t.in:1: invalid JSON: array element is not a JSON object");
    let nested = format!("[{{\"a\":{}{}}}]", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(read_items(&nested).len(), 1);
    let line = format!("{{\"a\":{}{}}}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(read_items(&line).len(), 1);
}

// Real samples

/// Returns the samples folder, or `None` (after saying so) when `TAGQ_SAMPLES` is unset.
fn samples() -> Option<PathBuf> {
    match std::env::var_os("TAGQ_SAMPLES") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            println!("skipped: TAGQ_SAMPLES not set");
            None
        }
    }
}

fn read_sample(dir: &std::path::Path, name: &str) -> (Vec<RawItem>, Reader) {
    let path = dir.join(name);
    let mut reader =
        open(&path, &ReadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut items = Vec::new();
    for batch in reader.by_ref() {
        items.extend(batch.unwrap_or_else(|e| panic!("{e}")));
    }
    (items, reader)
}

#[test]
fn sample_directory_csv_reads() {
    let Some(dir) = samples() else { return };
    let (items, reader) = read_sample(&dir, "AADUSerInfo.csv");
    assert_eq!(reader.format(), SourceFormat::Csv);
    assert_eq!(items.len(), 6);
    for item in &items {
        let (header, cells) = csv_parts(item);
        assert_eq!(header.len(), 59);
        assert_eq!(cells.len(), 59);
    }
    assert_eq!(csv_parts(&items[0]).0[0], "UserPrincipalName_s");
}

#[test]
fn sample_email_ndjson_reads() {
    let Some(dir) = samples() else { return };
    let (items, reader) = read_sample(&dir, "test-email.log");
    assert_eq!(reader.format(), SourceFormat::Ndjson);
    assert_eq!(items.len(), 5);
    assert_eq!(items[4].line, 5);
}

#[test]
fn sample_wrapped_events_read() {
    let Some(dir) = samples() else { return };
    let cases = [
        ("test-sec-comp-alerts-events.json", 4),
        ("test-wl-threatintelligence.json", 5),
        ("test-wl-airinvestigation.json", 3),
    ];
    for (name, expected) in cases {
        let (items, reader) = read_sample(&dir, name);
        assert_eq!(reader.format(), SourceFormat::Json, "{name}");
        assert_eq!(items.len(), expected, "{name}");
        for item in &items {
            let value: serde_json::Value = serde_json::from_str(json_text(item)).unwrap();
            assert!(value.get("CreationTime").is_some(), "{name}: {}", json_text(item));
        }
        let lines: Vec<u64> = items.iter().map(|i| i.line).collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "{name}: {lines:?}");
    }
}

// Memory

/// An input that repeats `unit` between `head` and `tail` without holding it in memory.
struct Repeated {
    unit: &'static [u8],
    separator: &'static [u8],
    tail: &'static [u8],
    units: u64,
    pending: Vec<u8>,
    emitted: u64,
    done: bool,
}

impl Repeated {
    fn new(
        head: &'static [u8],
        unit: &'static [u8],
        separator: &'static [u8],
        tail: &'static [u8],
        units: u64,
    ) -> Repeated {
        Repeated { unit, separator, tail, units, pending: head.to_vec(), emitted: 0, done: false }
    }
}

impl std::io::Read for Repeated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() && !self.done {
            if self.emitted == self.units {
                self.pending.extend_from_slice(self.tail);
                self.done = true;
            } else {
                for _ in 0..1000.min(self.units - self.emitted) {
                    if self.emitted > 0 {
                        self.pending.extend_from_slice(self.separator);
                    }
                    self.pending.extend_from_slice(self.unit);
                    self.emitted += 1;
                }
            }
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// Returns the peak resident set size of this process in KiB.
#[cfg(target_os = "linux")]
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Reads about 300 MB of each format and checks that the peak resident memory stays far below
/// the input size. Run alone: `cargo test --release --lib large_inputs -- --ignored`.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "reads about 1 GB of generated input"]
fn large_inputs_use_bounded_memory() {
    let row: &[u8] = b"A-123456,2024-06-02T08:15:30.1234567Z,High,\"user1@contoso.test; user2@contoso.test\",\"Suspicious, forwarding rule\"";
    let object: &[u8] = b"{\"AlertId\":\"A-123456\",\"Severity\":\"High\",\"Title\":\"Suspicious forwarding rule\",\"Users\":[\"user1@contoso.test\",\"user2@contoso.test\"]}";
    let units = 300_000_000 / row.len() as u64;
    let inputs = [
        ("csv", Repeated::new(b"AlertId,Time,Severity,Users,Title\n", row, b"\n", b"\n", units)),
        ("ndjson", Repeated::new(b"", object, b"\n", b"\n", units)),
        ("json", Repeated::new(b"{\"value\": [\n", object, b",\n", b"\n]}", units)),
    ];
    for (name, input) in inputs {
        let reader = open_reader(name, input, &ReadOptions::default()).unwrap();
        let mut count = 0u64;
        for batch in reader {
            count += batch.unwrap().len() as u64;
        }
        assert_eq!(count, units, "{name}");
    }
    let peak_mib = peak_rss_kib() / 1024;
    println!("peak resident memory: {peak_mib} MiB");
    assert!(peak_mib < 150, "peak resident memory {peak_mib} MiB");
}
