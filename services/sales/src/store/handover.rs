//! The owned records identity's events move: a handover passes an employee's live,
//! unconverted leads and open opportunities to the successor (with an owner-history entry
//! each); employee and department moves rewrite the department paths kept with them.

use crm_kit::Result;
use crm_kit::handover::Handover;
use sqlx::AnyConnection;

/// The records a handover moves: (table, record type, which rows).
const MOVED: &[(&str, &str, &str)] = &[
    ("leads", "lead", "deleted_at IS NULL AND status <> 'converted'"),
    ("opportunities", "opportunity", "status = 'open'"),
];

/// Moves the records of `h.from` to `h.to` at `now`, with reason `handover` in the owner
/// history; how many moved.
pub async fn hand_over(conn: &mut AnyConnection, h: Handover<'_>, now: i64) -> Result<u64> {
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
}

/// Takes an employee out of the assignment rules.
pub async fn remove_assignee(conn: &mut AnyConnection, employee_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM assignees WHERE employee_id = $1")
        .bind(employee_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The employee's department path is now `path`: in the assignment rules and on every record
/// they own.
pub async fn employee_moved(conn: &mut AnyConnection, employee_id: &str, path: &str) -> Result<()> {
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
}

/// Department paths under `old_path` are now under `new_path`: on owned records and in the
/// assignment rules.
pub async fn department_moved(conn: &mut AnyConnection, old_path: &str, new_path: &str) -> Result<()> {
    for (table, _, _) in MOVED {
        crm_kit::handover::rewrite_paths(&mut *conn, table, "owner_department_path", old_path, new_path).await?;
    }
    crm_kit::handover::rewrite_paths(&mut *conn, "assignees", "department_path", old_path, new_path).await?;
    Ok(())
}

/// How many records a handover of `employee_id` would move, per record type (`lead`,
/// `opportunity`).
pub async fn movable(conn: &mut AnyConnection, employee_id: &str) -> Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for (table, kind, open) in MOVED {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE owner_id = $1 AND {open}"
        ))
        .bind(employee_id)
        .fetch_one(&mut *conn)
        .await?;
        out.push((*kind, n));
    }
    Ok(out)
}
