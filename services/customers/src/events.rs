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

use crate::store::handover as store;

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
        Box::pin(store::employee_moved(conn, employee_id, path))
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
            let (customers, contacts) = store::movable(conn, employee_id).await?;
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
    let ids = store::live_customers(&mut *conn, h.from).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let moved = store::hand_over(&mut *conn, h, now).await?;
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
