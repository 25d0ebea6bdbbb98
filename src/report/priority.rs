//! Placeholder of the priority report.

use super::chart::{ChartKind, ChartSpec};
use super::table::{Column, Table};
use super::{ReportBuilder, ReportOptions, Window};
use crate::records::Record;
use crate::records::write::UserTags;

/// Builds the report.
pub struct PriorityReport {
    window: Window,
}

impl PriorityReport {
    /// Creates an empty report.
    pub fn new(options: &ReportOptions) -> PriorityReport {
        PriorityReport { window: options.window.clone() }
    }
}

impl ReportBuilder for PriorityReport {
    fn add(&mut self, _record: &Record, _users: &[UserTags]) {}

    fn finish(self: Box<Self>) -> Table {
        Table {
            title: String::new(),
            time_zone: self.window.zone_name,
            columns: vec![Column::zoned("day"), Column::number("emails")],
            rows: Vec::new(),
        }
    }
}

/// Draws emails per day.
pub fn chart_spec() -> ChartSpec {
    ChartSpec {
        kind: ChartKind::Bars,
        day_column: "day".to_string(),
        series_columns: Vec::new(),
        value_column: "emails".to_string(),
        y_label: "emails".to_string(),
    }
}
