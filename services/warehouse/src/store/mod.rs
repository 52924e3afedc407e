//! All SQL of the warehouse service. Functions take a connection or a transaction's
//! connection, so a posting's ledger lines, balances, document status and outbox rows commit
//! together.
//!
//! - [`catalog`]: categories and products, product search.
//! - [`warehouses`]: warehouses and keepers.
//! - [`documents`]: stock documents and their lines.
//! - [`loans`]: loans and samples, per line, until returned or sold.
//! - [`prices`]: price lists, their customers and prices, the price a customer pays.
//! - [`reports`]: how fast stock moves, products across warehouses.
//! - [`stock`]: balances (changed by conditional updates only), the append-only ledger,
//!   reservations, stock levels, values as of a time, the audit.
//! - [`stocktakes`]: stocktakes and their count sheets.
//! - [`tracking`]: serial numbers (each in one place) and lots.

// The service's SQL lives here (clippy.toml disallows running it elsewhere).
#![allow(clippy::disallowed_methods)]

pub mod catalog;
pub mod documents;
pub mod loans;
pub mod prices;
pub mod reports;
pub mod stock;
pub mod stocktakes;
pub mod tracking;
pub mod warehouses;

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// The page `keyset` asks for of the read `select` (`SELECT ... FROM ...`, up to where `WHERE`
/// would go): the rows in `scope` matching `filter`; `position` gives a row's place in the
/// list's order. Every list of the service is read through it.
pub async fn page<T>(
    conn: &mut AnyConnection,
    select: &str,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
    position: impl Fn(&T) -> Position,
) -> Result<Page<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut q = SqlBuf::read(select, scope);
    if let Some(f) = filter {
        q.push(" AND (").filter(f).push(")");
    }
    keyset.fetch(conn, q, position).await
}
