//! Stock documents and their lines.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// A stored document.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub status: String,
    pub warehouse_id: String,
    pub to_warehouse_id: String,
    pub in_transit: i64,
    pub reference: String,
    pub counterparty_id: String,
    pub courier: String,
    pub tracking_number: String,
    pub remark: String,
    pub posted_at: i64,
    pub posted_by: String,
    pub received_at: i64,
    pub received_by: String,
    pub cancel_reason: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
    pub counterparty_kind: String,
    pub sample: i64,
    pub due_date: String,
}

/// The columns of a [`DocumentRow`] of documents `d`.
pub const COLUMNS: &str = "d.id, d.number, d.kind, d.status, d.warehouse_id, d.to_warehouse_id, d.in_transit, \
    d.reference, d.counterparty_id, d.courier, d.tracking_number, d.remark, d.posted_at, d.posted_by, d.received_at, \
    d.received_by, d.cancel_reason, d.created_at, d.created_by, d.updated_at, d.updated_by, d.version, \
    d.counterparty_kind, d.sample, d.due_date";

/// A stored document line.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub document_id: String,
    pub line_no: i64,
    pub product_id: String,
    pub quantity: i64,
    pub unit: String,
    pub stock_quantity: i64,
    pub unit_cost: i64,
    pub cost_given: i64,
    pub value: i64,
    pub reservation_id: String,
    pub source_line_id: String,
    pub remark: String,
    /// Serial numbers as typed, a JSON array (serial-tracked products).
    pub serials: String,
    /// The lot as typed (lot-tracked products).
    pub lot: String,
}

impl LineRow {
    /// The line's serial numbers as typed.
    pub fn serial_numbers(&self) -> Vec<String> {
        serde_json::from_str(&self.serials).unwrap_or_default()
    }
}

const LINE_COLUMNS: &str = "document_id, line_no, product_id, quantity, unit, stock_quantity, unit_cost, cost_given, \
    value, reservation_id, source_line_id, remark, serials, lot";

/// The document `id` if it is in `scope`.
pub async fn visible(conn: &mut AnyConnection, scope: &ReadScope, id: &str) -> Result<Option<DocumentRow>> {
    let mut q = SqlBuf::read(&format!("SELECT {COLUMNS} FROM documents d"), scope);
    q.push(" AND d.id = ").text(id);
    Ok(q.query_as::<DocumentRow>().fetch_optional(conn).await?)
}

/// A page of the documents in `scope` matching `filter`, newest first.
pub async fn page(
    conn: &mut AnyConnection,
    scope: &ReadScope,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<DocumentRow>> {
    super::page(
        conn,
        &format!("SELECT {COLUMNS} FROM documents d"),
        scope,
        filter,
        keyset,
        |d: &DocumentRow| Position::at(d.created_at, &d.id),
    )
    .await
}

pub async fn lines(conn: &mut AnyConnection, document_id: &str) -> Result<Vec<LineRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LINE_COLUMNS} FROM document_lines WHERE document_id = $1 ORDER BY line_no"
    ))
    .bind(document_id)
    .fetch_all(conn)
    .await?)
}

pub async fn insert(conn: &mut AnyConnection, d: &DocumentRow, lines: &[LineRow]) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO documents ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20, $21, $22, $23, $24, $25)",
        COLUMNS.replace("d.", "")
    ))
    .bind(&d.id)
    .bind(&d.number)
    .bind(&d.kind)
    .bind(&d.status)
    .bind(&d.warehouse_id)
    .bind(&d.to_warehouse_id)
    .bind(d.in_transit)
    .bind(&d.reference)
    .bind(&d.counterparty_id)
    .bind(&d.courier)
    .bind(&d.tracking_number)
    .bind(&d.remark)
    .bind(d.posted_at)
    .bind(&d.posted_by)
    .bind(d.received_at)
    .bind(&d.received_by)
    .bind(&d.cancel_reason)
    .bind(d.created_at)
    .bind(&d.created_by)
    .bind(d.updated_at)
    .bind(&d.updated_by)
    .bind(d.version)
    .bind(&d.counterparty_kind)
    .bind(d.sample)
    .bind(&d.due_date)
    .execute(&mut *conn)
    .await?;
    // Fourteen columns a row: 200 rows a statement stays far below either backend's limit.
    for chunk in lines.chunks(200) {
        let mut q = SqlBuf::new(&format!("INSERT INTO document_lines ({LINE_COLUMNS}) VALUES "));
        for (i, l) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .text(l.document_id.clone())
                .push(", ")
                .int(l.line_no)
                .push(", ")
                .text(l.product_id.clone())
                .push(", ")
                .int(l.quantity)
                .push(", ")
                .text(l.unit.clone())
                .push(", ")
                .int(l.stock_quantity)
                .push(", ")
                .int(l.unit_cost)
                .push(", ")
                .int(l.cost_given)
                .push(", ")
                .int(l.value)
                .push(", ")
                .text(l.reservation_id.clone())
                .push(", ")
                .text(l.source_line_id.clone())
                .push(", ")
                .text(l.remark.clone())
                .push(", ")
                .text(l.serials.clone())
                .push(", ")
                .text(l.lot.clone())
                .push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Moves a document from `from` to `to` status, if it is still in `from`: the one place a
/// posting is decided, so two concurrent postings of one document leave one effect.
pub async fn set_status(conn: &mut AnyConnection, id: &str, from: &str, to: &str, at: i64, by: &str) -> Result<bool> {
    let stamp = if to == "cancelled" {
        ""
    } else if from == "in_transit" {
        ", received_at = $4, received_by = $5"
    } else {
        ", posted_at = $4, posted_by = $5"
    };
    let r = sqlx::query(&format!(
        "UPDATE documents SET status = $1, updated_at = $4, updated_by = $5, version = version + 1{stamp} \
         WHERE id = $2 AND status = $3"
    ))
    .bind(to)
    .bind(id)
    .bind(from)
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records why a draft was cancelled.
pub async fn set_cancel_reason(conn: &mut AnyConnection, id: &str, reason: &str) -> Result<()> {
    sqlx::query("UPDATE documents SET cancel_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
