//! Output writers: records as CSV, JSON, NDJSON or an aligned text table.
//!
//! Without an explicit format a record is written as it came in: a CSV row with its input's
//! header, a JSON object as its original text. The first record decides the format of the whole
//! output, and later records of another input format are converted to it.
//!
//! Conversions:
//! - CSV output of a JSON record has the columns `kind`, `id`, `time`, then every model field
//!   of its kind (lists joined with `; `, empty where absent), then `users` (`role address`
//!   pairs joined with `; `).
//! - JSON or NDJSON output of a CSV record is an object of header name to cell text.
//!
//! CSV output always uses `,` as the delimiter. A header line is written before the first row
//! and again whenever a row's columns differ from the last header written, which happens when
//! inputs with different headers are concatenated.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};

use serde_json::{Map, Value as JsonValue};

use super::map::model_field_names;
use super::{Raw, Record, RecordKind, Role, SourceFormat, UserRef, Value};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// An aligned text table for terminals.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl OutputFormat {
    /// Parses a format name (`table`, `csv`, `json`, `ndjson`), ignoring ASCII case.
    pub fn parse(name: &str) -> Option<OutputFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "table" => Some(OutputFormat::Table),
            "csv" => Some(OutputFormat::Csv),
            "json" => Some(OutputFormat::Json),
            "ndjson" | "jsonl" => Some(OutputFormat::Ndjson),
            _ => None,
        }
    }
}

impl From<SourceFormat> for OutputFormat {
    fn from(format: SourceFormat) -> OutputFormat {
        match format {
            SourceFormat::Csv => OutputFormat::Csv,
            SourceFormat::Json => OutputFormat::Json,
            SourceFormat::Ndjson => OutputFormat::Ndjson,
        }
    }
}

/// The tags that one user of a record carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTags {
    /// The user's role in the record.
    pub role: Role,
    /// The user's address as the record names it.
    pub address: String,
    /// Tag names, in display spelling.
    pub tags: Vec<String>,
}

/// The CSV column and JSON key that carry the tags of a record's users.
const TAGS_COLUMN: &str = "Tags";
const TAGS_KEY: &str = "tagq_tags";

/// Writes records to an output in one format.
///
/// Output is buffered. [`RecordWriter::finish`] closes a JSON array and flushes, so it must be
/// called. Write errors, including a broken pipe, are returned unchanged.
pub struct RecordWriter<W: Write> {
    out: BufWriter<W>,
    format: Option<OutputFormat>,
    with_tags: bool,
    last_header: Option<Vec<String>>,
    last_table_kind: Option<RecordKind>,
    /// The input's CSV header, written by `finish` when no record was written.
    empty_header: Option<Vec<String>>,
    records: u64,
    /// True when CSV was requested explicitly, so cells that a spreadsheet would run as
    /// formulas are neutralised. Pass-through CSV keeps its cells exactly as read.
    neutralise_formulas: bool,
}

impl<W: Write> RecordWriter<W> {
    /// Creates a writer. `format` `None` writes each record in its input format, and
    /// `with_tags` adds the users' tags to each record.
    pub fn new(out: W, format: Option<OutputFormat>, with_tags: bool) -> RecordWriter<W> {
        RecordWriter {
            neutralise_formulas: format == Some(OutputFormat::Csv),
            out: BufWriter::new(out),
            format,
            with_tags,
            last_header: None,
            last_table_kind: None,
            empty_header: None,
            records: 0,
        }
    }

    /// Sets the format from the input format when none is set yet, so that an empty JSON input
    /// writes `[]`.
    pub fn set_input_format(&mut self, format: SourceFormat) {
        self.format.get_or_insert(format.into());
    }

    /// Sets the CSV header that an output without records gets, as CSV filters usually do.
    /// Records with a different header are unaffected.
    pub fn set_empty_csv_header(&mut self, header: &[String]) {
        self.empty_header = Some(header.to_vec());
    }

    /// Writes one record. `tags` lists the record's users that carry tags.
    ///
    /// # Errors
    /// Returns the output's write error, or `InvalidData` when a JSON record's text is not a
    /// JSON object.
    pub fn write(&mut self, record: &Record, tags: &[UserTags]) -> io::Result<()> {
        let format = *self.format.get_or_insert(record.format.into());
        match format {
            OutputFormat::Csv => self.write_csv(record, tags)?,
            OutputFormat::Json => self.write_json_element(record, tags)?,
            OutputFormat::Ndjson => self.write_ndjson(record, tags)?,
            OutputFormat::Table => self.write_table(record, tags)?,
        }
        self.records += 1;
        Ok(())
    }

    /// Closes a JSON array and flushes the output.
    ///
    /// # Errors
    /// Returns the output's write error.
    pub fn finish(mut self) -> io::Result<()> {
        match self.format {
            Some(OutputFormat::Json) => {
                let closing = if self.records == 0 { "[]\n" } else { "\n]\n" };
                self.out.write_all(closing.as_bytes())?;
            }
            Some(OutputFormat::Csv) if self.records == 0 => {
                if let Some(mut header) = self.empty_header.take() {
                    if self.with_tags {
                        header.push(TAGS_COLUMN.to_string());
                    }
                    write_csv_line(&mut self.out, &header)?;
                }
            }
            _ => {}
        }
        self.out.flush()
    }

    fn write_csv(&mut self, record: &Record, tags: &[UserTags]) -> io::Result<()> {
        let (mut header, mut cells) = csv_columns(record);
        if self.with_tags {
            header.to_mut().push(TAGS_COLUMN.to_string());
            cells.to_mut().push(tags_cell(tags));
        }
        if self.last_header.as_deref() != Some(&header[..]) {
            write_csv_line(&mut self.out, &header)?;
            self.last_header = Some(header.into_owned());
        }
        if self.neutralise_formulas {
            let cells: Vec<String> = cells.iter().map(|c| neutralise_formula(c)).collect();
            return write_csv_line(&mut self.out, &cells);
        }
        write_csv_line(&mut self.out, &cells)
    }

    fn write_json_element(&mut self, record: &Record, tags: &[UserTags]) -> io::Result<()> {
        let text = self.json_text(record, tags)?;
        let separator = if self.records == 0 { "[\n" } else { ",\n" };
        self.out.write_all(separator.as_bytes())?;
        self.out.write_all(text.as_bytes())
    }

    fn write_ndjson(&mut self, record: &Record, tags: &[UserTags]) -> io::Result<()> {
        let text = self.json_text(record, tags)?;
        let line = single_line(&text)?;
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }

    fn json_text<'a>(&self, record: &'a Record, tags: &[UserTags]) -> io::Result<Cow<'a, str>> {
        let text = match &record.raw {
            Raw::Json(text) => Cow::Borrowed(text.as_str()),
            Raw::Csv { header, cells } => Cow::Owned(csv_as_json(header, cells)),
        };
        if !self.with_tags {
            return Ok(text);
        }
        insert_tags_key(&text, tags).map(Cow::Owned)
    }

    fn write_table(&mut self, record: &Record, tags: &[UserTags]) -> io::Result<()> {
        let columns = table_columns(record.kind, self.with_tags);
        if self.last_table_kind != Some(record.kind) {
            if self.last_table_kind.is_some() {
                self.out.write_all(b"\n")?;
            }
            let names: Vec<String> = columns.iter().map(|c| c.title.to_ascii_uppercase()).collect();
            write_table_line(&mut self.out, &columns, &names)?;
            self.last_table_kind = Some(record.kind);
        }
        let cells: Vec<String> =
            columns.iter().map(|c| table_cell(record, tags, c.title)).collect();
        write_table_line(&mut self.out, &columns, &cells)
    }
}

/// Returns the CSV header and cells of a record: its own for CSV input, model columns otherwise.
/// The model columns are every model field of the record's kind, empty where the record has
/// none, so the header is written again only when the kind changes. A field that a mapper sets
/// outside the model gets its own column, which also changes the header.
fn csv_columns(record: &Record) -> (Cow<'_, [String]>, Cow<'_, [String]>) {
    if let Raw::Csv { header, cells } = &record.raw {
        return (Cow::Borrowed(&header[..]), Cow::Borrowed(&cells[..]));
    }
    let mut header: Vec<String> = ["kind", "id", "time"].map(String::from).to_vec();
    let mut cells = vec![
        record.kind.to_string(),
        record.id.clone(),
        record.time.map(|t| t.to_string()).unwrap_or_default(),
    ];
    let mut names: BTreeSet<&str> = model_field_names(record.kind).iter().copied().collect();
    names.extend(record.fields.keys().copied());
    for name in names {
        header.push(name.to_string());
        cells.push(record.fields.get(name).map(value_cell).unwrap_or_default());
    }
    header.push("users".to_string());
    cells.push(users_cell(&record.users));
    (Cow::Owned(header), Cow::Owned(cells))
}

/// Formats a value for one cell, joining list items with `; `.
fn value_cell(value: &Value) -> String {
    match value {
        Value::List(items) => {
            let parts: Vec<String> = items.iter().filter_map(Value::as_text).collect();
            parts.join("; ")
        }
        other => other.as_text().unwrap_or_default(),
    }
}

fn user_label(user: &UserRef) -> &str {
    let label = user.address.as_deref().or(user.object_id.as_deref());
    label.or(user.display_name.as_deref()).unwrap_or("")
}

fn users_cell(users: &[UserRef]) -> String {
    let parts: Vec<String> =
        users.iter().map(|u| format!("{} {}", u.role(), user_label(u))).collect();
    parts.join("; ")
}

/// Formats the tags cell: `recipient a@x.test: Finance, Priority account; sender ...`, listing
/// only users with at least one tag.
fn tags_cell(tags: &[UserTags]) -> String {
    let parts: Vec<String> = tags
        .iter()
        .filter(|user| !user.tags.is_empty())
        .map(|user| format!("{} {}: {}", user.role, user.address, user.tags.join(", ")))
        .collect();
    parts.join("; ")
}

/// Prefixes `'` to a text cell that a spreadsheet would run as a formula (starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return), leaving numbers such as `-5` unchanged.
pub fn neutralise_formula(cell: &str) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() { format!("'{cell}") } else { cell.to_string() }
}

/// Writes one CSV line, quoting fields that contain `,`, `"`, CR or LF, or a lone empty field
/// (which would otherwise be a blank line that readers skip).
fn write_csv_line(out: &mut impl Write, fields: &[String]) -> io::Result<()> {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let lone_empty = fields.len() == 1 && field.is_empty();
        if lone_empty || field.contains([',', '"', '\r', '\n']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line.push('\n');
    out.write_all(line.as_bytes())
}

/// Builds a JSON object of header name to cell. A repeated header name keeps the last cell.
fn csv_as_json(header: &[String], cells: &[String]) -> String {
    let object: Map<String, JsonValue> = header
        .iter()
        .zip(cells)
        .map(|(name, cell)| (name.clone(), JsonValue::String(cell.clone())))
        .collect();
    JsonValue::Object(object).to_string()
}

/// Appends the `tagq_tags` key to the text of a JSON object without parsing the object.
///
/// NOTE: an object that already has a `tagq_tags` key gets a second one, and JSON parsers
/// differ on which of the two they keep.
fn insert_tags_key(object: &str, tags: &[UserTags]) -> io::Result<String> {
    let trimmed = object.trim();
    let Some(body) = trimmed.strip_suffix('}').filter(|b| b.starts_with('{')) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("record text is not a JSON object: {}", preview(object)),
        ));
    };
    let is_empty = body.strip_prefix('{').is_some_and(|rest| rest.trim().is_empty());
    let separator = if is_empty { "" } else { "," };
    Ok(format!("{body}{separator}\"{TAGS_KEY}\":{}}}", tags_json(tags)))
}

fn tags_json(tags: &[UserTags]) -> String {
    let entries: Vec<JsonValue> = tags
        .iter()
        .filter(|user| !user.tags.is_empty())
        .map(|user| {
            serde_json::json!({
                "role": user.role.as_str(),
                "address": user.address,
                "tags": user.tags,
            })
        })
        .collect();
    JsonValue::Array(entries).to_string()
}

/// Returns the text on one line, re-serialising a pretty-printed object compactly.
fn single_line(text: &str) -> io::Result<Cow<'_, str>> {
    if !text.contains(['\n', '\r']) {
        return Ok(Cow::Borrowed(text));
    }
    let value: JsonValue = serde_json::from_str(text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("record text is not valid JSON ({e}): {}", preview(text)),
        )
    })?;
    Ok(Cow::Owned(value.to_string()))
}

fn preview(text: &str) -> String {
    text.chars().take(60).collect()
}

/// A table column: its title (also the key that selects the cell) and its maximum width.
struct TableColumn {
    title: &'static str,
    width: usize,
}

const fn column(title: &'static str, width: usize) -> TableColumn {
    TableColumn { title, width }
}

/// Returns the table columns of a record kind. Widths are in characters.
fn table_columns(kind: RecordKind, with_tags: bool) -> Vec<TableColumn> {
    let mut columns = vec![column("kind", 8), column("time", 28), column("id", 40)];
    match kind {
        RecordKind::Alert => columns.extend([column("severity", 13), column("title", 60)]),
        RecordKind::Email => columns.extend([
            column("sender", 32),
            column("recipient", 32),
            column("subject", 48),
            column("delivery_action", 16),
        ]),
        RecordKind::Campaign => columns.extend([column("name", 48), column("recipient", 32)]),
    }
    if with_tags {
        columns.push(column("tags", 60));
    }
    columns
}

fn table_cell(record: &Record, tags: &[UserTags], title: &str) -> String {
    match title {
        "kind" => record.kind.to_string(),
        "time" => record.time.map(|t| t.to_string()).unwrap_or_default(),
        "id" => record.id.clone(),
        "sender" => role_cell(record, Role::Sender),
        "recipient" => role_cell(record, Role::Recipient),
        "tags" => tags_cell(tags),
        field => record.field(field).map(value_cell).unwrap_or_default(),
    }
}

/// Formats the first user of a role, with `(+N)` for the others.
fn role_cell(record: &Record, role: Role) -> String {
    let mut users = record.users_in(role);
    let Some(first) = users.next() else { return String::new() };
    let others = users.count();
    if others == 0 {
        user_label(first).to_string()
    } else {
        format!("{} (+{others})", user_label(first))
    }
}

/// Writes one table line. Cells are cut to their column's width with a trailing `…`, and
/// control characters become spaces so that exported text cannot move the cursor or break the
/// alignment.
fn write_table_line(
    out: &mut impl Write,
    columns: &[TableColumn],
    cells: &[String],
) -> io::Result<()> {
    let mut line = String::new();
    for (i, (column, cell)) in columns.iter().zip(cells).enumerate() {
        let text = fit(cell, column.width);
        if i + 1 == columns.len() {
            line.push_str(&text);
        } else {
            let _ = write!(line, "{text:<width$}  ", width = column.width);
        }
    }
    line.truncate(line.trim_end().len());
    line.push('\n');
    out.write_all(line.as_bytes())
}

/// Cuts `text` to `width` characters and replaces control characters by spaces.
///
/// NOTE: width counts characters, so wide (East Asian) characters and emoji misalign columns.
fn fit(text: &str, width: usize) -> String {
    let clean = |c: char| if c.is_control() { ' ' } else { c };
    if text.chars().count() <= width {
        return text.chars().map(clean).collect();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).map(clean).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::records::Origin;
    use crate::time::Timestamp;

    fn csv_record(header: &[&str], cells: &[&str]) -> Record {
        Record {
            kind: RecordKind::Alert,
            id: cells.first().map(|c| c.to_string()).unwrap_or_default(),
            time: None,
            fields: BTreeMap::new(),
            extra: Vec::new(),
            users: Vec::new(),
            raw: Raw::Csv {
                header: Arc::new(header.iter().map(|h| h.to_string()).collect()),
                cells: cells.iter().map(|c| c.to_string()).collect(),
            },
            format: SourceFormat::Csv,
            origin: Origin::default(),
        }
    }

    fn json_record(text: &str, format: SourceFormat) -> Record {
        Record {
            kind: RecordKind::Email,
            id: "m-1".to_string(),
            time: Some(Timestamp::from_unix_seconds(1_717_316_130)),
            fields: BTreeMap::from([
                ("subject", Value::Str("Invoice, urgent".to_string())),
                (
                    "threat_types",
                    Value::List(vec![Value::Str("Phish".into()), Value::Str("Spam".into())]),
                ),
            ]),
            extra: Vec::new(),
            users: vec![
                UserRef::address(Role::Sender, "bad@evil.test"),
                UserRef::address(Role::Recipient, "user1@contoso.test"),
                UserRef::address(Role::Recipient, "user2@contoso.test"),
            ],
            raw: Raw::Json(text.to_string()),
            format,
            origin: Origin::default(),
        }
    }

    fn finance_tags() -> Vec<UserTags> {
        vec![
            UserTags {
                role: Role::Recipient,
                address: "user1@contoso.test".to_string(),
                tags: vec!["Finance".to_string(), "Priority account".to_string()],
            },
            UserTags { role: Role::Sender, address: "bad@evil.test".to_string(), tags: vec![] },
        ]
    }

    fn render(
        format: Option<OutputFormat>,
        with_tags: bool,
        records: &[Record],
        tags: &[UserTags],
    ) -> String {
        let mut out = Vec::new();
        let mut writer = RecordWriter::new(&mut out, format, with_tags);
        for record in records {
            writer.write(record, tags).unwrap();
        }
        writer.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_passthrough_requotes_cells() {
        let record = csv_record(&["AlertId", "Description"], &["A-1", "said \"hi\", then\r\nleft"]);
        let output = render(None, false, &[record.clone(), record], &[]);
        let row = "A-1,\"said \"\"hi\"\", then\r\nleft\"\n";
        assert_eq!(output, format!("AlertId,Description\n{row}{row}"));
    }

    #[test]
    fn csv_header_change_writes_new_header() {
        let first = csv_record(&["a", "b"], &["1", "2"]);
        let second = csv_record(&["a", "c"], &["3", "4"]);
        let output = render(None, false, &[first.clone(), second, first], &[]);
        assert_eq!(output, "a,b\n1,2\na,c\n3,4\na,b\n1,2\n");
    }

    #[test]
    fn csv_without_records_writes_header() {
        let mut out = Vec::new();
        let mut writer = RecordWriter::new(&mut out, None, true);
        writer.set_input_format(SourceFormat::Csv);
        writer.set_empty_csv_header(&["AlertId".to_string(), "Note, free".to_string()]);
        writer.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "AlertId,\"Note, free\",Tags\n");
    }

    #[test]
    fn csv_lone_empty_cell_quoted() {
        let output = render(None, false, &[csv_record(&["Tag"], &[""])], &[]);
        assert_eq!(output, "Tag\n\"\"\n");
    }

    #[test]
    fn csv_tags_column_lists_tagged_users() {
        let record = csv_record(&["AlertId"], &["A-1"]);
        let output = render(None, true, &[record], &finance_tags());
        let row = "A-1,\"recipient user1@contoso.test: Finance, Priority account\"\n";
        assert_eq!(output, format!("AlertId,Tags\n{row}"));
    }

    #[test]
    fn csv_output_of_json_record_uses_model_columns() {
        let record = json_record("{\"a\":1}", SourceFormat::Ndjson);
        let output = render(Some(OutputFormat::Csv), false, &[record], &[]);
        let mut lines = output.lines();
        let names = model_field_names(RecordKind::Email);
        let header = format!("kind,id,time,{},users", names.join(","));
        assert_eq!(lines.next(), Some(header.as_str()));
        let cells: Vec<String> = names
            .iter()
            .map(|name| match *name {
                "subject" => "\"Invoice, urgent\"".to_string(),
                "threat_types" => "Phish; Spam".to_string(),
                _ => String::new(),
            })
            .collect();
        let row = format!(
            "email,m-1,2024-06-02T08:15:30Z,{},sender bad@evil.test; \
             recipient user1@contoso.test; recipient user2@contoso.test",
            cells.join(",")
        );
        assert_eq!(lines.next(), Some(row.as_str()));
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn csv_header_once_per_kind() {
        let full = json_record("{}", SourceFormat::Ndjson);
        let mut sparse = full.clone();
        sparse.fields.remove("threat_types");
        let output = render(Some(OutputFormat::Csv), false, &[full, sparse], &[]);
        let headers = output.lines().filter(|line| line.starts_with("kind,id,time,")).count();
        assert_eq!(headers, 1, "one header for records of one kind:\n{output}");
        assert_eq!(output.lines().count(), 3);
    }

    #[test]
    fn ndjson_passthrough_keeps_text() {
        let record = json_record("{\"b\": 2, \"a\": 1}", SourceFormat::Ndjson);
        let output = render(None, false, &[record.clone(), record], &[]);
        assert_eq!(output, "{\"b\": 2, \"a\": 1}\n{\"b\": 2, \"a\": 1}\n");
    }

    #[test]
    fn ndjson_compacts_pretty_object() {
        let record = json_record("{\n  \"b\": 2,\n  \"a\": \"x\\ny\"\n}", SourceFormat::Json);
        let output = render(Some(OutputFormat::Ndjson), false, &[record], &[]);
        assert_eq!(output, "{\"b\":2,\"a\":\"x\\ny\"}\n");
    }

    #[test]
    fn ndjson_tags_key_appended() {
        let record = json_record("{\"a\":1}", SourceFormat::Ndjson);
        let output = render(None, true, &[record], &finance_tags());
        let expected = "{\"a\":1,\"tagq_tags\":[{\"role\":\"recipient\",\"address\":\"user1@contoso.test\",\"tags\":[\"Finance\",\"Priority account\"]}]}\n";
        assert_eq!(output, expected);
    }

    #[test]
    fn tags_key_added_to_empty_object() {
        let record = json_record(" { } ", SourceFormat::Ndjson);
        let output = render(None, true, &[record], &[]);
        assert_eq!(output, "{ \"tagq_tags\":[]}\n");
    }

    #[test]
    fn tags_on_non_object_is_error() {
        let record = json_record("[1]", SourceFormat::Ndjson);
        let mut writer = RecordWriter::new(Vec::new(), None, true);
        let error = writer.write(&record, &[]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn json_array_of_zero_records_is_valid() {
        let mut out = Vec::new();
        let mut writer = RecordWriter::new(&mut out, None, false);
        writer.set_input_format(SourceFormat::Json);
        writer.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[]\n");
        assert_eq!(render(Some(OutputFormat::Json), false, &[], &[]), "[]\n");
    }

    #[test]
    fn json_array_passthrough_parses() {
        let first = json_record("{\n  \"id\": 1\n}", SourceFormat::Json);
        let second = json_record("{\"id\": 2}", SourceFormat::Json);
        let output = render(None, true, &[first, second], &finance_tags());
        let parsed: JsonValue = serde_json::from_str(&output).unwrap();
        let items = parsed.as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["id"], 1);
        assert_eq!(items[1]["tagq_tags"][0]["tags"][0], "Finance");
    }

    #[test]
    fn csv_record_as_json_object() {
        let record = csv_record(&["AlertId", "Severity"], &["A-1", "high"]);
        let output = render(Some(OutputFormat::Ndjson), false, &[record], &[]);
        assert_eq!(output, "{\"AlertId\":\"A-1\",\"Severity\":\"high\"}\n");
    }

    #[test]
    fn table_aligns_and_truncates() {
        let mut record = json_record("{}", SourceFormat::Json);
        record.fields.insert("subject", Value::Str(format!("a\x1b[2Jb{}", "x".repeat(80))));
        record.fields.insert("delivery_action", Value::Str("Delivered".to_string()));
        let output = render(Some(OutputFormat::Table), true, &[record], &finance_tags());
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("KIND      TIME"), "{}", lines[0]);
        let subject_at = lines[0].find("SUBJECT").unwrap();
        let cell: String = lines[1].chars().skip(subject_at).take(48).collect();
        assert!(cell.starts_with("a [2Jbxxx"), "{cell}");
        assert!(cell.ends_with('…'), "{cell}");
        assert!(!output.contains('\x1b'));
        assert!(lines[1].contains("user1@contoso.test (+1)"), "{}", lines[1]);
        assert!(lines[1].ends_with("recipient user1@contoso.test: Finance, Priority account"));
    }

    #[test]
    fn table_header_repeats_when_kind_changes() {
        let alert = csv_record(&["AlertId"], &["A-1"]);
        let email = json_record("{}", SourceFormat::Json);
        let output = render(Some(OutputFormat::Table), false, &[alert, email], &[]);
        let headers = output.lines().filter(|l| l.starts_with("KIND")).count();
        assert_eq!(headers, 2);
    }

    /// An output whose reader has gone away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn broken_pipe_is_returned() {
        let mut writer = RecordWriter::new(ClosedPipe, Some(OutputFormat::Csv), false);
        let record = csv_record(&["a"], &["1"]);
        let mut result = Ok(());
        for _ in 0..10_000 {
            result = writer.write(&record, &[]);
            if result.is_err() {
                break;
            }
        }
        let error = result.err().or_else(|| writer.finish().err()).unwrap();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn output_format_names_parse() {
        assert_eq!(OutputFormat::parse("Table"), Some(OutputFormat::Table));
        assert_eq!(OutputFormat::parse("jsonl"), Some(OutputFormat::Ndjson));
        assert_eq!(OutputFormat::parse("xml"), None);
    }
}
