//! Mapping of raw items to records: detects the export format of each item and fills the
//! record model.
//!
//! Formats, detected from the item's columns or keys:
//! - Advanced Hunting `EmailEvents` (email), `AlertInfo` and `AlertEvidence` (alert), as CSV
//!   exports and in the streaming envelope; rows of other Advanced Hunting tables are
//!   [`Mapped::Skipped`];
//! - Threat Explorer email exports (`Sender address`, `Network message ID`, ...);
//! - Office 365 Management Activity API `TIMailData` (email), Security & Compliance alerts and
//!   AIR investigations (alert);
//! - Microsoft Graph security alerts with `evidence[]`, and Graph `analyzedEmail`;
//! - campaign exports (a `Campaign ID` or `CampaignId` column);
//! - anything else: emails when a sender or recipient column exists, and alerts when a column
//!   that only alerts have exists (title, severity, status, category, alert id). Other rows get
//!   a [`MapError::UnknownShape`] error, so that a directory or member list is not read as
//!   alerts.
//!
//! [`MapContext::kind`] overrides the detected kind: the item is then mapped by the generic
//! rules of that kind.
//!
//! Every source column goes to [`Record::extra`] under its own name, unless a model field of
//! the kind has that name (ignoring ASCII case). Nested JSON objects, such as the `Data` string
//! of Management Activity API records, stay whole there, as their JSON text.

mod address;
mod builder;
mod cells;
mod enums;
mod error;
mod generic;
mod graph;
mod hunting;
mod o365;
mod object;
mod schema;
mod source;
mod timestamp;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::records::{Raw, RawBody, RawItem, Record, RecordKind, SourceFormat};

pub use address::clean_address;
pub use cells::split_list;
pub use error::MapError;
pub use schema::{column_type, model_field_names, model_schema, schema_for};
pub use timestamp::parse_timestamp;

use builder::Builder;
use source::Source;

/// Settings of one input that apply to all its items: file name, format and kind override.
#[derive(Clone, Debug)]
pub struct MapContext {
    /// Input file name, or `-` for standard input; used in ids and messages.
    pub file: Arc<str>,
    /// The input format, stored in each record.
    pub format: SourceFormat,
    /// The record kind given on the command line (`--kind`), which overrides detection.
    pub kind: Option<RecordKind>,
}

/// The source columns that mapping copies into [`Record::extra`], per record kind.
///
/// By default every column is copied. A caller that reads only some columns, such as the
/// streaming filter, can keep only those and save the copies of the others. Time columns left
/// out are still parsed, so a record maps, or fails to map, as with every column kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtraColumns {
    /// Per record kind (alert, email, campaign), the names kept, or `None` for every column.
    kept: [Option<Vec<String>>; 3],
}

impl ExtraColumns {
    /// Keeps only the columns named in `names` (compared ignoring ASCII case, with the `Data.`
    /// style prefix of nested keys) in records of `kind`.
    pub fn keep_only(&mut self, kind: RecordKind, names: Vec<String>) {
        if let Some(slot) = self.kept.get_mut(kind_slot(kind)) {
            *slot = Some(names);
        }
    }

    /// Returns the names kept in records of `kind`, or `None` when every column is kept.
    pub fn kept(&self, kind: RecordKind) -> Option<&[String]> {
        self.kept.get(kind_slot(kind)).and_then(Option::as_deref)
    }
}

/// Returns the position of a record kind in per-kind arrays.
fn kind_slot(kind: RecordKind) -> usize {
    match kind {
        RecordKind::Alert => 0,
        RecordKind::Email => 1,
        RecordKind::Campaign => 2,
    }
}

/// The result of mapping one item.
#[derive(Clone, Debug, PartialEq)]
pub enum Mapped {
    /// The item is a record.
    Record(Box<Record>),
    /// The item is a row of a table that contains neither emails nor alerts (such as
    /// `EmailUrlInfo` in the streaming envelope). Callers count and report these.
    Skipped {
        /// The table name, without the `AdvancedHunting-` prefix.
        table: String,
    },
}

/// The mapping rules picked for an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// A flat email row; `per_recipient` rows get `NetworkMessageId/recipient` ids.
    Email { per_recipient: bool },
    /// A flat alert row.
    Alert,
    /// An `AlertEvidence` row.
    AlertEvidence,
    /// A campaign row.
    Campaign,
    /// A `TIMailData` record.
    TiMail,
    /// A Security & Compliance alert.
    ComplianceAlert,
    /// An AIR investigation.
    AirInvestigation,
    /// A Graph or incidents API alert.
    GraphAlert,
    /// A row whose columns name no sender, recipient, campaign or alert field, such as a
    /// directory or member list given to `ingest` by mistake. It is rejected unless a record
    /// kind is given.
    Unrecognised,
}

impl Family {
    fn kind(self) -> RecordKind {
        match self {
            Family::Email { .. } | Family::TiMail => RecordKind::Email,
            Family::Campaign => RecordKind::Campaign,
            _ => RecordKind::Alert,
        }
    }

    /// Returns the generic family of a kind, for a `--kind` that differs from detection.
    fn generic(kind: RecordKind) -> Family {
        match kind {
            RecordKind::Alert => Family::Alert,
            RecordKind::Email => Family::Email { per_recipient: true },
            RecordKind::Campaign => Family::Campaign,
        }
    }

    fn with_override(self, kind: Option<RecordKind>) -> Family {
        match kind {
            Some(kind) if kind != self.kind() || self == Family::Unrecognised => {
                Family::generic(kind)
            }
            _ => self,
        }
    }
}

/// Maps one raw item to a record, or reports it as a skipped table row.
///
/// JSON items are parsed here. The function keeps no state, so it can run on many threads
/// at once.
///
/// # Errors
///
/// [`MapError`] when a JSON item is invalid or not an object, or when a time column contains a
/// value that is not a timestamp.
pub fn map_item(item: &RawItem, ctx: &MapContext) -> Result<Mapped, MapError> {
    map_item_with(item, ctx, &ExtraColumns::default())
}

/// Maps one raw item like [`map_item`], copying into [`Record::extra`] only the columns that
/// `extra` keeps.
///
/// # Errors
///
/// As for [`map_item`]: a time column left out of `extra` must still contain a timestamp.
pub fn map_item_with(
    item: &RawItem,
    ctx: &MapContext,
    extra: &ExtraColumns,
) -> Result<Mapped, MapError> {
    match &item.body {
        RawBody::Csv { header, cells } => map_csv(item.line, header, cells, ctx, extra),
        RawBody::Json(text) => map_json(item.line, text, ctx, extra),
    }
}

/// Maps one raw item like [`map_item_with`], moving its cells or text into [`Record::raw`]
/// instead of copying them.
///
/// # Errors
///
/// As for [`map_item_with`].
pub fn map_item_owned(
    item: RawItem,
    ctx: &MapContext,
    extra: &ExtraColumns,
) -> Result<Mapped, MapError> {
    match item.body {
        RawBody::Csv { header, cells } => {
            let built = build_csv(item.line, &header, &cells, ctx, extra)?;
            Ok(built.into_mapped(|| Raw::Csv { header, cells }))
        }
        RawBody::Json(text) => match build_flat_json(item.line, &text, ctx, extra) {
            Some(built) => Ok(built?.into_mapped(|| Raw::Json(trimmed_string(text)))),
            None => map_json_value(item.line, &text, ctx, extra),
        },
    }
}

/// A mapped item that still lacks its raw form.
enum Built<'c> {
    /// A record under construction.
    Record(Builder<'c>),
    /// A row of a table that is skipped, with the table name.
    Skipped(String),
}

impl Built<'_> {
    fn into_mapped(self, raw: impl FnOnce() -> Raw) -> Mapped {
        match self {
            Built::Record(builder) => record(builder, raw()),
            Built::Skipped(table) => Mapped::Skipped { table },
        }
    }
}

/// Returns the text without surrounding whitespace, reusing its buffer when there is none.
fn trimmed_string(text: String) -> String {
    if text.trim().len() == text.len() { text } else { text.trim().to_string() }
}

fn map_csv(
    line: u64,
    header: &Arc<Vec<String>>,
    cells: &[String],
    ctx: &MapContext,
    extra: &ExtraColumns,
) -> Result<Mapped, MapError> {
    let built = build_csv(line, header, cells, ctx, extra)?;
    Ok(built.into_mapped(|| Raw::Csv { header: Arc::clone(header), cells: cells.to_vec() }))
}

fn build_csv<'c>(
    line: u64,
    header: &[String],
    cells: &[String],
    ctx: &'c MapContext,
    extra: &'c ExtraColumns,
) -> Result<Built<'c>, MapError> {
    let source = Source::from_csv(header, cells);
    let (family, skipped) = detect_flat_cached(&source);
    if let Some(table) = skipped.filter(|_| ctx.kind.is_none()) {
        return Ok(Built::Skipped(table.to_string()));
    }
    let family = family.with_override(ctx.kind);
    build(family, None, &source, line, ctx, extra).map(Built::Record)
}

fn map_json(
    line: u64,
    text: &str,
    ctx: &MapContext,
    extra: &ExtraColumns,
) -> Result<Mapped, MapError> {
    match build_flat_json(line, text, ctx, extra) {
        Some(built) => Ok(built?.into_mapped(|| Raw::Json(text.trim().to_string()))),
        None => map_json_value(line, text, ctx, extra),
    }
}

/// Maps a one-line JSON item by the fast path of [`map_flat_object`], or returns `None` when
/// the item needs the `serde_json::Value` path.
fn build_flat_json<'c>(
    line: u64,
    text: &str,
    ctx: &'c MapContext,
    extra: &'c ExtraColumns,
) -> Option<Result<Built<'c>, MapError>> {
    if memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_some() {
        return None;
    }
    let object = object::parse(text)?;
    map_flat_object(line, &object, ctx, extra)
}

/// Keys that the detection of Management Activity API records and Graph alerts reads. Objects
/// with any of them are mapped from a `serde_json::Value`.
const DETECTION_KEYS: &[&str] =
    &["RecordType", "Workload", "Operation", "@odata.type", "evidence", "entities"];

/// Maps a one-line JSON object from its borrowed parse, the fast path for flat rows and rows in
/// the streaming envelope. Returns `None` for objects that need a `serde_json::Value`: those
/// with nested objects (other than the envelope's `properties`), repeated keys or keys that
/// [`detect_json`] reads. Both paths give the same result for the objects this one maps.
fn map_flat_object<'c>(
    line: u64,
    object: &object::Object,
    ctx: &'c MapContext,
    extra: &'c ExtraColumns,
) -> Option<Result<Built<'c>, MapError>> {
    if DETECTION_KEYS.iter().any(|key| object.get(key).is_some()) {
        return None;
    }

    if let Some((table_name, properties)) = flat_envelope(object) {
        let Some(table) = hunting::table(table_name) else {
            return Some(Ok(Built::Skipped(table_name.to_string())));
        };
        if properties.has_nested_object() {
            return None;
        }
        let mut entries = Vec::with_capacity(properties.0.len() + object.0.len());
        properties.push_entries(&mut entries, None);
        object.push_entries(&mut entries, Some("properties"));
        let source = Source::from_entries("", entries);
        if source.layout().has_duplicate_names() {
            return None;
        }
        let family = table_family(table).with_override(ctx.kind);
        return Some(build(family, None, &source, line, ctx, extra).map(Built::Record));
    }

    if object.has_nested_object() {
        return None;
    }
    let mut entries = Vec::with_capacity(object.0.len());
    object.push_entries(&mut entries, None);
    let source = Source::from_entries("", entries);
    if source.layout().has_duplicate_names() {
        return None;
    }
    let (family, skipped) = detect_flat_cached(&source);
    if matches!(family, Family::Email { .. } | Family::Alert)
        && let Some(table) = skipped.filter(|_| ctx.kind.is_none())
    {
        return Some(Ok(Built::Skipped(table.to_string())));
    }
    let family = family.with_override(ctx.kind);
    Some(build(family, None, &source, line, ctx, extra).map(Built::Record))
}

/// Splits a streaming envelope into its table name and its `properties` object, like
/// [`hunting::envelope`]. An envelope that repeats `category` or `properties` is not split,
/// so that it takes the `serde_json::Value` path, which keeps the last of repeated keys.
fn flat_envelope<'o, 'a>(
    object: &'o object::Object<'a>,
) -> Option<(&'o str, &'o object::Object<'a>)> {
    let once = |key: &str| object.0.iter().filter(|(name, _)| name == key).count() == 1;
    if !once("category") || !once("properties") {
        return None;
    }
    let object::Member::Str(category) = object.get("category")? else { return None };
    let table = category.strip_prefix(hunting::CATEGORY_PREFIX)?;
    let object::Member::Object(properties) = object.get("properties")? else { return None };
    Some((table, properties))
}

fn table_family(table: hunting::Table) -> Family {
    match table {
        hunting::Table::EmailEvents => Family::Email { per_recipient: true },
        hunting::Table::AlertInfo => Family::Alert,
        hunting::Table::AlertEvidence => Family::AlertEvidence,
    }
}

/// Maps a JSON item from its `serde_json::Value` parse, which handles every shape.
fn map_json_value(
    line: u64,
    text: &str,
    ctx: &MapContext,
    extra: &ExtraColumns,
) -> Result<Mapped, MapError> {
    let value: Json = serde_json::from_str(text).map_err(|source| MapError::InvalidJson {
        file: ctx.file.clone(),
        line,
        source,
    })?;
    let Json::Object(map) = &value else {
        return Err(MapError::NotAnObject {
            file: ctx.file.clone(),
            line,
            found: json_type(&value),
        });
    };
    let raw = Raw::Json(compact_json(text, &value));
    if let Some((table_name, properties)) = hunting::envelope(map) {
        let Some(table) = hunting::table(table_name) else {
            return Ok(Mapped::Skipped { table: table_name.to_string() });
        };
        let family = table_family(table);
        let mut source = Source::from_object(properties, "");
        source.extend_object(map, Some("properties"));
        let family = family.with_override(ctx.kind);
        return build(family, None, &source, line, ctx, extra).map(|builder| record(builder, raw));
    }
    let source = Source::from_object(map, "");
    let family = detect_json(map, &source);
    if matches!(family, Family::Email { .. } | Family::Alert)
        && let Some(table) = skipped_flat_table(&source, ctx)
    {
        return Ok(Mapped::Skipped { table: table.to_string() });
    }
    let family = family.with_override(ctx.kind);
    build(family, Some(map), &source, line, ctx, extra).map(|builder| record(builder, raw))
}

fn record(builder: Builder, raw: Raw) -> Mapped {
    Mapped::Record(Box::new(builder.finish(raw)))
}

/// Returns the table name of a row that is skipped because its table contains neither emails nor
/// alerts. With a record kind given, every row is mapped.
fn skipped_flat_table(source: &Source, ctx: &MapContext) -> Option<&'static str> {
    if ctx.kind.is_some() { None } else { hunting::skipped_table(source) }
}

/// Detects the family of a flat row from its column names, and the table name of a row that is
/// skipped unless a record kind is given. Both depend on the names alone, so they are computed
/// once per layout.
fn detect_flat_cached(source: &Source) -> (Family, Option<&'static str>) {
    source.layout().flat_detection(|| (detect_flat(source), hunting::skipped_table(source)))
}

/// Detects the family of a flat row from its column names.
fn detect_flat(source: &Source) -> Family {
    if source.has("CampaignId") {
        Family::Campaign
    } else if hunting::is_alert_evidence(source) {
        Family::AlertEvidence
    } else if generic::has_mail_columns(source) || source.has("NetworkMessageId") {
        Family::Email { per_recipient: true }
    } else if generic::has_alert_columns(source) {
        Family::Alert
    } else {
        Family::Unrecognised
    }
}

fn detect_json(map: &Map<String, Json>, source: &Source) -> Family {
    match o365::detect(map) {
        Some(o365::Kind::TiMail) => Family::TiMail,
        Some(o365::Kind::ComplianceAlert) => Family::ComplianceAlert,
        Some(o365::Kind::AirInvestigation) => Family::AirInvestigation,
        None if graph::is_graph_alert(map) => Family::GraphAlert,
        None => detect_flat(source),
    }
}

fn build<'c>(
    family: Family,
    map: Option<&Map<String, Json>>,
    source: &Source,
    line: u64,
    ctx: &'c MapContext,
    extra: &'c ExtraColumns,
) -> Result<Builder<'c>, MapError> {
    let mut builder = Builder::new(ctx, line, family.kind());
    builder.keep_extra_only(extra.kept(family.kind()));
    match (family, map) {
        (Family::Email { per_recipient }, _) => {
            generic::map_email(&mut builder, source, per_recipient)?
        }
        (Family::Alert, _) => generic::map_alert(&mut builder, source)?,
        (Family::AlertEvidence, _) => hunting::map_alert_evidence(&mut builder, source)?,
        (Family::Campaign, _) => generic::map_campaign(&mut builder, source)?,
        (Family::TiMail, _) => o365::map_ti_mail(&mut builder, source)?,
        (Family::ComplianceAlert, _) => o365::map_compliance_alert(&mut builder, source)?,
        (Family::AirInvestigation, _) => o365::map_air_investigation(&mut builder, source)?,
        (Family::GraphAlert, Some(map)) => graph::map_graph_alert(&mut builder, map, source)?,
        (Family::GraphAlert, None) => generic::map_alert(&mut builder, source)?,
        (Family::Unrecognised, _) => {
            let names: Vec<&str> = source.entries().take(8).map(|e| e.name).collect();
            let columns = names.join(", ");
            return Err(MapError::UnknownShape { file: ctx.file.clone(), line, columns });
        }
    }
    Ok(builder)
}

/// Returns the item's text, or a compact rendering when the text spans several lines (an
/// element of a pretty-printed document), so that the raw record is always one line.
fn compact_json(text: &str, value: &Json) -> String {
    if text.contains(['\n', '\r']) {
        serde_json::to_string(value).unwrap_or_else(|_| text.to_string())
    } else {
        text.trim().to_string()
    }
}

fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}
