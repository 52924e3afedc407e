//! All SQL of the customers service. Functions take a connection (or a transaction's
//! connection) so that one command's writes, its history and its search-index rows commit
//! together.
//!
//! - [`customers`]: customer rows, duplicates, lists and keyset pages, soft delete, merge.
//! - [`search`]: the portable fuzzy-search index (hashed bigrams + verified substring).
//! - [`history`]: field-level changes and owner changes.
//! - [`ownership`]: owner guards, caps, cooldowns, locks, collaborators, reclaim candidates.
//! - [`catalog`]: categories, dictionaries, settings, saved filters.
//! - [`contacts`], [`follow_ups`]: the people at a customer and every contact with them.

pub mod catalog;
pub mod contacts;
pub mod customers;
pub mod follow_ups;
pub mod history;
pub mod ownership;
pub mod search;

use crm_kit::filter::SqlValue;
use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, AnyConnection, Arguments};

/// SQL text with its positional parameters, built piece by piece.
#[derive(Debug, Default, Clone)]
pub struct SqlBuf {
    pub sql: String,
    pub params: Vec<SqlValue>,
    one_off: bool,
}

impl From<crm_kit::filter::CompiledFilter> for SqlBuf {
    fn from(c: crm_kit::filter::CompiledFilter) -> Self {
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
    pub fn filter(&mut self, compiled: &crm_kit::filter::CompiledFilter) -> &mut Self {
        self.push_renumbered(&compiled.sql, &compiled.params)
    }

    /// Appends SQL whose placeholders count from `$1`, renumbered after ours. (Values only ever
    /// travel as parameters, so a `$n` in the text is always a placeholder.)
    fn push_renumbered(&mut self, sql: &str, params: &[SqlValue]) -> &mut Self {
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
        let mut args = AnyArguments::default();
        for p in &self.params {
            // Adding text, an integer or bytes to Any arguments cannot fail.
            let _ = match p {
                SqlValue::Text(s) => args.add(s.as_str()),
                SqlValue::Int(n) => args.add(*n),
                SqlValue::Bytes(b) => args.add(b.as_slice()),
            };
        }
        args
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

/// Runs writes that belong together. On PostgreSQL they go as one statement (all but the last
/// as data-modifying CTEs): one round trip, atomic without a transaction around it. On SQLite
/// they run one after another, so the caller holds them in a transaction.
pub async fn execute_together(conn: &mut AnyConnection, statements: &[SqlBuf]) -> Result<(), sqlx::Error> {
    if crm_kit::db::backend(conn) == crm_kit::db::Backend::Sqlite || statements.len() < 2 {
        for statement in statements {
            statement.query().execute(&mut *conn).await?;
        }
        return Ok(());
    }
    let mut combined = SqlBuf::new("WITH ");
    let (last, rest) = statements.split_last().expect("at least two statements");
    for (i, statement) in rest.iter().enumerate() {
        if i > 0 {
            combined.push(", ");
        }
        combined.push(&format!("w{i} AS ("));
        combined.push_renumbered(&statement.sql, &statement.params);
        combined.push(")");
    }
    combined.push(" ");
    combined.push_renumbered(&last.sql, &last.params);
    combined.query().execute(conn).await?;
    Ok(())
}

/// Runs writes that belong together only if `guard` (a boolean SQL condition) holds, and says
/// whether it held. PostgreSQL only: one statement whose first CTE evaluates the guard and whose
/// inserts take their rows from `VALUES` only when it held, so the check and the writes are one
/// round trip. Every statement must be a plain `INSERT INTO t (columns) VALUES (...), ...`.
pub async fn execute_guarded(
    conn: &mut AnyConnection,
    guard: &SqlBuf,
    statements: &[SqlBuf],
) -> Result<bool, sqlx::Error> {
    debug_assert_eq!(crm_kit::db::backend(conn), crm_kit::db::Backend::Postgres);
    let mut combined = SqlBuf::new("WITH g AS (SELECT 1 AS ok WHERE ");
    combined.push_renumbered(&guard.sql, &guard.params);
    combined.push(")");
    for (i, statement) in statements.iter().enumerate() {
        let (insert, rows) = statement
            .sql
            .split_once(" VALUES ")
            .expect("a guarded write is INSERT ... VALUES");
        debug_assert!(insert.starts_with("INSERT INTO ") && !rows.contains(" ON CONFLICT"));
        combined.push(&format!(", w{i} AS ("));
        combined.push_renumbered(
            &format!("{insert} SELECT * FROM (VALUES {rows}) AS v WHERE EXISTS (SELECT 1 FROM g)"),
            &statement.params,
        );
        combined.push(")");
    }
    combined.push(" SELECT CAST(COUNT(*) AS BIGINT) FROM g");
    let held: i64 = combined.scalar().fetch_one(conn).await?;
    Ok(held > 0)
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
