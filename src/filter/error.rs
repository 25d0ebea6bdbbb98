//! Errors and warnings of the filter language, with codes, offsets and hints.

use std::fmt;

/// Severity class of a diagnostic, from the first letter of its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A syntax error (E codes): the query does not parse.
    Syntax,
    /// A semantic error (S codes): the query parses but does not fit the record schema.
    Semantic,
    /// A warning (W codes): the query runs.
    Warning,
}

/// One error or warning about a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Code such as `E001`, `S001` or `W002`.
    pub code: &'static str,
    /// Lower-case message without a final period.
    pub message: String,
    /// 0-based offset in Unicode characters.
    pub offset: usize,
    /// 0-based offset in UTF-8 bytes.
    pub byte_offset: usize,
    /// Length of the offending text in characters (at least 1 where a caret is shown).
    pub len: usize,
    /// A suggested fix, where one helps.
    pub hint: Option<String>,
    /// The tokens the parser expected at the offset, for programs.
    pub expected: Vec<String>,
}

impl Diagnostic {
    /// Returns the class of the diagnostic.
    pub fn class(&self) -> Class {
        match self.code.as_bytes().first() {
            Some(b'E') => Class::Syntax,
            Some(b'S') => Class::Semantic,
            _ => Class::Warning,
        }
    }

    /// Renders the diagnostic for a terminal: code and message, the query, a caret line and
    /// the hint. Columns in the message are 1-based.
    pub fn render(&self, query: &str) -> String {
        let mut out = format!("{}: {}\n", self.code, self.message);
        let line: String = query.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        out.push_str(&format!("  {line}\n"));
        let caret = "^".repeat(self.len.max(1));
        out.push_str(&format!("  {}{caret}\n", " ".repeat(self.offset)));
        if let Some(hint) = &self.hint {
            out.push_str(&format!("hint: {hint}\n"));
        }
        out
    }

    /// Serialises the diagnostic as a JSON object with the documented keys.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "offset": self.offset,
            "byte_offset": self.byte_offset,
            "len": self.len,
            "hint": self.hint,
            "expected": self.expected,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}: {}", self.code, self.offset + 1, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// A query that could not be parsed or resolved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{diagnostic}")]
pub struct FilterError {
    /// The first error, where the parser got furthest (syntax) or leftmost (semantic).
    pub diagnostic: Diagnostic,
}

impl FilterError {
    /// Returns the error code.
    pub fn code(&self) -> &'static str {
        self.diagnostic.code
    }

    /// Returns the 0-based character offset.
    pub fn offset(&self) -> usize {
        self.diagnostic.offset
    }
}
