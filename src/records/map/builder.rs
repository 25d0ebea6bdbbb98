//! Assembly of one record: model fields from the field tables, typed extra columns, users.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value as Json;

use crate::filter::schema::FieldType;
use crate::records::{Origin, Raw, Record, RecordKind, Role, UserRef, Value};

use super::MapContext;
use super::address::{clean_address, is_service_account};
use super::cells::{flatten_json, parse_json_container, split_list};
use super::enums::normalize_enum;
use super::error::MapError;
use super::schema::{ColumnKind, FieldSpec, field_specs, time_field};
use super::source::{Cell, Entry, Source, name_key};
use super::timestamp::parse_timestamp;

/// A record under construction.
pub(crate) struct Builder<'c> {
    ctx: &'c MapContext,
    line: u64,
    /// The kind of the record being built.
    pub kind: RecordKind,
    /// The record id, when the format gives one; `file:line` otherwise.
    pub id: Option<String>,
    fields: BTreeMap<&'static str, Value>,
    extra: Vec<(String, Value)>,
    /// The names of the columns copied into `extra`, or `None` for every column.
    keep_extra: Option<&'c [String]>,
    users: Vec<UserRef>,
}

impl<'c> Builder<'c> {
    pub fn new(ctx: &'c MapContext, line: u64, kind: RecordKind) -> Builder<'c> {
        Builder {
            ctx,
            line,
            kind,
            id: None,
            fields: BTreeMap::new(),
            extra: Vec::new(),
            keep_extra: None,
            users: Vec::new(),
        }
    }

    /// Copies into `extra` only the columns named in `names` (ignoring ASCII case), or every
    /// column for `None`.
    pub fn keep_extra_only(&mut self, names: Option<&'c [String]>) {
        self.keep_extra = names;
    }

    fn invalid_time(&self, prefix: &str, column: &str, value: &str) -> MapError {
        MapError::InvalidTime {
            file: self.ctx.file.clone(),
            line: self.line,
            column: format!("{prefix}{column}"),
            value: value.to_string(),
        }
    }

    /// Fills every model field that is still unset from the first non-blank column of its
    /// table entry, searching the sources in order for each column name.
    pub fn fill_fields(&mut self, sources: &[&Source]) -> Result<(), MapError> {
        let columns = spec_columns(self.kind);
        // Field names are unique within a kind, so only fields set before this call can be set.
        let had_fields = !self.fields.is_empty();
        for (index, spec) in field_specs(self.kind).iter().enumerate() {
            if had_fields && self.fields.contains_key(spec.name) {
                continue;
            }
            let found = match sources {
                [source] => first_in_layout(source, self.kind, columns, index),
                _ => first_in_sources(sources, columns.get(index).map_or(&[], Vec::as_slice)),
            };
            if let Some((prefix, entry)) = found
                && let Some(value) = self.model_value(spec, prefix, &entry)?
            {
                self.fields.insert(spec.name, value);
            }
        }
        Ok(())
    }

    /// Returns a model field's value.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// Returns a model field's text, when it is a single string.
    pub fn field_text(&self, name: &str) -> Option<&str> {
        match self.fields.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Sets a model field of this kind, normalising enumeration text. Names that are not model
    /// fields of the kind are ignored.
    pub fn set_text(&mut self, name: &'static str, text: &str) {
        let Some(spec) = field_specs(self.kind).iter().find(|f| f.name == name) else { return };
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let value = if spec.list {
            Value::List(split_list(text).iter().map(|s| normalized(spec, s)).collect())
        } else {
            normalized(spec, text)
        };
        self.fields.insert(spec.name, value);
    }

    fn model_value(
        &self,
        spec: &FieldSpec,
        prefix: &str,
        entry: &Entry,
    ) -> Result<Option<Value>, MapError> {
        match spec.ty {
            FieldType::Date => self.time_value(prefix, entry).map(Some),
            FieldType::Integer => Ok(integer_value(entry.cell)),
            _ => Ok(text_model_value(spec, entry.cell)),
        }
    }

    fn time_value(&self, prefix: &str, entry: &Entry) -> Result<Value, MapError> {
        let Some(text) = entry.cell.text() else {
            return Err(self.invalid_time(prefix, entry.name, &json_text(entry.cell)));
        };
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        parse_timestamp(&text)
            .map(Value::Time)
            .ok_or_else(|| self.invalid_time(prefix, entry.name, &text))
    }

    /// Copies the entries of `source` into `extra`, typed by
    /// [`extra_value`](Self::extra_value), except those named like a model field of the kind
    /// and those that [`Builder::keep_extra_only`] leaves out. Time columns left out are still
    /// parsed, because an invalid time fails the record either way.
    pub fn add_extra(&mut self, source: &Source) -> Result<(), MapError> {
        let kinds = source.layout().extra_kinds(self.kind);
        for (entry, column) in source.entries().zip(kinds) {
            let Some(column) = column else { continue };
            if !self.keeps_extra(source.prefix, entry.name) {
                if column.ty == FieldType::Date {
                    self.extra_value(source.prefix, entry, *column)?;
                }
                continue;
            }
            let value = self.extra_value(source.prefix, entry, *column)?;
            let name = if source.prefix.is_empty() {
                entry.name.to_string()
            } else {
                format!("{}{}", source.prefix, entry.name)
            };
            self.extra.push((name, value));
        }
        Ok(())
    }

    fn keeps_extra(&self, prefix: &str, name: &str) -> bool {
        let Some(kept) = self.keep_extra else { return true };
        kept.iter().any(|kept| {
            let (kept_prefix, kept_name) = kept.split_at_checked(prefix.len()).unwrap_or(("", ""));
            kept.len() == prefix.len() + name.len()
                && kept_prefix.eq_ignore_ascii_case(prefix)
                && kept_name.eq_ignore_ascii_case(name)
        })
    }

    /// Types one source value: JSON numbers and booleans keep their type, arrays become lists,
    /// objects compact JSON text. Text is typed by `column`, the type its name implies:
    /// times must parse, numbers and booleans are converted when they parse, and multi-valued
    /// columns are split.
    fn extra_value(
        &self,
        prefix: &str,
        entry: &Entry,
        column: ColumnKind,
    ) -> Result<Value, MapError> {
        let text = match (entry.cell.as_str(), entry.cell) {
            (Some(s), _) => s,
            (None, Cell::Json(json)) => return Ok(json_value(json)),
            (None, Cell::Text(s)) => s,
        };
        let ty = column.ty;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            let typed = !matches!(ty, FieldType::Keyword | FieldType::Text | FieldType::Enum);
            return Ok(if typed { Value::Null } else { Value::Str(text.to_string()) });
        }
        let value = match ty {
            FieldType::Date => {
                let time = parse_timestamp(trimmed);
                Value::Time(time.ok_or_else(|| self.invalid_time(prefix, entry.name, text))?)
            }
            FieldType::Integer => {
                parse_integer(trimmed).map_or_else(|| Value::Str(text.to_string()), Value::Int)
            }
            FieldType::Float => {
                trimmed.parse().map_or_else(|_| Value::Str(text.to_string()), Value::Float)
            }
            FieldType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::Str(text.to_string()),
            },
            _ if column.list => str_list(split_list(trimmed)),
            _ if trimmed.starts_with('[') => match parse_json_container(trimmed) {
                Some(items) => str_list(items),
                None => Value::Str(text.to_string()),
            },
            _ => Value::Str(text.to_string()),
        };
        Ok(value)
    }

    /// Adds a user reference. The address is cleaned with [`clean_address`], and service names
    /// such as `SecurityComplianceAlerts` are dropped. A reference is merged into one of the
    /// same role with the same address (ignoring ASCII case), or with the same object id when
    /// one of the two has no address.
    pub fn add_user(
        &mut self,
        role: Role,
        address: Option<&str>,
        object_id: Option<&str>,
        display_name: Option<&str>,
    ) {
        let address = address.and_then(clean_address).filter(|a| !is_service_account(a));
        let object_id = object_id.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let display_name = display_name.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        if address.is_none() && object_id.is_none() {
            return;
        }
        let existing = self.users.iter_mut().find(|u| {
            let same_address = same_ignoring_case(&address, &u.address);
            let same_object = same_ignoring_case(&object_id, &u.object_id);
            let one_address_missing = address.is_none() || u.address.is_none();
            u.role == Some(role) && (same_address || (same_object && one_address_missing))
        });
        match existing {
            Some(user) => {
                if user.address.is_none() {
                    user.address = address;
                }
                if user.object_id.is_none() {
                    user.object_id = object_id;
                }
                if user.display_name.is_none() {
                    user.display_name = display_name;
                }
            }
            None => self.users.push(UserRef { role: Some(role), address, object_id, display_name }),
        }
    }

    /// Adds one user per address in a cell that may hold a list. Parts that are whole numbers
    /// (a recipient count in a campaign export) are skipped.
    pub fn add_users_from_cell(&mut self, role: Role, cell: Cell) -> usize {
        let items = cell_items(cell);
        let mut added = 0;
        for item in items.iter().filter(|i| !i.chars().all(|c| c.is_ascii_digit())) {
            let before = self.users.len();
            self.add_user(role, Some(item), None, None);
            added += self.users.len() - before;
        }
        added
    }

    /// Returns the references of one role.
    pub fn users_in(&self, role: Role) -> impl Iterator<Item = &UserRef> {
        self.users.iter().filter(move |u| u.role == Some(role))
    }

    /// Sets the object id of the only reference of a role, when the role has exactly one.
    pub fn set_single_object_id(&mut self, role: Role, object_id: Option<&str>) {
        let Some(object_id) = object_id.map(str::trim).filter(|s| !s.is_empty()) else { return };
        let mut in_role = self.users.iter_mut().filter(|u| u.role == Some(role));
        if let (Some(user), None) = (in_role.next(), in_role.next()) {
            if user.object_id.is_none() {
                user.object_id = Some(object_id.to_string());
            }
        } else {
            self.add_user(role, None, Some(object_id), None);
        }
    }

    /// Finishes the record. Without an id from the format, the id is `file:line`.
    pub fn finish(self, raw: Raw) -> Record {
        let time = match self.fields.get(time_field(self.kind)) {
            Some(Value::Time(t)) => Some(*t),
            _ => None,
        };
        let id = self.id.unwrap_or_else(|| format!("{}:{}", self.ctx.file, self.line));
        Record {
            kind: self.kind,
            id,
            time,
            fields: self.fields,
            extra: self.extra,
            users: self.users,
            raw,
            format: self.ctx.format,
            origin: Origin { file: self.ctx.file.clone(), line: self.line },
        }
    }
}

/// The [`name_key`] and name of every column of every field specification, per kind,
/// computed once because [`Builder::fill_fields`] looks them up for every row.
type SpecColumns = Vec<Vec<(u64, &'static str)>>;

static COLUMN_KEYS: LazyLock<[SpecColumns; 3]> = LazyLock::new(|| {
    let keys = |kind| -> SpecColumns {
        let specs = field_specs(kind).iter();
        specs.map(|spec| spec.columns.iter().map(|&c| (name_key(c), c)).collect()).collect()
    };
    [keys(RecordKind::Alert), keys(RecordKind::Email), keys(RecordKind::Campaign)]
});

/// Returns the column keys and names of every field specification of a kind.
fn spec_columns(kind: RecordKind) -> &'static [Vec<(u64, &'static str)>] {
    let slot = match kind {
        RecordKind::Alert => 0,
        RecordKind::Email => 1,
        RecordKind::Campaign => 2,
    };
    COLUMN_KEYS.get(slot).map_or(&[], Vec::as_slice)
}

/// Returns the first non-blank column of the `index`-th field specification in one source,
/// with the source's prefix. The columns each field can take come from the source's layout,
/// which resolves them once per list of column names.
fn first_in_layout<'a>(
    source: &Source<'a>,
    kind: RecordKind,
    columns: &[Vec<(u64, &str)>],
    index: usize,
) -> Option<(&'a str, Entry<'a>)> {
    let positions = source.layout().field_columns(kind, columns).get(index)?;
    let mut entries = positions.iter().filter_map(|&position| source.entry(position));
    entries.find(|e| !e.cell.is_blank()).map(|e| (source.prefix, *e))
}

/// Returns the first non-blank column among `columns`, searching the sources in order for
/// each column name, with the prefix of the source it was found in.
fn first_in_sources<'a>(
    sources: &[&Source<'a>],
    columns: &[(u64, &str)],
) -> Option<(&'a str, Entry<'a>)> {
    columns.iter().find_map(|&(key, column)| {
        sources.iter().find_map(|source| {
            let entry = source.get_by_key(key, column);
            entry.filter(|e| !e.cell.is_blank()).map(|e| (source.prefix, *e))
        })
    })
}

/// Returns true when both values are present and equal ignoring ASCII case.
fn same_ignoring_case(a: &Option<String>, b: &Option<String>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

/// Returns the items of a cell that may contain several values: a split text list, a JSON array,
/// or the values of a JSON object.
pub(crate) fn cell_items(cell: Cell) -> Vec<String> {
    match (cell.as_str(), cell) {
        (Some(s), _) => split_list(s),
        (None, Cell::Json(json)) => {
            let mut out = Vec::new();
            flatten_json(json, &mut out, 0);
            out
        }
        (None, Cell::Text(s)) => split_list(s),
    }
}

fn normalized(spec: &FieldSpec, text: &str) -> Value {
    Value::Str(normalize_enum(spec.name, text.trim()))
}

fn text_model_value(spec: &FieldSpec, cell: Cell) -> Option<Value> {
    let is_array = matches!(cell, Cell::Json(Json::Array(_)));
    let text = cell.text();
    let json_list = text
        .as_deref()
        .map(str::trim)
        .and_then(|t| if t.starts_with('[') { parse_json_container(t) } else { None });
    if spec.list || is_array || json_list.is_some() {
        let items = match json_list {
            Some(items) => items,
            None => cell_items(cell),
        };
        let values: Vec<Value> = items.iter().map(|s| normalized(spec, s)).collect();
        return (!values.is_empty()).then_some(Value::List(values));
    }
    let text = text?;
    let text = text.trim();
    (!text.is_empty()).then(|| normalized(spec, text))
}

fn integer_value(cell: Cell) -> Option<Value> {
    match cell {
        Cell::Json(Json::Number(n)) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        }
        other => other.text().and_then(|t| parse_integer(t.trim())),
    }
    .map(Value::Int)
}

/// Parses a whole number, allowing `,` thousands separators (`1,234`).
fn parse_integer(text: &str) -> Option<i64> {
    if text.contains(',') { text.replace(',', "").parse().ok() } else { text.parse().ok() }
}

fn json_text(cell: Cell) -> String {
    match cell {
        Cell::Text(s) => s.to_string(),
        Cell::Json(json) => json.to_string(),
    }
}

/// Converts a non-string JSON value for `extra`.
fn json_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Int(i),
            // Integers past i64 keep their exact digits as text.
            (None, _) if n.is_u64() => Value::Str(n.to_string()),
            (None, Some(f)) => Value::Float(f),
            (None, None) => Value::Str(n.to_string()),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(json_element).collect()),
        Json::Object(_) => Value::Str(json.to_string()),
    }
}

/// Converts an element of a JSON array: scalars keep their type, containers become compact
/// JSON text.
fn json_element(json: &Json) -> Value {
    match json {
        Json::Array(_) | Json::Object(_) => Value::Str(json.to_string()),
        other => json_value(other),
    }
}

fn str_list(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(Value::Str).collect())
}
