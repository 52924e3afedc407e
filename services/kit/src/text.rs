//! Text from the wire, parsed the same way in every service: trimmed, bounded in characters,
//! and free of control characters. NUL and the other C0/C1 controls are refused everywhere
//! (PostgreSQL cannot store NUL, SQLite would, so refusing them keeps both backends alike);
//! a field that is legitimately multi-line (notes, remarks, descriptions) also takes `\n`
//! and `\t`.
//!
//! Lists of texts (tags, ids) are checked count first, then each item, and de-duplicated in
//! linear time, so a request with a huge list costs no more than one with the limit.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

use crate::errors::reason;
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
        reason::CONTROL_CHARACTER,
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
            reason::TOO_LONG,
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

/// The rules of a list of texts (tags, ids).
#[derive(Debug, Clone, Copy)]
pub struct ListRule {
    /// Most items accepted (after trimming, before de-duplication).
    pub max_items: usize,
    /// Most characters in one item.
    pub max_chars: usize,
    /// Whether an empty item is skipped (true) or refused as REQUIRED (false).
    pub skip_empty: bool,
}

/// A bounded, de-duplicated list of single-line texts in first-seen order. The count is
/// checked before any item is read (TOO_MANY naming `field`), then each item (violations
/// named `field[i]`) and duplicates dropped with a hash set: linear in the list's size.
pub fn distinct_list(v: &mut Violations, field: &str, items: &[String], rule: ListRule) -> Vec<String> {
    if items.len() > rule.max_items {
        v.add(
            field,
            reason::TOO_MANY,
            format!("must have at most {} entries (got {})", rule.max_items, items.len()),
        );
        return Vec::new();
    }
    let mut seen: HashSet<String> = HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if rule.skip_empty && item.trim().is_empty() {
            continue;
        }
        let name = format!("{field}[{i}]");
        if let Some(t) = v.take(required(&name, item, rule.max_chars, Lines::Single))
            && seen.insert(t.clone())
        {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(v: Violations) -> Vec<(String, &'static str)> {
        match v.finish() {
            Ok(()) => Vec::new(),
            Err(Error::InvalidArgument(list)) => list.into_iter().map(|f| (f.field, f.reason)).collect(),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

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

    #[test]
    fn lists_are_counted_first_then_checked_and_deduplicated_in_order() {
        let rule = ListRule {
            max_items: 3,
            max_chars: 5,
            skip_empty: false,
        };
        let mut v = Violations::new();
        let items: Vec<String> = ["b", " a ", "b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(distinct_list(&mut v, "tags", &items, rule), ["b", "a"]);
        assert!(v.is_empty());

        // Far over the limit: one TOO_MANY naming the list, and no item is read (a bad item
        // in the list is not reported).
        let mut huge: Vec<String> = (0..200_000).map(|i| i.to_string()).collect();
        huge[7] = "bad\0".into();
        let mut v = Violations::new();
        assert!(distinct_list(&mut v, "tags", &huge, rule).is_empty());
        assert_eq!(violations(v), [("tags".to_string(), "TOO_MANY")]);

        let mut v = Violations::new();
        let items: Vec<String> = ["ok", "", "toolong", "a\0"].iter().map(|s| s.to_string()).collect();
        let rule4 = ListRule { max_items: 4, ..rule };
        assert_eq!(distinct_list(&mut v, "tags", &items, rule4), ["ok"]);
        assert_eq!(
            violations(v),
            [
                ("tags[1]".to_string(), "REQUIRED"),
                ("tags[2]".to_string(), "TOO_LONG"),
                ("tags[3]".to_string(), "CONTROL_CHARACTER")
            ]
        );

        let mut v = Violations::new();
        let skip = ListRule {
            skip_empty: true,
            ..rule4
        };
        assert_eq!(distinct_list(&mut v, "ids", &items[..2], skip), ["ok"]);
        assert!(v.is_empty());
    }

    #[test]
    fn distinct_list_is_linear() {
        // 100,000 distinct items under the limit: a quadratic de-duplication would do 5e9
        // comparisons; the hash set does 1e5 inserts.
        let items: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
        let rule = ListRule {
            max_items: 100_000,
            max_chars: 10,
            skip_empty: false,
        };
        let mut v = Violations::new();
        assert_eq!(distinct_list(&mut v, "tags", &items, rule).len(), 100_000);
    }
}

/// Most entries of a record's custom fields.
pub const MAX_CUSTOM_FIELDS: usize = 100;

/// A record's custom fields: at most [`MAX_CUSTOM_FIELDS`] entries (counted before any is
/// read), keys of 1 to 64 letters, digits, `_` or `-`, values notes of at most 1,000
/// characters; violations named `field[key]`.
pub fn custom_fields(
    v: &mut Violations,
    field: &str,
    fields: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::new();
    if fields.len() > MAX_CUSTOM_FIELDS {
        v.add(
            field,
            reason::TOO_MANY,
            format!("must have at most {MAX_CUSTOM_FIELDS} entries"),
        );
        return map;
    }
    for (k, val) in fields {
        let name = format!("{field}[{k}]");
        let key_ok =
            !k.is_empty() && k.len() <= 64 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !key_ok {
            v.add(
                name,
                reason::MALFORMED,
                "keys must be 1 to 64 letters, digits, '_' or '-'",
            );
            continue;
        }
        if let Some(val) = v.take(optional(&name, val, 1000, Lines::Multi)) {
            map.insert(k.clone(), val);
        }
    }
    map
}

/// Checks single-line text (a name, a code, a reference): required or not, at most `max`
/// characters, no control characters; violations under `field`.
pub fn check_text(field: &str, value: &str, required: bool, max: usize, v: &mut Violations) {
    check(v, field, value, required, max, Lines::Single);
}

/// Checks a note (a remark, a description, a summary): as [`check_text`], with line breaks and
/// tabs.
pub fn check_notes(field: &str, value: &str, required: bool, max: usize, v: &mut Violations) {
    check(v, field, value, required, max, Lines::Multi);
}

/// Folds a text for comparison and search: compatibility forms to their plain ones (NFKC:
/// full-width letters, digits and punctuation, the ideographic space), lower case, and
/// traditional Chinese characters to simplified ones (OpenCC's table, from `fast2s`). Customer
/// names, product codes and names are all compared in this one form.
pub fn fold(s: &str) -> String {
    let plain: String = s.nfkc().flat_map(char::to_lowercase).collect();
    fast2s::convert(&plain)
}

/// A code as people type it, in its plain form: compatibility forms to their plain ones (NFKC:
/// full-width letters and digits) and trimmed, case kept. Serial numbers and lots are stored so.
pub fn normalize(s: &str) -> String {
    s.nfkc().collect::<String>().trim().to_string()
}

/// [`fold`]ed, keeping only letters and digits (CJK included): spaces, punctuation and
/// symbols are dropped, so "AB-12 / x" and "ab12x" are one key.
pub fn fold_key(s: &str) -> String {
    fold(s).chars().filter(|c| c.is_alphanumeric()).collect()
}

#[cfg(test)]
mod fold_tests {
    #[test]
    fn folds_width_case_and_script() {
        assert_eq!(super::fold("ＡＢＣ－１２"), "abc-12");
        assert_eq!(super::fold("東方電子"), "东方电子");
        assert_eq!(super::fold_key(" AB-12 / x "), "ab12x");
    }
}
