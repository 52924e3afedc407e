//! All SQL of the customers service. Functions take a connection (or a transaction's
//! connection) so that one command's writes, its history and its search-index rows commit
//! together.
//!
//! - [`customers`]: customer rows, duplicates, lists and keyset pages, soft delete, merge.
//! - [`export`]: the CSV export's streamed read.
//! - [`search`]: the portable fuzzy-search index (hashed bigrams + verified substring).
//! - [`rekey`]: rebuilds derived keys (name keys, E.164 phones, search) when their rules change.
//! - [`history`]: field-level changes and owner changes.
//! - [`handover`]: the customers identity's handovers and employee moves carry along.
//! - [`imports`]: import jobs (progress and cancellation of an import).
//! - [`ownership`]: owner guards, caps, cooldowns, locks, collaborators, reclaim candidates.
//! - [`catalog`]: categories, dictionaries, settings, saved filters.
//! - [`contacts`], [`follow_ups`]: the people at a customer and every contact with them.
//! - [`reminders`]: birthdays and due follow-ups, paged.

// The service's SQL lives here (clippy.toml disallows running it elsewhere).
#![allow(clippy::disallowed_methods)]

pub mod catalog;
pub mod contacts;
pub mod customers;
pub mod export;
pub mod follow_ups;
pub mod handover;
pub mod history;
pub mod imports;
pub mod ownership;
pub mod rekey;
pub mod reminders;
pub mod search;

use sqlx::AnyConnection;

pub use crm_kit::sql::SqlBuf;

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
/// `prelude` (common table expressions, e.g. the kit's owner guard) comes first, and `guard`
/// may name its tables.
pub async fn execute_guarded(
    conn: &mut AnyConnection,
    prelude: Option<&SqlBuf>,
    guard: &SqlBuf,
    statements: &[SqlBuf],
) -> Result<bool, sqlx::Error> {
    debug_assert_eq!(crm_kit::db::backend(conn), crm_kit::db::Backend::Postgres);
    let mut combined = SqlBuf::new("WITH ");
    if let Some(prelude) = prelude {
        combined.push_renumbered(&prelude.sql, &prelude.params).push(", ");
    }
    combined.push("g AS (SELECT 1 AS ok WHERE ");
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
