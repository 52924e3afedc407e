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
use crate::store::export::{self as store, COLUMNS, CREATED_AT, KIND, SELECT, STATUS, TAGS};

/// About how many bytes one export message carries.
pub const CHUNK: usize = 256 * 1024;
/// Chunks produced ahead of the client.
const CHUNKS_AHEAD: usize = 4;

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
        let mut writer = ChunkWriter::new(header())?;
        let mut conn = self.conn().await?;
        let mut rows = store::rows(&mut conn, &mut sql, &order.order());
        let mut tags = String::new();
        let mut created = (i64::MIN, String::new());
        let mut counted = 0u64;
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
            counted += 1;
            if writer.buffered() >= CHUNK {
                crm_kit::metrics::export_rows("customers", "customers", std::mem::take(&mut counted));
                if !send(tx, writer.take()?).await {
                    return Ok(());
                }
            }
        }
        crm_kit::metrics::export_rows("customers", "customers", counted);
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
