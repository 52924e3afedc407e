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

// The service's SQL lives here (clippy.toml disallows running it elsewhere).
#![allow(clippy::disallowed_methods)]

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
use crm_kit::listing::{Keyset, Order, Page, Position};
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

impl Listed {
    /// The list's order.
    pub fn order(&self) -> Order {
        Order::newest_first(self.alias)
    }
}

/// The page of `listed` that `keyset` asks for: rows in `scope` matching `filter`; `position`
/// gives a row's `(created_at, id)`.
pub async fn page<T>(
    conn: &mut AnyConnection,
    listed: &Listed,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
    position: impl Fn(&T) -> Position,
) -> Result<Page<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut q = SqlBuf::read(&listed.select, scope);
    q.push(" AND ").push(&listed.conditions);
    if let Some(f) = filter {
        q.push(" AND (").filter(f).push(")");
    }
    keyset.fetch(conn, q, position).await
}
