//! The CSV export's read: exactly the exported columns of the customers in a list's view, the
//! primary contact joined in SQL, streamed in the list's order.

use crm_kit::listing::Order;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use tokio_stream::Stream;

use super::SqlBuf;

/// The exported columns in header order: `id`, the import fields, `owner_id`, `create_time`.
/// Phones are shown as typed when they were; a customer without a primary contact has empty
/// contact columns. Kind, status, tags and the creation time are stored values, rendered by
/// the export.
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
pub const COLUMNS: usize = 30;
/// The column of the stored kind. Every column but [`CREATED_AT`] is text.
pub const KIND: usize = 2;
/// The column of the stored status.
pub const STATUS: usize = 9;
/// The column of the stored tags (a JSON list).
pub const TAGS: usize = 22;
/// The column of the creation time (storage clock).
pub const CREATED_AT: usize = 29;

/// Every row of `read` (a scoped read from [`SELECT`]) in `order`, as the database returns
/// them: one statement, no LIMIT.
pub fn rows<'a>(
    conn: &'a mut AnyConnection,
    read: &'a mut SqlBuf,
    order: &Order,
) -> impl Stream<Item = Result<AnyRow, sqlx::Error>> + Send + Unpin + use<'a> {
    order.push_order_by(read);
    read.query().fetch(conn)
}
