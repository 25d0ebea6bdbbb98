//! SVG charts of per-day reports, drawn with `plotters` and its SVG backend.
//!
//! The chart has the report's title as caption, days on the x axis (labelled with the report's
//! time zone), the counts on the y axis and a legend with one entry per series. Text is written
//! as SVG `<text>` elements and laid out with plotters' built-in size estimate, so no font files
//! are read and the output is the same on every machine.

use std::collections::{BTreeMap, BTreeSet};

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::ReportError;
use super::table::{Cell, Table};

/// The chart type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    /// One stacked bar per day, one colour per series.
    Bars,
    /// One line per series.
    Lines,
}

/// The table columns that a chart draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartSpec {
    /// Bars or lines.
    pub kind: ChartKind,
    /// The column of days, the x axis.
    pub day_column: String,
    /// Columns whose values, joined with ` / `, name a series; none gives a single series.
    pub series_columns: Vec<String>,
    /// The column of counts to draw.
    pub value_column: String,
    /// Label of the y axis.
    pub y_label: String,
}

/// Chart size in pixels.
const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;

/// Pixels of the chart's width outside the plot: the y label area and both margins.
const PLOT_INSET: u32 = Y_LABEL_AREA + 2 * MARGIN;
const Y_LABEL_AREA: u32 = 64;
const MARGIN: u32 = 16;

/// Maximum number of series drawn; the smaller series beyond it are merged into "other" so
/// that the legend stays readable.
const MAX_SERIES: usize = 12;

/// Counts of one chart, by series and day index.
struct ChartData {
    days: Vec<String>,
    series: Vec<(String, Vec<u64>)>,
}

/// Draws a table as an SVG 1.1 document.
///
/// # Errors
/// Returns [`ReportError::Chart`] when a named column is missing from the table or plotters
/// fails to draw.
pub fn render_svg(table: &Table, spec: &ChartSpec) -> Result<String, ReportError> {
    let data = collect(table, spec)?;
    let mut svg = String::new();
    {
        let backend = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT));
        draw(backend.into_drawing_area(), table, spec, &data).map_err(ReportError::Chart)?;
    }
    // plotters writes `<svg width=… xmlns=…>` without a version; SVG 1.1 viewers accept that,
    // and the attribute states the version that the document keeps to.
    Ok(svg.replacen("<svg ", "<svg version=\"1.1\" ", 1))
}

fn column_index(table: &Table, name: &str) -> Result<usize, ReportError> {
    table
        .columns
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| ReportError::Chart(format!("the table has no column '{name}'")))
}

/// Sums the value column per series and day, skipping rows without a day.
fn collect(table: &Table, spec: &ChartSpec) -> Result<ChartData, ReportError> {
    let day_index = column_index(table, &spec.day_column)?;
    let value_index = column_index(table, &spec.value_column)?;
    let series_indexes: Vec<usize> = spec
        .series_columns
        .iter()
        .map(|name| column_index(table, name))
        .collect::<Result<_, _>>()?;

    let mut sums: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut days = BTreeSet::new();
    for row in &table.rows {
        let day = row.get(day_index).map(Cell::to_text).unwrap_or_default();
        if day.is_empty() {
            continue;
        }
        let value = match row.get(value_index) {
            Some(Cell::Count(n)) => *n,
            _ => 0,
        };
        let name = series_name(row, &series_indexes, &spec.value_column);
        let sum = sums.entry(name).or_default().entry(day.clone()).or_default();
        *sum = sum.saturating_add(value);
        days.insert(day);
    }
    let days: Vec<String> = days.into_iter().collect();
    let mut series: Vec<(String, Vec<u64>)> = sums
        .into_iter()
        .map(|(name, by_day)| {
            let values = days.iter().map(|day| by_day.get(day).copied().unwrap_or(0)).collect();
            (name, values)
        })
        .collect();
    merge_small_series(&mut series);
    Ok(ChartData { days, series })
}

fn series_name(row: &[Cell], indexes: &[usize], fallback: &str) -> String {
    if indexes.is_empty() {
        return fallback.to_string();
    }
    let parts: Vec<String> = indexes
        .iter()
        .map(|i| match row.get(*i).map(Cell::to_text) {
            Some(text) if !text.is_empty() => text,
            _ => "(none)".to_string(),
        })
        .collect();
    printable(&parts.join(" / "))
}

/// Keeps the [`MAX_SERIES`] - 1 largest series and sums the rest into one "other" series.
fn merge_small_series(series: &mut Vec<(String, Vec<u64>)>) {
    if series.len() <= MAX_SERIES {
        return;
    }
    series.sort_by_key(|(name, values)| {
        (std::cmp::Reverse(saturating_sum(values.iter().copied())), name.clone())
    });
    let rest = series.split_off(MAX_SERIES - 1);
    let days = rest.first().map_or(0, |(_, values)| values.len());
    let mut other = vec![0u64; days];
    for (_, values) in rest {
        for (sum, value) in other.iter_mut().zip(values) {
            *sum = sum.saturating_add(value);
        }
    }
    series.push(("other".to_string(), other));
}

fn saturating_sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::saturating_add)
}

/// Replaces control characters, which XML 1.0 does not allow in text, by spaces.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    table: &Table,
    spec: &ChartSpec,
    data: &ChartData,
) -> Result<(), String> {
    let error = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    // A u32 range `0..last` has `last + 1` segments, one per day. A single day gets a second,
    // empty segment because a one-value range has no width.
    let last_day = u32::try_from(data.days.len().saturating_sub(1)).unwrap_or(u32::MAX).max(1);
    let top = y_top(spec.kind, data);
    let x_label = format!("{} ({})", spec.day_column, table.time_zone);
    let mut chart = ChartBuilder::on(&root)
        .caption(printable(&table.title), ("sans-serif", 22))
        .margin(MARGIN)
        .x_label_area_size(56)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d((0u32..last_day).into_segmented(), 0u64..top)
        .map_err(|e| error(&e))?;
    let days = &data.days;
    let label_day = |value: &SegmentValue<u32>| match value {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
            days.get(*i as usize).cloned().unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(days.len().clamp(1, 31))
        .x_label_formatter(&label_day)
        .x_desc(printable(&x_label))
        .y_desc(printable(&spec.y_label))
        .draw()
        .map_err(|e| error(&e))?;

    match spec.kind {
        ChartKind::Bars => draw_bars(&mut chart, data).map_err(|e| error(&e))?,
        ChartKind::Lines => draw_lines(&mut chart, data).map_err(|e| error(&e))?,
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| error(&e))?;
    root.present().map_err(|e| error(&e))
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<
        plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordu32>,
        plotters::coord::types::RangedCoordu64,
    >,
>;

/// Returns the top of the y axis: the largest stacked or single value plus a margin.
fn y_top(kind: ChartKind, data: &ChartData) -> u64 {
    let max = match kind {
        ChartKind::Bars => (0..data.days.len())
            .map(|day| {
                saturating_sum(data.series.iter().map(|(_, v)| v.get(day).copied().unwrap_or(0)))
            })
            .max()
            .unwrap_or(0),
        ChartKind::Lines => {
            data.series.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0)
        }
    };
    max.saturating_add(max / 10).max(1).saturating_add(1)
}

fn draw_bars<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    data: &ChartData,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut bottoms = vec![0u64; data.days.len()];
    let gap = bar_gap(data.days.len());
    for (index, (name, values)) in data.series.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let bars: Vec<Rectangle<(SegmentValue<u32>, u64)>> = values
            .iter()
            .enumerate()
            .filter(|(_, value)| **value > 0)
            .map(|(day, value)| {
                let day = u32::try_from(day).unwrap_or(u32::MAX);
                let bottom = bottoms.get(day as usize).copied().unwrap_or(0);
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(day), bottom),
                        (SegmentValue::Exact(day.saturating_add(1)), bottom.saturating_add(*value)),
                    ],
                    color.filled(),
                );
                bar.set_margin(0, 0, gap, gap);
                bar
            })
            .collect();
        for (bottom, value) in bottoms.iter_mut().zip(values) {
            *bottom = bottom.saturating_add(*value);
        }
        chart
            .draw_series(bars)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    Ok(())
}

/// Returns the gap in pixels on each side of a bar: 6, or less when many days leave narrow
/// segments, so that no bar gets a negative width.
fn bar_gap(days: usize) -> u32 {
    let plot_width = WIDTH.saturating_sub(PLOT_INSET);
    let segment = plot_width / u32::try_from(days.max(1)).unwrap_or(u32::MAX);
    (segment / 5).min(6)
}

fn draw_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    data: &ChartData,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (index, (name, values)) in data.series.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let points = values.iter().enumerate().map(|(day, value)| {
            (SegmentValue::CenterOf(u32::try_from(day).unwrap_or(u32::MAX)), *value)
        });
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::Column;

    fn table() -> Table {
        Table {
            title: "Emails by threat & day".to_string(),
            time_zone: "Europe/Berlin".to_string(),
            columns: vec![Column::zoned("day"), Column::text("threat"), Column::number("emails")],
            rows: vec![
                vec![Cell::Time("2024-03-30".into()), Cell::text("Phish"), Cell::Count(3)],
                vec![Cell::Time("2024-03-31".into()), Cell::text("Phish"), Cell::Count(2)],
                vec![Cell::Time("2024-03-31".into()), Cell::text("<Spam>"), Cell::Count(5)],
                vec![Cell::Empty, Cell::text("Malware"), Cell::Count(9)],
            ],
        }
    }

    fn spec(kind: ChartKind) -> ChartSpec {
        ChartSpec {
            kind,
            day_column: "day".to_string(),
            series_columns: vec!["threat".to_string()],
            value_column: "emails".to_string(),
            y_label: "emails".to_string(),
        }
    }

    fn texts(document: &roxmltree::Document) -> Vec<String> {
        document
            .descendants()
            .filter(|node| node.has_tag_name("text"))
            .filter_map(|node| node.text())
            .map(|text| text.trim().to_string())
            .collect()
    }

    fn check_svg(svg: &str) -> Vec<String> {
        let document = roxmltree::Document::parse(svg).expect("the chart is well-formed XML");
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
        assert_eq!(root.attribute("version"), Some("1.1"));
        texts(&document)
    }

    #[test]
    fn bar_chart_is_svg_with_labels_and_legend() {
        let svg = render_svg(&table(), &spec(ChartKind::Bars)).unwrap();
        let texts = check_svg(&svg);
        for expected in [
            "Emails by threat & day",
            "day (Europe/Berlin)",
            "emails",
            "2024-03-30",
            "2024-03-31",
            "Phish",
            "<Spam>",
        ] {
            assert!(texts.iter().any(|t| t == expected), "missing text '{expected}' in {texts:?}");
        }
        assert!(!texts.iter().any(|t| t == "Malware"), "a row without a day is not drawn");
    }

    #[test]
    fn line_chart_is_svg_with_labels_and_legend() {
        let svg = render_svg(&table(), &spec(ChartKind::Lines)).unwrap();
        let texts = check_svg(&svg);
        for expected in ["day (Europe/Berlin)", "Phish", "<Spam>", "2024-03-31"] {
            assert!(texts.iter().any(|t| t == expected), "missing text '{expected}' in {texts:?}");
        }
    }

    /// Returns the widths and heights of every `<rect>` of a chart.
    fn rect_sizes(svg: &str) -> Vec<(f64, f64)> {
        let document = roxmltree::Document::parse(svg).unwrap();
        document
            .descendants()
            .filter(|node| node.has_tag_name("rect"))
            .map(|node| {
                let number = |name| node.attribute(name).unwrap().parse::<f64>().unwrap();
                (number("width"), number("height"))
            })
            .collect()
    }

    #[test]
    fn bars_never_negative() {
        for days in [1usize, 2, 31, 365, 2000] {
            let mut table = table();
            table.rows = (0..days)
                .map(|day| {
                    let date = jiff::civil::date(2020, 1, 1)
                        .checked_add(jiff::Span::new().days(i64::try_from(day).unwrap()))
                        .unwrap();
                    vec![Cell::Time(date.to_string()), Cell::text("Phish"), Cell::Count(2)]
                })
                .collect();
            let svg = render_svg(&table, &spec(ChartKind::Bars)).unwrap();
            let sizes = rect_sizes(&svg);
            assert!(sizes.len() > days.min(1), "{days} days");
            for (width, height) in sizes {
                assert!(width >= 0.0, "{days} days: width {width}");
                assert!(height >= 0.0, "{days} days: height {height}");
            }
        }
    }

    #[test]
    fn one_day_bar_has_width() {
        let mut table = table();
        table.rows.truncate(1);
        let svg = render_svg(&table, &spec(ChartKind::Bars)).unwrap();
        let document = roxmltree::Document::parse(&svg).unwrap();
        // The first series' colour, on the bar and on its 12-pixel legend swatch.
        let widths: Vec<f64> = document
            .descendants()
            .filter(|node| node.has_tag_name("rect") && node.attribute("fill") == Some("#E6194B"))
            .map(|node| node.attribute("width").unwrap().parse::<f64>().unwrap())
            .collect();
        assert_eq!(widths.len(), 2, "{widths:?}");
        assert!(widths.iter().any(|width| *width > 100.0), "{widths:?}");
    }

    #[test]
    fn empty_table_still_draws() {
        let mut empty = table();
        empty.rows.clear();
        let svg = render_svg(&empty, &spec(ChartKind::Bars)).unwrap();
        check_svg(&svg);
    }

    #[test]
    fn control_characters_removed_from_labels() {
        let mut table = table();
        table.rows[0][1] = Cell::text("bad\u{1}name");
        let svg = render_svg(&table, &spec(ChartKind::Bars)).unwrap();
        let texts = check_svg(&svg);
        assert!(texts.iter().any(|t| t == "bad name"), "{texts:?}");
    }

    #[test]
    fn many_series_merged_into_other() {
        let mut table = table();
        table.rows = (0..20u64)
            .map(|i| {
                vec![
                    Cell::Time("2024-03-30".into()),
                    Cell::text(format!("s{i:02}")),
                    Cell::Count(i + 1),
                ]
            })
            .collect();
        let data = collect(&table, &spec(ChartKind::Bars)).unwrap();
        assert_eq!(data.series.len(), MAX_SERIES);
        assert_eq!(data.series[0].0, "s19");
        let other = data.series.last().unwrap();
        assert_eq!(other.0, "other");
        assert_eq!(other.1, vec![(1..=9).sum::<u64>()]);
    }

    #[test]
    fn missing_column_rejected() {
        let mut bad = spec(ChartKind::Bars);
        bad.value_column = "nope".to_string();
        let error = render_svg(&table(), &bad).unwrap_err();
        assert!(error.to_string().contains("'nope'"), "{error}");
    }
}
