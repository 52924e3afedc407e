//! The filter language (`crm_kit::filter`): any text either compiles or is refused with an
//! error naming the field and the rule. What compiles is SQL made only of trusted column
//! expressions and numbered placeholders, every value a bound parameter.

#![no_main]

use crm_kit::filter::{
    CompiledFilter, FieldSpec, FieldType, FilterError, SqlValue, compile, like_escape, parse_timestamp,
};
use crm_kit::time::{format_date, format_rfc3339, parse_date};
use libfuzzer_sys::fuzz_target;

/// One field of every type, with the customers service's real names and columns.
const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "name",
        column: "c.name",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "region.city",
        column: "c.region_city",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "level_code",
        column: "c.level_code",
        ty: FieldType::Enum(&["A", "B", "C"]),
    },
    FieldSpec {
        name: "follow_up_count",
        column: "c.follow_up_count",
        ty: FieldType::Integer,
    },
    FieldSpec {
        name: "locked",
        column: "c.locked",
        ty: FieldType::Bool,
    },
    FieldSpec {
        name: "create_time",
        column: "c.created_at",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "birthday",
        column: "c.birthday",
        ty: FieldType::Date,
    },
    FieldSpec {
        name: "credit_limit",
        column: "c.credit_limit",
        ty: FieldType::Money,
    },
];

const REASONS: &[&str] = &[
    "FILTER_SYNTAX",
    "UNKNOWN_FIELD",
    "TYPE_MISMATCH",
    "INVALID_VALUE",
    "FILTER_TOO_COMPLEX",
];

/// The SQL with its placeholders renumbered as if they started at 1.
fn renumber(sql: &str, first: usize) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut n = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            n.push(*d);
            chars.next();
        }
        let n: usize = n.parse().expect("a placeholder has a number");
        out.push_str(&format!("${}", n - first + 1));
    }
    out
}

/// The compiled SQL holds no text from the filter: placeholders `$first`.. in order, each
/// once, one per parameter, and nothing quoted but the LIKE escape clause.
fn check_sql(f: &CompiledFilter, first: usize) {
    let mut expected = first;
    let mut rest = f.sql.as_str();
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        assert_eq!(
            digits.parse::<usize>().ok(),
            Some(expected),
            "placeholders in order: {}",
            f.sql
        );
        expected += 1;
        rest = &rest[digits.len()..];
    }
    assert_eq!(
        expected - first,
        f.params.len(),
        "one placeholder per parameter: {}",
        f.sql
    );
    let unquoted = f.sql.replace("ESCAPE '\\'", "");
    assert!(
        !unquoted.contains(['\'', '"', ';']) && !unquoted.contains("--"),
        "nothing from the filter reaches the SQL: {}",
        f.sql
    );
    let columns: Vec<&str> = FIELDS.iter().map(|f| f.column).collect();
    for word in unquoted.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '$')) {
        assert!(
            word.is_empty()
                || word.starts_with('$')
                || columns.contains(&word)
                || matches!(word, "AND" | "OR" | "NOT" | "LIKE" | "LOWER"),
            "{word:?} is no column or keyword: {}",
            f.sql
        );
    }
}

fn check_error(e: &FilterError, expr: &str) {
    assert!(REASONS.contains(&e.reason), "{e:?}");
    assert!(!e.field.is_empty() && !e.message.is_empty(), "{e:?}");
    if e.reason == "FILTER_SYNTAX" {
        assert_eq!(e.field, "filter");
        // "at character N", N within the filter or just after its end.
        let at = e.message.split("at character ").nth(1).expect("a position");
        let n: usize = at.split(':').next().and_then(|n| n.parse().ok()).expect("a number");
        assert!(n >= 1 && n <= expr.chars().count() + 1, "{e:?} in {expr:?}");
    }
}

/// A text value written as a double-quoted filter string.
fn quoted(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else { return };

    // Timestamps and dates: what parses, written back out, parses to the same instant.
    if let Some(t) = parse_timestamp(expr) {
        let seconds = t.div_euclid(1_000_000) * 1_000_000;
        assert_eq!(parse_timestamp(&format_rfc3339(t)), Some(seconds), "{expr:?}");
    }
    if let Some((y, m, d)) = parse_date(expr) {
        assert_eq!(parse_date(&format_date(y, m, d)), Some((y, m, d)), "{expr:?}");
    }

    let first = 1 + data.first().map_or(0, |b| usize::from(b % 8));
    let result = compile(FIELDS, expr, 1);
    // The same text compiles the same way, wherever its placeholders start.
    let shifted = compile(FIELDS, expr, first);
    match (&result, &shifted) {
        (Ok(Some(a)), Ok(Some(b))) => {
            check_sql(a, 1);
            check_sql(b, first);
            assert_eq!(a.sql, renumber(&b.sql, first));
            assert_eq!(a.params, b.params);
        }
        (Ok(None), Ok(None)) => assert!(expr.trim().is_empty()),
        (Err(a), Err(b)) => {
            assert_eq!(a, b);
            check_error(a, expr);
        }
        _ => panic!("{expr:?}: {result:?} but {shifted:?} from ${first}"),
    }

    // Parentheses and NOT around a filter change its SQL as the grammar says (or hit the
    // nesting and length limits).
    if let Ok(Some(a)) = &result {
        let limit =
            |r: &Result<Option<CompiledFilter>, FilterError>| matches!(r, Err(e) if e.reason == "FILTER_TOO_COMPLEX");
        let wrapped = compile(FIELDS, &format!("({expr})"), 1);
        if !limit(&wrapped) {
            assert_eq!(wrapped.as_ref().ok().and_then(Option::as_ref), Some(a), "({expr})");
        }
        let negated = compile(FIELDS, &format!("NOT ({expr})"), 1);
        if !limit(&negated) {
            let n = negated.expect("NOT of a filter compiles").expect("not empty");
            assert_eq!(n.sql, format!("(NOT {})", a.sql));
            assert_eq!(n.params, a.params);
        }
    }

    // Any text as a quoted value reaches the parameter unchanged (and escaped for LIKE), but
    // for one holding a control character, which is refused as the value's fault.
    let q = quoted(expr);
    if q.chars().count() + "name = ".len() <= 2000
        && crm_kit::text::forbidden_control(expr, crm_kit::text::Lines::Single).is_some()
    {
        for written in [format!("name = {q}"), format!("name:{q}")] {
            match compile(FIELDS, &written, 1) {
                Err(e) if e.reason == "INVALID_VALUE" => {}
                other => panic!("{written:?}: a control character in a value gave {other:?}"),
            }
        }
    } else if q.chars().count() + "name = ".len() <= 2000 {
        let eq = compile(FIELDS, &format!("name = {q}"), 1)
            .expect("a quoted value compiles")
            .expect("not empty");
        assert_eq!(eq.params, [SqlValue::Text(expr.to_string())]);
        let like = compile(FIELDS, &format!("name:{q}"), 1)
            .expect("a quoted value compiles")
            .expect("not empty");
        assert_eq!(
            like.params,
            [SqlValue::Text(format!("%{}%", like_escape(&expr.to_lowercase())))]
        );
    }
});
