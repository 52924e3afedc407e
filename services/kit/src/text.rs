//! Text from the wire, parsed the same way in every service: trimmed, bounded in characters,
//! and free of control characters. NUL and the other C0/C1 controls are refused everywhere
//! (PostgreSQL cannot store NUL, SQLite would, so refusing them keeps both backends alike);
//! a field that is legitimately multi-line (notes, remarks, descriptions) also takes `\n`
//! and `\t`.

use crate::errors::{Error, Result, Violations};

/// Whether a text may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Names, codes, titles: no control character at all.
    Single,
    /// Notes, remarks, descriptions: line breaks and tabs, no other control character.
    Multi,
}

/// The first control character `value` may not hold, if any.
pub fn forbidden_control(value: &str, lines: Lines) -> Option<char> {
    value
        .chars()
        .find(|c| c.is_control() && !(lines == Lines::Multi && matches!(c, '\n' | '\t')))
}

/// The error for a control character in `field`.
pub fn control_error(field: &str, c: char, lines: Lines) -> Error {
    Error::invalid(
        field,
        "CONTROL_CHARACTER",
        match lines {
            Lines::Single => format!("must not contain control characters (found U+{:04X})", u32::from(c)),
            Lines::Multi => format!(
                "must not contain control characters other than line breaks and tabs (found U+{:04X})",
                u32::from(c)
            ),
        },
    )
}

/// Refuses `value` when it holds a control character (see [`Lines`]).
pub fn check_controls(field: &str, value: &str, lines: Lines) -> Result<()> {
    match forbidden_control(value, lines) {
        Some(c) => Err(control_error(field, c, lines)),
        None => Ok(()),
    }
}

/// An optional text: trimmed, at most `max_chars` characters, no control characters beyond
/// what `lines` allows. Empty is allowed.
pub fn optional(field: &str, value: &str, max_chars: usize, lines: Lines) -> Result<String> {
    let v = value.trim();
    // Counting stops one past the limit, so a huge value costs no more than one at the limit.
    if v.chars().take(max_chars.saturating_add(1)).count() > max_chars {
        return Err(Error::invalid(
            field,
            "TOO_LONG",
            format!("must be at most {max_chars} characters"),
        ));
    }
    check_controls(field, v, lines)?;
    Ok(v.to_string())
}

/// A required text: as [`optional`], and not empty once trimmed.
pub fn required(field: &str, value: &str, max_chars: usize, lines: Lines) -> Result<String> {
    if value.trim().is_empty() {
        return Err(Error::required(field));
    }
    optional(field, value, max_chars, lines)
}

/// Adds the violation of an optional (or, with `required`, a required) text to `v`.
pub fn check(v: &mut Violations, field: &str, value: &str, required_: bool, max_chars: usize, lines: Lines) {
    let parsed = if required_ {
        required(field, value, max_chars, lines)
    } else {
        optional(field, value, max_chars, lines)
    };
    v.take(parsed);
}

/// Longest free-text search (`query` of a list or export) accepted, in characters. Search
/// work grows with the query (one index term per character pair), and no name a person
/// searches for is longer.
pub const MAX_SEARCH_QUERY_CHARS: usize = 200;

/// A free-text search query: at most [`MAX_SEARCH_QUERY_CHARS`] characters, no control
/// characters. Returns it trimmed.
pub fn search_query(field: &str, value: &str) -> Result<String> {
    optional(field, value, MAX_SEARCH_QUERY_CHARS, Lines::Single)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_refused_except_line_breaks_in_multi_line_text() {
        assert_eq!(optional("f", "  a b  ", 10, Lines::Single).unwrap(), "a b");
        for bad in ["a\0b", "a\u{7}", "a\u{85}b", "a\u{9b}", "a\u{1b}[0m", "x\ny"] {
            let e = optional("name", bad, 10, Lines::Single).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidArgument(v) if v[0].field == "name" && v[0].reason == "CONTROL_CHARACTER"),
                "{bad:?}: {e:?}"
            );
        }
        assert_eq!(
            optional("remark", "one\ntwo\tthree", 20, Lines::Multi).unwrap(),
            "one\ntwo\tthree"
        );
        assert!(optional("remark", "one\r\ntwo", 20, Lines::Multi).is_err());
        assert!(optional("remark", "one\0two", 20, Lines::Multi).is_err());
        assert!(optional("remark", "bell\u{7}", 20, Lines::Multi).is_err());
        assert!(matches!(
            required("name", "  ", 10, Lines::Single),
            Err(Error::InvalidArgument(v)) if v[0].reason == "REQUIRED"
        ));
        assert!(matches!(
            optional("name", &"深".repeat(11), 10, Lines::Single),
            Err(Error::InvalidArgument(v)) if v[0].reason == "TOO_LONG"
        ));
        assert_eq!(
            optional("name", &"深".repeat(10), 10, Lines::Single)
                .unwrap()
                .chars()
                .count(),
            10
        );
    }
}
