//! Balances, the ledger and reservations. A balance changes only here, by conditional updates
//! that decide in the database whether there is enough (never by a read before the write), and
//! each change returns the row as it became so its ledger line records what it led to.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// A balance: a warehouse's stock of a product.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct BalanceRow {
    pub warehouse_id: String,
    pub product_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub value: i64,
    pub transit_quantity: i64,
    pub transit_value: i64,
    pub loan_quantity: i64,
    pub loan_value: i64,
    pub last_unit_cost: i64,
    pub safety_min: i64,
    pub safety_max: i64,
    pub seq: i64,
    pub updated_at: i64,
}

const BALANCE_COLUMNS: &str = "warehouse_id, product_id, on_hand, reserved, value, transit_quantity, transit_value, \
    loan_quantity, loan_value, last_unit_cost, safety_min, safety_max, seq, updated_at";

/// Makes sure a balance row exists for each (warehouse, product) pair.
pub async fn ensure(conn: &mut AnyConnection, pairs: &[(String, String)]) -> Result<()> {
    for chunk in pairs.chunks(400) {
        let mut q = SqlBuf::new("INSERT INTO balances (warehouse_id, product_id) VALUES ");
        for (i, (w, p)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").text(w.clone()).push(", ").text(p.clone()).push(")");
        }
        q.push(" ON CONFLICT (warehouse_id, product_id) DO NOTHING");
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Locks the balances of `pairs` (sorted) in that order on PostgreSQL, so postings that touch
/// the same balances queue in one order and never deadlock. SQLite has one writer at a time:
/// nothing to do there.
pub async fn lock(conn: &mut AnyConnection, pairs: &[(String, String)]) -> Result<()> {
    if crm_kit::db::backend(conn) != crm_kit::db::Backend::Postgres {
        return Ok(());
    }
    for chunk in pairs.chunks(400) {
        let mut q = SqlBuf::read(
            "SELECT 1 FROM balances b",
            &ReadScope::everything("locks the balances a posting already checked the scope of"),
        );
        q.push(" AND (b.warehouse_id, b.product_id) IN (");
        for (i, (w, p)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").text(w.clone()).push(", ").text(p.clone()).push(")");
        }
        q.push(") ORDER BY b.warehouse_id, b.product_id FOR UPDATE");
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// One balance, as it is now.
pub async fn balance(conn: &mut AnyConnection, warehouse_id: &str, product_id: &str) -> Result<Option<BalanceRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {BALANCE_COLUMNS} FROM balances WHERE warehouse_id = $1 AND product_id = $2"
    ))
    .bind(warehouse_id)
    .bind(product_id)
    .fetch_optional(conn)
    .await?)
}

/// How a change of a balance is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Unreserved stock: only while `on_hand - reserved >= quantity`.
    Available,
    /// Stock held by a reservation: `reserved` goes down with `on_hand`.
    Reserved,
    /// Anything, into negative stock (a warehouse that allows it).
    Negative,
}

/// The part of an update that stamps the row: one more change, and a time that never goes
/// back (`$1` the caller's clock).
const STAMP: &str = "seq = seq + 1, updated_at = CASE WHEN updated_at > $1 THEN updated_at ELSE $1 END";

/// Takes `quantity` off the shelves of a balance if `take` allows, returning the row as it
/// became; `None` (nothing changed) when there is not enough.
pub async fn take(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    quantity: i64,
    take: Take,
    now: i64,
) -> Result<Option<BalanceRow>> {
    let (set, condition) = match take {
        Take::Available => ("on_hand = on_hand - $2", " AND on_hand - reserved >= $2"),
        Take::Reserved => (
            "on_hand = on_hand - $2, reserved = reserved - $2",
            " AND on_hand >= $2 AND reserved >= $2",
        ),
        Take::Negative => ("on_hand = on_hand - $2", ""),
    };
    Ok(sqlx::query_as(&format!(
        "UPDATE balances SET {set}, {STAMP} WHERE warehouse_id = $3 AND product_id = $4{condition} \
         RETURNING {BALANCE_COLUMNS}"
    ))
    .bind(now)
    .bind(quantity)
    .bind(warehouse_id)
    .bind(product_id)
    .fetch_optional(conn)
    .await?)
}

/// Takes many products' quantities off the shelves of one warehouse in one statement, each
/// only while `on_hand - reserved` holds it (or into negative stock when `negative`): the rows
/// as they became, one per product that had enough (a product missing from them had not, and
/// the caller's transaction rolls back). Each product at most once.
pub async fn take_many(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    quantities: &[(&str, i64)],
    negative: bool,
    now: i64,
) -> Result<Vec<BalanceRow>> {
    let mut rows = Vec::with_capacity(quantities.len());
    // Two values a row as a UNION of SELECTs (SQLite names no columns of a VALUES list and
    // allows 500 terms).
    for chunk in quantities.chunks(400) {
        let mut q = SqlBuf::new(
            "UPDATE balances SET on_hand = on_hand - v.take_quantity, seq = seq + 1, updated_at = CASE WHEN updated_at > ",
        );
        q.int(now).push(" THEN updated_at ELSE ").int(now).push(" END FROM (");
        for (i, (product_id, quantity)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT CAST(")
                .text(*product_id)
                .push(" AS TEXT) AS take_product, CAST(")
                .int(*quantity)
                .push(" AS BIGINT) AS take_quantity");
        }
        q.push(") AS v WHERE balances.warehouse_id = ")
            .text(warehouse_id)
            .push(" AND balances.product_id = v.take_product");
        if !negative {
            q.push(" AND balances.on_hand - balances.reserved >= v.take_quantity");
        }
        q.push(&format!(" RETURNING {BALANCE_COLUMNS}"));
        rows.extend(q.query_as::<BalanceRow>().fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// Puts `quantity` worth `value` on the shelves, returning the row as it became.
pub async fn put(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    quantity: i64,
    value: i64,
    now: i64,
) -> Result<BalanceRow> {
    Ok(sqlx::query_as(&format!(
        "UPDATE balances SET on_hand = on_hand + $2, value = value + $3, {STAMP} \
         WHERE warehouse_id = $4 AND product_id = $5 RETURNING {BALANCE_COLUMNS}"
    ))
    .bind(now)
    .bind(quantity)
    .bind(value)
    .bind(warehouse_id)
    .bind(product_id)
    .fetch_one(conn)
    .await?)
}

/// Sets the value on the shelves and the cost remembered for negative stock (after a change
/// whose value was computed from the row it returned, which the change holds locked).
pub async fn set_value(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    value: i64,
    last_unit_cost: i64,
) -> Result<()> {
    sqlx::query("UPDATE balances SET value = $1, last_unit_cost = $2 WHERE warehouse_id = $3 AND product_id = $4")
        .bind(value)
        .bind(last_unit_cost)
        .bind(warehouse_id)
        .bind(product_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the values and remembered costs of many balances at once: (warehouse, product, value,
/// last unit cost), each balance once (an outbound document's, after its lines).
pub async fn set_values(conn: &mut AnyConnection, rows: &[(String, String, i64, i64)]) -> Result<()> {
    // Four values a row: 400 rows a statement.
    for chunk in rows.chunks(400) {
        // Rows as a UNION of SELECTs (SQLite names no columns of a VALUES list).
        let mut q = SqlBuf::new("UPDATE balances SET value = v.value, last_unit_cost = v.last_unit_cost FROM (");
        for (i, (w, p, value, last)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT CAST(")
                .text(w.clone())
                .push(" AS TEXT) AS warehouse_id, CAST(")
                .text(p.clone())
                .push(" AS TEXT) AS product_id, CAST(")
                .int(*value)
                .push(" AS BIGINT) AS value, CAST(")
                .int(*last)
                .push(" AS BIGINT) AS last_unit_cost");
        }
        q.push(") AS v WHERE balances.warehouse_id = v.warehouse_id AND balances.product_id = v.product_id");
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds `quantity` worth `value` to what is on its way to a warehouse (negative: takes it, only
/// while there is that much in transit), returning the row as it became.
pub async fn move_transit(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    quantity: i64,
    value: i64,
    now: i64,
) -> Result<Option<BalanceRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE balances SET transit_quantity = transit_quantity + $2, transit_value = transit_value + $3, {STAMP} \
         WHERE warehouse_id = $4 AND product_id = $5 AND transit_quantity + $2 >= 0 RETURNING {BALANCE_COLUMNS}"
    ))
    .bind(now)
    .bind(quantity)
    .bind(value)
    .bind(warehouse_id)
    .bind(product_id)
    .fetch_optional(conn)
    .await?)
}

/// Adds `quantity` worth `value` to what is lent out of a warehouse (negative: takes it back,
/// only while that much is out), returning the row as it became.
pub async fn move_loan(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    quantity: i64,
    value: i64,
    now: i64,
) -> Result<Option<BalanceRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE balances SET loan_quantity = loan_quantity + $2, loan_value = loan_value + $3, {STAMP} \
         WHERE warehouse_id = $4 AND product_id = $5 AND loan_quantity + $2 >= 0 RETURNING {BALANCE_COLUMNS}"
    ))
    .bind(now)
    .bind(quantity)
    .bind(value)
    .bind(warehouse_id)
    .bind(product_id)
    .fetch_optional(conn)
    .await?)
}

/// Holds `quantity` of a balance for a reservation, only while `on_hand - reserved >= quantity`;
/// `None` (nothing changed) when there is not enough.
pub async fn reserve(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    quantity: i64,
    now: i64,
) -> Result<Option<BalanceRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE balances SET reserved = reserved + $2, {STAMP} \
         WHERE warehouse_id = $3 AND product_id = $4 AND on_hand - reserved >= $2 RETURNING {BALANCE_COLUMNS}"
    ))
    .bind(now)
    .bind(quantity)
    .bind(warehouse_id)
    .bind(product_id)
    .fetch_optional(conn)
    .await?)
}

/// Gives back `quantity` of a balance's reserved stock.
pub async fn unreserve(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    quantity: i64,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query(&format!(
        "UPDATE balances SET reserved = reserved - $2, {STAMP} \
         WHERE warehouse_id = $3 AND product_id = $4 AND reserved >= $2"
    ))
    .bind(now)
    .bind(quantity)
    .bind(warehouse_id)
    .bind(product_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets a balance's safety minimum and maximum.
pub async fn set_safety(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    minimum: i64,
    maximum: i64,
) -> Result<()> {
    sqlx::query("UPDATE balances SET safety_min = $1, safety_max = $2 WHERE warehouse_id = $3 AND product_id = $4")
        .bind(minimum)
        .bind(maximum)
        .bind(warehouse_id)
        .bind(product_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One ledger line.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerRow {
    pub id: String,
    pub document_id: String,
    pub line_no: i64,
    pub leg: String,
    pub kind: String,
    pub warehouse_id: String,
    pub product_id: String,
    pub bucket: String,
    pub quantity: i64,
    pub value: i64,
    pub unit_cost: i64,
    pub quantity_after: i64,
    pub value_after: i64,
    pub balance_seq: i64,
    pub posted_at: i64,
    pub posted_by: String,
}

const LEDGER_COLUMNS: &str = "id, document_id, line_no, leg, kind, warehouse_id, product_id, bucket, quantity, value, \
    unit_cost, quantity_after, value_after, balance_seq, posted_at, posted_by";

/// Appends ledger lines. The ledger is never updated or deleted from: this is the only write
/// to it. A leg written twice is a unique violation that rolls the posting back.
pub async fn append(conn: &mut AnyConnection, lines: &[LedgerRow]) -> Result<()> {
    // Sixteen columns a row: 100 rows a statement.
    for chunk in lines.chunks(100) {
        let mut q = SqlBuf::new(&format!("INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES "));
        for (i, l) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .text(l.id.clone())
                .push(", ")
                .text(l.document_id.clone())
                .push(", ")
                .int(l.line_no)
                .push(", ")
                .text(l.leg.clone())
                .push(", ")
                .text(l.kind.clone())
                .push(", ")
                .text(l.warehouse_id.clone())
                .push(", ")
                .text(l.product_id.clone())
                .push(", ")
                .text(l.bucket.clone())
                .push(", ")
                .int(l.quantity)
                .push(", ")
                .int(l.value)
                .push(", ")
                .int(l.unit_cost)
                .push(", ")
                .int(l.quantity_after)
                .push(", ")
                .int(l.value_after)
                .push(", ")
                .int(l.balance_seq)
                .push(", ")
                .int(l.posted_at)
                .push(", ")
                .text(l.posted_by.clone())
                .push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The ledger lines of a document, in line and leg order.
pub async fn document_lines(conn: &mut AnyConnection, document_id: &str) -> Result<Vec<LedgerRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LEDGER_COLUMNS} FROM ledger WHERE document_id = $1 ORDER BY line_no, posted_at, balance_seq"
    ))
    .bind(document_id)
    .fetch_all(conn)
    .await?)
}

/// A ledger line with its document's number, for the journal.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JournalRow {
    #[sqlx(flatten)]
    pub line: LedgerRow,
    pub document_number: String,
}

/// A page of the journal in `scope` (ledger lines `l`), newest first.
pub async fn journal(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<JournalRow>> {
    let columns: Vec<String> = LEDGER_COLUMNS.split(", ").map(|c| format!("l.{c}")).collect();
    let select = format!(
        "SELECT {}, d.number AS document_number FROM ledger l JOIN documents d ON d.id = l.document_id",
        columns.join(", ")
    );
    super::page(conn, &select, scope, filter, keyset, |r: &JournalRow| {
        Position::at(r.line.posted_at, &r.line.id)
    })
    .await
}

/// A stock level: a balance with its product's code, name and unit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LevelRow {
    #[sqlx(flatten)]
    pub balance: BalanceRow,
    pub product_code: String,
    pub product_name: String,
    pub unit: String,
}

const LEVEL_SELECT: &str = "SELECT b.warehouse_id, b.product_id, b.on_hand, b.reserved, b.value, b.transit_quantity, \
    b.transit_value, b.loan_quantity, b.loan_value, b.last_unit_cost, b.safety_min, b.safety_max, b.seq, b.updated_at, p.code AS product_code, \
    p.name AS product_name, p.unit FROM balances b JOIN products p ON p.id = b.product_id";

/// One stock level in `scope`.
pub async fn level(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    warehouse_id: &str,
    product_id: &str,
) -> Result<Option<LevelRow>> {
    let mut q = SqlBuf::read(LEVEL_SELECT, scope);
    q.push(" AND b.warehouse_id = ")
        .text(warehouse_id)
        .push(" AND b.product_id = ")
        .text(product_id);
    Ok(q.query_as::<LevelRow>().fetch_optional(conn).await?)
}

/// A page of stock levels in `scope`, by warehouse then product.
pub async fn levels(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<LevelRow>> {
    super::page(conn, LEVEL_SELECT, scope, filter, keyset, |r: &LevelRow| {
        Position::at(r.balance.warehouse_id.clone(), &r.balance.product_id)
    })
    .await
}

/// Microseconds in a day.
pub const DAY: i64 = 86_400_000_000;

/// The value held per warehouse in `scope`: (warehouse, stock, in-transit and on-loan value), now
/// (from the balances) or as of `as_of`: the sums of the closed days before it (see
/// [`sum_closed_days`]) and of the ledger lines from the first day not summed up to it.
pub async fn values(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    warehouse_id: &str,
    as_of: Option<i64>,
) -> Result<Vec<(String, i64, i64, i64)>> {
    let select = match as_of {
        None => "SELECT b.warehouse_id, CAST(SUM(b.value) AS BIGINT) AS stock_value, CAST(SUM(b.transit_value) AS BIGINT) AS transit_value, \
                 CAST(SUM(b.loan_value) AS BIGINT) AS loan_value FROM balances b"
            .to_string(),
        Some(at) => {
            let summed: i64 = sqlx::query_scalar("SELECT next_day FROM value_days_summed WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?;
            // The days wholly before `at` that are summed; the lines after them, up to `at`.
            let day = at.div_euclid(DAY).min(summed);
            let bucket = |name: &str| {
                format!("CAST(SUM(CASE WHEN b.bucket = '{name}' THEN b.value ELSE 0 END) AS BIGINT)")
            };
            format!(
                "SELECT b.warehouse_id, {} AS stock_value, {} AS transit_value, {} AS loan_value FROM \
                 (SELECT d.warehouse_id, d.bucket, d.value FROM value_days d WHERE d.day < {day} \
                 UNION ALL SELECT l.warehouse_id, l.bucket, l.value FROM ledger l \
                 WHERE l.posted_at >= {} AND l.posted_at <= {at}) b",
                bucket("stock"),
                bucket("transit"),
                bucket("loan"),
                day * DAY
            )
        }
    };
    let mut q = SqlBuf::read(&select, scope);
    if !warehouse_id.is_empty() {
        q.push(" AND b.warehouse_id = ").text(warehouse_id);
    }
    q.push(" GROUP BY b.warehouse_id ORDER BY b.warehouse_id");
    Ok(q.query_as::<(String, i64, i64, i64)>().fetch_all(conn).await?)
}

/// How long after its end a day is closed: no posting still running can put a line into it
/// (a line's time is its posting's clock, at most this much before it commits).
pub const DAY_CLOSES_AFTER: i64 = 3_600_000_000;

/// Sums the ledger lines of every closed day not summed yet into `value_days` (once: the
/// summed-through mark moves by a conditional update, so of two callers one writes), up to the
/// day of `until` at most. Returns the days summed. A day's sums never change afterwards: no
/// line is posted into a closed day.
pub async fn sum_closed_days(conn: &mut AnyConnection, until: i64, now: i64) -> Result<i64> {
    let from: i64 = sqlx::query_scalar("SELECT next_day FROM value_days_summed WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let closed = (now - DAY_CLOSES_AFTER).div_euclid(DAY);
    let to = until.div_euclid(DAY).min(closed);
    if to <= from {
        return Ok(0);
    }
    let claimed = sqlx::query("UPDATE value_days_summed SET next_day = $1 WHERE id = 1 AND next_day = $2")
        .bind(to)
        .bind(from)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if claimed != 1 {
        return Ok(0);
    }
    sqlx::query(
        "INSERT INTO value_days (day, warehouse_id, bucket, value) \
         SELECT l.posted_at / $1, l.warehouse_id, l.bucket, CAST(SUM(l.value) AS BIGINT) FROM ledger l \
         WHERE l.posted_at >= $2 AND l.posted_at < $3 GROUP BY l.posted_at / $1, l.warehouse_id, l.bucket",
    )
    .bind(DAY)
    .bind(from * DAY)
    .bind(to * DAY)
    .execute(&mut *conn)
    .await?;
    Ok(to - from)
}

/// A balance next to the sums of its ledger lines.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub warehouse_id: String,
    pub product_id: String,
    pub on_hand: i64,
    pub value: i64,
    pub transit_quantity: i64,
    pub transit_value: i64,
    pub loan_quantity: i64,
    pub loan_value: i64,
    pub ledger_stock: i64,
    pub ledger_stock_value: i64,
    pub ledger_transit: i64,
    pub ledger_transit_value: i64,
    pub ledger_loan: i64,
    pub ledger_loan_value: i64,
}

/// Every balance in `scope` whose figures differ from the sums of its ledger lines.
pub async fn audit(conn: &mut AnyConnection, scope: &ReadScope) -> Result<(i64, i64, Vec<AuditRow>)> {
    let sums = "SELECT warehouse_id, product_id, \
        CAST(SUM(CASE WHEN bucket = 'stock' THEN quantity ELSE 0 END) AS BIGINT) AS ledger_stock, \
        CAST(SUM(CASE WHEN bucket = 'stock' THEN value ELSE 0 END) AS BIGINT) AS ledger_stock_value, \
        CAST(SUM(CASE WHEN bucket = 'transit' THEN quantity ELSE 0 END) AS BIGINT) AS ledger_transit, \
        CAST(SUM(CASE WHEN bucket = 'transit' THEN value ELSE 0 END) AS BIGINT) AS ledger_transit_value, \
        CAST(SUM(CASE WHEN bucket = 'loan' THEN quantity ELSE 0 END) AS BIGINT) AS ledger_loan, \
        CAST(SUM(CASE WHEN bucket = 'loan' THEN value ELSE 0 END) AS BIGINT) AS ledger_loan_value, \
        COUNT(*) AS line_count FROM ledger GROUP BY warehouse_id, product_id";
    let mut q = SqlBuf::read(
        &format!(
            "SELECT b.warehouse_id, b.product_id, b.on_hand, b.value, b.transit_quantity, b.transit_value, \
             b.loan_quantity, b.loan_value, COALESCE(g.ledger_loan, 0) AS ledger_loan, \
             COALESCE(g.ledger_loan_value, 0) AS ledger_loan_value, \
             COALESCE(g.ledger_stock, 0) AS ledger_stock, COALESCE(g.ledger_stock_value, 0) AS ledger_stock_value, \
             COALESCE(g.ledger_transit, 0) AS ledger_transit, \
             COALESCE(g.ledger_transit_value, 0) AS ledger_transit_value, COALESCE(g.line_count, 0) AS line_count \
             FROM balances b LEFT JOIN ({sums}) g ON g.warehouse_id = b.warehouse_id AND g.product_id = b.product_id"
        ),
        scope,
    );
    q.push(" ORDER BY b.warehouse_id, b.product_id");
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        audit: AuditRow,
        line_count: i64,
    }
    let rows = q.query_as::<Row>().fetch_all(conn).await?;
    let balances = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let lines = rows.iter().map(|r| r.line_count).sum();
    let differing = rows
        .into_iter()
        .map(|r| r.audit)
        .filter(|a| {
            a.on_hand != a.ledger_stock
                || a.value != a.ledger_stock_value
                || a.transit_quantity != a.ledger_transit
                || a.transit_value != a.ledger_transit_value
                || a.loan_quantity != a.ledger_loan
                || a.loan_value != a.ledger_loan_value
        })
        .collect();
    Ok((balances, lines, differing))
}

/// The inbound and outbound totals of the ledger in `scope` (stock units over every product):
/// what came in from outside and what left to outside (transfer legs excluded).
pub async fn flows(conn: &mut AnyConnection, scope: &ReadScope) -> Result<(i64, i64)> {
    let mut q = SqlBuf::read(
        "SELECT COALESCE(CAST(SUM(CASE WHEN b.leg = 'in' THEN b.quantity ELSE 0 END) AS BIGINT), 0) AS inbound, \
         COALESCE(CAST(SUM(CASE WHEN b.leg = 'out' THEN -b.quantity ELSE 0 END) AS BIGINT), 0) AS outbound FROM ledger b",
        scope,
    );
    q.push(" AND b.kind <> 'transfer'");
    Ok(q.query_as::<(i64, i64)>().fetch_one(conn).await?)
}

/// What the balances in `scope` hold: (on hand, in transit, on loan), stock units over every
/// product.
pub async fn held(conn: &mut AnyConnection, scope: &ReadScope) -> Result<(i64, i64, i64)> {
    let q = SqlBuf::read(
        "SELECT COALESCE(CAST(SUM(b.on_hand) AS BIGINT), 0), COALESCE(CAST(SUM(b.transit_quantity) AS BIGINT), 0), \
         COALESCE(CAST(SUM(b.loan_quantity) AS BIGINT), 0) FROM balances b",
        scope,
    );
    Ok(q.query_as::<(i64, i64, i64)>().fetch_one(conn).await?)
}

/// A read-only transaction over one snapshot of the database (PostgreSQL: REPEATABLE READ;
/// SQLite: a deferred transaction reads one snapshot in WAL mode), for reads that compare
/// several tables at one moment while postings go on.
pub async fn snapshot(db: &crm_kit::db::Db) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    let mut tx = db.pool.begin().await?;
    if crm_kit::db::backend(&tx) == crm_kit::db::Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// Reserved quantity per balance in `scope` that the active reservations do not add up to:
/// (warehouse, product, reserved, sum of what reservations hold).
pub async fn reservation_mismatches(
    conn: &mut AnyConnection,
    scope: &ReadScope,
) -> Result<Vec<(String, String, i64, i64)>> {
    let mut q = SqlBuf::read(
        "SELECT b.warehouse_id, b.product_id, b.reserved, COALESCE(r.held, 0) AS held FROM balances b LEFT JOIN \
         (SELECT warehouse_id, product_id, CAST(SUM(quantity - consumed - released) AS BIGINT) AS held FROM reservations \
         WHERE status = 'active' GROUP BY warehouse_id, product_id) r \
         ON r.warehouse_id = b.warehouse_id AND r.product_id = b.product_id",
        scope,
    );
    q.push(" AND b.reserved <> COALESCE(r.held, 0)");
    Ok(q.query_as::<(String, String, i64, i64)>().fetch_all(conn).await?)
}

/// A stored reservation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReservationRow {
    pub id: String,
    pub warehouse_id: String,
    pub product_id: String,
    pub quantity: i64,
    pub consumed: i64,
    pub released: i64,
    pub reference: String,
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// The columns of a [`ReservationRow`] of reservations `b` (scoped like balances).
const RESERVATION_COLUMNS: &str = "b.id, b.warehouse_id, b.product_id, b.quantity, b.consumed, b.released, \
    b.reference, b.status, b.created_at, b.created_by, b.updated_at, b.updated_by";

pub async fn insert_reservation(conn: &mut AnyConnection, r: &ReservationRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO reservations ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        RESERVATION_COLUMNS.replace("b.", "")
    ))
    .bind(&r.id)
    .bind(&r.warehouse_id)
    .bind(&r.product_id)
    .bind(r.quantity)
    .bind(r.consumed)
    .bind(r.released)
    .bind(&r.reference)
    .bind(&r.status)
    .bind(r.created_at)
    .bind(&r.created_by)
    .bind(r.updated_at)
    .bind(&r.updated_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The reservation `id` if it is in `scope`.
pub async fn visible_reservation(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    id: &str,
) -> Result<Option<ReservationRow>> {
    let mut q = SqlBuf::read(&format!("SELECT {RESERVATION_COLUMNS} FROM reservations b"), scope);
    q.push(" AND b.id = ").text(id);
    Ok(q.query_as::<ReservationRow>().fetch_optional(conn).await?)
}

/// A page of reservations in `scope`, newest first.
pub async fn reservations(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<ReservationRow>> {
    super::page(
        conn,
        &format!("SELECT {RESERVATION_COLUMNS} FROM reservations b"),
        scope,
        filter,
        keyset,
        |r: &ReservationRow| Position::at(r.created_at, &r.id),
    )
    .await
}

/// Ships `quantity` from an active reservation of this warehouse and product, only while it
/// holds that much; returns it as it became.
pub async fn consume_reservation(
    conn: &mut AnyConnection,
    id: &str,
    warehouse_id: &str,
    product_id: &str,
    quantity: i64,
    now: i64,
    by: &str,
) -> Result<Option<ReservationRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE reservations SET consumed = consumed + $1, \
         status = CASE WHEN consumed + $1 + released = quantity THEN 'consumed' ELSE status END, \
         updated_at = $2, updated_by = $3 \
         WHERE id = $4 AND warehouse_id = $5 AND product_id = $6 AND status = 'active' \
         AND quantity - consumed - released >= $1 RETURNING {}",
        RESERVATION_COLUMNS.replace("b.", "")
    ))
    .bind(quantity)
    .bind(now)
    .bind(by)
    .bind(id)
    .bind(warehouse_id)
    .bind(product_id)
    .fetch_optional(conn)
    .await?)
}

/// Releases what an active reservation still holds; returns it as it became (`None` when it
/// was not active).
pub async fn release_reservation(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
    by: &str,
) -> Result<Option<ReservationRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE reservations SET released = quantity - consumed, status = 'released', updated_at = $1, \
         updated_by = $2 WHERE id = $3 AND status = 'active' RETURNING {}",
        RESERVATION_COLUMNS.replace("b.", "")
    ))
    .bind(now)
    .bind(by)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}
