//! Stock reports: how fast each balance's stock moves (slow-moving and dead stock), and
//! products side by side across warehouses.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// The document kinds whose outbound is a sale or a use of stock (a transfer or a loan moves
/// it, a stocktake corrects it).
const CONSUMING: &str = "'delivery', 'repair_parts', 'material_issue', 'other_outbound', 'loan_sale'";

/// A balance with stock and how it moved.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MovementRow {
    pub warehouse_id: String,
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub unit: String,
    pub on_hand: i64,
    pub value: i64,
    /// Sold or used in the period.
    pub outbound: i64,
    /// The last sale or use (0: never).
    pub last_out: i64,
    /// The first time stock came onto its shelves.
    pub first_in: i64,
    pub class: String,
}

/// What decides a balance's class.
#[derive(Debug, Clone, Copy)]
pub struct MovementRule {
    /// The period's start (µs).
    pub since: i64,
    /// Nothing out since then (nor in, for stock that never left): dead (µs).
    pub dead_before: i64,
    /// Slow below this share of on hand (× 10^4).
    pub slow_ratio: i64,
}

/// A page of the balances with stock in `scope` (balances `b`) and how they moved, by
/// warehouse then product.
pub async fn movement(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
    rule: MovementRule,
) -> Result<Page<MovementRow>> {
    let MovementRule {
        since,
        dead_before,
        slow_ratio,
    } = rule;
    // Each figure is one range of the ledger's (warehouse, product, bucket, time) index.
    let out = |extra: &str, what: &str| {
        format!(
            "(SELECT {what} FROM ledger x WHERE x.warehouse_id = s.warehouse_id AND x.product_id = s.product_id \
             AND x.bucket IN ('stock', 'loan') AND x.leg = 'out' AND x.kind IN ({CONSUMING}){extra})"
        )
    };
    let inner = format!(
        "SELECT s.warehouse_id, s.product_id, p.code AS product_code, p.name AS product_name, p.unit, p.code_key, \
         s.on_hand, s.value, CAST(COALESCE({}, 0) AS BIGINT) AS outbound, CAST(COALESCE({}, 0) AS BIGINT) AS last_out, \
         CAST(COALESCE((SELECT MIN(y.posted_at) FROM ledger y WHERE y.warehouse_id = s.warehouse_id \
         AND y.product_id = s.product_id AND y.bucket = 'stock' AND y.quantity > 0), 0) AS BIGINT) AS first_in \
         FROM balances s JOIN products p ON p.id = s.product_id WHERE s.on_hand > 0",
        out(&format!(" AND x.posted_at >= {since}"), "SUM(-x.quantity)"),
        out("", "MAX(x.posted_at)"),
    );
    let select = format!(
        "SELECT b.warehouse_id, b.product_id, b.product_code, b.product_name, b.unit, b.on_hand, b.value, b.outbound, \
         b.last_out, b.first_in, b.class FROM (SELECT m.*, CASE WHEN (CASE WHEN m.last_out > 0 THEN m.last_out ELSE m.first_in END) < {dead_before} THEN 'dead' \
         WHEN m.outbound * 10000 < {slow_ratio} * m.on_hand THEN 'slow' ELSE 'moving' END AS class FROM ({inner}) m) b"
    );
    super::page(conn, &select, scope, filter, keyset, |r: &MovementRow| {
        Position::at(r.warehouse_id.clone(), &r.product_id)
    })
    .await
}

/// A product compared across warehouses.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ComparedProduct {
    pub id: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub code_key: String,
}

/// A page of the products any of `warehouse_ids` (already in the caller's scope) has or had
/// stock of, of the category at `under` when given, by code.
pub async fn compared_products(
    conn: &mut AnyConnection,
    warehouse_ids: &[String],
    under: Option<&str>,
    keyset: &Keyset<'_>,
) -> Result<Page<ComparedProduct>> {
    let mut q = SqlBuf::read(
        "SELECT p.id, p.code, p.name, p.unit, p.code_key FROM products p",
        &ReadScope::everything("the catalog is shared; the balances are of warehouses in the caller's scope"),
    );
    q.push(" AND EXISTS (SELECT 1 FROM balances b WHERE b.product_id = p.id AND ")
        .in_texts("b.warehouse_id", warehouse_ids.iter().map(String::as_str))
        .push(")");
    if let Some(path) = under {
        q.push(" AND p.category_path LIKE ")
            .text(format!("{}%", crm_kit::filter::like_escape(path)))
            .push(" ESCAPE '\\'");
    }
    keyset
        .fetch(conn, q, |p: &ComparedProduct| Position::at(p.code_key.clone(), &p.id))
        .await
}

/// The balances of `products` in `warehouse_ids` (both already in the caller's scope), as
/// (warehouse, product, on hand, reserved, value).
pub async fn compared_balances(
    conn: &mut AnyConnection,
    warehouse_ids: &[String],
    products: &[&str],
) -> Result<Vec<(String, String, i64, i64, i64)>> {
    if products.is_empty() || warehouse_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = SqlBuf::read(
        "SELECT b.warehouse_id, b.product_id, b.on_hand, b.reserved, b.value FROM balances b",
        &ReadScope::everything("balances of warehouses already checked to be in the caller's scope"),
    );
    q.push(" AND ")
        .in_texts("b.warehouse_id", warehouse_ids.iter().map(String::as_str))
        .push(" AND ")
        .in_texts("b.product_id", products.iter().copied());
    Ok(q.query_as().fetch_all(conn).await?)
}
