//! Loans and samples: each line of a loan document, what came back and what was sold.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// A stored loan line, with its document's number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoanRow {
    pub id: String,
    pub document_id: String,
    pub line_no: i64,
    pub warehouse_id: String,
    pub product_id: String,
    pub counterparty_kind: String,
    pub counterparty_id: String,
    pub sample: i64,
    pub quantity: i64,
    pub returned: i64,
    pub sold: i64,
    pub value_out: i64,
    pub due_date: String,
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// The columns of a [`LoanRow`] of loans `b` (scoped like balances, by warehouse).
const COLUMNS: &str = "b.id, b.document_id, b.line_no, b.warehouse_id, b.product_id, b.counterparty_kind, \
    b.counterparty_id, b.sample, b.quantity, b.returned, b.sold, b.value_out, b.due_date, b.status, b.created_at, \
    b.created_by, b.updated_at, b.updated_by";

/// A loan with its document's number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedLoan {
    #[sqlx(flatten)]
    pub loan: LoanRow,
    pub document_number: String,
    /// The lot lent (lot-tracked products).
    pub lot: String,
}

pub async fn insert(conn: &mut AnyConnection, rows: &[LoanRow]) -> Result<()> {
    for r in rows {
        sqlx::query(&format!(
            "INSERT INTO loans ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            COLUMNS.replace("b.", "")
        ))
        .bind(&r.id)
        .bind(&r.document_id)
        .bind(r.line_no)
        .bind(&r.warehouse_id)
        .bind(&r.product_id)
        .bind(&r.counterparty_kind)
        .bind(&r.counterparty_id)
        .bind(r.sample)
        .bind(r.quantity)
        .bind(r.returned)
        .bind(r.sold)
        .bind(r.value_out)
        .bind(&r.due_date)
        .bind(&r.status)
        .bind(r.created_at)
        .bind(&r.created_by)
        .bind(r.updated_at)
        .bind(&r.updated_by)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

const LISTED: &str = "SELECT b.id, b.document_id, b.line_no, b.warehouse_id, b.product_id, b.counterparty_kind, \
    b.counterparty_id, b.sample, b.quantity, b.returned, b.sold, b.value_out, b.due_date, b.status, b.created_at, \
    b.created_by, b.updated_at, b.updated_by, d.number AS document_number, dl.lot FROM loans b \
    JOIN documents d ON d.id = b.document_id JOIN document_lines dl ON dl.document_id = b.document_id AND dl.line_no = b.line_no";

/// The loan `id` if it is in `scope`.
pub async fn visible(conn: &mut AnyConnection, scope: &ReadScope, id: &str) -> Result<Option<ListedLoan>> {
    let mut q = SqlBuf::read(LISTED, scope);
    q.push(" AND b.id = ").text(id);
    Ok(q.query_as::<ListedLoan>().fetch_optional(conn).await?)
}

/// A page of loans in `scope`, newest first.
pub async fn page(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<ListedLoan>> {
    super::page(conn, LISTED, scope, filter, keyset, |r: &ListedLoan| {
        Position::at(r.loan.created_at, &r.loan.id)
    })
    .await
}

/// Settles `quantity` of an open loan (returned, or sold when `sold`), only while that much is
/// out; returns it as it became (its `value_out` not yet reduced).
pub async fn settle(
    conn: &mut AnyConnection,
    id: &str,
    quantity: i64,
    sold: bool,
    now: i64,
    by: &str,
) -> Result<Option<LoanRow>> {
    let column = if sold { "sold" } else { "returned" };
    Ok(sqlx::query_as(&format!(
        "UPDATE loans SET {column} = {column} + $1, \
         status = CASE WHEN returned + sold + $1 = quantity THEN 'closed' ELSE status END, \
         updated_at = $2, updated_by = $3 \
         WHERE id = $4 AND status = 'open' AND quantity - returned - sold >= $1 RETURNING {}",
        COLUMNS.replace("b.", "")
    ))
    .bind(quantity)
    .bind(now)
    .bind(by)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Sets the value still out of a loan (after a settlement computed it from the locked row).
pub async fn set_value_out(conn: &mut AnyConnection, id: &str, value_out: i64) -> Result<()> {
    sqlx::query("UPDATE loans SET value_out = $1 WHERE id = $2")
        .bind(value_out)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
