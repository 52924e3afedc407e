//! What the sales service does with identity's events (see `crm_kit::handover`): a handover
//! moves the employee's live, unconverted leads and open opportunities (keeping their stage,
//! activities and history) to the successor, with an owner-history entry each, reason
//! `handover`; employee and department moves carry the records into the new department's scope.

use crm_kit::Result;
use crm_kit::handover::{BoxFuture, Handover, Owner, count};
use crm_proto::events as events_pb;
use sqlx::AnyConnection;

/// The records a handover moves: (table, record type, which rows).
const MOVED: &[(&str, &str, &str)] = &[
    ("leads", "lead", "deleted_at IS NULL AND status <> 'converted'"),
    ("opportunities", "opportunity", "status = 'open'"),
];

/// The sales service's owned records.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sales;

impl Owner for Sales {
    fn hand_over<'a>(&'a self, conn: &'a mut AnyConnection, h: Handover<'a>, now: i64) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let prefix = crm_kit::new_id();
            let mut moved = 0;
            for (table, kind, open) in MOVED {
                sqlx::query(&format!(
                    "INSERT INTO owner_changes (id, record_type, record_id, from_owner_id, to_owner_id, reason, note, \
                     changed_by, changed_at) SELECT $1 || t.id, '{kind}', t.id, t.owner_id, $2, 'handover', $3, $4, $5 \
                     FROM {table} t WHERE t.owner_id = $6 AND t.{open}"
                ))
                .bind(format!("{prefix}.{kind}."))
                .bind(h.to)
                .bind(format!("handover {}", h.id))
                .bind(h.by)
                .bind(now)
                .bind(h.from)
                .execute(&mut *conn)
                .await?;
                moved += sqlx::query(&format!(
                    "UPDATE {table} SET owner_id = $1, owner_department_path = $2, updated_at = $3, updated_by = $4, \
                     version = version + 1 WHERE owner_id = $5 AND {open}"
                ))
                .bind(h.to)
                .bind(h.to_department_path)
                .bind(now)
                .bind(h.by)
                .bind(h.from)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            }
            Ok(moved)
        })
    }

    fn employee_deactivated<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            // A leaver receives no more leads.
            sqlx::query("DELETE FROM assignees WHERE employee_id = $1")
                .bind(employee_id)
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    fn employee_moved<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
        path: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query("UPDATE assignees SET department_path = $1 WHERE employee_id = $2")
                .bind(path)
                .bind(employee_id)
                .execute(&mut *conn)
                .await?;
            for (table, _, _) in MOVED {
                sqlx::query(&format!(
                    "UPDATE {table} SET owner_department_path = $1 WHERE owner_id = $2"
                ))
                .bind(path)
                .bind(employee_id)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        })
    }

    fn department_moved<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        old_path: &'a str,
        new_path: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for (table, _, _) in MOVED {
                crm_kit::handover::rewrite_paths(&mut *conn, table, "owner_department_path", old_path, new_path)
                    .await?;
            }
            crm_kit::handover::rewrite_paths(&mut *conn, "assignees", "department_path", old_path, new_path).await?;
            Ok(())
        })
    }

    fn count<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        employee_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<events_pb::HandoverCount>>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for (table, kind, open) in MOVED {
                let n: i64 = sqlx::query_scalar(&format!(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE owner_id = $1 AND {open}"
                ))
                .bind(employee_id)
                .fetch_one(&mut *conn)
                .await?;
                let kind = if *kind == "lead" { "leads" } else { "open_opportunities" };
                out.push(count("sales", kind, n));
            }
            Ok(out)
        })
    }
}
