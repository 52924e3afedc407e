//! What the sales service does with identity's events (see `crm_kit::handover`): a handover
//! moves the employee's live, unconverted leads and open opportunities (keeping their stage,
//! activities and history) to the successor, with an owner-history entry each, reason
//! `handover`; employee and department moves carry the records into the new department's scope.

use crm_kit::Result;
use crm_kit::handover::{BoxFuture, Handover, Owner, count};
use crm_proto::events as events_pb;
use sqlx::AnyConnection;

use crate::store::handover as store;

/// The sales service's owned records.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sales;

impl Owner for Sales {
    fn hand_over<'a>(&'a self, conn: &'a mut AnyConnection, h: Handover<'a>, now: i64) -> BoxFuture<'a, Result<u64>> {
        Box::pin(store::hand_over(conn, h, now))
    }

    fn employee_deactivated<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        // A leaver receives no more leads.
        Box::pin(store::remove_assignee(conn, employee_id))
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
        Box::pin(store::department_moved(conn, old_path, new_path))
    }

    fn count<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<events_pb::HandoverCount>>> {
        Box::pin(async move {
            let counts = store::movable(conn, employee_id).await?;
            Ok(counts
                .into_iter()
                .map(|(kind, n)| {
                    let kind = if kind == "lead" { "leads" } else { "open_opportunities" };
                    count("sales", kind, n)
                })
                .collect())
        })
    }
}
