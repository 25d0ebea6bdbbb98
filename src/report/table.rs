//! The result table of every report and its writers: aligned text, CSV and JSON.
//!
//! Every output names the report's time zone: the text table in its header line, CSV in the
//! names of day and time columns (`day (Europe/Berlin)`), JSON in a `time_zone` key.
//!
//! CSV output is opened in spreadsheets, and attackers choose text such as email subjects.
//! So a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
//! gets a leading `'` and is shown as text instead of being run as a formula. Counts are never
//! changed, and neither is a cell of a numeric column that parses as a number (`-5`).

use std::io::{self, Write};

use serde_json::{Map, Value as JsonValue};

/// The result of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Title shown in the header line of the text table and in JSON.
    pub title: String,
    /// Name of the zone that days and times are given in.
    pub time_zone: String,
    /// Columns, in output order.
    pub columns: Vec<Column>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// A column of a [`Table`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Whether the column contains numbers: right-aligned in text, and number-like text is left
    /// as is in CSV.
    pub numeric: bool,
    /// Whether the column contains days or times in the report's zone, so that its CSV name
    /// carries the zone.
    pub zoned: bool,
}

impl Column {
    /// Creates a text column.
    pub fn text(name: impl Into<String>) -> Column {
        Column { name: name.into(), numeric: false, zoned: false }
    }

    /// Creates a numeric column.
    pub fn number(name: impl Into<String>) -> Column {
        Column { name: name.into(), numeric: true, zoned: false }
    }

    /// Creates a column of days or times in the report's zone.
    pub fn zoned(name: impl Into<String>) -> Column {
        Column { name: name.into(), numeric: false, zoned: true }
    }
}

/// One cell of a [`Table`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cell {
    /// No value.
    Empty,
    /// Text, as exported or computed.
    Text(String),
    /// A count.
    Count(u64),
    /// A day (`YYYY-MM-DD`) or an RFC 3339 time with offset, in the report's zone.
    Time(String),
    /// Several values, such as the tags of a record's users.
    List(Vec<String>),
}

impl Cell {
    /// Creates a text cell.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    /// Returns the cell as display text; lists are joined with `; `.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) | Cell::Time(text) => text.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::List(items) => items.join("; "),
        }
    }

    fn to_json(&self) -> JsonValue {
        match self {
            Cell::Empty => JsonValue::Null,
            Cell::Text(text) | Cell::Time(text) => JsonValue::String(text.clone()),
            Cell::Count(n) => JsonValue::from(*n),
            Cell::List(items) => {
                JsonValue::Array(items.iter().cloned().map(JsonValue::String).collect())
            }
        }
    }
}

/// An output format of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// An aligned text table with a header line.
    Table,
    /// Comma-separated values with a header row, safe to open in spreadsheets.
    Csv,
    /// One JSON object with the title, time zone, columns and rows.
    Json,
}

/// Writes a table in a format.
///
/// # Errors
/// Returns the output's write error.
pub fn write_table(table: &Table, format: ReportFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        ReportFormat::Table => write_text(table, out),
        ReportFormat::Csv => write_csv(table, out),
        ReportFormat::Json => write_json(table, out),
    }
}

/// Writes the header line, then the column names and rows with columns padded to the widest
/// cell; numeric columns are right-aligned.
fn write_text(table: &Table, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} (time zone: {})", one_line(&table.title), table.time_zone)?;
    let header: Vec<String> = table.columns.iter().map(|c| one_line(&c.name)).collect();
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(|cell| one_line(&cell.to_text())).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|name| name.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    write_text_line(out, &table.columns, &widths, &header)?;
    for row in &rows {
        write_text_line(out, &table.columns, &widths, row)?;
    }
    Ok(())
}

fn write_text_line(
    out: &mut dyn Write,
    columns: &[Column],
    widths: &[usize],
    cells: &[String],
) -> io::Result<()> {
    let mut line = String::new();
    for (i, ((column, width), cell)) in columns.iter().zip(widths).zip(cells).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let padding = " ".repeat(width.saturating_sub(cell.chars().count()));
        if column.numeric {
            line.push_str(&padding);
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.push_str(&padding);
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// Replaces line breaks, tabs and other control characters by spaces, so that every row of a
/// text table stays on one line.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn write_csv(table: &Table, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    let header: Vec<String> = table.columns.iter().map(|c| csv_name(c, table)).collect();
    writer.write_record(&header).map_err(csv_error)?;
    for row in &table.rows {
        let cells: Vec<String> =
            table.columns.iter().zip(row).map(|(column, cell)| csv_cell(column, cell)).collect();
        writer.write_record(&cells).map_err(csv_error)?;
    }
    writer.flush()
}

fn csv_name(column: &Column, table: &Table) -> String {
    let name = neutralise_text(&column.name);
    if column.zoned { format!("{name} ({})", table.time_zone) } else { name }
}

fn csv_cell(column: &Column, cell: &Cell) -> String {
    match cell {
        Cell::Count(n) => n.to_string(),
        Cell::Empty => String::new(),
        Cell::Text(text) if column.numeric && text.trim().parse::<f64>().is_ok() => text.clone(),
        other => neutralise_text(&other.to_text()),
    }
}

/// Prefixes `'` to text that a spreadsheet would run as a formula: text starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return. Unlike
/// [`neutralise_formula`](crate::records::write::neutralise_formula), number-like text such as
/// a subject `-2` is prefixed too, because in a text column it is text.
pub fn neutralise_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn write_json(table: &Table, out: &mut dyn Write) -> io::Result<()> {
    let columns: Vec<JsonValue> = table
        .columns
        .iter()
        .map(|c| serde_json::json!({ "name": c.name, "numeric": c.numeric, "zoned": c.zoned }))
        .collect();
    let rows: Vec<JsonValue> = table
        .rows
        .iter()
        .map(|row| {
            let object: Map<String, JsonValue> = table
                .columns
                .iter()
                .zip(row)
                .map(|(column, cell)| (column.name.clone(), cell.to_json()))
                .collect();
            JsonValue::Object(object)
        })
        .collect();
    let value = serde_json::json!({
        "title": table.title,
        "time_zone": table.time_zone,
        "columns": columns,
        "rows": rows,
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table {
            title: "Emails".to_string(),
            time_zone: "Europe/Berlin".to_string(),
            columns: vec![
                Column::zoned("day"),
                Column::text("subject"),
                Column::number("score"),
                Column::number("emails"),
            ],
            rows: vec![
                vec![
                    Cell::Time("2024-03-31".into()),
                    Cell::text("hello, \"world\""),
                    Cell::text("-5"),
                    Cell::Count(12),
                ],
                vec![Cell::Time("2024-04-01".into()), Cell::Empty, Cell::text("7"), Cell::Count(3)],
            ],
        }
    }

    fn render(table: &Table, format: ReportFormat) -> String {
        let mut out = Vec::new();
        write_table(table, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_table_aligns_columns() {
        let text = render(&sample(), ReportFormat::Table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Emails (time zone: Europe/Berlin)");
        assert_eq!(lines[1], "day         subject         score  emails");
        assert_eq!(lines[2], "2024-03-31  hello, \"world\"     -5      12");
        assert_eq!(lines[3], "2024-04-01                      7       3");
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn text_table_keeps_rows_on_one_line() {
        let mut table = sample();
        table.rows[0][1] = Cell::text("two\nlines\tand tab");
        let text = render(&table, ReportFormat::Table);
        assert_eq!(text.lines().count(), 4);
        assert!(text.contains("two lines and tab"), "{text}");
    }

    #[test]
    fn csv_names_zone_and_quotes() {
        let text = render(&sample(), ReportFormat::Csv);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "day (Europe/Berlin),subject,score,emails");
        assert_eq!(lines[1], "2024-03-31,\"hello, \"\"world\"\"\",-5,12");
        assert_eq!(lines[2], "2024-04-01,,7,3");
    }

    #[test]
    fn csv_neutralises_formula_subjects() {
        let subjects = [
            (
                "=HYPERLINK(\"http://phish.test\",\"Open\")",
                "'=HYPERLINK(\"http://phish.test\",\"Open\")",
            ),
            ("@SUM(1)", "'@SUM(1)"),
            ("+1+1", "'+1+1"),
            ("-2", "'-2"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
            ("plain", "plain"),
        ];
        let mut table = sample();
        table.rows = subjects
            .iter()
            .map(|(subject, _)| {
                vec![
                    Cell::Time("2024-03-31".into()),
                    Cell::text(*subject),
                    Cell::text("-5"),
                    Cell::Count(1),
                ]
            })
            .collect();
        let text = render(&table, ReportFormat::Csv);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), subjects.len());
        for (record, (_, expected)) in records.iter().zip(subjects) {
            assert_eq!(&record[1], expected);
            assert_eq!(&record[2], "-5");
            assert_eq!(&record[3], "1");
        }
    }

    #[test]
    fn csv_neutralises_formula_in_numeric_column() {
        let mut table = sample();
        table.rows[0][2] = Cell::text("=1+2");
        let text = render(&table, ReportFormat::Csv);
        assert!(text.contains(",'=1+2,"), "{text}");
    }

    #[test]
    fn csv_neutralises_list_cells() {
        let mut table = sample();
        table.rows[0][1] = Cell::List(vec!["@evil".into(), "ok".into()]);
        let text = render(&table, ReportFormat::Csv);
        assert!(text.contains(",'@evil; ok,"), "{text}");
    }

    #[test]
    fn json_shape() {
        let mut table = sample();
        table.rows[1][1] = Cell::List(vec!["VIP".into(), "=x".into()]);
        let text = render(&table, ReportFormat::Json);
        let value: JsonValue = serde_json::from_str(&text).unwrap();
        assert_eq!(value["title"], "Emails");
        assert_eq!(value["time_zone"], "Europe/Berlin");
        assert_eq!(value["columns"][0]["name"], "day");
        assert_eq!(value["columns"][3]["numeric"], true);
        assert_eq!(value["rows"][0]["subject"], "hello, \"world\"");
        assert_eq!(value["rows"][0]["score"], "-5");
        assert_eq!(value["rows"][0]["emails"], 12);
        assert_eq!(value["rows"][1]["subject"], serde_json::json!(["VIP", "=x"]));
        assert_eq!(value["rows"][1]["day"], "2024-04-01");
    }

    #[test]
    fn json_keeps_formula_text() {
        let mut table = sample();
        table.rows[0][1] = Cell::text("=HYPERLINK(1)");
        let text = render(&table, ReportFormat::Json);
        let value: JsonValue = serde_json::from_str(&text).unwrap();
        assert_eq!(value["rows"][0]["subject"], "=HYPERLINK(1)");
    }

    #[test]
    fn empty_table_still_has_header() {
        let mut table = sample();
        table.rows.clear();
        assert_eq!(render(&table, ReportFormat::Csv), "day (Europe/Berlin),subject,score,emails\n");
        assert_eq!(render(&table, ReportFormat::Table).lines().count(), 2);
    }
}
