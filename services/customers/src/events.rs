//! What the customers service does with other services' events, and what it tells identity
//! about a handover.
//!
//! From identity's feed:
//! - `EmployeeDeactivated` and `HandoverRequested`: every live customer of the employee (and so
//!   its contacts, which go with their customer) passes to the successor, with one owner-history
//!   entry per customer, reason `handover`. One set-based transaction: all or none.
//! - `EmployeeMoved`: the employee's customers now sit under the new department path, so
//!   department scopes see them where the employee is.
//! - `DepartmentMoved`: every path under the old one is rewritten under the new one.

use std::future::Future;
use std::pin::Pin;

use crm_kit::events::{Event, Handler, payload};
use crm_kit::filter::like_escape;
use crm_kit::{Error, Result};
use crm_proto::customers as pb;
use crm_proto::events as events_pb;
use crm_proto::identity as identity_pb;
use prost::Name as _;
use sqlx::AnyConnection;

/// The name the identity feed's cursor is kept under.
pub const IDENTITY_FEED: &str = "identity";

/// Customer ids per `CustomerOwnerChanged` event a handover publishes.
const IDS_PER_EVENT: usize = 1_000;

/// The identity event types this service follows.
pub fn identity_types() -> Vec<String> {
    vec![
        identity_pb::EmployeeDeactivated::full_name(),
        identity_pb::HandoverRequested::full_name(),
        identity_pb::EmployeeMoved::full_name(),
        identity_pb::DepartmentMoved::full_name(),
    ]
}

/// Applies identity's events.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityEvents;

impl Handler for IdentityEvents {
    fn apply<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        event: &'a Event,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            let now = crm_kit::time::now_micros();
            let t = event.r#type.as_str();
            if t == identity_pb::EmployeeDeactivated::full_name() {
                let e: identity_pb::EmployeeDeactivated = payload(event)?;
                let moved = hand_over(
                    conn,
                    &Handover {
                        id: &e.handover_id,
                        from: &e.employee_id,
                        to: &e.successor_id,
                        to_department_path: &e.successor_department_path,
                        by: &e.requested_by,
                    },
                    now,
                )
                .await?;
                tracing::info!(handover = %e.handover_id, from = %e.employee_id, to = %e.successor_id, customers = moved, "leaver's customers handed over");
            } else if t == identity_pb::HandoverRequested::full_name() {
                let e: identity_pb::HandoverRequested = payload(event)?;
                let moved = hand_over(
                    conn,
                    &Handover {
                        id: &e.handover_id,
                        from: &e.employee_id,
                        to: &e.successor_id,
                        to_department_path: &e.successor_department_path,
                        by: &e.requested_by,
                    },
                    now,
                )
                .await?;
                tracing::info!(handover = %e.handover_id, from = %e.employee_id, to = %e.successor_id, customers = moved, "customers handed over");
            } else if t == identity_pb::EmployeeMoved::full_name() {
                let e: identity_pb::EmployeeMoved = payload(event)?;
                sqlx::query("UPDATE customers SET owner_department_path = $1 WHERE owner_id = $2")
                    .bind(&e.department_path)
                    .bind(&e.employee_id)
                    .execute(conn)
                    .await?;
            } else if t == identity_pb::DepartmentMoved::full_name() {
                let e: identity_pb::DepartmentMoved = payload(event)?;
                move_department(conn, &e.old_path, &e.new_path).await?;
            }
            Ok(())
        })
    }
}

/// One handover: whose customers go to whom.
#[derive(Debug, Clone, Copy)]
pub struct Handover<'a> {
    pub id: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub to_department_path: &'a str,
    /// Who asked for it (recorded as the one who changed the owner).
    pub by: &'a str,
}

/// Moves every live customer of `h.from` to `h.to` with one owner-history entry each and
/// announces it; the number moved. Runs inside the caller's transaction.
pub async fn hand_over(conn: &mut AnyConnection, h: &Handover<'_>, now: i64) -> Result<u64> {
    if h.from.is_empty() || h.to.is_empty() {
        return Err(Error::precondition(
            "HANDOVER_MALFORMED",
            h.id,
            "a handover names the leaver and the successor",
        ));
    }
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

/// Rewrites the department paths under `old_path` to sit under `new_path`.
pub async fn move_department(conn: &mut AnyConnection, old_path: &str, new_path: &str) -> Result<()> {
    if old_path.is_empty() || old_path == new_path {
        return Ok(());
    }
    sqlx::query(
        "UPDATE customers SET owner_department_path = $1 || SUBSTR(owner_department_path, CAST($2 AS INTEGER)) \
         WHERE owner_department_path LIKE $3 ESCAPE '\\'",
    )
    .bind(new_path)
    .bind(i64::try_from(old_path.len()).unwrap_or(i64::MAX) + 1)
    .bind(format!("{}%", like_escape(old_path)))
    .execute(conn)
    .await?;
    Ok(())
}

/// What a handover of `employee_id` would move now.
pub async fn count_handover(conn: &mut AnyConnection, employee_id: &str) -> Result<Vec<events_pb::HandoverCount>> {
    let customers: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE owner_id = $1 AND deleted_at IS NULL")
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
        events_pb::HandoverCount {
            service: "customers".into(),
            kind: "customers".into(),
            count: customers,
        },
        events_pb::HandoverCount {
            service: "customers".into(),
            kind: "contacts".into(),
            count: contacts,
        },
    ])
}

/// `crm.events.v1.HandoverService` of the customers service.
#[derive(Debug, Clone)]
pub struct HandoverCounts {
    pub db: crm_kit::db::Db,
}

#[tonic::async_trait]
impl events_pb::handover_service_server::HandoverService for HandoverCounts {
    async fn count_handover(
        &self,
        request: tonic::Request<events_pb::CountHandoverRequest>,
    ) -> std::result::Result<tonic::Response<events_pb::CountHandoverResponse>, tonic::Status> {
        let employee_id = request.get_ref().employee_id.trim().to_string();
        if employee_id.is_empty() {
            return Err(Error::required("employee_id").into());
        }
        let mut conn = self.db.pool.acquire().await.map_err(Error::from)?;
        let counts = count_handover(&mut conn, &employee_id).await?;
        Ok(tonic::Response::new(events_pb::CountHandoverResponse { counts }))
    }
}
