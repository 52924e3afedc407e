//! An AIP-160 subset compiled to SQL through an allow-list of fields.
//!
//! `level_code = "A" AND (region.city = "Shenzhen" OR owner_id = "u1")`: comparisons
//! (`=`, `!=`, `<`, `<=`, `>`, `>=`, `:` for contains), `AND`, `OR`, `NOT` / `-`, parentheses,
//! and juxtaposition as AND. Only fields in the caller's [`FieldSpec`] list can be named; each
//! maps to a trusted SQL expression, and every value becomes a bound parameter, so a filter can
//! never inject SQL. Values are checked against the field's type, and errors name the field.

use crate::errors::reason;
use crate::money;
use crate::time::{DAY_MICROS, days_from_civil, parse_date};

/// The type of a filterable field, which decides the operators and value forms it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Integer,
    /// Stored as BIGINT 0/1.
    Bool,
    /// Stored as BIGINT microseconds; written as RFC 3339 or a date.
    Timestamp,
    /// Stored as TEXT `YYYY-MM-DD`.
    Date,
    /// Stored as BIGINT × 10^4; written as a decimal string.
    Money,
    /// Stored as TEXT, one of the listed codes.
    Enum(&'static [&'static str]),
}

/// A field a filter may name and the SQL expression behind it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    /// A trusted SQL expression, e.g. `c.level_code`.
    pub column: &'static str,
    pub ty: FieldType,
}

/// A bound parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    /// Encoded bytes (an event payload).
    Bytes(Vec<u8>),
}

/// SQL text (placeholders `$n`) and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledFilter {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

/// Why a filter was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("{message}")]
pub struct FilterError {
    /// The filter field at fault, or `filter` for syntax.
    pub field: String,
    /// FILTER_SYNTAX, UNKNOWN_FIELD, TYPE_MISMATCH, INVALID_VALUE or FILTER_TOO_COMPLEX.
    pub reason: &'static str,
    pub message: String,
}

const MAX_LEN: usize = 2000;
const MAX_DEPTH: usize = 20;
const MAX_COMPARISONS: usize = 50;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Op(&'static str),
    Str(String),
    Word(String),
}

fn syntax(pos: usize, what: impl Into<String>) -> FilterError {
    FilterError {
        field: "filter".into(),
        reason: "FILTER_SYNTAX",
        message: format!("filter syntax error at character {}: {}", pos + 1, what.into()),
    }
}

fn tokenize(s: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<(usize, Tok)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_term = matches!(
            out.last(),
            None | Some((_, Tok::LParen | Tok::And | Tok::Or | Tok::Not))
        );
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                out.push((i, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((i, Tok::RParen));
                i += 1;
            }
            '-' if starts_term => {
                out.push((i, Tok::Not));
                i += 1;
            }
            '"' | '\'' => {
                let start = i;
                i += 1;
                let mut v = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(syntax(start, "unterminated string")),
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some(e) => v.push(*e),
                                None => return Err(syntax(i, "unterminated string")),
                            }
                            i += 2;
                        }
                        Some(q) if *q == c => {
                            i += 1;
                            break;
                        }
                        Some(o) => {
                            v.push(*o);
                            i += 1;
                        }
                    }
                }
                if let Some(bad) = crate::text::forbidden_control(&v, crate::text::Lines::Single) {
                    return Err(FilterError {
                        field: "filter".into(),
                        reason: reason::INVALID_VALUE,
                        message: format!(
                            "filter value at character {} holds a control character (U+{:04X})",
                            start + 1,
                            u32::from(bad)
                        ),
                    });
                }
                out.push((start, Tok::Str(v)));
            }
            '=' => {
                out.push((i, Tok::Op("=")));
                i += 1;
            }
            ':' => {
                out.push((i, Tok::Op(":")));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push((i, Tok::Op("!=")));
                i += 2;
            }
            '<' | '>' => {
                let op = match (c, chars.get(i + 1)) {
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', _) => "<",
                    _ => ">",
                };
                out.push((i, Tok::Op(op)));
                i += op.len();
            }
            _ if c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '+') => {
                let start = i;
                let mut w = String::new();
                while let Some(&ch) = chars.get(i) {
                    if ch.is_alphanumeric() || matches!(ch, '_' | '.' | '-' | '+') {
                        w.push(ch);
                        i += 1;
                    } else {
                        break;
                    }
                }
                let tok = match w.as_str() {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ => Tok::Word(w),
                };
                out.push((start, tok));
            }
            other => return Err(syntax(i, format!("unexpected character '{other}'"))),
        }
    }
    Ok(out)
}

struct Compiler<'a> {
    fields: &'a [FieldSpec],
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    params: Vec<SqlValue>,
    first: usize,
    comparisons: usize,
}

impl Compiler<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(p, _)| *p)
    }

    fn param(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        format!("${}", self.first + self.params.len() - 1)
    }

    fn expr(&mut self, depth: usize) -> Result<String, FilterError> {
        if depth > MAX_DEPTH {
            return Err(FilterError {
                field: "filter".into(),
                reason: "FILTER_TOO_COMPLEX",
                message: format!("filter nests deeper than {MAX_DEPTH} levels"),
            });
        }
        let mut parts = vec![self.and_expr(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and_expr(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            format!("({})", parts.join(" OR "))
        })
    }

    fn and_expr(&mut self, depth: usize) -> Result<String, FilterError> {
        let mut parts = vec![self.unary(depth)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    parts.push(self.unary(depth)?);
                }
                // Juxtaposition is AND (AIP-160).
                Some(Tok::Word(_) | Tok::LParen | Tok::Not) => parts.push(self.unary(depth)?),
                _ => break,
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            format!("({})", parts.join(" AND "))
        })
    }

    fn unary(&mut self, depth: usize) -> Result<String, FilterError> {
        match self.peek() {
            Some(Tok::Not) => {
                self.pos += 1;
                Ok(format!("(NOT {})", self.unary(depth + 1)?))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.expr(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(syntax(self.at(), "expected ')'"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Word(_)) => self.comparison(),
            Some(other) => Err(syntax(
                self.at(),
                format!("expected a field name, found {}", describe(other)),
            )),
            None => Err(syntax(self.at(), "expected a field name, found the end of the filter")),
        }
    }

    fn comparison(&mut self) -> Result<String, FilterError> {
        let Some((_, Tok::Word(name))) = self.toks.get(self.pos).cloned() else {
            return Err(syntax(self.at(), "expected a field name"));
        };
        self.pos += 1;
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(FilterError {
                field: "filter".into(),
                reason: "FILTER_TOO_COMPLEX",
                message: format!("filter has more than {MAX_COMPARISONS} comparisons"),
            });
        }
        let Some(spec) = self.fields.iter().find(|f| f.name == name).copied() else {
            let known: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
            return Err(FilterError {
                field: name.clone(),
                reason: reason::UNKNOWN_FIELD,
                message: format!(
                    "filter names unknown field {name}; filterable fields: {}",
                    known.join(", ")
                ),
            });
        };
        let op = match self.peek() {
            Some(Tok::Op(op)) => *op,
            _ => {
                return Err(syntax(
                    self.at(),
                    format!("expected an operator (=, !=, <, <=, >, >=, :) after {name}"),
                ));
            }
        };
        self.pos += 1;
        let value = match self.toks.get(self.pos).cloned() {
            Some((_, Tok::Str(s) | Tok::Word(s))) => s,
            _ => return Err(syntax(self.at(), format!("expected a value after {name} {op}"))),
        };
        self.pos += 1;
        self.compare(spec, op, &value)
    }

    fn compare(&mut self, spec: FieldSpec, op: &'static str, value: &str) -> Result<String, FilterError> {
        let name = spec.name;
        let mismatch = |kind: &str| FilterError {
            field: name.to_string(),
            reason: "TYPE_MISMATCH",
            message: format!("operator {op} is not defined for {kind} field {name}"),
        };
        let invalid = |expected: &str| FilterError {
            field: name.to_string(),
            reason: reason::INVALID_VALUE,
            message: format!("{name} takes {expected}; got {value:?}"),
        };
        let sql_op = if op == "!=" { "<>" } else { op };
        let ordered = matches!(op, "<" | "<=" | ">" | ">=");
        let col = spec.column;
        match spec.ty {
            FieldType::Text => match op {
                ":" => {
                    let mut pattern = String::from("%");
                    for ch in value.to_lowercase().chars() {
                        if matches!(ch, '%' | '_' | '\\') {
                            pattern.push('\\');
                        }
                        pattern.push(ch);
                    }
                    pattern.push('%');
                    let p = self.param(SqlValue::Text(pattern));
                    Ok(format!("(LOWER({col}) LIKE {p} ESCAPE '\\')"))
                }
                "=" | "!=" => {
                    let p = self.param(SqlValue::Text(value.to_string()));
                    Ok(format!("({col} {sql_op} {p})"))
                }
                _ => Err(mismatch("text")),
            },
            FieldType::Enum(codes) => {
                if op != "=" && op != "!=" {
                    return Err(mismatch("enum"));
                }
                let code = codes
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(value))
                    .ok_or_else(|| invalid(&format!("one of {}", codes.join(", "))))?;
                let p = self.param(SqlValue::Text((*code).to_string()));
                Ok(format!("({col} {sql_op} {p})"))
            }
            FieldType::Bool => {
                if op != "=" && op != "!=" {
                    return Err(mismatch("boolean"));
                }
                let b = match value.to_ascii_lowercase().as_str() {
                    "true" => 1,
                    "false" => 0,
                    _ => return Err(invalid("true or false")),
                };
                let p = self.param(SqlValue::Int(b));
                Ok(format!("({col} {sql_op} {p})"))
            }
            FieldType::Integer | FieldType::Timestamp | FieldType::Money => {
                if op == ":" {
                    return Err(mismatch("numeric"));
                }
                let n = match spec.ty {
                    FieldType::Integer => value.parse::<i64>().map_err(|_| invalid("a whole number"))?,
                    FieldType::Money => money::parse_decimal(value)
                        .and_then(money::to_storage)
                        .map_err(|_| invalid("a decimal amount like \"1234.50\""))?,
                    _ => parse_timestamp(value).ok_or_else(|| {
                        invalid("an RFC 3339 time like \"2026-01-02T03:04:05Z\" or a date like 2026-01-02")
                    })?,
                };
                let _ = ordered;
                let p = self.param(SqlValue::Int(n));
                Ok(format!("({col} {sql_op} {p})"))
            }
            FieldType::Date => {
                if op == ":" {
                    return Err(mismatch("date"));
                }
                parse_date(value).ok_or_else(|| invalid("a date like 2026-01-02"))?;
                let p = self.param(SqlValue::Text(value.to_string()));
                Ok(format!("({col} {sql_op} {p})"))
            }
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::And => "AND".into(),
        Tok::Or => "OR".into(),
        Tok::Not => "NOT".into(),
        Tok::Op(o) => format!("'{o}'"),
        Tok::Str(s) | Tok::Word(s) => format!("{s:?}"),
    }
}

/// RFC 3339 (`2026-01-02T03:04:05Z`, `...05.123+08:00`) or a date (midnight UTC), as
/// microseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    // Every valid form is ASCII; checking that first makes each byte offset below a character
    // boundary, and `get` keeps a short or odd value an error instead of a panic.
    if !s.is_ascii() {
        return None;
    }
    if s.len() == 10 {
        let (y, m, d) = parse_date(s)?;
        return Some(days_from_civil(y, m, d) * DAY_MICROS);
    }
    let (date, rest) = s.split_at_checked(10)?;
    let (y, m, d) = parse_date(date)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let b = rest.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let num = |r: Option<&str>| {
        r.filter(|r| !r.is_empty() && r.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|r| r.parse::<i64>().ok())
    };
    let (hh, mm, ss) = (num(rest.get(0..2))?, num(rest.get(3..5))?, num(rest.get(6..8))?);
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut tail = rest.get(8..)?;
    let mut micros = 0i64;
    if let Some(frac) = tail.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        let padded = format!("{digits:0<6}");
        micros = padded.get(..6)?.parse().ok()?;
        tail = frac.get(digits.len()..)?;
    }
    let offset = match tail {
        "Z" | "z" => 0,
        _ => {
            let sign = match tail.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let t = tail.get(1..)?;
            if t.len() != 5 || t.as_bytes()[2] != b':' {
                return None;
            }
            let (oh, om) = (num(t.get(0..2))?, num(t.get(3..5))?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - offset;
    Some(secs * 1_000_000 + micros)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern written with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Compiles `expr` against the allow-list, numbering placeholders from `first_placeholder`.
/// An empty expression is `Ok(None)`.
pub fn compile(
    fields: &[FieldSpec],
    expr: &str,
    first_placeholder: usize,
) -> Result<Option<CompiledFilter>, FilterError> {
    if expr.trim().is_empty() {
        return Ok(None);
    }
    if expr.chars().count() > MAX_LEN {
        return Err(FilterError {
            field: "filter".into(),
            reason: "FILTER_TOO_COMPLEX",
            message: format!("filter is longer than {MAX_LEN} characters"),
        });
    }
    let toks = tokenize(expr)?;
    let mut c = Compiler {
        fields,
        toks,
        pos: 0,
        end: expr.chars().count(),
        params: Vec::new(),
        first: first_placeholder.max(1),
        comparisons: 0,
    };
    let sql = c.expr(0)?;
    if c.pos < c.toks.len() {
        let t = c.toks[c.pos].1.clone();
        return Err(syntax(c.at(), format!("unexpected {}", describe(&t))));
    }
    Ok(Some(CompiledFilter { sql, params: c.params }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[FieldSpec] = &[
        FieldSpec {
            name: "name",
            column: "name",
            ty: FieldType::Text,
        },
        FieldSpec {
            name: "level",
            column: "level",
            ty: FieldType::Enum(&["A", "B"]),
        },
        FieldSpec {
            name: "region.city",
            column: "city",
            ty: FieldType::Text,
        },
        FieldSpec {
            name: "count",
            column: "cnt",
            ty: FieldType::Integer,
        },
        FieldSpec {
            name: "vip",
            column: "vip",
            ty: FieldType::Bool,
        },
        FieldSpec {
            name: "created",
            column: "created",
            ty: FieldType::Timestamp,
        },
        FieldSpec {
            name: "birthday",
            column: "birthday",
            ty: FieldType::Date,
        },
        FieldSpec {
            name: "limit",
            column: "credit",
            ty: FieldType::Money,
        },
    ];

    fn sql(expr: &str) -> CompiledFilter {
        compile(FIELDS, expr, 1).unwrap().unwrap()
    }

    fn err(expr: &str) -> FilterError {
        compile(FIELDS, expr, 1).unwrap_err()
    }

    #[test]
    fn precedence_and_parentheses() {
        let f = sql(r#"level = "A" AND (region.city = "Shenzhen" OR name : "acme")"#);
        assert_eq!(
            f.sql,
            "((level = $1) AND ((city = $2) OR (LOWER(name) LIKE $3 ESCAPE '\\')))"
        );
        assert_eq!(
            f.params,
            [
                SqlValue::Text("A".into()),
                SqlValue::Text("Shenzhen".into()),
                SqlValue::Text("%acme%".into())
            ]
        );
        assert_eq!(
            sql("count = 1 OR count = 2 AND vip = true").sql,
            "((cnt = $1) OR ((cnt = $2) AND (vip = $3)))"
        );
        assert_eq!(sql("NOT vip = true").sql, "(NOT (vip = $1))");
        assert_eq!(sql("-vip = true").sql, "(NOT (vip = $1))");
        assert_eq!(sql("count > 1 count < 5").sql, "((cnt > $1) AND (cnt < $2))");
        assert_eq!(compile(FIELDS, "count = 1", 7).unwrap().unwrap().sql, "(cnt = $7)");
        assert_eq!(compile(FIELDS, "   ", 1).unwrap(), None);
    }

    #[test]
    fn values_by_type() {
        assert_eq!(sql("level = b").params, [SqlValue::Text("B".into())]);
        assert_eq!(sql("vip != false").sql, "(vip <> $1)");
        assert_eq!(sql("limit >= 1000.5").params, [SqlValue::Int(10_005_000)]);
        assert_eq!(sql("created > 1970-01-02").params, [SqlValue::Int(86_400_000_000)]);
        assert_eq!(
            sql(r#"created < "1970-01-01T08:00:00+08:00""#).params,
            [SqlValue::Int(0)]
        );
        assert_eq!(
            sql(r#"created = "1970-01-01T00:00:01.5Z""#).params,
            [SqlValue::Int(1_500_000)]
        );
        assert_eq!(
            sql("birthday <= 2000-02-29").params,
            [SqlValue::Text("2000-02-29".into())]
        );
        assert_eq!(
            sql(r#"name : "50%_\\x""#).params,
            [SqlValue::Text("%50\\%\\_\\\\x%".into())]
        );
        assert_eq!(
            sql(r#"name = "say \"hi\"""#).params,
            [SqlValue::Text("say \"hi\"".into())]
        );
        assert_eq!(sql("region.city = 深圳").params, [SqlValue::Text("深圳".into())]);
    }

    #[test]
    fn errors_name_the_field_and_rule() {
        let e = err("colour = red");
        assert_eq!((e.field.as_str(), e.reason), ("colour", "UNKNOWN_FIELD"));
        let e = err(r#"name > "a""#);
        assert_eq!((e.field.as_str(), e.reason), ("name", "TYPE_MISMATCH"));
        assert!(e.message.contains("text field name"), "{}", e.message);
        assert_eq!(err("level > A").reason, "TYPE_MISMATCH");
        assert_eq!(err("vip : true").reason, "TYPE_MISMATCH");
        assert_eq!(err("count : 1").reason, "TYPE_MISMATCH");
        assert_eq!(err("level = Z").reason, "INVALID_VALUE");
        assert_eq!(err("vip = maybe").reason, "INVALID_VALUE");
        assert_eq!(err("count = ten").reason, "INVALID_VALUE");
        assert_eq!(err("created > yesterday").reason, "INVALID_VALUE");
        // A character of several bytes where the seconds end is a bad value, not a panic.
        let e = err(r#"created > "2026-01-02T00:00:中""#);
        assert_eq!((e.field.as_str(), e.reason), ("created", "INVALID_VALUE"));
        assert_eq!(parse_timestamp("2026-01-02T00:00:0中"), None);
        assert_eq!(parse_timestamp("2026-01-02T00:00:00中"), None);
        assert_eq!(err("birthday = 2001-02-29").reason, "INVALID_VALUE");
        assert_eq!(err("limit = 1.23456").reason, "INVALID_VALUE");
        // Multi-byte characters where digits belong are refused, never sliced through.
        for bad in [
            r#"created > "2026-01-02T00:00:中""#,
            r#"created > "2026-01-02T00:中:00Z""#,
            r#"created > "2026-01-02T00:00:00.中""#,
            r#"created > "2026-01-02T00:00:00+0中:00""#,
            r#"created > "2026-01-02T00:00:00+中""#,
            r#"created > "2026-01-02T00:00:00中""#,
            r#"created > "2026-中-02""#,
            r#"created > "2026-01-0中""#,
            r#"created > "2026-01-02中00:00:00Z""#,
            r#"birthday = "2026-01-0中""#,
        ] {
            let e = err(bad);
            assert_eq!(e.reason, "INVALID_VALUE", "{bad}: {e:?}");
        }
        // Control characters inside a quoted value (NUL cannot be stored on PostgreSQL).
        for bad in ["name = \"a\0b\"", "name = \"a\u{1b}b\"", "name : \"\u{85}\""] {
            let e = err(bad);
            assert_eq!((e.field.as_str(), e.reason), ("filter", "INVALID_VALUE"), "{bad:?}");
        }
        assert_eq!(err("name = a\0").reason, "FILTER_SYNTAX");
        for bad in [
            "name =",
            "(name = a",
            "name = a)",
            "name a",
            "= a",
            "name = \"open",
            "name = a AND",
            "name = a $",
        ] {
            let e = err(bad);
            assert_eq!(e.reason, "FILTER_SYNTAX", "{bad}: {e:?}");
            assert!(e.message.contains("character"), "{bad}: {}", e.message);
        }
        let deep = format!("{}name = a{}", "(".repeat(30), ")".repeat(30));
        assert_eq!(err(&deep).reason, "FILTER_TOO_COMPLEX");
        let many = vec!["count = 1"; 51].join(" OR ");
        assert_eq!(err(&many).reason, "FILTER_TOO_COMPLEX");
        assert_eq!(err(&"a".repeat(2001)).reason, "FILTER_TOO_COMPLEX");
    }

    proptest::proptest! {
        #[test]
        fn any_input_is_an_answer_never_a_panic(expr in ".{0,80}", value in ".{0,40}") {
            let _ = compile(FIELDS, &expr, 1);
            let _ = parse_timestamp(&value);
            for field in ["created", "birthday", "count", "limit", "vip", "level", "name"] {
                let _ = compile(FIELDS, &format!("{field} > {value:?}"), 1);
                let _ = compile(FIELDS, &format!("{field} = {value}"), 1);
            }
        }

        #[test]
        fn near_timestamps_are_answers(prefix in 0usize..25, tail in ".{0,6}") {
            let full = "2026-01-02T03:04:05.123+08:00";
            let _ = parse_timestamp(&format!("{}{tail}", &full[..prefix]));
        }
    }

    #[tokio::test]
    async fn compiled_filters_select_the_right_rows_on_sqlite() {
        sqlx::any::install_default_drivers();
        // One connection: every connection to :memory: is a database of its own.
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (name TEXT, level TEXT, city TEXT, cnt BIGINT, vip BIGINT, created BIGINT, birthday TEXT, credit BIGINT)")
            .execute(&pool)
            .await
            .unwrap();
        for (name, level, city, cnt, vip) in [
            ("Acme 50% off", "A", "Shenzhen", 1, 1),
            ("Beta", "B", "Madrid", 2, 0),
            ("acme_two", "A", "Madrid", 3, 0),
        ] {
            sqlx::query("INSERT INTO t VALUES ($1, $2, $3, $4, $5, 0, '2000-01-01', 0)")
                .bind(name)
                .bind(level)
                .bind(city)
                .bind(cnt)
                .bind(vip)
                .execute(&pool)
                .await
                .unwrap();
        }
        let run = |expr: &'static str| {
            let pool = pool.clone();
            async move {
                let f = compile(FIELDS, expr, 1).unwrap().unwrap();
                let sql = format!("SELECT name FROM t WHERE {} ORDER BY name", f.sql);
                let mut q = sqlx::query_scalar::<_, String>(&sql);
                for p in &f.params {
                    q = match p {
                        SqlValue::Text(s) => q.bind(s.clone()),
                        SqlValue::Int(n) => q.bind(*n),
                        SqlValue::Bytes(b) => q.bind(b.clone()),
                    };
                }
                q.fetch_all(&pool).await.unwrap()
            }
        };
        assert_eq!(run(r#"name : "ACME""#).await, ["Acme 50% off", "acme_two"]);
        assert_eq!(run(r#"name : "50%""#).await, ["Acme 50% off"]);
        assert_eq!(run(r#"name : "e_t""#).await, ["acme_two"]);
        assert_eq!(
            run(r#"level = "A" AND NOT region.city = "Shenzhen""#).await,
            ["acme_two"]
        );
        assert_eq!(
            run("count >= 2 OR vip = true").await,
            ["Acme 50% off", "Beta", "acme_two"]
        );
    }
}
