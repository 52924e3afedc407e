//! CSV export (server stream): the caller's view of a search and filter, in the list's order.
//!
//! One streaming query selects exactly the exported columns, the primary contact joined in
//! SQL, through the same scope, filter, search and order as ListCustomers; rows become CSV
//! as they arrive and leave in chunks of about [`CHUNK`] bytes over a bounded channel, so a
//! slow client slows the query down instead of growing memory.

use crm_kit::Result;
use crm_kit::auth::Principal;
use crm_kit::csv_io::ChunkWriter;
use crm_proto::customers as pb;
use sqlx::Row;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use super::CustomersApi;
use super::customers::{CustomerQuery, list_sql, list_sql_selecting};
use super::transfer::IMPORT_FIELDS;

/// About how many bytes one export message carries.
pub const CHUNK: usize = 256 * 1024;
/// Chunks produced ahead of the client.
const CHUNKS_AHEAD: usize = 4;

/// The exported columns in header order: `id`, the import fields, `owner_id`, `create_time`.
/// Phones are shown as typed when they were; a customer without a primary contact has empty
/// contact columns. Kind, status, tags and the creation time are rendered in [`record`].
pub const SELECT: &str = "SELECT c.id, c.name, c.kind, c.short_name, c.tax_id, c.industry_code, c.type_code, \
    c.level_code, c.source_code, c.status, c.category_id, c.scale, \
    CASE WHEN c.phone_typed <> '' THEN c.phone_typed ELSE c.phone END AS phone, \
    CASE WHEN c.mobile_typed <> '' THEN c.mobile_typed ELSE c.mobile END AS mobile, \
    c.email, c.website, c.address, c.country, c.province, c.city, c.district, c.remark, c.tags, \
    COALESCE(p.name, '') AS contact_name, COALESCE(p.title, '') AS contact_title, \
    COALESCE(CASE WHEN p.mobile_typed <> '' THEN p.mobile_typed ELSE p.mobile END, '') AS contact_mobile, \
    COALESCE(CASE WHEN p.phone_typed <> '' THEN p.phone_typed ELSE p.phone END, '') AS contact_phone, \
    COALESCE(p.email, '') AS contact_email, c.owner_id, c.created_at \
    FROM customers c LEFT JOIN contacts p ON p.customer_id = c.id AND p.is_primary = 1";

/// How many columns [`SELECT`] returns (and the CSV has).
const COLUMNS: usize = 30;
const KIND: usize = 2;
const STATUS: usize = 9;
const TAGS: usize = 22;
const CREATED_AT: usize = 29;

/// The export header.
fn header() -> Vec<&'static str> {
    let mut header = vec!["id"];
    header.extend(IMPORT_FIELDS);
    header.extend(["owner_id", "create_time"]);
    header
}

impl CustomersApi {
    /// ExportCustomers: the caller's view of a search and filter, as CSV chunks.
    pub async fn export_customers(
        &self,
        caller: &Principal,
        req: pb::ExportCustomersRequest,
    ) -> Result<mpsc::Receiver<std::result::Result<pb::ExportCustomersResponse, tonic::Status>>> {
        let query = CustomerQuery {
            filter: req.filter,
            query: req.query,
            order_by: req.order_by,
            show_deleted: false,
        };
        // Fail fast on a bad filter or order, before the stream starts.
        list_sql(self.db.backend, caller, &query)?;
        let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
        let api = self.clone();
        let caller = caller.clone();
        let producer = tx.clone();
        crm_kit::serve::spawn_stream("ExportCustomers", tx, async move {
            api.export_into(&caller, &query, &producer).await
        });
        Ok(rx)
    }

    /// Streams the export's rows into CSV chunks until the last row or until the client leaves.
    async fn export_into(
        &self,
        caller: &Principal,
        query: &CustomerQuery,
        tx: &mpsc::Sender<std::result::Result<pb::ExportCustomersResponse, tonic::Status>>,
    ) -> Result<()> {
        // Every row in one statement, no LIMIT: the order is the list's keyset order, so the
        // CSV holds what paging through ListCustomers shows. On SQLite (WAL) a reading
        // statement takes no write lock, so writers carry on while an export runs; it holds
        // one pooled connection, as a page read would.
        let (mut sql, order) = list_sql_selecting(SELECT, self.db.backend, caller, query)?;
        order.order().push_order_by(&mut sql);
        let mut writer = ChunkWriter::new(header())?;
        let mut conn = self.conn().await?;
        let mut rows = sql.query().fetch(&mut *conn);
        let mut tags = String::new();
        let mut created = (i64::MIN, String::new());
        while let Some(row) = rows.next().await {
            let row = row?;
            let mut record: [&str; COLUMNS] = [""; COLUMNS];
            for (i, field) in record.iter_mut().enumerate() {
                if i != CREATED_AT {
                    *field = row.try_get::<&str, _>(i)?;
                }
            }
            record[KIND] = kind(record[KIND]);
            record[STATUS] = status(record[STATUS]);
            joined_tags(record[TAGS], &mut tags);
            record[TAGS] = &tags;
            // Shown to the second, like the wire's create_time; rows created in the same
            // second (an import's) share one rendering.
            let second = row.try_get::<i64, _>(CREATED_AT)?.div_euclid(1_000_000);
            if second != created.0 {
                created = (second, crm_kit::time::format_rfc3339(second * 1_000_000));
            }
            record[CREATED_AT] = &created.1;
            writer.row(record)?;
            if writer.buffered() >= CHUNK && !send(tx, writer.take()?).await {
                return Ok(());
            }
        }
        let rest = writer.take()?;
        if !rest.is_empty() {
            send(tx, rest).await;
        }
        Ok(())
    }
}

/// Sends a chunk; false when the client has gone.
async fn send(
    tx: &mpsc::Sender<std::result::Result<pb::ExportCustomersResponse, tonic::Status>>,
    csv_chunk: Vec<u8>,
) -> bool {
    tx.send(Ok(pb::ExportCustomersResponse { csv_chunk })).await.is_ok()
}

/// The exported kind: what the wire shows (anything but an individual is a company).
fn kind(stored: &str) -> &'static str {
    if stored == "individual" {
        "individual"
    } else {
        "company"
    }
}

/// The exported status: a stored status, unknown ones shown as potential like on the wire.
fn status(stored: &str) -> &'static str {
    match stored {
        "active" => "active",
        "dormant" => "dormant",
        "lost" => "lost",
        _ => "potential",
    }
}

/// The stored JSON list of tags as the import reads them: joined with `;`.
fn joined_tags(stored: &str, out: &mut String) {
    out.clear();
    if stored.is_empty() || stored == "[]" {
        return;
    }
    let tags: Vec<String> = serde_json::from_str(stored).unwrap_or_default();
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(t);
    }
}
