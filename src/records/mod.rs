//! Records and the readers and writers of export formats.

pub mod map;
pub mod model;
pub mod raw;
pub mod read;
pub mod write;

pub use model::{Origin, Raw, Record, RecordKind, Role, SourceFormat, UserRef, Value};
pub use raw::{RawBody, RawItem};
