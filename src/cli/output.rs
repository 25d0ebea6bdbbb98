//! Listings in table, CSV and JSON form.

use std::io::{self, Write};

use super::args::ListOutput;
use crate::records::write::neutralise_formula;

/// Rows of text cells under named columns.
pub struct Table {
    columns: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Creates an empty table with these columns.
    pub fn new(columns: &[&'static str]) -> Table {
        Table { columns: columns.to_vec(), rows: Vec::new() }
    }

    /// Appends a row; it must have one cell per column.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
}

/// Writes the table to stdout in the requested form.
pub fn write_listing(table: &Table, output: ListOutput) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    match output {
        ListOutput::Table => write_text(table, &mut out)?,
        ListOutput::Csv => write_csv(table, &mut out)?,
        ListOutput::Json => {
            let rows: Vec<serde_json::Value> = table
                .rows
                .iter()
                .map(|row| {
                    let object = table
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| (c.to_string(), serde_json::Value::String(v.clone())));
                    serde_json::Value::Object(object.collect())
                })
                .collect();
            writeln!(out, "{:#}", serde_json::Value::Array(rows))?;
        }
    }
    out.flush()
}

fn write_text(table: &Table, out: &mut dyn Write) -> io::Result<()> {
    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
    for row in &table.rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(display_cell(cell).chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        // Padding by hand: a `{:<w$}` width above u16::MAX panics, and a cell listing the
        // members of a large group can be that wide.
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| {
                let fill = width.saturating_sub(cell.chars().count());
                format!("{cell}{}", " ".repeat(fill))
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(table.columns.iter().map(|c| c.to_uppercase()).collect()))?;
    for row in &table.rows {
        writeln!(out, "{}", line(row.iter().map(|c| display_cell(c)).collect()))?;
    }
    Ok(())
}

/// Replaces line breaks and tabs so that a cell stays on one line.
fn display_cell(cell: &str) -> String {
    cell.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn write_csv(table: &Table, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&table.columns)?;
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| neutralise_formula(c)).collect();
        writer.write_record(&cells)?;
    }
    writer.flush()
}
