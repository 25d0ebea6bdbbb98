//! Character classes and small token parsers shared by the parser and the printer.

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while_m_n};
use nom::character::complete::char as one_char;
use nom::combinator::value;
use nom::{IResult, Parser};

use super::ast::RangeOp;

/// An operator keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
}

impl Keyword {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::And => "and",
            Keyword::Or => "or",
            Keyword::Not => "not",
        }
    }
}

/// Returns true for a Unicode White_Space character.
pub(crate) fn is_blank(c: char) -> bool {
    c.is_whitespace()
}

/// Returns true for the characters that have a meaning outside quotes.
pub(crate) fn is_special(c: char) -> bool {
    matches!(c, '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}')
}

/// Returns true for a typographic quote, which users paste from word processors.
pub(crate) fn is_typographic_quote(c: char) -> bool {
    matches!(c, '\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}')
}

/// Returns true for a character of general category Cc or Cf that is not White_Space.
pub(crate) fn is_invisible(c: char) -> bool {
    !c.is_whitespace() && (c.is_control() || is_format(c))
}

/// Returns true for a character of general category Cf (format), as of Unicode 15.1.
fn is_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Returns true when `c` may follow a keyword for the keyword to count as one.
pub(crate) fn ends_keyword(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => is_blank(c) || matches!(c, '(' | ')' | '}'),
    }
}

/// Returns true when `c` may precede a keyword for the keyword to count as one.
pub(crate) fn starts_keyword(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => is_blank(c) || matches!(c, '(' | ')' | ':' | '{'),
    }
}

/// Parses `and`, `or` or `not` in any letter case, without the word-boundary checks.
pub(crate) fn keyword(input: &str) -> IResult<&str, Keyword> {
    alt((
        value(Keyword::And, tag_no_case("and")),
        value(Keyword::Or, tag_no_case("or")),
        value(Keyword::Not, tag_no_case("not")),
    ))
    .parse(input)
}

/// Returns the keyword that starts `rest` as a whole word (the character before it is checked
/// by the caller).
pub(crate) fn whole_keyword(rest: &str) -> Option<Keyword> {
    let (after, kw) = keyword(rest).ok()?;
    ends_keyword(after.chars().next()).then_some(kw)
}

/// Parses a range operator.
pub(crate) fn range_op(input: &str) -> IResult<&str, RangeOp> {
    alt((
        value(RangeOp::Lte, tag("<=")),
        value(RangeOp::Gte, tag(">=")),
        value(RangeOp::Lt, tag("<")),
        value(RangeOp::Gt, tag(">")),
    ))
    .parse(input)
}

/// Parses four hex digits into a code unit.
pub(crate) fn hex4(input: &str) -> IResult<&str, u32> {
    let (rest, digits) = take_while_m_n(4, 4, |c: char| c.is_ascii_hexdigit()).parse(input)?;
    // Four hex digits always fit in u32; the fallback is unreachable.
    Ok((rest, u32::from_str_radix(digits, 16).unwrap_or(0)))
}

/// Decodes `XXXX` (after `\u`), combining a surrogate pair written as `\uD83D\uDE00`.
/// Returns the character and the number of bytes consumed after the `\u`.
pub(crate) fn unicode_escape(input: &str) -> Option<(char, usize)> {
    let (rest, unit) = hex4(input).ok()?;
    if (0xD800..0xDC00).contains(&unit) {
        let (rest2, low) = (tag("\\u"), hex4).parse(rest).ok().map(|(r, (_, l))| (r, l))?;
        if !(0xDC00..0xE000).contains(&low) {
            return None;
        }
        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        return char::from_u32(code).map(|c| (c, input.len() - rest2.len()));
    }
    char::from_u32(unit).map(|c| (c, input.len() - rest.len()))
}

fn digits(n: usize) -> impl Fn(&str) -> IResult<&str, &str> {
    move |i| take_while_m_n(n, n, |c: char| c.is_ascii_digit()).parse(i)
}

/// Returns true when `input` starts with `YYYY-MM-DDT`, the start of an ISO date-time, whose
/// range bound may hold unescaped colons.
pub(crate) fn starts_with_datetime(input: &str) -> bool {
    (digits(4), one_char('-'), digits(2), one_char('-'), digits(2), one_char('T'))
        .parse(input)
        .is_ok()
}

/// Two-character operators of other query languages, with the hint for each.
pub(crate) const FOREIGN_OPERATORS: [(&str, &str); 7] = [
    ("==", "write field:value, such as severity:high"),
    ("!=", "write not field:value, such as not severity:high"),
    ("=~", "write a wildcard value, such as field:abc*"),
    ("=>", "write >="),
    ("=<", "write <="),
    ("&&", "write 'and'"),
    ("||", "write 'or'"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_needs_word_end() {
        assert_eq!(whole_keyword("and x"), Some(Keyword::And));
        assert_eq!(whole_keyword("AnD(x"), Some(Keyword::And));
        assert_eq!(whole_keyword("order"), None);
        assert_eq!(whole_keyword("notice"), None);
        assert_eq!(whole_keyword("or"), Some(Keyword::Or));
    }

    #[test]
    fn range_op_prefers_two_characters() {
        assert_eq!(range_op("<= 3").map(|(_, op)| op), Ok(RangeOp::Lte));
        assert_eq!(range_op("> 3").map(|(_, op)| op), Ok(RangeOp::Gt));
    }

    #[test]
    fn unicode_escape_decodes_pairs() {
        assert_eq!(unicode_escape("00e9x"), Some(('é', 4)));
        assert_eq!(unicode_escape("D835\\uDD18"), Some(('𝔘', 10)));
        assert_eq!(unicode_escape("D835"), None);
        assert_eq!(unicode_escape("12g4"), None);
    }

    #[test]
    fn datetime_prefix() {
        assert!(starts_with_datetime("2024-06-03T08:30:00Z"));
        assert!(!starts_with_datetime("2024-06-03"));
    }

    #[test]
    fn invisible_characters() {
        assert!(is_invisible('\u{200B}'));
        assert!(is_invisible('\u{FEFF}'));
        assert!(is_invisible('\u{1}'));
        assert!(!is_invisible('\t'));
        assert!(!is_invisible('\u{A0}'));
    }
}
