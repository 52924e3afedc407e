//! Departure and handover, as every service that owns records sees it: identity publishes
//! `EmployeeDeactivated` / `HandoverRequested` (records pass to a successor) and
//! `EmployeeMoved` / `DepartmentMoved` (records follow their owner into the new department's
//! scope); a service implements [`Owner`] for its records and gets the event handler
//! ([`IdentityEvents`]) and the dry-run count service ([`HandoverCounts`]) from here.
//!
//! A leaver's records must not be left behind by a write racing the handover (the leaver's
//! token is refused everywhere within seconds, but not at once, and an assignment may name them
//! before the service has heard of the departure). So the service keeps who has left
//! (`employee_guards`, written in the handover's own transaction, first), and every write that
//! gives a record an owner calls [`require_active`] inside its transaction before it writes:
//! the write either commits before the handover (which then moves the record too) or sees the
//! departure and is refused.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crm_proto::events as events_pb;
use crm_proto::identity as identity_pb;
use prost::Name as _;
use sqlx::AnyConnection;

use crate::db::Db;
use crate::events::{Event, Handler, payload};
use crate::filter::like_escape;
use crate::{Error, Result};

/// The table of employees a service has heard have left, guarding writes that give records
/// an owner (see the module documentation).
pub const MIGRATION: crate::db::Migration = crate::db::Migration {
    version: 1_000_005,
    name: "kit_employee_guards",
    sql: "CREATE TABLE employee_guards (\n    employee_id TEXT PRIMARY KEY,\n    \
          -- When the employee was deactivated (microseconds); 0 while active.\n    \
          deactivated_at BIGINT NOT NULL DEFAULT 0\n);\n",
    only_on: None,
};

/// Records inside the handover's transaction, before any record moves, that `employee_id` has
/// left. On PostgreSQL the row lock waits for the writes that checked the employee (see
/// [`require_active`]) to commit, so the handover that follows sees their records.
pub async fn mark_deactivated(conn: &mut AnyConnection, employee_id: &str, at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO employee_guards (employee_id, deactivated_at) VALUES ($1, $2) \
         ON CONFLICT (employee_id) DO UPDATE SET deactivated_at = excluded.deactivated_at",
    )
    .bind(employee_id)
    .bind(at.max(1))
    .execute(conn)
    .await?;
    Ok(())
}

/// [`require_active`] on PostgreSQL as common table expressions, for a caller that folds the
/// check into a larger statement: `$1` is the employee, and [`ACTIVE_GUARD_HOLDS`] is the
/// condition true while they are active. The guard row is locked FOR SHARE: writes for one
/// owner do not wait for each other, a handover waits for them and they for it. A row inserted
/// by the same statement is not visible to its own `SELECT`, hence the `COALESCE`.
pub const ACTIVE_GUARD_CTES: &str = "employee_guard_new AS (INSERT INTO employee_guards (employee_id) VALUES ($1) \
     ON CONFLICT DO NOTHING RETURNING deactivated_at), \
     employee_guard_held AS (SELECT deactivated_at FROM employee_guards WHERE employee_id = $1 FOR SHARE)";

/// The condition over [`ACTIVE_GUARD_CTES`] that holds while the employee is active.
pub const ACTIVE_GUARD_HOLDS: &str = "COALESCE((SELECT deactivated_at FROM employee_guard_new), \
     (SELECT deactivated_at FROM employee_guard_held), 0) = 0";

/// Refuses, inside the write's transaction and before it writes, to give a record to
/// `employee_id` (named by request field `field`) once the service has heard they left: a
/// request naming someone else is INVALID_ARGUMENT (`INACTIVE_EMPLOYEE`), the caller themself
/// UNAUTHENTICATED (`ACCOUNT_DEACTIVATED`). Call it first in the transaction, before rows of
/// the employee are touched, so a handover running alongside cannot deadlock with it.
pub async fn require_active(conn: &mut AnyConnection, caller: &str, field: &str, employee_id: &str) -> Result<()> {
    if active_guarded(conn, employee_id).await? {
        Ok(())
    } else {
        Err(inactive(caller, field, employee_id))
    }
}

/// [`require_active`] as a yes or no: whether `employee_id` may be given a record (for work
/// handed out by rules, which goes to the pool instead).
pub async fn active_guarded(conn: &mut AnyConnection, employee_id: &str) -> Result<bool> {
    if employee_id.is_empty() {
        return Ok(true);
    }
    let deactivated_at: i64 = match crate::db::backend(conn) {
        crate::db::Backend::Postgres => {
            sqlx::query_scalar(&format!(
                "WITH {ACTIVE_GUARD_CTES} SELECT CAST(CASE WHEN {ACTIVE_GUARD_HOLDS} THEN 0 ELSE 1 END AS BIGINT)"
            ))
            .bind(employee_id)
            .fetch_one(conn)
            .await?
        }
        // SQLite: the write transaction holds the database's write lock, so a read is enough
        // (the row is still inserted, so PostgreSQL and SQLite keep the same rows).
        crate::db::Backend::Sqlite => {
            sqlx::query("INSERT INTO employee_guards (employee_id) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(employee_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query_scalar("SELECT deactivated_at FROM employee_guards WHERE employee_id = $1")
                .bind(employee_id)
                .fetch_one(conn)
                .await?
        }
    };
    Ok(deactivated_at == 0)
}

/// Whether the service has heard `employee_id` left (a plain read, for naming why a guarded
/// write did not happen).
pub async fn is_deactivated(conn: &mut AnyConnection, employee_id: &str) -> Result<bool> {
    let at: Option<i64> = sqlx::query_scalar("SELECT deactivated_at FROM employee_guards WHERE employee_id = $1")
        .bind(employee_id)
        .fetch_optional(conn)
        .await?;
    Ok(at.is_some_and(|t| t != 0))
}

/// The refusal of a record given to `employee_id` who has left.
pub fn inactive(caller: &str, field: &str, employee_id: &str) -> Error {
    if caller == employee_id {
        Error::unauthenticated("ACCOUNT_DEACTIVATED", "the account is deactivated")
    } else {
        Error::invalid(field, "INACTIVE_EMPLOYEE", format!("{employee_id} is deactivated"))
    }
}

/// The name identity's feed cursor is kept under.
pub const IDENTITY_FEED: &str = "identity";

/// A boxed future borrowing for `'a`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One handover: whose records go to whom.
#[derive(Debug, Clone, Copy)]
pub struct Handover<'a> {
    pub id: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub to_department_path: &'a str,
    /// Who asked for it (recorded as the one who changed the owner).
    pub by: &'a str,
}

/// A service's records that have owners.
pub trait Owner: Send + Sync + 'static {
    /// Moves every open record of `h.from` to `h.to` inside the caller's transaction, with the
    /// reason "handover" in each record's history; how many records moved.
    fn hand_over<'a>(&'a self, conn: &'a mut AnyConnection, h: Handover<'a>, now: i64) -> BoxFuture<'a, Result<u64>>;

    /// The department path of `employee_id`'s records is now `path`.
    fn employee_moved<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
        path: &'a str,
    ) -> BoxFuture<'a, Result<()>>;

    /// Every department path under `old_path` now starts with `new_path`.
    fn department_moved<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        old_path: &'a str,
        new_path: &'a str,
    ) -> BoxFuture<'a, Result<()>>;

    /// `employee_id` has left (before their records are handed over): a service that hands
    /// work out to employees stops handing it to them.
    fn employee_deactivated<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        let _ = (conn, employee_id);
        Box::pin(async { Ok(()) })
    }

    /// What a handover of `employee_id` would move now.
    fn count<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<events_pb::HandoverCount>>>;
}

/// The identity event types an [`Owner`] follows.
pub fn identity_types() -> Vec<String> {
    vec![
        identity_pb::EmployeeDeactivated::full_name(),
        identity_pb::HandoverRequested::full_name(),
        identity_pb::EmployeeMoved::full_name(),
        identity_pb::DepartmentMoved::full_name(),
    ]
}

/// Applies identity's events to an [`Owner`]'s records.
pub struct IdentityEvents<O: ?Sized>(pub Arc<O>);

impl<O: Owner + ?Sized> Handler for IdentityEvents<O> {
    fn apply<'a>(&'a self, conn: &'a mut AnyConnection, event: &'a Event) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let now = crate::time::now_micros();
            let t = event.r#type.as_str();
            let (id, from, to, path, by) = if t == identity_pb::EmployeeDeactivated::full_name() {
                let e: identity_pb::EmployeeDeactivated = payload(event)?;
                // First: from here on no write gives the leaver a record, and the writes that
                // did are committed before the handover below looks for the leaver's records.
                let at = event
                    .occurred_at
                    .as_ref()
                    .and_then(|t| crate::time::from_proto("occurred_at", t).ok())
                    .unwrap_or(now);
                mark_deactivated(conn, &e.employee_id, at).await?;
                self.0.employee_deactivated(conn, &e.employee_id).await?;
                (
                    e.handover_id,
                    e.employee_id,
                    e.successor_id,
                    e.successor_department_path,
                    e.requested_by,
                )
            } else if t == identity_pb::HandoverRequested::full_name() {
                let e: identity_pb::HandoverRequested = payload(event)?;
                (
                    e.handover_id,
                    e.employee_id,
                    e.successor_id,
                    e.successor_department_path,
                    e.requested_by,
                )
            } else if t == identity_pb::EmployeeMoved::full_name() {
                let e: identity_pb::EmployeeMoved = payload(event)?;
                return self.0.employee_moved(conn, &e.employee_id, &e.department_path).await;
            } else if t == identity_pb::DepartmentMoved::full_name() {
                let e: identity_pb::DepartmentMoved = payload(event)?;
                if e.old_path.is_empty() || e.old_path == e.new_path {
                    return Ok(());
                }
                return self.0.department_moved(conn, &e.old_path, &e.new_path).await;
            } else {
                return Ok(());
            };
            if from.is_empty() || to.is_empty() {
                return Err(Error::precondition(
                    "HANDOVER_MALFORMED",
                    &id,
                    "a handover names the leaver and the successor",
                ));
            }
            let h = Handover {
                id: &id,
                from: &from,
                to: &to,
                to_department_path: &path,
                by: &by,
            };
            let moved = self.0.hand_over(conn, h, now).await?;
            tracing::info!(handover = %id, from = %from, to = %to, moved, "records handed over");
            Ok(())
        })
    }
}

/// `crm.events.v1.HandoverService` for an [`Owner`].
pub struct HandoverCounts<O: ?Sized> {
    pub db: Db,
    pub owner: Arc<O>,
}

#[tonic::async_trait]
impl<O: Owner + ?Sized> events_pb::handover_service_server::HandoverService for HandoverCounts<O> {
    async fn count_handover(
        &self,
        request: tonic::Request<events_pb::CountHandoverRequest>,
    ) -> std::result::Result<tonic::Response<events_pb::CountHandoverResponse>, tonic::Status> {
        let employee_id = request.get_ref().employee_id.trim().to_string();
        if employee_id.is_empty() {
            return Err(Error::required("employee_id").into());
        }
        let mut conn = self.db.pool.acquire().await.map_err(Error::from)?;
        let counts = self.owner.count(&mut conn, &employee_id).await?;
        Ok(tonic::Response::new(events_pb::CountHandoverResponse { counts }))
    }
}

/// Rewrites `column` of `table` for every path under `old_path` to sit under `new_path`.
/// (`table` and `column` are the caller's constants, never input.)
pub async fn rewrite_paths(
    conn: &mut AnyConnection,
    table: &str,
    column: &str,
    old_path: &str,
    new_path: &str,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE {table} SET {column} = $1 || SUBSTR({column}, CAST($2 AS INTEGER)) WHERE {column} LIKE $3 ESCAPE '\\'"
    ))
    .bind(new_path)
    .bind(i64::try_from(old_path.len()).unwrap_or(i64::MAX) + 1)
    .bind(format!("{}%", like_escape(old_path)))
    .execute(conn)
    .await?;
    Ok(())
}

/// A handover count of `service`.
pub fn count(service: &str, kind: &str, count: i64) -> events_pb::HandoverCount {
    events_pb::HandoverCount {
        service: service.to_string(),
        kind: kind.to_string(),
        count,
    }
}

/// The event side of a service that owns records: its outbox (sequencer and feed), the
/// follower of identity's feed applying handovers and moves to its records, and the handover
/// count service.
pub struct Wiring {
    handover: events_pb::handover_service_server::HandoverServiceServer<HandoverCounts<dyn Owner>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    health: Vec<(String, tokio::sync::watch::Receiver<bool>)>,
}

impl std::fmt::Debug for Wiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wiring")
            .field("tasks", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

impl Wiring {
    /// Starts (with `follow_identity`) the follower of identity's feed for `service`'s records,
    /// until `stopping` fires. [`crate::service::Service::follow_handovers`] is the usual way in.
    pub fn start(
        db: &Db,
        config: &crate::config::ServiceConfig,
        service: &str,
        owner: Arc<dyn Owner>,
        follow_identity: bool,
        stopping: &crate::serve::Stopping,
    ) -> Wiring {
        let mut tasks = Vec::new();
        let mut health = Vec::new();
        if follow_identity {
            let mut follow = config.follow(service, IDENTITY_FEED, &config.identity_url, identity_types());
            let (reporter, status) = crate::events::FeedHealth::new();
            follow.health = Some(reporter);
            health.push((Self::follower_health_name(IDENTITY_FEED), status));
            tasks.push(tokio::spawn(crate::events::follow(
                db.clone(),
                follow,
                Arc::new(IdentityEvents(owner.clone())),
                stopping.clone(),
            )));
        }
        let handover =
            events_pb::handover_service_server::HandoverServiceServer::new(HandoverCounts { db: db.clone(), owner });
        Wiring {
            handover,
            tasks,
            health,
        }
    }

    /// The health entry of the follower of `feed`, e.g. `crm.events.follow.identity`.
    pub fn follower_health_name(feed: &str) -> String {
        format!("crm.events.follow.{feed}")
    }

    /// Health entries of the followers: NOT_SERVING while one cannot follow its feed (see
    /// [`crate::serve::ServeSpec::health_checks`]).
    pub fn health_checks(&self) -> Vec<(String, tokio::sync::watch::Receiver<bool>)> {
        self.health.clone()
    }

    /// The server answering identity's handover dry-run counts.
    pub fn counts_server(
        &self,
    ) -> events_pb::handover_service_server::HandoverServiceServer<HandoverCounts<dyn Owner>> {
        self.handover.clone()
    }

    /// Waits for the background tasks to end (after `stopping` fired).
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
