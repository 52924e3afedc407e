//! Serial and lot numbers. A serial is one row whose state and warehouse say where it is; it
//! moves only by a conditional update from where the document says it is, so it is never in
//! two places and never leaves from where it is not. A lot's shelves are one row per warehouse,
//! product and lot, taken from only while enough is there.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// A serial number and where it is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SerialRow {
    pub product_id: String,
    pub serial_key: String,
    pub serial: String,
    pub state: String,
    pub warehouse_id: String,
    pub document_id: String,
    pub line_no: i64,
    pub updated_at: i64,
}

const SERIAL_COLUMNS: &str =
    "b.product_id, b.serial_key, b.serial, b.state, b.warehouse_id, b.document_id, b.line_no, b.updated_at";

/// Where a serial is, or is to be put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub state: &'a str,
    pub warehouse_id: &'a str,
}

/// The document line a move belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Mover<'a> {
    pub document_id: &'a str,
    pub line_no: i64,
    pub leg: &'a str,
    pub kind: &'a str,
    pub by: &'a str,
    pub now: i64,
}

/// Receives serials (folded key, number as typed) into `to`: new numbers, and numbers that
/// left the company (a customer return). Returns the keys received; a key missing from them
/// is in stock, on its way or on loan somewhere, and nothing was changed for it.
pub async fn receive(
    conn: &mut AnyConnection,
    product_id: &str,
    serials: &[(String, String)],
    to: Place<'_>,
    m: Mover<'_>,
) -> Result<Vec<String>> {
    let mut received = Vec::with_capacity(serials.len());
    for chunk in serials.chunks(200) {
        let mut q = SqlBuf::new(
            "INSERT INTO serials (product_id, serial_key, serial, state, warehouse_id, document_id, line_no, updated_at) VALUES ",
        );
        for (i, (key, serial)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .text(product_id)
                .push(", ")
                .text(key.clone())
                .push(", ")
                .text(serial.clone())
                .push(", ")
                .text(to.state)
                .push(", ")
                .text(to.warehouse_id)
                .push(", ")
                .text(m.document_id)
                .push(", ")
                .int(m.line_no)
                .push(", ")
                .int(m.now)
                .push(")");
        }
        q.push(
            " ON CONFLICT (product_id, serial_key) DO UPDATE SET serial = excluded.serial, state = excluded.state, \
             warehouse_id = excluded.warehouse_id, document_id = excluded.document_id, line_no = excluded.line_no, \
             updated_at = excluded.updated_at WHERE serials.state = 'gone' RETURNING serial_key",
        );
        received.extend(q.scalar::<String>().fetch_all(&mut *conn).await?);
    }
    moved(conn, product_id, &received, to, m).await?;
    Ok(received)
}

/// Moves serials from `from` to `to`, each only if it is at `from` (and, when `line` is given,
/// was put there by that document line: a transfer's or a loan's own units). Returns the keys
/// moved; nothing changed for the others.
pub async fn shift(
    conn: &mut AnyConnection,
    product_id: &str,
    keys: &[String],
    from: Place<'_>,
    line: Option<(&str, i64)>,
    to: Place<'_>,
    m: Mover<'_>,
) -> Result<Vec<String>> {
    let mut shifted = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(400) {
        let mut q = SqlBuf::new("UPDATE serials SET state = ");
        q.text(to.state)
            .push(", warehouse_id = ")
            .text(to.warehouse_id)
            .push(", document_id = ")
            .text(m.document_id)
            .push(", line_no = ")
            .int(m.line_no)
            .push(", updated_at = ")
            .int(m.now)
            .push(" WHERE product_id = ")
            .text(product_id)
            .push(" AND state = ")
            .text(from.state)
            .push(" AND warehouse_id = ")
            .text(from.warehouse_id);
        if let Some((document_id, line_no)) = line {
            q.push(" AND document_id = ")
                .text(document_id)
                .push(" AND line_no = ")
                .int(line_no);
        }
        q.push(" AND ")
            .in_texts("serial_key", chunk.iter().map(String::as_str))
            .push(" RETURNING serial_key");
        shifted.extend(q.scalar::<String>().fetch_all(&mut *conn).await?);
    }
    moved(conn, product_id, &shifted, to, m).await?;
    Ok(shifted)
}

/// Records the move of `keys` to `to`.
async fn moved(conn: &mut AnyConnection, product_id: &str, keys: &[String], to: Place<'_>, m: Mover<'_>) -> Result<()> {
    for chunk in keys.chunks(100) {
        let mut q = SqlBuf::new(
            "INSERT INTO serial_moves (product_id, serial_key, document_id, line_no, leg, kind, warehouse_id, state, \
             moved_at, moved_by) VALUES ",
        );
        for (i, key) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .text(product_id)
                .push(", ")
                .text(key.clone())
                .push(", ")
                .text(m.document_id)
                .push(", ")
                .int(m.line_no)
                .push(", ")
                .text(m.leg)
                .push(", ")
                .text(m.kind)
                .push(", ")
                .text(to.warehouse_id)
                .push(", ")
                .text(to.state)
                .push(", ")
                .int(m.now)
                .push(", ")
                .text(m.by)
                .push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The serials of `product_id` among `keys`, wherever they are (for explaining a refusal).
pub async fn find(conn: &mut AnyConnection, product_id: &str, keys: &[String]) -> Result<Vec<SerialRow>> {
    let mut rows = Vec::new();
    for chunk in keys.chunks(400) {
        let mut q = SqlBuf::read(
            &format!("SELECT {SERIAL_COLUMNS} FROM serials b"),
            &ReadScope::everything("explains a refused move the caller's posting already checked the scope of"),
        );
        q.push(" AND b.product_id = ")
            .text(product_id)
            .push(" AND ")
            .in_texts("b.serial_key", chunk.iter().map(String::as_str));
        rows.extend(q.query_as::<SerialRow>().fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// The serials a document line put where they are now (a loan's units still out, a transfer's
/// still on their way), by number.
pub async fn of_line(
    conn: &mut AnyConnection,
    product_id: &str,
    at: Place<'_>,
    document_id: &str,
    line_no: i64,
) -> Result<Vec<SerialRow>> {
    let mut q = SqlBuf::read(
        &format!("SELECT {SERIAL_COLUMNS} FROM serials b"),
        &ReadScope::everything("the units of a document line the caller reached"),
    );
    q.push(" AND b.product_id = ")
        .text(product_id)
        .push(" AND b.state = ")
        .text(at.state)
        .push(" AND b.warehouse_id = ")
        .text(at.warehouse_id)
        .push(" AND b.document_id = ")
        .text(document_id)
        .push(" AND b.line_no = ")
        .int(line_no)
        .push(" ORDER BY b.serial_key");
    Ok(q.query_as::<SerialRow>().fetch_all(&mut *conn).await?)
}

/// The serials still on loan from the loan documents `document_ids`, by document line and
/// number (the loans were read in the caller's scope).
pub async fn on_loan(conn: &mut AnyConnection, document_ids: &[&str]) -> Result<Vec<SerialRow>> {
    let mut rows = Vec::new();
    for chunk in document_ids.chunks(400) {
        let mut q = SqlBuf::read(
            &format!("SELECT {SERIAL_COLUMNS} FROM serials b"),
            &ReadScope::everything("the units of loans the caller reached"),
        );
        q.push(" AND b.state = 'loan' AND ")
            .in_texts("b.document_id", chunk.iter().copied())
            .push(" ORDER BY b.document_id, b.line_no, b.serial_key");
        rows.extend(q.query_as::<SerialRow>().fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// One serial, if it is in a warehouse in `scope`.
pub async fn visible(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    product_id: &str,
    serial_key: &str,
) -> Result<Option<SerialRow>> {
    let mut q = SqlBuf::read(&format!("SELECT {SERIAL_COLUMNS} FROM serials b"), scope);
    q.push(" AND b.product_id = ")
        .text(product_id)
        .push(" AND b.serial_key = ")
        .text(serial_key);
    Ok(q.query_as::<SerialRow>().fetch_optional(conn).await?)
}

/// A move of a serial, with its document's number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MoveRow {
    pub document_id: String,
    pub document_number: String,
    pub kind: String,
    pub line_no: i64,
    pub warehouse_id: String,
    pub state: String,
    pub moved_at: i64,
    pub moved_by: String,
}

/// Every move of a serial, oldest first (the caller reached the serial).
pub async fn moves(conn: &mut AnyConnection, product_id: &str, serial_key: &str) -> Result<Vec<MoveRow>> {
    Ok(sqlx::query_as(
        "SELECT m.document_id, d.number AS document_number, m.kind, m.line_no, m.warehouse_id, m.state, m.moved_at, \
         m.moved_by FROM serial_moves m JOIN documents d ON d.id = m.document_id \
         WHERE m.product_id = $1 AND m.serial_key = $2 ORDER BY m.moved_at, m.line_no, m.leg",
    )
    .bind(product_id)
    .bind(serial_key)
    .fetch_all(conn)
    .await?)
}

/// A page of the serials in `scope` matching `filter`, by product then number.
pub async fn page(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<SerialRow>> {
    super::page(
        conn,
        &format!("SELECT {SERIAL_COLUMNS} FROM serials b"),
        scope,
        filter,
        keyset,
        |r: &SerialRow| Position::at(r.product_id.clone(), &r.serial_key),
    )
    .await
}

/// A lot's shelves in a warehouse.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LotRow {
    pub place: String,
    pub warehouse_id: String,
    pub product_id: String,
    pub lot_key: String,
    pub lot: String,
    pub on_hand: i64,
    pub updated_at: i64,
}

const LOT_COLUMNS: &str = "b.place, b.warehouse_id, b.product_id, b.lot_key, b.lot, b.on_hand, b.updated_at";

/// Puts `quantity` of a lot on the shelves of a warehouse.
pub async fn put_lot(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    (key, lot): (&str, &str),
    quantity: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO lots (place, warehouse_id, product_id, lot_key, lot, on_hand, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (warehouse_id, product_id, lot_key) \
         DO UPDATE SET on_hand = lots.on_hand + excluded.on_hand, updated_at = excluded.updated_at",
    )
    .bind(format!("{warehouse_id}/{product_id}/{key}"))
    .bind(warehouse_id)
    .bind(product_id)
    .bind(key)
    .bind(lot)
    .bind(quantity)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes `quantity` of a lot off the shelves of a warehouse if that much is there; returns
/// whether it did.
pub async fn take_lot(
    conn: &mut AnyConnection,
    warehouse_id: &str,
    product_id: &str,
    key: &str,
    quantity: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE lots SET on_hand = on_hand - $1, updated_at = $2 \
         WHERE warehouse_id = $3 AND product_id = $4 AND lot_key = $5 AND on_hand >= $1",
    )
    .bind(quantity)
    .bind(now)
    .bind(warehouse_id)
    .bind(product_id)
    .bind(key)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What is on the shelves of a lot now (0 when it never was).
pub async fn lot_on_hand(conn: &mut AnyConnection, warehouse_id: &str, product_id: &str, key: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT on_hand FROM lots WHERE warehouse_id = $1 AND product_id = $2 AND lot_key = $3")
            .bind(warehouse_id)
            .bind(product_id)
            .bind(key)
            .fetch_optional(conn)
            .await?
            .unwrap_or(0),
    )
}

/// A page of the lots in `scope` matching `filter`, by warehouse, product and lot.
pub async fn lots(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<LotRow>> {
    super::page(
        conn,
        &format!("SELECT {LOT_COLUMNS} FROM lots b"),
        scope,
        filter,
        keyset,
        |r: &LotRow| Position::at_id(&r.place),
    )
    .await
}

/// Every balance whose lots do not add up to its shelves (product, warehouse, on hand, lots'
/// sum), for lot-tracked products in `scope`.
pub async fn lot_mismatches(conn: &mut AnyConnection, scope: &ReadScope) -> Result<Vec<(String, String, i64, i64)>> {
    let mut q = SqlBuf::read(
        "SELECT b.product_id, b.warehouse_id, b.on_hand, CAST(COALESCE((SELECT SUM(x.on_hand) FROM lots x \
         WHERE x.warehouse_id = b.warehouse_id AND x.product_id = b.product_id), 0) AS BIGINT) AS lots \
         FROM balances b JOIN products p ON p.id = b.product_id",
        scope,
    );
    q.push(" AND p.tracking = 'lot'");
    let rows: Vec<(String, String, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().filter(|r| r.2 != r.3).collect())
}

/// Every balance whose serials in stock do not count its shelves, for serial-tracked products
/// in `scope` (product, warehouse, on hand, serials in stock).
pub async fn serial_mismatches(conn: &mut AnyConnection, scope: &ReadScope) -> Result<Vec<(String, String, i64, i64)>> {
    let mut q = SqlBuf::read(
        "SELECT b.product_id, b.warehouse_id, b.on_hand, CAST((SELECT COUNT(*) FROM serials x \
         WHERE x.warehouse_id = b.warehouse_id AND x.product_id = b.product_id AND x.state = 'stock') * 10000 AS BIGINT) \
         AS serials FROM balances b JOIN products p ON p.id = b.product_id",
        scope,
    );
    q.push(" AND p.tracking = 'serial'");
    let rows: Vec<(String, String, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().filter(|r| r.2 != r.3).collect())
}
