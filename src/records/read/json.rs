//! Batches of records from one JSON document, parsed on a background thread.
//!
//! The document is parsed with serde_json in streaming mode: each array element is taken as a
//! [`RawValue`] (its exact text), so memory contains one element and one batch, never the whole
//! document. The top level may be:
//! - an array of objects: each element is one item;
//! - an object with a `value` array (Microsoft Graph list responses): each element is one item,
//!   and the object's other keys (`@odata.context`, `@odata.nextLink`) are ignored;
//! - an object with an `events` array whose elements carry the record as a JSON string in
//!   `event.original` (Elastic pipeline test files): each `original` text is one item, and an
//!   element without that string is itself one item;
//! - any other object: the object is one item.
//!
//! NOTE: the keys are recognised while streaming, so a lone record object that has its own
//! `value` or `events` array is taken as a wrapper, and its scalar elements are rejected.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufReader, Read};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::encoding::{ByteStream, malformed_encoding};
use super::error::ReadError;
use super::ndjson::check_object;
use super::{BATCH_BYTES, RawBody, RawItem};

type Batch = Result<Vec<RawItem>, ReadError>;

/// Batches queued between the parser thread and the consumer; bounds memory.
const QUEUED_BATCHES: usize = 2;

/// Receives the batches that the parser thread produces.
pub(super) struct JsonBatches {
    file: String,
    receiver: Receiver<Batch>,
    parser: Option<JoinHandle<()>>,
    finished: bool,
}

impl JsonBatches {
    /// Starts the parser thread.
    pub(super) fn new(file: &str, input: ByteStream, batch_items: usize) -> JsonBatches {
        let (sender, receiver) = sync_channel(QUEUED_BATCHES);
        let name = file.to_string();
        let batch_items = batch_items.max(1);
        let parser = std::thread::Builder::new()
            .name("tagq-json-reader".to_string())
            .spawn(move || parse_document(name, input, sender, batch_items))
            .ok();
        JsonBatches { file: file.to_string(), receiver, parser, finished: false }
    }
}

impl Iterator for JsonBatches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.finished {
            return None;
        }
        if let Ok(batch) = self.receiver.recv() {
            return Some(batch);
        }
        // The sender is gone: the thread ended, failed to start, or panicked.
        self.finished = true;
        match self.parser.take().map(JoinHandle::join) {
            Some(Ok(())) => None,
            _ => Some(Err(ReadError::ParserStopped { file: self.file.clone() })),
        }
    }
}

/// Counts the line breaks that serde_json has consumed, to give items their start line.
struct LineCounter {
    inner: BufReader<ByteStream>,
    newlines: Rc<Cell<u64>>,
}

impl Read for LineCounter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let seen = memchr::memchr_iter(b'\n', buf.get(..n).unwrap_or_default()).count();
        self.newlines.set(self.newlines.get() + seen as u64);
        Ok(n)
    }
}

/// Collects items into batches and sends them to the consumer.
struct Sink {
    file: String,
    sender: SyncSender<Batch>,
    batch: Vec<RawItem>,
    bytes: usize,
    batch_items: usize,
    newlines: Rc<Cell<u64>>,
    /// Set when the consumer dropped the receiver, which stops parsing.
    closed: bool,
    /// An error found by the visitors, reported in place of serde_json's error because it
    /// carries the line where the element starts.
    failure: Option<ReadError>,
}

impl Sink {
    fn push(&mut self, item: RawItem) -> Result<(), String> {
        if let RawBody::Json(text) = &item.body {
            self.bytes += text.len();
        }
        self.batch.push(item);
        if self.batch.len() >= self.batch_items || self.bytes >= BATCH_BYTES {
            return self.flush();
        }
        Ok(())
    }

    /// Stores `error` for reporting and returns the message for serde_json's error.
    fn fail(&mut self, error: ReadError) -> String {
        let message = error.to_string();
        self.failure = Some(error);
        message
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.bytes = 0;
        let batch = std::mem::take(&mut self.batch);
        if self.sender.send(Ok(batch)).is_err() {
            self.closed = true;
            return Err("reader closed".to_string());
        }
        Ok(())
    }

    /// Returns the 1-based line where an element ends, given the parser's position after it.
    fn line_of(&self, text: &str) -> u64 {
        let inside = memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
        (self.newlines.get() + 1).saturating_sub(inside)
    }
}

fn parse_document(file: String, input: ByteStream, sender: SyncSender<Batch>, batch_items: usize) {
    let newlines = Rc::new(Cell::new(0));
    let counter =
        LineCounter { inner: BufReader::with_capacity(1 << 20, input), newlines: newlines.clone() };
    let mut sink = Sink {
        file: file.clone(),
        sender: sender.clone(),
        batch: Vec::new(),
        bytes: 0,
        batch_items,
        newlines,
        closed: false,
        failure: None,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(counter);
    let parsed = TopLevel { sink: &mut sink }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    if sink.closed {
        return;
    }
    let flushed = sink.flush();
    if let (Err(error), Ok(())) = (parsed, flushed) {
        let error = sink.failure.take().unwrap_or_else(|| convert_error(&file, error));
        // A failed send means the consumer dropped the reader, so the error is not needed.
        let _ = sender.send(Err(error));
    }
}

fn convert_error(file: &str, error: serde_json::Error) -> ReadError {
    let (line, column) = (error.line() as u64, error.column() as u64);
    if error.is_io() {
        let source = io::Error::from(error);
        return match malformed_encoding(&source) {
            Some(encoding) => ReadError::InvalidEncoding { file: file.to_string(), line, encoding },
            None => ReadError::Io { file: file.to_string(), line, source },
        };
    }
    ReadError::Json { file: file.to_string(), line, column, message: json_message(&error) }
}

/// Returns serde_json's message without the ` at line L column C` suffix, which the
/// error's own prefix already gives.
pub(super) fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(message) => message.to_string(),
        None => text,
    }
}

/// The document's top level: an array, or an object that is a wrapper or a record.
struct TopLevel<'a> {
    sink: &'a mut Sink,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array or object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        stream_elements(self.sink, seq, ElementKind::Record)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let line = self.sink.newlines.get() + 1;
        let mut wrapper = false;
        let mut others = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let kind = match key.as_str() {
                "value" => ElementKind::Record,
                "events" => ElementKind::Event,
                _ => {
                    others.insert(key, map.next_value::<Value>()?);
                    continue;
                }
            };
            match map.next_value_seed(ListOrValue { sink: &mut *self.sink, kind })? {
                Some(value) => {
                    others.insert(key, value);
                }
                None => wrapper = true,
            }
        }
        if wrapper {
            return Ok(());
        }
        let text = serde_json::to_string(&others).map_err(de::Error::custom)?;
        self.sink.push(RawItem { line, body: RawBody::Json(text) }).map_err(de::Error::custom)
    }
}

/// The content of an array element of the document.
#[derive(Clone, Copy)]
enum ElementKind {
    /// The element is the record.
    Record,
    /// The element carries the record text in `event.original`.
    Event,
}

fn stream_elements<'de, A: SeqAccess<'de>>(
    sink: &mut Sink,
    mut seq: A,
    kind: ElementKind,
) -> Result<(), A::Error> {
    while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
        let line = sink.line_of(raw.get());
        let text = match kind {
            ElementKind::Record => raw.get().to_string(),
            ElementKind::Event => match event_original(&raw) {
                Some(original) => {
                    // The element was validated by the parser, but the embedded text was not.
                    if let Err(error) = check_embedded(&sink.file, line, &original) {
                        return Err(de::Error::custom(sink.fail(error)));
                    }
                    original
                }
                None => raw.get().to_string(),
            },
        };
        if !text.starts_with('{') {
            let error = ReadError::Json {
                file: sink.file.clone(),
                line,
                column: 0,
                message: "array element is not a JSON object".to_string(),
            };
            return Err(de::Error::custom(sink.fail(error)));
        }
        sink.push(RawItem { line, body: RawBody::Json(text) }).map_err(de::Error::custom)?;
    }
    Ok(())
}

/// Checks the record text embedded in `event.original`. The error names the element's line,
/// and the column within the embedded text.
fn check_embedded(file: &str, line: u64, text: &str) -> Result<(), ReadError> {
    check_object(file, line, text).map_err(|error| match error {
        ReadError::Json { file, line, column, message } => ReadError::Json {
            file,
            line,
            column: 0,
            message: format!("event.original, column {column}: {message}"),
        },
        other => other,
    })
}

#[derive(Deserialize)]
struct EventElement {
    event: Option<EventFields>,
}

#[derive(Deserialize)]
struct EventFields {
    original: Option<String>,
}

fn event_original(raw: &RawValue) -> Option<String> {
    let element: EventElement = serde_json::from_str(raw.get()).ok()?;
    element.event?.original
}

/// The value of a `value` or `events` key: streamed when it is an array, kept otherwise.
struct ListOrValue<'a> {
    sink: &'a mut Sink,
    kind: ElementKind,
}

impl<'de> DeserializeSeed<'de> for ListOrValue<'_> {
    /// `None` when the value was an array whose elements were streamed.
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListOrValue<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        stream_elements(self.sink, seq, self.kind).map(|()| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        Ok(Some(Value::Object(object)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(Value::Null))
    }
}
