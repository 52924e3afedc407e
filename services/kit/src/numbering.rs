//! Human-readable document numbers (`SO-20261122-0007`): one counter per document kind and
//! period, taken inside the transaction that creates the document.
//!
//! - **Unique and never reused.** The counter row is incremented by an upsert in the caller's
//!   write transaction: concurrent creates queue on that row (PostgreSQL's row lock, SQLite's
//!   one writer), and a create that rolls back takes its increment with it, so the committed
//!   numbers of a period are 1, 2, 3, ... with no gap and no repeat. A service still keeps the
//!   number in a UNIQUE column, which turns even a pathological pattern change into a refusal
//!   instead of a duplicate.
//! - **The pattern is a setting.** `{YYYY}`, `{YY}`, `{MM}` and `{DD}` are the document's date;
//!   `{SEQ}` or `{SEQ:n}` (n digits, zero-padded, never truncated: number 10,000 of a 4-digit
//!   pattern is `10000`) the counter; any other text is kept. The counter restarts whenever the
//!   text around it changes, so `SO-{YYYY}{MM}{DD}-{SEQ:4}` counts per day and
//!   `PO{YYYY}{MM}{SEQ:5}` per month.

use sqlx::AnyConnection;

use crate::db::Migration;
use crate::errors::{Error, Result};

/// The counters; every service that numbers documents lists it with its own migrations.
pub const MIGRATION: Migration = Migration {
    version: 1_000_006,
    name: "kit_document_numbers",
    only_on: None,
    sql: "CREATE TABLE IF NOT EXISTS crm_document_numbers (
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        last_value BIGINT NOT NULL,
        PRIMARY KEY (kind, period)
    )",
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Year4,
    Year2,
    Month,
    Day,
    Seq(usize),
}

/// A parsed number pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPattern {
    pieces: Vec<Piece>,
}

/// Longest pattern text accepted.
const MAX_PATTERN_LEN: usize = 64;

impl NumberPattern {
    /// Parses a pattern; `field` names the setting in the error.
    pub fn parse(field: &str, pattern: &str) -> Result<NumberPattern> {
        let refuse = |rule: &str| {
            Error::invalid(
                field,
                "INVALID_PATTERN",
                format!("{rule} (for example \"SO-{{YYYY}}{{MM}}{{DD}}-{{SEQ:4}}\")"),
            )
        };
        if pattern.chars().count() > MAX_PATTERN_LEN {
            return Err(refuse(&format!("must be at most {MAX_PATTERN_LEN} characters")));
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            if c == '{' {
                let end = rest.find('}').ok_or_else(|| refuse("has a '{' without its '}'"))?;
                let token = &rest[1..end];
                let piece = match token {
                    "YYYY" => Piece::Year4,
                    "YY" => Piece::Year2,
                    "MM" => Piece::Month,
                    "DD" => Piece::Day,
                    "SEQ" => Piece::Seq(1),
                    t => match t.strip_prefix("SEQ:").and_then(|n| n.parse::<usize>().ok()) {
                        Some(n @ 1..=12) => Piece::Seq(n),
                        _ => {
                            return Err(refuse(&format!(
                                "has an unknown part {{{t}}}: use YYYY, YY, MM, DD, SEQ or SEQ:n (n from 1 to 12)"
                            )));
                        }
                    },
                };
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(piece);
                rest = &rest[end + 1..];
            } else if c == '}' {
                return Err(refuse("has a '}' without its '{'"));
            } else if c.is_control() || c.is_whitespace() {
                return Err(refuse("must not contain spaces or control characters"));
            } else {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        match pieces.iter().filter(|p| matches!(p, Piece::Seq(_))).count() {
            1 => Ok(NumberPattern { pieces }),
            0 => Err(refuse("must contain the counter {SEQ} or {SEQ:n}")),
            _ => Err(refuse("must contain the counter only once")),
        }
    }

    fn render(&self, (year, month, day): (i64, u32, u32), seq: Option<i64>) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Year4 => out.push_str(&format!("{year:04}")),
                Piece::Year2 => out.push_str(&format!("{:02}", year.rem_euclid(100))),
                Piece::Month => out.push_str(&format!("{month:02}")),
                Piece::Day => out.push_str(&format!("{day:02}")),
                Piece::Seq(width) => match seq {
                    Some(n) => out.push_str(&format!("{n:0width$}")),
                    // The counter's place in the period key: braces never occur in the text.
                    None => out.push_str("{}"),
                },
            }
        }
        out
    }

    /// The counter's key for a date: the pattern rendered with the counter left out.
    pub fn period(&self, date: (i64, u32, u32)) -> String {
        self.render(date, None)
    }

    /// The number the counter value `seq` has on `date`.
    pub fn format(&self, date: (i64, u32, u32), seq: i64) -> String {
        self.render(date, Some(seq))
    }
}

/// The next number of `kind` for a document dated `date`, taken in the caller's write
/// transaction (see the module documentation).
pub async fn next_number(
    conn: &mut AnyConnection,
    kind: &str,
    pattern: &NumberPattern,
    date: (i64, u32, u32),
) -> Result<String> {
    let period = pattern.period(date);
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO crm_document_numbers (kind, period, last_value) VALUES ($1, $2, 1)
         ON CONFLICT (kind, period) DO UPDATE SET last_value = crm_document_numbers.last_value + 1
         RETURNING last_value",
    )
    .bind(kind)
    .bind(&period)
    .fetch_one(conn)
    .await?;
    Ok(pattern.format(date, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: (i64, u32, u32) = (2026, 11, 22);

    #[test]
    fn patterns_render_their_parts() {
        let p = NumberPattern::parse("pattern", "SO-{YYYY}{MM}{DD}-{SEQ:4}").unwrap();
        assert_eq!(p.format(DAY, 7), "SO-20261122-0007");
        assert_eq!(p.format(DAY, 12345), "SO-20261122-12345", "never truncated");
        assert_eq!(p.period(DAY), "SO-20261122-{}");
        let p = NumberPattern::parse("pattern", "采购{YY}{MM}{SEQ}").unwrap();
        assert_eq!(p.format((2009, 3, 1), 42), "采购090342");
        assert_eq!(p.period((2009, 3, 31)), p.period((2009, 3, 1)), "one counter per month");
        assert_ne!(p.period((2009, 4, 1)), p.period((2009, 3, 1)));
        let p = NumberPattern::parse("pattern", "{SEQ:6}").unwrap();
        assert_eq!(p.format(DAY, 1), "000001");
        assert_eq!(p.period(DAY), p.period((1999, 1, 1)), "no date: one counter for ever");
    }

    #[test]
    fn bad_patterns_are_refused_by_name() {
        for bad in [
            "SO-{YYYY}",
            "{SEQ}{SEQ}",
            "SO-{seq}",
            "SO-{SEQ:0}",
            "SO-{SEQ:13}",
            "SO-{SEQ",
            "SO-}{SEQ}",
            "SO {SEQ}",
            "",
        ] {
            let err = NumberPattern::parse("order_number_pattern", bad).unwrap_err();
            match err {
                Error::InvalidArgument(v) => {
                    assert_eq!(v[0].field, "order_number_pattern", "{bad:?}");
                    assert_eq!(v[0].reason, "INVALID_PATTERN", "{bad:?}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(NumberPattern::parse("p", &format!("{}{{SEQ}}", "X".repeat(70))).is_err());
    }
}
