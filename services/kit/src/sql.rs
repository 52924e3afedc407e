//! SQL built piece by piece with positional parameters (`$1, $2...` on both backends): values
//! only ever travel as parameters, and compiled filters or scope predicates (which number their
//! placeholders from `$1`) are appended renumbered.

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, Arguments};

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
    /// Starts with `sql`.
    pub fn new(sql: &str) -> Self {
        SqlBuf {
            sql: sql.to_string(),
            params: Vec::new(),
            one_off: false,
        }
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

    /// Appends `(p1, p2, ...)` for a list of texts.
    pub fn text_list<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) -> &mut Self {
        self.sql.push('(');
        let mut first = true;
        for s in items {
            if !first {
                self.sql.push_str(", ");
            }
            first = false;
            let p = self.param(SqlValue::Text(s.to_string()));
            self.sql.push_str(&p);
        }
        if first {
            // An empty IN list is a syntax error; a NULL never matches.
            self.sql.push_str("NULL");
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
    fn renumbering_shifts_every_placeholder_once() {
        let mut q = SqlBuf::new("SELECT ");
        q.text("a").push(", ").int(2);
        let params: Vec<SqlValue> = (1..=11).map(SqlValue::Int).collect();
        q.push(" WHERE x IN ($1, $10, $11, $2) AND y = '$' AND z = $");
        let appended = q.sql.split_off("SELECT $1, $2".len());
        q.push_renumbered(&appended, &params);
        assert_eq!(
            q.sql,
            "SELECT $1, $2 WHERE x IN ($3, $12, $13, $4) AND y = '$' AND z = $"
        );
        assert_eq!(q.params.len(), 13);
    }
}
