//! Stocktakes and their count sheets.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// A stored stocktake.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StocktakeRow {
    pub id: String,
    pub number: String,
    pub warehouse_id: String,
    pub category_id: String,
    pub status: String,
    pub remark: String,
    pub document_id: String,
    pub frozen_at: i64,
    pub posted_at: i64,
    pub posted_by: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
}

/// The columns of a [`StocktakeRow`] of stocktakes `b` (scoped like balances, by warehouse).
const COLUMNS: &str = "b.id, b.number, b.warehouse_id, b.category_id, b.status, b.remark, b.document_id, b.frozen_at, \
    b.posted_at, b.posted_by, b.created_at, b.created_by, b.updated_at, b.updated_by, b.version";

/// A line of a count sheet, with its product's code, name and unit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SheetRow {
    pub stocktake_id: String,
    pub warehouse_id: String,
    pub product_id: String,
    pub book_quantity: i64,
    pub counted: i64,
    pub counted_at: i64,
    pub counted_by: String,
    pub moved: i64,
    pub adjustment: i64,
    pub on_hand_after: i64,
    pub product_code: String,
    pub product_name: String,
    pub unit: String,
}

pub async fn insert(conn: &mut AnyConnection, s: &StocktakeRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO stocktakes ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        COLUMNS.replace("b.", "")
    ))
    .bind(&s.id)
    .bind(&s.number)
    .bind(&s.warehouse_id)
    .bind(&s.category_id)
    .bind(&s.status)
    .bind(&s.remark)
    .bind(&s.document_id)
    .bind(s.frozen_at)
    .bind(s.posted_at)
    .bind(&s.posted_by)
    .bind(s.created_at)
    .bind(&s.created_by)
    .bind(s.updated_at)
    .bind(&s.updated_by)
    .bind(s.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// Freezes the sheet: one line per product of `product_ids` (or, when empty, every product with
/// a balance in the warehouse, of the category path `under` when given) with its on-hand now.
/// Returns how many lines it froze, or the id of another open stocktake already counting one of
/// these products here.
pub async fn freeze(
    conn: &mut AnyConnection,
    stocktake_id: &str,
    warehouse_id: &str,
    product_ids: &[String],
    under: Option<&str>,
) -> Result<std::result::Result<u64, String>> {
    // The products of the sheet, as a condition on products `p` joined to their balance `b`.
    let candidates = |q: &mut SqlBuf| {
        if product_ids.is_empty() {
            // Serial and lot products are counted by their numbers, not on a sheet of totals.
            q.push("b.product_id IS NOT NULL AND p.tracking = 'none'");
            if let Some(path) = under {
                q.push(" AND p.category_path LIKE ")
                    .text(format!("{}%", crm_kit::filter::like_escape(path)))
                    .push(" ESCAPE '\\'");
            }
        } else {
            q.in_texts("p.id", product_ids.iter().map(String::as_str));
        }
    };
    // Another sheet counting one of them here.
    let mut q = SqlBuf::read(
        "SELECT l.stocktake_id FROM stocktake_lines l JOIN products p ON p.id = l.product_id \
         LEFT JOIN balances b ON b.product_id = p.id AND b.warehouse_id = l.warehouse_id",
        &ReadScope::everything("names the open stocktake of the caller's warehouse a new one collides with"),
    );
    q.push(" AND l.open = 1 AND l.warehouse_id = ")
        .text(warehouse_id)
        .push(" AND ");
    candidates(&mut q);
    q.push(" LIMIT 1");
    if let Some(other) = q.scalar::<String>().fetch_optional(&mut *conn).await? {
        return Ok(Err(other));
    }
    let mut q =
        SqlBuf::new("INSERT INTO stocktake_lines (stocktake_id, warehouse_id, product_id, book_quantity) SELECT ");
    q.push("CAST(")
        .text(stocktake_id)
        .push(" AS TEXT), CAST(")
        .text(warehouse_id)
        .push(" AS TEXT)");
    q.push(", p.id, COALESCE(b.on_hand, 0) FROM products p LEFT JOIN balances b ON b.product_id = p.id AND b.warehouse_id = ")
        .text(warehouse_id)
        .push(" WHERE ");
    candidates(&mut q);
    match q.query().execute(&mut *conn).await {
        Ok(r) => Ok(Ok(r.rows_affected())),
        // A sheet frozen at the same moment took one of them.
        Err(e) if crm_kit::errors::is_unique_violation(&e) => Ok(Err(String::new())),
        Err(e) => Err(e.into()),
    }
}

/// The stocktake `id` if it is in `scope`.
pub async fn visible(conn: &mut AnyConnection, scope: &ReadScope, id: &str) -> Result<Option<StocktakeRow>> {
    let mut q = SqlBuf::read(&format!("SELECT {COLUMNS} FROM stocktakes b"), scope);
    q.push(" AND b.id = ").text(id);
    Ok(q.query_as::<StocktakeRow>().fetch_optional(conn).await?)
}

/// A stocktake of a list, with how many lines its sheet has and how many are counted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedStocktake {
    #[sqlx(flatten)]
    pub stocktake: StocktakeRow,
    pub line_count: i64,
    pub counted_count: i64,
}

/// A page of stocktakes in `scope`, newest first.
pub async fn page(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<ListedStocktake>> {
    let select = format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM stocktake_lines l WHERE l.stocktake_id = b.id) AS line_count, \
         (SELECT COUNT(*) FROM stocktake_lines l WHERE l.stocktake_id = b.id AND l.counted_at > 0) AS counted_count \
         FROM stocktakes b"
    );
    super::page(conn, &select, scope, filter, keyset, |s: &ListedStocktake| {
        Position::at(s.stocktake.created_at, &s.stocktake.id)
    })
    .await
}

/// The sheet of a stocktake, by product code.
pub async fn sheet(conn: &mut AnyConnection, stocktake_id: &str) -> Result<Vec<SheetRow>> {
    Ok(sqlx::query_as(
        "SELECT l.stocktake_id, l.warehouse_id, l.product_id, l.book_quantity, l.counted, l.counted_at, l.counted_by, \
         l.moved, l.adjustment, l.on_hand_after, p.code AS product_code, p.name AS product_name, p.unit \
         FROM stocktake_lines l JOIN products p ON p.id = l.product_id WHERE l.stocktake_id = $1 ORDER BY p.code_key",
    )
    .bind(stocktake_id)
    .fetch_all(conn)
    .await?)
}

/// Records a count of a product on an open sheet; `false` when the product is not on it.
pub async fn count(
    conn: &mut AnyConnection,
    stocktake_id: &str,
    product_id: &str,
    counted: i64,
    at: i64,
    by: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE stocktake_lines SET counted = $1, counted_at = $2, counted_by = $3 \
         WHERE stocktake_id = $4 AND product_id = $5 AND open = 1",
    )
    .bind(counted)
    .bind(at)
    .bind(by)
    .bind(stocktake_id)
    .bind(product_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// What posting found for a line: moved since the freeze, the adjustment, on hand after.
pub async fn settle_line(
    conn: &mut AnyConnection,
    stocktake_id: &str,
    product_id: &str,
    moved: i64,
    adjustment: i64,
    on_hand_after: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE stocktake_lines SET moved = $1, adjustment = $2, on_hand_after = $3 \
         WHERE stocktake_id = $4 AND product_id = $5",
    )
    .bind(moved)
    .bind(adjustment)
    .bind(on_hand_after)
    .bind(stocktake_id)
    .bind(product_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves an open stocktake to `to` (posted or cancelled), closing its sheet; `false` when it
/// was no longer counting.
pub async fn close(conn: &mut AnyConnection, id: &str, to: &str, document_id: &str, at: i64, by: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE stocktakes SET status = $1, document_id = $2, posted_at = CASE WHEN $1 = 'posted' THEN $3 ELSE 0 END, \
         posted_by = CASE WHEN $1 = 'posted' THEN $4 ELSE '' END, updated_at = $3, updated_by = $4, \
         version = version + 1 WHERE id = $5 AND status = 'counting'",
    )
    .bind(to)
    .bind(document_id)
    .bind(at)
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE stocktake_lines SET open = 0 WHERE stocktake_id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(true)
}
