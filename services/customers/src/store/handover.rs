//! The customers identity's events move: a handover passes an employee's live customers to the
//! successor (with an owner-history entry each); an employee's move rewrites the department
//! path kept with the customers they own.

use crm_kit::Result;
use crm_kit::handover::Handover;
use sqlx::AnyConnection;

/// The ids of the live customers `owner_id` owns, in id order.
pub async fn live_customers(conn: &mut AnyConnection, owner_id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM customers WHERE owner_id = $1 AND deleted_at IS NULL ORDER BY id")
            .bind(owner_id)
            .fetch_all(conn)
            .await?,
    )
}

/// Moves every live customer of `h.from` to `h.to` at `now`, with reason `handover` in the
/// owner history; how many moved.
pub async fn hand_over(conn: &mut AnyConnection, h: Handover<'_>, now: i64) -> Result<u64> {
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
    Ok(sqlx::query(
        "UPDATE customers SET owner_id = $1, owner_department_path = $2, owned_since = $3, reclaim_locked = 0, \
         updated_at = $3, updated_by = $4, version = version + 1 WHERE owner_id = $5 AND deleted_at IS NULL",
    )
    .bind(h.to)
    .bind(h.to_department_path)
    .bind(now)
    .bind(h.by)
    .bind(h.from)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The employee's department path is now `path` on every customer they own.
pub async fn employee_moved(conn: &mut AnyConnection, employee_id: &str, path: &str) -> Result<()> {
    sqlx::query("UPDATE customers SET owner_department_path = $1 WHERE owner_id = $2")
        .bind(path)
        .bind(employee_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many live customers, and contacts of them, a handover of `employee_id` would move.
pub async fn movable(conn: &mut AnyConnection, employee_id: &str) -> Result<(i64, i64)> {
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
    Ok((customers, contacts))
}
