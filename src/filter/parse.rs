//! The parser: query text to syntax tree, with E-code errors and W-code warnings.
//!
//! The parser reads the text left to right and commits after every `(`, `{`, `:`, range
//! operator and keyword. `and`/`or` chains are built in loops. Only groups, value groups,
//! scopes and `not` recurse, and each checks the depth limit before it descends, so a long
//! query cannot overflow the stack.

use super::ast::{Field, FieldName, Node, Parsed, Pattern, PatternPart, Span, TagTarget, Term};
use super::error::{Diagnostic, FilterError};
use super::lex::{self, Keyword};

/// The hard ceiling on nesting depth: a larger `max_depth` is lowered to this value, because
/// the parser, printer and resolver recurse once per level.
pub const HARD_MAX_DEPTH: usize = 128;

/// Limits and switches for [`parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseOptions {
    /// Maximum nesting of groups, value groups, scopes and `not`, counted together (at most
    /// [`HARD_MAX_DEPTH`]).
    pub max_depth: usize,
    /// Maximum number of leaf predicates, counted after fields distribute over value groups.
    pub max_conditions: usize,
    /// Maximum query size in UTF-8 bytes, checked before parsing.
    pub max_query_bytes: usize,
    /// Whether a value may start with `*` (a lone `*` is always allowed).
    pub leading_wildcards: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_depth: 64,
            max_conditions: 10_000,
            max_query_bytes: 65_536,
            leading_wildcards: true,
        }
    }
}

/// Parses a query into a syntax tree. An empty or blank query is [`Node::All`].
///
/// # Errors
///
/// Returns the first syntax error (E codes), where the parser got furthest; an unterminated
/// quote is reported at its opening quote.
pub fn parse(query: &str, options: &ParseOptions) -> Result<Parsed, FilterError> {
    if query.len() > options.max_query_bytes {
        let mut parser = Parser::new(query, options);
        let at = first_char_past(query, options.max_query_bytes);
        let message = format!("query is longer than {} bytes", options.max_query_bytes);
        return Err(parser.error("E012", at, 1, message, Some("raise it with --max-query-bytes")));
    }
    let mut parser = Parser::new(query, options);
    let root = parser.parse_query()?;
    Ok(Parsed { root, warnings: parser.warnings })
}

/// Returns the byte offset of the first character that ends past `limit` bytes.
fn first_char_past(query: &str, limit: usize) -> usize {
    query.char_indices().find(|(i, c)| i + c.len_utf8() > limit).map_or(query.len(), |(i, _)| i)
}

/// The token before the expression or value being parsed, for E002 messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    Start,
    Word(Keyword),
    Open(char),
    Colon,
}

impl After {
    fn describe(self) -> String {
        match self {
            After::Start => "the start".to_string(),
            After::Word(kw) => format!("'{}'", kw.as_str()),
            After::Open(c) => format!("'{c}'"),
            After::Colon => "':'".to_string(),
        }
    }
}

/// One character of an unquoted or quoted value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    Char(char),
    Star,
}

/// A value or field name as read, before its role is known.
#[derive(Clone, Debug)]
struct RawTerm {
    quoted: bool,
    pieces: Vec<Piece>,
    /// Byte range in the query, quotes included.
    start: usize,
    end: usize,
    /// Byte offset of the first unescaped `*`.
    first_star: Option<usize>,
    /// Whether the unquoted text contains a blank between its words.
    inner_blank: bool,
}

impl RawTerm {
    fn text(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Char(c) => *c,
                Piece::Star => '*',
            })
            .collect()
    }

    fn pattern(&self) -> Pattern {
        let mut parts: Vec<PatternPart> = Vec::new();
        for piece in &self.pieces {
            match (piece, parts.last_mut()) {
                (Piece::Star, Some(PatternPart::Star)) => {}
                (Piece::Star, _) => parts.push(PatternPart::Star),
                (Piece::Char(c), Some(PatternPart::Literal(s))) => s.push(*c),
                (Piece::Char(c), _) => parts.push(PatternPart::Literal(c.to_string())),
            }
        }
        Pattern { parts }
    }

    fn term(&self) -> Term {
        if self.quoted {
            Term::Phrase(self.text())
        } else if self.first_star.is_some() {
            Term::Wild(self.pattern())
        } else {
            Term::Plain(self.text())
        }
    }

    fn field_name(&self) -> FieldName {
        if !self.quoted && self.first_star.is_some() {
            FieldName::Glob(self.pattern())
        } else {
            FieldName::Name(self.text())
        }
    }
}

type PResult<T> = Result<T, FilterError>;

/// A warning found inside a quoted value: code, byte offset, byte length, message and hint.
/// Warnings are kept back until the value is complete, then recorded in offset order.
type PendingWarning = (&'static str, usize, usize, String, &'static str);

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    options: &'a ParseOptions,
    depth_limit: usize,
    leaves: usize,
    scopes: usize,
    warnings: Vec<Diagnostic>,
    /// The last term read, for the "did you forget 'and'" hint.
    last_term: Option<RawTerm>,
    /// Byte offset of every character, for converting offsets to characters.
    char_starts: Vec<usize>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, options: &'a ParseOptions) -> Parser<'a> {
        Parser {
            src,
            pos: 0,
            options,
            depth_limit: options.max_depth.min(HARD_MAX_DEPTH),
            leaves: 0,
            scopes: 0,
            warnings: Vec::new(),
            last_term: None,
            char_starts: src.char_indices().map(|(i, _)| i).collect(),
        }
    }

    // ---- positions and diagnostics ----

    fn char_offset(&self, byte: usize) -> usize {
        self.char_starts.partition_point(|start| *start < byte)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        let offset = self.char_offset(start);
        Span::new(offset, self.char_offset(end).saturating_sub(offset))
    }

    fn diagnostic(
        &self,
        code: &'static str,
        byte: usize,
        byte_len: usize,
        message: String,
        hint: Option<&str>,
    ) -> Diagnostic {
        let end = (byte + byte_len).min(self.src.len());
        let len = self.src.get(byte..end).map_or(1, |s| s.chars().count().max(1));
        Diagnostic {
            code,
            message,
            offset: self.char_offset(byte),
            byte_offset: byte,
            len,
            hint: hint.map(str::to_string),
            expected: Vec::new(),
        }
    }

    fn error(
        &mut self,
        code: &'static str,
        byte: usize,
        byte_len: usize,
        message: String,
        hint: Option<&str>,
    ) -> FilterError {
        FilterError { diagnostic: self.diagnostic(code, byte, byte_len, message, hint) }
    }

    fn warn(
        &mut self,
        code: &'static str,
        byte: usize,
        byte_len: usize,
        message: String,
        hint: &str,
    ) {
        let diagnostic = self.diagnostic(code, byte, byte_len, message, Some(hint));
        self.warnings.push(diagnostic);
    }

    // ---- characters ----

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn char_before(&self, byte: usize) -> Option<char> {
        self.src.get(..byte).and_then(|s| s.chars().next_back())
    }

    fn skip_blanks(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches(lex::is_blank);
        self.pos += rest.len() - trimmed.len();
    }

    /// Returns the keyword at the current position if it is a whole word.
    fn keyword_here(&self) -> Option<Keyword> {
        if !lex::starts_keyword(self.char_before(self.pos)) {
            return None;
        }
        lex::whole_keyword(self.rest())
    }

    /// Consumes blanks and then `keyword` when the keyword follows them; otherwise leaves the
    /// position unchanged and returns false.
    fn eat_keyword(&mut self, keyword: Keyword) -> bool {
        let save = self.pos;
        self.skip_blanks();
        if self.keyword_here() == Some(keyword) {
            self.pos += keyword.as_str().len();
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn check_invisible(&mut self) -> PResult<()> {
        match self.peek() {
            Some(c) if lex::is_invisible(c) => {
                let message = format!(
                    "invisible character U+{:04X} at offset {}",
                    u32::from(c),
                    self.char_offset(self.pos)
                );
                Err(self.error("E013", self.pos, c.len_utf8(), message, Some("remove it")))
            }
            _ => Ok(()),
        }
    }

    // ---- the query and boolean structure ----

    fn parse_query(&mut self) -> PResult<Node> {
        self.skip_blanks();
        if self.pos >= self.src.len() {
            return Ok(Node::All);
        }
        let root = self.parse_or(0, After::Start)?;
        self.skip_blanks();
        if self.pos < self.src.len() {
            return Err(self.unexpected_after_expression(None));
        }
        Ok(root)
    }

    fn parse_or(&mut self, depth: usize, after: After) -> PResult<Node> {
        let mut items = vec![self.parse_and(depth, after)?];
        while self.eat_keyword(Keyword::Or) {
            items.push(self.parse_and(depth, After::Word(Keyword::Or))?);
        }
        Ok(chain(items, Node::Or))
    }

    fn parse_and(&mut self, depth: usize, after: After) -> PResult<Node> {
        let mut items = vec![self.parse_not(depth, after)?];
        while self.eat_keyword(Keyword::And) {
            items.push(self.parse_not(depth, After::Word(Keyword::And))?);
        }
        Ok(chain(items, Node::And))
    }

    /// Consumes leading `not` keywords, checking the depth limit for each; returns how many.
    fn parse_nots(&mut self, depth: &mut usize, after: &mut After) -> PResult<usize> {
        let mut count = 0;
        loop {
            self.skip_blanks();
            if self.keyword_here() != Some(Keyword::Not) {
                return Ok(count);
            }
            self.check_depth(*depth, 3)?;
            *depth += 1;
            self.pos += 3;
            count += 1;
            *after = After::Word(Keyword::Not);
        }
    }

    fn parse_not(&mut self, depth: usize, after: After) -> PResult<Node> {
        let (mut depth, mut after) = (depth, after);
        let count = self.parse_nots(&mut depth, &mut after)?;
        let node = self.parse_primary(depth, after)?;
        Ok(wrap_not(node, count))
    }

    fn check_depth(&mut self, depth: usize, byte_len: usize) -> PResult<()> {
        if depth < self.depth_limit {
            return Ok(());
        }
        let message = format!("query nests deeper than {} levels", self.depth_limit);
        Err(self.error("E011", self.pos, byte_len, message, Some("raise it with --max-depth")))
    }

    fn missing_operand(&mut self, after: After) -> FilterError {
        let message = format!("expected an expression after {}", after.describe());
        self.error("E002", self.pos, 1, message, None)
    }

    fn parse_primary(&mut self, depth: usize, after: After) -> PResult<Node> {
        self.skip_blanks();
        self.check_invisible()?;
        let Some(c) = self.peek() else {
            return Err(self.missing_operand(after));
        };
        if let Some(kw) = self.keyword_here() {
            if after == After::Start {
                let message = format!("a query cannot start with '{}'", kw.as_str());
                return Err(self.error("E002", self.pos, kw.as_str().len(), message, None));
            }
            return Err(self.missing_operand(after));
        }
        match c {
            '(' => self.parse_group(depth),
            ')' | '}' if after == After::Start => {
                let message = format!("unmatched '{c}'");
                Err(self.error("E007", self.pos, 1, message, None))
            }
            ')' | '}' => Err(self.missing_operand(after)),
            ':' | '<' | '>' | '{' => {
                let message = format!("unexpected '{c}'");
                Err(self.error("E001", self.pos, 1, message, Some("a field name must come first")))
            }
            _ => self.parse_term_start(depth),
        }
    }

    fn parse_group(&mut self, depth: usize) -> PResult<Node> {
        self.check_depth(depth, 1)?;
        let open = self.pos;
        self.pos += 1;
        let inner = self.parse_or(depth + 1, After::Open('('))?;
        self.expect_closer(open, '(', ')')?;
        Ok(inner)
    }

    fn expect_closer(&mut self, open: usize, opener: char, closer: char) -> PResult<()> {
        self.skip_blanks();
        if self.peek() == Some(closer) {
            self.pos += 1;
            return Ok(());
        }
        Err(self.unexpected_after_expression(Some((open, opener, closer))))
    }

    /// Builds the error for text that follows a complete expression where only `and`, `or`,
    /// a closing bracket or the end may follow.
    fn unexpected_after_expression(&mut self, open: Option<(usize, char, char)>) -> FilterError {
        if let Err(e) = self.check_invisible() {
            return e;
        }
        let Some(c) = self.peek() else {
            let (open, opener, closer) = open.unwrap_or((0, '(', ')'));
            let message =
                format!("missing '{closer}' for '{opener}' at offset {}", self.char_offset(open));
            return self.error("E007", self.pos, 1, message, None);
        };
        match c {
            ')' | '}' => {
                let message = format!("unmatched '{c}'");
                self.error("E007", self.pos, 1, message, None)
            }
            ':' => self.unexpected_colon(),
            '<' | '>' if self.last_term.as_ref().is_some_and(|t| t.end == self.pos) => {
                let term = self.last_term.take();
                match term.map(|t| self.check_name_before_range(&t)) {
                    Some(Err(e)) => e,
                    _ => self.unexpected_special(c),
                }
            }
            '<' | '>' | '{' | '(' | '\\' | '*' => self.unexpected_special(c),
            _ => self.unexpected_word(open.map(|(_, _, closer)| closer)),
        }
    }

    fn unexpected_special(&mut self, c: char) -> FilterError {
        let message = format!("unexpected '{c}'");
        let hint = format!("escape it as '\\{c}' or quote the value");
        self.error("E001", self.pos, 1, message, Some(&hint))
    }

    fn unexpected_colon(&mut self) -> FilterError {
        let last = self.last_term.take();
        let hint = match last.filter(|t| t.inner_blank && !t.quoted) {
            Some(term) => {
                let text = term.text();
                let word = text.rsplit(lex::is_blank).next().unwrap_or("");
                format!("did you forget 'and' before '{word}'?")
            }
            None => "escape it as '\\:' or quote the value".to_string(),
        };
        self.error("E001", self.pos, 1, "unexpected ':'".to_string(), Some(&hint))
    }

    fn unexpected_word(&mut self, closer: Option<char>) -> FilterError {
        let rest = self.rest();
        let word: String = if rest.starts_with('"') {
            rest.chars().take(20).take_while(|c| *c != '\n').collect()
        } else {
            rest.chars()
                .take_while(|c| !lex::is_blank(*c) && !lex::is_special(*c))
                .take(40)
                .collect()
        };
        let expected = match closer {
            Some(c) => format!("'and', 'or' or '{c}'"),
            None => "'and', 'or' or end of query".to_string(),
        };
        let message = format!("expected {expected}, found '{word}'");
        let hint = if self.keyword_here() == Some(Keyword::Not) {
            "use 'and not'"
        } else {
            "did you forget 'and'?"
        };
        let len = word.len().max(1);
        self.error("E006", self.pos, len, message, Some(hint))
    }

    // ---- terms: field names, free text, field predicates, ranges, scopes ----

    fn parse_term_start(&mut self, depth: usize) -> PResult<Node> {
        let term = self.read_term(false, false)?;
        let save = self.pos;
        self.skip_blanks();
        match self.peek() {
            Some(':') => {
                self.check_single_quotes(&term, true)?;
                self.check_foreign_in_name(&term)?;
                self.pos += 1;
                self.parse_after_colon(&term, depth)
            }
            Some('<' | '>') => {
                self.check_foreign_in_name(&term)?;
                self.check_name_before_range(&term)?;
                self.parse_range(&term)
            }
            _ => {
                self.pos = save;
                self.check_single_quotes(&term, false)?;
                self.check_foreign_in_name(&term)?;
                self.warn_foreign_words(&term);
                self.warn_pipe(&term);
                self.check_leading_wildcard(&term)?;
                self.count_leaf(term.start)?;
                let span = self.span(term.start, term.end);
                Ok(Node::Text { value: term.term(), span })
            }
        }
    }

    fn make_field(&self, term: &RawTerm) -> Field {
        Field { name: term.field_name(), span: self.span(term.start, term.end) }
    }

    fn parse_after_colon(&mut self, name: &RawTerm, depth: usize) -> PResult<Node> {
        let field = self.make_field(name);
        self.skip_blanks();
        if self.peek() == Some('{') {
            return self.parse_scope(field, depth);
        }
        let mut value_depth = depth;
        let mut after = After::Colon;
        let nots = self.parse_nots(&mut value_depth, &mut after)?;
        let node = self.parse_value_atom(name, &field, value_depth, after)?;
        Ok(wrap_not(node, nots))
    }

    fn parse_scope(&mut self, field: Field, depth: usize) -> PResult<Node> {
        self.check_depth(depth, 1)?;
        let open = self.pos;
        self.pos += 1;
        self.scopes += 1;
        let inner = self.parse_or(depth + 1, After::Open('{'));
        self.scopes -= 1;
        let inner = inner?;
        self.expect_closer(open, '{', '}')?;
        Ok(Node::Scope { field, inner: Box::new(inner) })
    }

    fn parse_range(&mut self, name: &RawTerm) -> PResult<Node> {
        let op_start = self.pos;
        let (after_op, op) = match lex::range_op(self.rest()) {
            Ok(found) => found,
            Err(_) => return Err(self.unexpected_after_expression(None)),
        };
        self.pos = self.src.len() - after_op.len();
        let op_span = self.span(op_start, self.pos);

        self.skip_blanks();
        self.check_invisible()?;
        let missing = match self.peek() {
            None | Some(')' | '}') => true,
            Some(_) => self.keyword_here().is_some(),
        };
        if missing {
            let message = format!("expected a value after '{}'", op.as_str());
            return Err(self.error("E002", self.pos, 1, message, None));
        }
        if let Some(c) =
            self.peek().filter(|c| !matches!(c, '\\' | '*' | '"') && lex::is_special(*c))
        {
            let message = format!("unexpected '{c}'");
            return Err(self.error("E001", self.pos, 1, message, Some("quote the value")));
        }

        let datetime = lex::starts_with_datetime(self.rest());
        let bound = self.read_term(datetime, true)?;
        if let Some(star) = bound.first_star {
            let message = "wildcards are not allowed in a range bound".to_string();
            return Err(self.error("E009", star, 1, message, None));
        }
        self.check_foreign_in_value(&bound)?;
        self.count_leaf(bound.start)?;
        Ok(Node::Range {
            field: self.make_field(name),
            op,
            value: bound.term(),
            op_span,
            span: self.span(bound.start, bound.end),
        })
    }

    // ---- values after `field:` ----

    fn parse_value_or(&mut self, name: &RawTerm, field: &Field, depth: usize) -> PResult<Node> {
        let mut items = vec![self.parse_value_and(name, field, depth, After::Open('('))?];
        while self.eat_keyword(Keyword::Or) {
            items.push(self.parse_value_and(name, field, depth, After::Word(Keyword::Or))?);
        }
        Ok(chain(items, Node::Or))
    }

    fn parse_value_and(
        &mut self,
        name: &RawTerm,
        field: &Field,
        depth: usize,
        after: After,
    ) -> PResult<Node> {
        let mut items = vec![self.parse_value_not(name, field, depth, after)?];
        while self.eat_keyword(Keyword::And) {
            let after = After::Word(Keyword::And);
            items.push(self.parse_value_not(name, field, depth, after)?);
        }
        Ok(chain(items, Node::And))
    }

    fn parse_value_not(
        &mut self,
        name: &RawTerm,
        field: &Field,
        depth: usize,
        after: After,
    ) -> PResult<Node> {
        let (mut depth, mut after) = (depth, after);
        let count = self.parse_nots(&mut depth, &mut after)?;
        let node = self.parse_value_atom(name, field, depth, after)?;
        Ok(wrap_not(node, count))
    }

    fn parse_value_atom(
        &mut self,
        name: &RawTerm,
        field: &Field,
        depth: usize,
        after: After,
    ) -> PResult<Node> {
        self.skip_blanks();
        self.check_invisible()?;
        let Some(c) = self.peek() else {
            return Err(self.missing_value(after));
        };
        if let Some(kw) = self.keyword_here() {
            if matches!(after, After::Colon | After::Open(_)) {
                let message = format!("'{}' is a keyword", kw.as_str());
                let hint = format!("write \"{0}\" or \\{0} for the word", kw.as_str());
                return Err(self.error("E005", self.pos, kw.as_str().len(), message, Some(&hint)));
            }
            return Err(self.missing_value(after));
        }
        match c {
            '(' => {
                self.check_depth(depth, 1)?;
                let open = self.pos;
                self.pos += 1;
                let node = self.parse_value_or(name, field, depth + 1)?;
                self.expect_closer(open, '(', ')')?;
                Ok(node)
            }
            ')' | '}' => Err(self.missing_value(after)),
            ':' | '<' | '>' | '{' => {
                let message = format!("unexpected '{c}'");
                let hint = format!("escape it as '\\{c}' or quote the value");
                Err(self.error("E001", self.pos, 1, message, Some(&hint)))
            }
            _ => {
                let term = self.read_term(false, true)?;
                self.check_single_quotes(&term, false)?;
                self.check_foreign_in_value(&term)?;
                self.warn_pipe(&term);
                self.make_leaf(field, &term)
            }
        }
    }

    fn missing_value(&mut self, after: After) -> FilterError {
        let message = match after {
            After::Colon => "expected a value after ':'".to_string(),
            other => format!("expected a value after {}", other.describe()),
        };
        self.error("E002", self.pos, 1, message, None)
    }

    fn make_leaf(&mut self, field: &Field, term: &RawTerm) -> PResult<Node> {
        self.check_leading_wildcard(term)?;
        self.count_leaf(term.start)?;
        let value = term.term();
        let span = self.span(term.start, term.end);
        let match_all = matches!(&value, Term::Wild(p) if p.is_match_all());
        if let Some(target) = self.tag_target(field) {
            return Ok(if match_all {
                Node::HasTag { target }
            } else {
                Node::Tag { target, value, span }
            });
        }
        if match_all {
            if matches!(&field.name, FieldName::Glob(p) if p.is_match_all()) {
                return Ok(Node::All);
            }
            return Ok(Node::Exists { field: field.clone() });
        }
        Ok(Node::Eq { field: field.clone(), value, span })
    }

    /// Returns the tag target when the field is `tag`, `*.tag` or `<role>.tag`.
    fn tag_target(&self, field: &Field) -> Option<TagTarget> {
        match &field.name {
            FieldName::Glob(pattern) => {
                let written = pattern.to_string();
                written.eq_ignore_ascii_case("*.tag").then_some(TagTarget::Any)
            }
            FieldName::Name(name) => {
                if name.eq_ignore_ascii_case("tag") {
                    return Some(if self.scopes > 0 {
                        TagTarget::SelfEntity
                    } else {
                        TagTarget::Any
                    });
                }
                let split = name.len().checked_sub(4)?;
                let (role, suffix) = (name.get(..split)?, name.get(split..)?);
                if !suffix.eq_ignore_ascii_case(".tag") || role.is_empty() {
                    return None;
                }
                if role == "*" {
                    return Some(TagTarget::Any);
                }
                let span = Span::new(field.span.offset, role.chars().count());
                Some(TagTarget::Role(role.to_string(), span))
            }
        }
    }

    // ---- checks ----

    fn count_leaf(&mut self, at: usize) -> PResult<()> {
        self.leaves += 1;
        if self.leaves <= self.options.max_conditions {
            return Ok(());
        }
        let message = format!("query has more than {} conditions", self.options.max_conditions);
        Err(self.error("E012", at, 1, message, Some("raise it with --max-conditions")))
    }

    fn check_leading_wildcard(&mut self, term: &RawTerm) -> PResult<()> {
        if self.options.leading_wildcards || term.quoted {
            return Ok(());
        }
        let leading = term.pieces.first() == Some(&Piece::Star);
        let lone = term.pieces.iter().all(|p| *p == Piece::Star);
        if !leading || lone {
            return Ok(());
        }
        let at = term.first_star.unwrap_or(term.start);
        let message = "leading wildcards are disabled".to_string();
        let hint = "remove the '*' or drop --no-leading-wildcards";
        Err(self.error("E010", at, 1, message, Some(hint)))
    }

    /// Rejects `'abc'` and `'abc:…`: single quotes do not quote.
    fn check_single_quotes(&mut self, term: &RawTerm, is_field: bool) -> PResult<()> {
        if term.quoted {
            return Ok(());
        }
        let raw = self.src.get(term.start..term.end).unwrap_or("");
        let quoted_shape = raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'');
        if !(raw.starts_with('\'') && (is_field || quoted_shape)) {
            return Ok(());
        }
        let message = "single quotes do not quote a value".to_string();
        Err(self.error("E001", term.start, 1, message, Some("use double quotes")))
    }

    /// E008 for a field name or free-text term that contains an operator of another language.
    fn check_foreign_in_name(&mut self, term: &RawTerm) -> PResult<()> {
        if term.quoted {
            return Ok(());
        }
        let raw = self.src.get(term.start..term.end).unwrap_or("");
        let found = lex::FOREIGN_OPERATORS
            .iter()
            .filter_map(|(op, hint)| raw.find(op).map(|i| (i, *op, *hint)))
            .min_by_key(|(i, _, _)| *i);
        match found {
            Some((i, op, hint)) => {
                let hint = comparison_hint(raw, op).unwrap_or_else(|| hint.to_string());
                Err(self.foreign_operator(term.start + i, op, &hint))
            }
            None => self.check_bracket_range(term),
        }
    }

    /// E008 for a value containing an operator of another language as a blank-separated word, or
    /// shaped like `[a TO b]`.
    fn check_foreign_in_value(&mut self, term: &RawTerm) -> PResult<()> {
        if term.quoted {
            return Ok(());
        }
        let raw = self.src.get(term.start..term.end).unwrap_or("");
        let mut offset = 0;
        for word in raw.split(lex::is_blank) {
            if let Some((op, hint)) = lex::FOREIGN_OPERATORS.iter().find(|(op, _)| *op == word) {
                return Err(self.foreign_operator(term.start + offset, op, hint));
            }
            offset += word.len()
                + raw
                    .get(offset + word.len()..)
                    .and_then(|s| s.chars().next())
                    .map_or(0, char::len_utf8);
        }
        self.check_bracket_range(term)
    }

    fn check_bracket_range(&mut self, term: &RawTerm) -> PResult<()> {
        let raw = self.src.get(term.start..term.end).unwrap_or("");
        let two_sided = raw.starts_with('[')
            && (raw.ends_with(']') || raw.ends_with('}'))
            && raw.split(lex::is_blank).any(|w| w == "TO");
        if !two_sided {
            return Ok(());
        }
        let hint = "write two range clauses, such as f >= a and f <= b";
        Err(self.foreign_operator(term.start, "[a TO b]", hint))
    }

    fn foreign_operator(&mut self, at: usize, op: &str, hint: &str) -> FilterError {
        let message = format!("'{op}' is not an operator here");
        let len = if op.len() == 2 { 2 } else { 1 };
        self.error("E008", at, len, message, Some(hint))
    }

    /// E008 for `created => x`: the field name ends in `=` or `!` before a range operator.
    fn check_name_before_range(&mut self, term: &RawTerm) -> PResult<()> {
        let raw = self.src.get(term.start..term.end).unwrap_or("");
        let (op, hint) = match raw.chars().next_back() {
            Some('=') if self.rest().starts_with('>') => ("=>", "write >="),
            Some('=') => ("=<", "write <="),
            Some('!') => ("!=", "write not field:value"),
            _ => return Ok(()),
        };
        if term.quoted {
            return Ok(());
        }
        Err(self.foreign_operator(term.end - 1, op, hint))
    }

    /// W003 for free text that reads like Kusto or OData: `x has y`, `contains`, `x eq 'y'`,
    /// `x = y`.
    fn warn_foreign_words(&mut self, term: &RawTerm) {
        if term.quoted {
            return;
        }
        let raw = self.src.get(term.start..term.end).unwrap_or("");
        let mut offset = 0;
        for word in raw.split(' ') {
            let hint = match word.to_ascii_lowercase().as_str() {
                "has" | "contains" => Some("write field:*word* or field:word"),
                "between" => Some("write two range clauses"),
                "eq" | "=" => Some("write field:value"),
                _ => None,
            };
            if let Some(hint) = hint {
                let message = format!("'{word}' is not an operator here");
                self.warn("W003", term.start + offset, word.len(), message, hint);
            }
            offset += word.len() + 1;
        }
    }

    /// W003 for a Kusto pipe written into a value or free text: `DeliveryAction:Delivered |
    /// take 10` would otherwise search for the text "Delivered | take 10".
    fn warn_pipe(&mut self, term: &RawTerm) {
        if term.quoted {
            return;
        }
        let raw = self.src.get(term.start..term.end).unwrap_or("");
        let mut offset = 0;
        for word in raw.split(' ') {
            if word == "|" {
                let hint = "the filter language has no pipes; use --count, --limit or --output";
                let message = "'|' is not an operator here".to_string();
                self.warn("W003", term.start + offset, 1, message, hint);
                return;
            }
            offset += word.len() + 1;
        }
    }

    // ---- reading values ----

    /// Reads a quoted or unquoted term at the current position. `is_value` selects the E008
    /// rule that applies when the term fails part way, since an earlier E008 wins.
    fn read_term(&mut self, datetime: bool, is_value: bool) -> PResult<RawTerm> {
        let start = self.pos;
        let read = if self.peek() == Some('"') {
            self.read_quoted()
        } else {
            self.read_unquoted(datetime)
        };
        let term = match read {
            Ok(term) => term,
            Err(error) if !self.src.get(start..).is_some_and(|s| s.starts_with('"')) => {
                let partial = RawTerm {
                    quoted: false,
                    pieces: Vec::new(),
                    start,
                    end: error.diagnostic.byte_offset.max(start),
                    first_star: None,
                    inner_blank: false,
                };
                let foreign = if is_value {
                    self.check_foreign_in_value(&partial)
                } else {
                    self.check_foreign_in_name(&partial)
                };
                return Err(foreign.err().unwrap_or(error));
            }
            Err(error) => return Err(error),
        };
        self.last_term = Some(term.clone());
        Ok(term)
    }

    fn read_quoted(&mut self) -> PResult<RawTerm> {
        let start = self.pos;
        let mut pieces = Vec::new();
        let mut warnings: Vec<PendingWarning> = Vec::new();
        let mut star_seen = false;
        let mut i = start + 1;
        loop {
            let Some(c) = self.src.get(i..).and_then(|s| s.chars().next()) else {
                let message = format!(
                    "unterminated quoted value starting at offset {}",
                    self.char_offset(start)
                );
                let hint =
                    "a backslash before the closing quote escapes it; write \\\\ for a backslash";
                return Err(self.error("E003", start, 1, message, Some(hint)));
            };
            match c {
                '"' => break,
                '\\' => {
                    let (decoded, used) = self.quoted_escape(i, &mut warnings);
                    pieces.extend(decoded.into_iter().map(Piece::Char));
                    i += used;
                }
                _ => {
                    star_seen |= c == '*';
                    pieces.push(Piece::Char(c));
                    i += c.len_utf8();
                }
            }
        }
        self.pos = i + 1;

        if star_seen {
            warnings.push((
                "W004",
                start,
                1,
                "'*' inside quotes is not a wildcard".to_string(),
                "remove the quotes and escape specials with a backslash",
            ));
        }
        warnings.sort_by_key(|w| w.1);
        for (code, at, len, message, hint) in warnings {
            self.warn(code, at, len, message, hint);
        }

        let term = RawTerm {
            quoted: true,
            pieces,
            start,
            end: self.pos,
            first_star: None,
            inner_blank: false,
        };
        Ok(term)
    }

    /// Decodes one backslash escape inside quotes at byte `i`; returns the characters and the
    /// bytes consumed. Unknown escapes are kept as written, with W001.
    fn quoted_escape(&self, i: usize, warnings: &mut Vec<PendingWarning>) -> (Vec<char>, usize) {
        let after = self.src.get(i + 1..).unwrap_or("");
        let Some(next) = after.chars().next() else {
            return (vec!['\\'], 1);
        };
        let control = |c: char, name: &str, warnings: &mut Vec<_>| {
            let message = format!("'\\{name}' in a quoted value is a {}", control_name(c));
            warnings.push(("W002", i, 2, message, "write \\\\ for a backslash"));
            (vec![c], 2)
        };
        match next {
            '"' => (vec!['"'], 2),
            '\\' => (vec!['\\'], 2),
            't' => control('\t', "t", warnings),
            'n' => control('\n', "n", warnings),
            'r' => control('\r', "r", warnings),
            'u' => match lex::unicode_escape(after.get(1..).unwrap_or("")) {
                Some((c, used)) => (vec![c], 2 + used),
                None => {
                    warnings.push((
                        "W001",
                        i,
                        2,
                        "'\\u' kept as written".to_string(),
                        "use \\\\ for a backslash",
                    ));
                    (vec!['\\', 'u'], 2)
                }
            },
            other => {
                let message = format!("'\\{other}' kept as written");
                warnings.push(("W001", i, 2, message, "use \\\\ for a backslash"));
                (vec!['\\', other], 1 + other.len_utf8())
            }
        }
    }

    fn read_unquoted(&mut self, datetime: bool) -> PResult<RawTerm> {
        let start = self.pos;
        let mut term = RawTerm {
            quoted: false,
            pieces: Vec::new(),
            start,
            end: start,
            first_star: None,
            inner_blank: false,
        };
        while let Some(c) = self.peek() {
            if lex::is_blank(c) {
                if !self.blank_run_continues(datetime) {
                    break;
                }
                term.inner_blank = true;
                self.pos += c.len_utf8();
                term.pieces.push(Piece::Char(c));
            } else if c == '\\' {
                let decoded = self.unquoted_escape()?;
                term.pieces.push(Piece::Char(decoded));
            } else if c == '*' {
                term.first_star.get_or_insert(self.pos);
                term.pieces.push(Piece::Star);
                self.pos += 1;
            } else if (lex::is_special(c) && !(datetime && c == ':')) || lex::is_invisible(c) {
                break;
            } else if lex::is_typographic_quote(c) {
                return Err(self.typographic_quote(c));
            } else {
                term.pieces.push(Piece::Char(c));
                self.pos += c.len_utf8();
            }
        }
        term.end = self.pos;
        Ok(term)
    }

    /// Returns true when the blanks at the current position lie inside an unquoted value:
    /// another item follows them, not a special character, keyword, invisible character or end.
    fn blank_run_continues(&self, datetime: bool) -> bool {
        let rest = self.rest();
        let after = rest.trim_start_matches(lex::is_blank);
        match after.chars().next() {
            None => false,
            Some('\\' | '*') => true,
            Some(':') if datetime => true,
            Some(c) if lex::is_special(c) || lex::is_invisible(c) => false,
            Some(_) => lex::whole_keyword(after).is_none(),
        }
    }

    fn typographic_quote(&mut self, c: char) -> FilterError {
        let column = self.char_offset(self.pos) + 1;
        let message = format!("typographic quote U+{:04X} at column {column}", u32::from(c));
        let hint = if matches!(c, '\u{2018}' | '\u{2019}') {
            "use straight double quotes (\")"
        } else {
            "use a straight double quote (\")"
        };
        self.error("E001", self.pos, c.len_utf8(), message, Some(hint))
    }

    /// Decodes one backslash escape outside quotes, advancing past it.
    fn unquoted_escape(&mut self) -> PResult<char> {
        let at = self.pos;
        let after = self.src.get(at + 1..).unwrap_or("");
        // `\and`, `\or`, `\not` stand for the plain word when no letter or digit follows;
        // the escape covers the first letter. Otherwise `\n` is a line feed.
        if let Ok((rest, _)) = lex::keyword(after)
            && !rest.starts_with(char::is_alphanumeric)
        {
            let first = after.chars().next().unwrap_or('a');
            self.pos += 1 + first.len_utf8();
            return Ok(first);
        }
        let decoded = match after.chars().next() {
            Some(c) if lex::is_special(c) => Some((c, 1 + c.len_utf8())),
            Some('t') => Some(('\t', 2)),
            Some('n') => Some(('\n', 2)),
            Some('r') => Some(('\r', 2)),
            Some('u') => lex::unicode_escape(after.get(1..).unwrap_or("")).map(|(c, n)| (c, 2 + n)),
            _ => None,
        };
        match decoded {
            Some((c, used)) => {
                self.pos += used;
                Ok(c)
            }
            None => Err(self.bad_escape(at, after.chars().next())),
        }
    }

    fn bad_escape(&mut self, at: usize, next: Option<char>) -> FilterError {
        let shown = next.map_or(String::new(), |c| c.to_string());
        let message = format!("'\\{shown}' is not a valid escape");
        let hint = match next {
            Some(c) if lex::is_blank(c) => "blanks need no escaping",
            _ => {
                "valid escapes: \\ before a special character, \\t, \\n, \\r, \\uXXXX, \\and, \\or, \\not"
            }
        };
        let len = 1 + next.map_or(0, char::len_utf8);
        self.error("E004", at, len, message, Some(hint))
    }
}

/// Returns the tagq form of `field == value` or `field != value`, when the text has that shape.
fn comparison_hint(raw: &str, op: &str) -> Option<String> {
    let (field, value) = raw.split_once(op)?;
    let (field, value) = (field.trim(), value.trim());
    let simple = |s: &str| !s.is_empty() && !s.contains(lex::is_blank);
    if !simple(field) || !simple(value) {
        return None;
    }
    match op {
        "==" => Some(format!("write {field}:{value}")),
        "!=" => Some(format!("write not {field}:{value}")),
        _ => None,
    }
}

fn control_name(c: char) -> &'static str {
    match c {
        '\t' => "tab",
        '\n' => "line feed",
        _ => "carriage return",
    }
}

fn chain(mut items: Vec<Node>, make: fn(Vec<Node>) -> Node) -> Node {
    if items.len() == 1
        && let Some(only) = items.pop()
    {
        return only;
    }
    make(items)
}

fn wrap_not(mut node: Node, count: usize) -> Node {
    for _ in 0..count {
        node = Node::Not(Box::new(node));
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(query: &str) -> Node {
        match parse(query, &ParseOptions::default()) {
            Ok(parsed) => parsed.root,
            Err(e) => panic!("{query:?} failed: {e}"),
        }
    }

    fn error(query: &str) -> Diagnostic {
        match parse(query, &ParseOptions::default()) {
            Ok(parsed) => panic!("{query:?} parsed as {:?}", parsed.root),
            Err(e) => e.diagnostic,
        }
    }

    fn tag_any(name: &str) -> Term {
        Term::Plain(name.to_string())
    }

    fn tag_value(node: &Node) -> Option<&Term> {
        match node {
            Node::Tag { value, .. } => Some(value),
            _ => None,
        }
    }

    #[test]
    fn keyword_inside_word_is_plain_text() {
        assert_eq!(tag_value(&tree("tag:Orlando")), Some(&tag_any("Orlando")));
        assert_eq!(tag_value(&tree("tag:orlando")), Some(&tag_any("orlando")));
        let quoted = tree("tag:\"Sales and Marketing\"");
        assert_eq!(tag_value(&quoted), Some(&Term::Phrase("Sales and Marketing".to_string())));
    }

    #[test]
    fn keyword_splits_unquoted_tag_value() {
        let Node::And(items) = tree("tag:Sales and Marketing") else { panic!("expected and") };
        assert_eq!(tag_value(&items[0]), Some(&tag_any("Sales")));
        assert!(matches!(&items[1], Node::Text { value: Term::Plain(s), .. } if s == "Marketing"));
    }

    #[test]
    fn mixed_case_keyword_is_and() {
        let root = tree("severity:high AnD tag:Orlando");
        assert!(matches!(root, Node::And(ref items) if items.len() == 2));
    }

    #[test]
    fn escaped_keyword_is_a_word() {
        let root = tree("subject:\\and");
        assert!(matches!(root, Node::Eq { value: Term::Plain(ref s), .. } if s == "and"));
    }

    #[test]
    fn wildcard_next_to_dash() {
        let Node::Tag { value: Term::Wild(p), .. } = tree("tag:*s-1") else { panic!("wild") };
        assert_eq!(p.to_string(), "*s-1");
        assert!(p.matches("Ops-1"));
        assert!(!p.matches("Ops-2"));
    }

    #[test]
    fn star_in_quotes_and_escaped_star_are_literal() {
        let quoted = tree("tag:\"Ops*\"");
        assert_eq!(tag_value(&quoted), Some(&Term::Phrase("Ops*".to_string())));
        let escaped = tree("tag:Ops\\*");
        assert_eq!(tag_value(&escaped), Some(&Term::Plain("Ops*".to_string())));
        assert_eq!(crate::filter::print(&escaped), "tag:Ops\\*");
        assert!(matches!(tree("tag:*"), Node::HasTag { target: TagTarget::Any }));
    }

    #[test]
    fn trailing_backslash_in_quotes() {
        let root = tree("tag:\"C:\\\\temp\\\\\"");
        assert_eq!(tag_value(&root), Some(&Term::Phrase("C:\\temp\\".to_string())));
        let Node::Tag { value: Term::Wild(p), .. } = tree("tag:C\\:\\\\temp*") else {
            panic!("wild")
        };
        assert!(p.matches("C:\\temp\\"));
    }

    #[test]
    fn escaped_closing_quote_is_unterminated() {
        let e = error("tag:\"C:\\temp\\\"");
        assert_eq!(e.code, "E003");
        assert_eq!(e.offset, 4);
    }

    #[test]
    fn unbalanced_quotes_and_brackets() {
        let cases = [
            ("tag:\"Finance", "E003", 4),
            ("tag:\"A\" or tag:\"B\" or \"C", "E003", 22),
            ("(tag:A or tag:B", "E007", 15),
            ("tag:A) or tag:B", "E007", 5),
        ];
        for (query, code, offset) in cases {
            let e = error(query);
            assert_eq!((e.code, e.offset), (code, offset), "{query}");
        }
        assert!(error("(tag:A or tag:B").message.contains("at offset 0"));
    }

    #[test]
    fn leading_closer_is_unmatched() {
        let e = error(") a");
        assert_eq!((e.code, e.offset, e.message.as_str()), ("E007", 0, "unmatched ')'"));
    }

    #[test]
    fn doubled_quote_is_an_error() {
        assert_eq!(error("tag:\"\"Bing\"").code, "E006");
    }

    #[test]
    fn blank_queries_match_everything() {
        for query in ["", "   ", "\t\n", "\u{2003}\u{A0}"] {
            assert_eq!(tree(query), Node::All, "{query:?}");
        }
    }

    #[test]
    fn typographic_quotes_rejected_with_column() {
        let e = error("tag:\u{201C}Finance\u{201D}");
        assert_eq!(e.code, "E001");
        assert_eq!(e.offset, 4);
        assert!(e.message.contains("U+201C"));
        assert!(e.message.contains("column 5"));
        let e = error("tag:\u{2018}Finance\u{2019}");
        assert!(e.message.contains("U+2018"));
    }

    #[test]
    fn typographic_apostrophe_inside_quotes_is_data() {
        let root = tree("subject:\"O\u{2019}Brien\"");
        assert!(
            matches!(root, Node::Eq { value: Term::Phrase(ref s), .. } if s == "O\u{2019}Brien")
        );
    }

    #[test]
    fn colon_in_values() {
        let root = tree("subject:\"Re: invoice\"");
        assert!(matches!(root, Node::Eq { value: Term::Phrase(ref s), .. } if s == "Re: invoice"));
        let e = error("tag:VIP:Board");
        assert_eq!((e.code, e.offset), ("E001", 7));
        assert_eq!(tag_value(&tree("tag:\"VIP:Board\"")), Some(&Term::Phrase("VIP:Board".into())));
        assert_eq!(tag_value(&tree("tag:VIP\\:Board")), Some(&Term::Plain("VIP:Board".into())));
    }

    #[test]
    fn single_quotes_rejected() {
        let e = error("'abc:def'");
        assert_eq!((e.code, e.offset), ("E001", 0));
        assert!(e.message.contains("single quotes"));
        assert_eq!(error("status:'new'").code, "E001");
    }

    #[test]
    fn dotted_field_name_is_one_name() {
        let Node::Eq { field, .. } = tree("AlertInfo.Severity:high") else { panic!("eq") };
        assert_eq!(field.name, FieldName::Name("AlertInfo.Severity".to_string()));
    }

    #[test]
    fn role_tag_and_star_tag_targets() {
        let root = tree("recipient.tag:VIP");
        let Node::Tag { target: TagTarget::Role(role, span), .. } = root else { panic!("tag") };
        assert_eq!((role.as_str(), span), ("recipient", Span::new(0, 9)));
        assert!(matches!(tree("*.tag:VIP"), Node::Tag { target: TagTarget::Any, .. }));
        assert!(matches!(tree("sender.tag:*"), Node::HasTag { target: TagTarget::Role(..) }));
    }

    #[test]
    fn not_forms() {
        assert!(matches!(tree("not(severity:high)"), Node::Not(_)));
        assert!(matches!(tree("severity:not high"), Node::Not(_)));
        assert!(matches!(tree("(a:1)or(b:2)"), Node::Or(_)));
    }

    #[test]
    fn datetime_bound_keeps_colons() {
        let root = tree("created >= 2024-06-03T08:30:00Z");
        assert!(
            matches!(root, Node::Range { value: Term::Plain(ref s), .. } if s == "2024-06-03T08:30:00Z")
        );
    }

    #[test]
    fn invisible_character_rejected() {
        let e = error("severity:high\u{200B} and x");
        assert_eq!((e.code, e.offset), ("E013", 13));
        assert_eq!(error("\u{FEFF}severity:high").code, "E013");
    }

    #[test]
    fn invisible_character_allowed_in_quotes() {
        assert!(matches!(tree("subject:\"a\u{200B}b\""), Node::Eq { .. }));
    }

    #[test]
    fn foreign_operators() {
        let cases = [
            ("created => 2024-01-01", 8),
            ("a:b || c:d", 4),
            ("x =~ y", 2),
            ("severity:high and status:new =< 3", 29),
        ];
        for (query, offset) in cases {
            let e = error(query);
            assert_eq!((e.code, e.offset), ("E008", offset), "{query}");
        }
        assert!(matches!(tree("payload:YWJj=="), Node::Eq { .. }));
        assert_eq!(error("severity == high").hint.as_deref(), Some("write severity:high"));
        let e = error("a == b\\W");
        assert_eq!((e.code, e.offset), ("E008", 2));
        let e = error("f:x && y\\u12");
        assert_eq!((e.code, e.offset), ("E008", 4));
        assert_eq!(error("severity != high").hint.as_deref(), Some("write not severity:high"));
    }

    #[test]
    fn keyword_as_value() {
        assert_eq!(error("status:and").code, "E005");
        assert_eq!(error("f:(not)").code, "E002");
        let e = error("and x");
        assert_eq!((e.code, e.message.as_str()), ("E002", "a query cannot start with 'and'"));
    }

    #[test]
    fn missing_and_between_terms() {
        let e = error("severity:\"high\" status");
        assert_eq!((e.code, e.offset), ("E006", 16));
        let e = error("severity:\"high\" not status:new");
        assert_eq!(e.hint.as_deref(), Some("use 'and not'"));
    }

    #[test]
    fn bad_escapes() {
        let e = error("a\\ b");
        assert_eq!((e.code, e.hint.as_deref()), ("E004", Some("blanks need no escaping")));
        assert_eq!(error("a\\").code, "E004");
        assert_eq!(error("a\\u12").code, "E004");
    }

    #[test]
    fn quoted_escape_warnings() {
        let parsed = parse("path:\"a\\qb\"", &ParseOptions::default()).map_err(|e| e.to_string());
        let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!((parsed.warnings[0].code, parsed.warnings[0].offset), ("W001", 7));
        assert!(matches!(parsed.root, Node::Eq { value: Term::Phrase(ref s), .. } if s == "a\\qb"));
    }

    #[test]
    fn single_equals_sign_warns() {
        let parsed = parse("severity = high", &ParseOptions::default());
        let warnings = parsed.map(|p| p.warnings).unwrap_or_default();
        assert_eq!(warnings.iter().map(|w| (w.code, w.offset)).collect::<Vec<_>>(), [("W003", 9)]);
    }

    #[test]
    fn kusto_habit_warns() {
        let parsed = parse("subject has invoice", &ParseOptions::default());
        let warnings = parsed.map(|p| p.warnings).unwrap_or_default();
        assert_eq!(warnings.iter().map(|w| (w.code, w.offset)).collect::<Vec<_>>(), [("W003", 8)]);
        let piped = parse("DeliveryAction:Delivered | take 10", &ParseOptions::default());
        let warnings = piped.map(|p| p.warnings).unwrap_or_default();
        assert_eq!(warnings.iter().map(|w| (w.code, w.offset)).collect::<Vec<_>>(), [("W003", 25)]);
    }

    #[test]
    fn scope_tag_is_self() {
        let Node::Scope { inner, .. } = tree("recipient:{ tag:VIP }") else { panic!("scope") };
        assert!(matches!(*inner, Node::Tag { target: TagTarget::SelfEntity, .. }));
    }

    #[test]
    fn unclosed_scope() {
        let e = error("recipient:{ tag:VIP");
        assert_eq!(e.code, "E007");
        assert!(e.message.contains("missing '}' for '{' at offset 10"));
    }

    #[test]
    fn depth_limit_at_bracket() {
        let ok = format!("{}a:b{}", "(".repeat(64), ")".repeat(64));
        assert!(parse(&ok, &ParseOptions::default()).is_ok());
        let deep = format!("{}a:b{}", "(".repeat(65), ")".repeat(65));
        let e = error(&deep);
        assert_eq!((e.code, e.offset), ("E011", 64));
    }

    #[test]
    fn depth_counts_each_not() {
        let nots = format!("{}a:b", "not ".repeat(65));
        let e = error(&nots);
        assert_eq!((e.code, e.offset), ("E011", 256));
    }

    #[test]
    fn hundred_thousand_parens_do_not_crash() {
        let deep = "(".repeat(100_000);
        let options = ParseOptions { max_query_bytes: 1_000_000, ..ParseOptions::default() };
        let result = parse(&deep, &options);
        assert_eq!(result.map_err(|e| e.code()), Err("E011"));
    }

    #[test]
    fn huge_max_depth_is_capped() {
        let deep = format!("{}a:b{}", "(".repeat(100_000), ")".repeat(100_000));
        let options = ParseOptions {
            max_depth: usize::MAX,
            max_query_bytes: usize::MAX,
            ..ParseOptions::default()
        };
        let e = parse(&deep, &options).err().map(|e| e.diagnostic);
        assert_eq!(e.map(|d| (d.code, d.offset)), Some(("E011", HARD_MAX_DEPTH)));
    }

    #[test]
    fn fifty_thousand_term_or_chain() {
        let chain: Vec<String> = (0..50_000).map(|i| format!("a:{i}")).collect();
        let query = chain.join(" or ");
        assert_eq!(error(&query).code, "E012");
        let options = ParseOptions {
            max_query_bytes: 10_000_000,
            max_conditions: 100_000,
            ..ParseOptions::default()
        };
        let parsed = parse(&query, &options).map(|p| p.root);
        assert!(matches!(parsed, Ok(Node::Or(ref items)) if items.len() == 50_000));
        let limited = ParseOptions { max_query_bytes: 10_000_000, ..ParseOptions::default() };
        let e = parse(&query, &limited).err().map(|e| e.diagnostic);
        assert_eq!(
            e.map(|d| (d.code, d.message)),
            Some(("E012", "query has more than 10000 conditions".into()))
        );
    }

    #[test]
    fn size_limit_points_past_limit() {
        let query = "é".repeat(10);
        let options = ParseOptions { max_query_bytes: 5, ..ParseOptions::default() };
        let e = parse(&query, &options).err().map(|e| e.diagnostic);
        assert_eq!(e.map(|d| (d.code, d.offset, d.byte_offset)), Some(("E012", 2, 4)));
    }

    #[test]
    fn leading_wildcard_switch() {
        let options = ParseOptions { leading_wildcards: false, ..ParseOptions::default() };
        assert!(parse("f:*", &options).is_ok());
        assert!(parse("f:a*", &options).is_ok());
        assert_eq!(parse("*abc", &options).map_err(|e| e.code()).err(), Some("E010"));
    }

    #[test]
    fn non_ascii_offsets_count_characters() {
        let e = error("subject:é:x");
        assert_eq!((e.offset, e.byte_offset), (9, 10));
    }
}
