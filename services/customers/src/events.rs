//! What the customers service does with identity's events (see `crm_kit::handover`): a
//! handover moves every live customer of the employee (and so its contacts, which go with their
//! customer) to the successor, with one owner-history entry per customer, reason `handover`,
//! in one set-based transaction, and announces it; employee and department moves carry the
//! customers into the new department's scope.

use crm_kit::Result;
use crm_kit::handover::{BoxFuture, Handover, Owner, count};
use crm_proto::customers as pb;
use crm_proto::events as events_pb;
use sqlx::AnyConnection;

/// Customer ids per `CustomerOwnerChanged` event a handover publishes.
const IDS_PER_EVENT: usize = 1_000;

/// The customers service's owned records.
#[derive(Debug, Clone, Copy, Default)]
pub struct Customers;

impl Owner for Customers {
    fn hand_over<'a>(&'a self, conn: &'a mut AnyConnection, h: Handover<'a>, now: i64) -> BoxFuture<'a, Result<u64>> {
        Box::pin(hand_over(conn, h, now))
    }

    fn employee_moved<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
        path: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("UPDATE customers SET owner_department_path = $1 WHERE owner_id = $2")
                .bind(path)
                .bind(employee_id)
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    fn department_moved<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        old_path: &'a str,
        new_path: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(crm_kit::handover::rewrite_paths(
            conn,
            "customers",
            "owner_department_path",
            old_path,
            new_path,
        ))
    }

    fn count<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<events_pb::HandoverCount>>> {
        Box::pin(async move {
            let customers: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE owner_id = $1 AND deleted_at IS NULL",
            )
            .bind(employee_id)
            .fetch_one(&mut *conn)
            .await?;
            let contacts: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM contacts ct JOIN customers c ON c.id = ct.customer_id \
                 WHERE c.owner_id = $1 AND c.deleted_at IS NULL",
            )
            .bind(employee_id)
            .fetch_one(conn)
            .await?;
            Ok(vec![
                count("customers", "customers", customers),
                count("customers", "contacts", contacts),
            ])
        })
    }
}

/// Moves every live customer of `h.from` to `h.to` with one owner-history entry each and
/// announces it; the number moved. Runs inside the caller's transaction.
pub async fn hand_over(conn: &mut AnyConnection, h: Handover<'_>, now: i64) -> Result<u64> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM customers WHERE owner_id = $1 AND deleted_at IS NULL ORDER BY id")
            .bind(h.from)
            .fetch_all(&mut *conn)
            .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    // History ids: a fresh time-ordered prefix per handover plus the customer id, so they sort
    // after the customer's earlier entries like every other history id.
    let prefix = format!("{}.", crm_kit::new_id());
    sqlx::query(
        "INSERT INTO owner_changes (id, customer_id, from_owner_id, to_owner_id, reason, note, changed_by, changed_at) \
         SELECT $1 || c.id, c.id, c.owner_id, $2, 'handover', $3, $4, $5 FROM customers c \
         WHERE c.owner_id = $6 AND c.deleted_at IS NULL",
    )
    .bind(&prefix)
    .bind(h.to)
    .bind(format!("handover {}", h.id))
    .bind(h.by)
    .bind(now)
    .bind(h.from)
    .execute(&mut *conn)
    .await?;
    let moved = sqlx::query(
        "UPDATE customers SET owner_id = $1, owner_department_path = $2, owned_since = $3, reclaim_locked = 0, \
         updated_at = $3, updated_by = $4, version = version + 1 WHERE owner_id = $5 AND deleted_at IS NULL",
    )
    .bind(h.to)
    .bind(h.to_department_path)
    .bind(now)
    .bind(h.by)
    .bind(h.from)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    for chunk in ids.chunks(IDS_PER_EVENT) {
        crm_kit::events::append_at(
            &mut *conn,
            h.from,
            &pb::CustomerOwnerChanged {
                customer_ids: chunk.to_vec(),
                from_owner_id: h.from.to_string(),
                to_owner_id: h.to.to_string(),
                reason: "handover".into(),
            },
            now,
        )
        .await?;
    }
    Ok(moved)
}
