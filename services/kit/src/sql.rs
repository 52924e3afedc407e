//! SQL built piece by piece with positional parameters (`$1, $2...` on both backends): values
//! only ever travel as parameters, and compiled filters or scope predicates (which number their
//! placeholders from `$1`) are appended renumbered.

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, Arguments};

use crate::auth::ReadScope;
use crate::filter::{CompiledFilter, SqlValue};

/// SQL text with its positional parameters, built piece by piece.
#[derive(Debug, Default, Clone)]
pub struct SqlBuf {
    pub sql: String,
    pub params: Vec<SqlValue>,
    one_off: bool,
}

impl From<CompiledFilter> for SqlBuf {
    fn from(c: CompiledFilter) -> Self {
        SqlBuf {
            sql: c.sql,
            params: c.params,
            one_off: false,
        }
    }
}

impl SqlBuf {
    /// Starts a statement that is not a read (writes, and the pieces of a combined
    /// statement). A read starts from [`SqlBuf::read`], which carries the caller's scope.
    pub fn new(sql: &str) -> Self {
        debug_assert!(
            !sql.trim_start()
                .get(..6)
                .is_some_and(|w| w.eq_ignore_ascii_case("select")),
            "a read starts from SqlBuf::read with a ReadScope: {sql}"
        );
        SqlBuf {
            sql: sql.to_string(),
            params: Vec::new(),
            one_off: false,
        }
    }

    /// Starts a read: `select` (`SELECT ... FROM ...`, up to where `WHERE` would go) followed
    /// by `WHERE` and the rows `scope` allows, so the read's own conditions follow as
    /// `AND ...`.
    pub fn read(select: &str, scope: &ReadScope) -> Self {
        let mut q = SqlBuf {
            sql: String::with_capacity(select.len() + 64),
            params: Vec::new(),
            one_off: false,
        };
        q.sql.push_str(select);
        q.sql.push_str(" WHERE ");
        match scope.predicate() {
            Some(p) => {
                q.filter(p);
            }
            None => {
                q.sql.push_str("1 = 1");
            }
        }
        q
    }

    /// A read over the rows of several reads, each started from [`SqlBuf::read`] (so each
    /// carries its scope) and each may have its own `ORDER BY` and `LIMIT`:
    /// `SELECT * FROM (SELECT * FROM (read) r0 UNION ALL ...) alias`, to be followed by the
    /// whole's `ORDER BY` and `LIMIT`.
    pub fn union_all(reads: &[SqlBuf], alias: &str) -> SqlBuf {
        let mut q = SqlBuf {
            sql: String::from("SELECT * FROM ("),
            params: Vec::new(),
            one_off: reads.iter().any(|r| r.one_off),
        };
        for (i, r) in reads.iter().enumerate() {
            if i > 0 {
                q.sql.push_str(" UNION ALL ");
            }
            q.sql.push_str("SELECT * FROM (");
            q.push_renumbered(&r.sql, &r.params);
            q.sql.push_str(&format!(") r{i}"));
        }
        q.sql.push_str(&format!(") {alias}"));
        q
    }

    /// Appends text.
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.sql.push_str(s);
        self
    }

    /// Adds a parameter and returns its placeholder (`$n`).
    pub fn param(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        format!("${}", self.params.len())
    }

    /// Appends a text parameter's placeholder.
    pub fn text(&mut self, s: impl Into<String>) -> &mut Self {
        let p = self.param(SqlValue::Text(s.into()));
        self.sql.push_str(&p);
        self
    }

    /// Appends an integer parameter's placeholder.
    pub fn int(&mut self, n: i64) -> &mut Self {
        let p = self.param(SqlValue::Int(n));
        self.sql.push_str(&p);
        self
    }

    /// Appends `column IN (p1, p2, ...)`, or a condition that is never true for an empty list
    /// (SQL has no empty `IN` list, and `IN (NULL)` would hide that the list is empty).
    pub fn in_texts<'a>(&mut self, column: &str, items: impl IntoIterator<Item = &'a str>) -> &mut Self {
        self.membership(column, "IN", "1 = 0", items)
    }

    /// Appends `column NOT IN (p1, p2, ...)`, or a condition that is always true for an empty
    /// list (`NOT IN (NULL)` is never true: every row would drop out).
    pub fn not_in_texts<'a>(&mut self, column: &str, items: impl IntoIterator<Item = &'a str>) -> &mut Self {
        self.membership(column, "NOT IN", "1 = 1", items)
    }

    fn membership<'a>(
        &mut self,
        column: &str,
        op: &str,
        when_empty: &str,
        items: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        let mut items = items.into_iter().peekable();
        if items.peek().is_none() {
            self.sql.push_str(when_empty);
            return self;
        }
        self.sql.push_str(column);
        self.sql.push(' ');
        self.sql.push_str(op);
        self.sql.push_str(" (");
        for (i, s) in items.enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            let p = self.param(SqlValue::Text(s.to_string()));
            self.sql.push_str(&p);
        }
        self.sql.push(')');
        self
    }

    /// Appends a compiled filter, renumbering its placeholders after ours.
    pub fn filter(&mut self, compiled: &CompiledFilter) -> &mut Self {
        self.push_renumbered(&compiled.sql, &compiled.params)
    }

    /// Appends SQL whose placeholders count from `$1`, renumbered after ours. (Values only ever
    /// travel as parameters, so a `$n` in the text is always a placeholder.)
    pub fn push_renumbered(&mut self, sql: &str, params: &[SqlValue]) -> &mut Self {
        let offset = self.params.len();
        self.sql.reserve(sql.len() + params.len());
        // One pass: copy the text, shifting every `$n` by the parameters already here.
        let mut rest = sql;
        while let Some(at) = rest.find('$') {
            let (before, from_dollar) = rest.split_at(at);
            self.sql.push_str(before);
            let digits = from_dollar[1..].bytes().take_while(u8::is_ascii_digit).count();
            match from_dollar[1..=digits].parse::<usize>() {
                Ok(n) if digits > 0 => {
                    use std::fmt::Write as _;
                    let _ = write!(self.sql, "${}", n + offset);
                }
                _ => self.sql.push_str(&from_dollar[..=digits]),
            }
            rest = &from_dollar[1 + digits..];
        }
        self.sql.push_str(rest);
        self.params.extend(params.iter().cloned());
        self
    }

    /// Marks the statement as planned for its parameter values on every run instead of being
    /// prepared once and cached (PostgreSQL's generic plans cannot see selectivity in values).
    pub fn one_off(&mut self) -> &mut Self {
        self.one_off = true;
        self
    }

    fn arguments(&self) -> AnyArguments<'_> {
        arguments(&self.params)
    }

    /// A query with every parameter bound.
    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        sqlx::query_with(&self.sql, self.arguments()).persistent(!self.one_off)
    }

    /// A typed query with every parameter bound.
    pub fn query_as<T>(&self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_as_with(&self.sql, self.arguments()).persistent(!self.one_off)
    }

    /// A scalar query with every parameter bound.
    pub fn scalar<T>(&self) -> QueryScalar<'_, Any, T, AnyArguments<'_>>
    where
        (T,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_scalar_with(&self.sql, self.arguments()).persistent(!self.one_off)
    }
}

/// Adds one parameter to Any arguments (text, an integer or bytes: cannot fail).
fn add<'q>(args: &mut AnyArguments<'q>, p: &'q SqlValue) {
    let _ = match p {
        SqlValue::Text(s) => args.add(s.as_str()),
        SqlValue::Int(n) => args.add(*n),
        SqlValue::Bytes(b) => args.add(b.as_slice()),
    };
}

/// The Any arguments of `params`, for `sqlx::query_with` and friends.
pub fn arguments(params: &[SqlValue]) -> AnyArguments<'_> {
    let mut args = AnyArguments::default();
    for p in params {
        add(&mut args, p);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_are_never_and_always() {
        let mut q = SqlBuf::new("UPDATE t SET a = 1 WHERE ");
        q.in_texts("x", []).push(" AND ").not_in_texts("y", []);
        assert_eq!(q.sql, "UPDATE t SET a = 1 WHERE 1 = 0 AND 1 = 1");
        let mut q = SqlBuf::new("");
        q.in_texts("x", ["a", "b"]).push(" AND ").not_in_texts("y", ["c"]);
        assert_eq!(q.sql, "x IN ($1, $2) AND y NOT IN ($3)");
        assert_eq!(q.params.len(), 3);
    }

    #[test]
    fn reads_start_from_their_scope() {
        let q = SqlBuf::read("SELECT a FROM t", &ReadScope::everything("test"));
        assert_eq!(q.sql, "SELECT a FROM t WHERE 1 = 1");
    }

    #[test]
    fn renumbering_shifts_every_placeholder_once() {
        let mut q = SqlBuf::new("VALUES ");
        q.text("a").push(", ").int(2);
        let params: Vec<SqlValue> = (1..=11).map(SqlValue::Int).collect();
        q.push(" WHERE x IN ($1, $10, $11, $2) AND y = '$' AND z = $");
        let appended = q.sql.split_off("VALUES $1, $2".len());
        q.push_renumbered(&appended, &params);
        assert_eq!(
            q.sql,
            "VALUES $1, $2 WHERE x IN ($3, $12, $13, $4) AND y = '$' AND z = $"
        );
        assert_eq!(q.params.len(), 13);
    }
}

/// A multi-row insert for PostgreSQL as one statement with one parameter per column: each
/// column's values travel as the text literal of an array, unnested into rows and cast to the
/// column's type. However many rows, the SQL text is the same (one prepared statement, parsed
/// and planned once) and the parameters few, where a multi-row `VALUES` list binds every value
/// on its own and has a text of its own per row count.
#[derive(Debug, Clone)]
pub struct ArrayInsert {
    table: &'static str,
    /// Column name, SQL type, and the array literal so far.
    columns: Vec<(&'static str, &'static str, String)>,
    rows: usize,
}

impl ArrayInsert {
    /// An insert into `table` of `columns` (name, SQL type such as `TEXT`, `BIGINT` or
    /// `BIGINT[]`; a value of an array type is given as its own literal, e.g. `{1,2}`).
    pub fn new(table: &'static str, columns: &[(&'static str, &'static str)]) -> ArrayInsert {
        ArrayInsert {
            table,
            columns: columns.iter().map(|(n, t)| (*n, *t, String::from("{"))).collect(),
            rows: 0,
        }
    }

    /// Adds a row: one value per column, in text form (integers as decimals).
    pub fn row<S: AsRef<str>>(&mut self, values: &[S]) {
        assert_eq!(
            values.len(),
            self.columns.len(),
            "one value per column of {}",
            self.table
        );
        for ((_, _, literal), value) in self.columns.iter_mut().zip(values) {
            if self.rows > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in value.as_ref().chars() {
                if c == '"' || c == '\\' {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        self.rows += 1;
    }

    /// Rows added so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The statement: `INSERT INTO t (a, b) SELECT CAST(a AS T), ... FROM unnest($1, $2) AS u (a, b)`.
    pub fn statement(self) -> SqlBuf {
        let names: Vec<&str> = self.columns.iter().map(|(n, _, _)| *n).collect();
        let casts: Vec<String> = self
            .columns
            .iter()
            .map(|(n, t, _)| format!("CAST(u.{n} AS {t})"))
            .collect();
        let mut q = SqlBuf::new(&format!(
            "INSERT INTO {} ({}) SELECT {} FROM unnest(",
            self.table,
            names.join(", "),
            casts.join(", ")
        ));
        for (i, (_, _, mut literal)) in self.columns.into_iter().enumerate() {
            literal.push('}');
            if i > 0 {
                q.push(", ");
            }
            q.push("CAST(").text(literal).push(" AS TEXT[])");
        }
        q.push(") AS u (").push(&names.join(", ")).push(")");
        q
    }
}

#[cfg(test)]
mod array_insert_tests {
    use super::ArrayInsert;
    use crate::filter::SqlValue;

    #[test]
    fn values_are_quoted_and_escaped_in_one_literal_per_column() {
        let mut insert = ArrayInsert::new("t", &[("a", "TEXT"), ("n", "BIGINT")]);
        insert.row(&["x\"y\\z", "1"]);
        insert.row(&["", "2"]);
        let q = insert.statement();
        assert_eq!(
            q.sql,
            "INSERT INTO t (a, n) SELECT CAST(u.a AS TEXT), CAST(u.n AS BIGINT) FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[])) AS u (a, n)"
        );
        let texts: Vec<String> = q
            .params
            .iter()
            .map(|p| match p {
                SqlValue::Text(t) => t.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(texts, [r#"{"x\"y\\z",""}"#, r#"{"1","2"}"#]);
    }
}
