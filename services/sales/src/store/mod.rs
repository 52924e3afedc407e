//! All SQL of the sales service. Functions take a connection or a transaction's connection,
//! so a command's writes (and its outbox or idempotency rows) commit together.
//!
//! - [`leads`]: leads, the lead pool, lead follow-ups.
//! - [`capture`]: web forms, the assignment rules and their assignees.
//! - [`pipelines`]: pipelines and their stages.
//! - [`opportunities`]: opportunities, their stage visits and activities.
//! - [`projects`]: projects and their maintenance records.
//! - [`reports`]: quotas, the report aggregates, weekly forecast snapshots.
//! - [`imports`]: how far a lead import has written its file.
//! - [`handover`]: what identity's handovers and moves change here.

pub mod capture;
pub mod handover;
pub mod imports;
pub mod leads;
pub mod opportunities;
pub mod pipelines;
pub mod projects;
pub mod reports;

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// Runs a built SELECT of rows of `T`.
pub async fn fetch<T>(conn: &mut AnyConnection, q: &SqlBuf) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    Ok(q.query_as::<T>().fetch_all(conn).await?)
}

/// The rows of a list, newest first by `{alias}.created_at DESC, {alias}.id DESC`.
#[derive(Debug, Clone)]
pub struct Listed {
    /// `SELECT ... FROM ...`, up to where `WHERE` would go.
    pub select: String,
    /// The list's own conditions (`1 = 1` for none).
    pub conditions: String,
    /// The table alias holding `created_at` and `id`.
    pub alias: &'static str,
}

/// One page of `listed`: at most `limit` rows in `scope` matching `filter`, after the row
/// whose `(created_at, id)` is `after`.
pub async fn newest_first<T>(
    conn: &mut AnyConnection,
    listed: &Listed,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    after: Option<(i64, String)>,
    limit: u64,
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let a = listed.alias;
    let mut q = SqlBuf::read(&listed.select, scope);
    q.push(" AND ").push(&listed.conditions);
    if let Some(f) = filter {
        q.push(" AND (").filter(f).push(")");
    }
    // A row comparison, which both databases turn into one index range (the equivalent
    // `a < x OR (a = x AND b < y)` makes PostgreSQL filter every row before the page).
    if let Some((at, id)) = after {
        q.push(&format!(" AND ({a}.created_at, {a}.id) < (")).int(at);
        q.push(", ").text(id).push(")");
    }
    q.push(&format!(" ORDER BY {a}.created_at DESC, {a}.id DESC LIMIT {limit}"));
    fetch(conn, &q).await
}
