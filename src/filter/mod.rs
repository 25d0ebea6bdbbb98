//! The filter language: a Kibana-style query syntax with tag predicates.

pub mod ast;
pub mod error;
pub mod resolved;
pub mod schema;
