//! Public web forms and the assignment rules (one row, id 1) with their assignees.

use crm_kit::Result;
use sqlx::AnyConnection;

/// A stored web form.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebFormRow {
    pub id: String,
    pub name: String,
    pub form_key: String,
    pub active: i64,
    pub captured: i64,
}

/// The web form with key `form_key`.
pub async fn form_by_key(conn: &mut AnyConnection, form_key: &str) -> Result<Option<WebFormRow>> {
    Ok(
        sqlx::query_as("SELECT id, name, form_key, active, captured FROM web_forms WHERE form_key = $1")
            .bind(form_key)
            .fetch_optional(conn)
            .await?,
    )
}

/// One web form, which must exist.
pub async fn form(conn: &mut AnyConnection, id: &str) -> Result<WebFormRow> {
    Ok(
        sqlx::query_as("SELECT id, name, form_key, active, captured FROM web_forms WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?,
    )
}

/// Every web form, oldest first.
pub async fn forms(conn: &mut AnyConnection) -> Result<Vec<WebFormRow>> {
    Ok(
        sqlx::query_as("SELECT id, name, form_key, active, captured FROM web_forms ORDER BY created_at, id")
            .fetch_all(conn)
            .await?,
    )
}

/// Inserts a new, active web form that has captured nothing yet.
pub async fn insert_form(conn: &mut AnyConnection, f: &WebFormRow, now: i64, actor: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO web_forms (id, name, form_key, active, captured, created_at, created_by) VALUES ($1, $2, $3, 1, 0, $4, $5)",
    )
    .bind(&f.id)
    .bind(&f.name)
    .bind(&f.form_key)
    .bind(now)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts one more lead captured by a web form.
pub async fn count_capture(conn: &mut AnyConnection, id: &str) -> Result<()> {
    sqlx::query("UPDATE web_forms SET captured = captured + 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Turns a web form on or off; false when there is no such form.
pub async fn set_form_active(conn: &mut AnyConnection, id: &str, active: bool) -> Result<bool> {
    let done = sqlx::query("UPDATE web_forms SET active = $1 WHERE id = $2")
        .bind(i64::from(active))
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(done != 0)
}

/// An assignee of the rules: provinces and sources are JSON arrays of strings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssigneeRow {
    pub employee_id: String,
    pub position: i64,
    pub provinces: String,
    pub sources: String,
    pub capacity: i64,
    pub department_path: String,
}

const ASSIGNEE_COLUMNS: &str = "employee_id, position, provinces, sources, capacity, department_path";

/// Takes the assignment rules' row lock for the rest of the transaction (a write that changes
/// nothing), so writers handing out leads take turns.
pub async fn lock_rules(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE assignment_rules SET last_position = last_position WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the rules are enabled, and their mode.
pub async fn rules(conn: &mut AnyConnection) -> Result<(i64, String)> {
    Ok(
        sqlx::query_as("SELECT enabled, mode FROM assignment_rules WHERE id = 1")
            .fetch_one(conn)
            .await?,
    )
}

/// Whether the rules are enabled, their mode, and the position of the assignee served last.
pub async fn rules_with_turn(conn: &mut AnyConnection) -> Result<(i64, String, i64)> {
    Ok(
        sqlx::query_as("SELECT enabled, mode, last_position FROM assignment_rules WHERE id = 1")
            .fetch_one(conn)
            .await?,
    )
}

/// The assignees in order.
pub async fn assignees(conn: &mut AnyConnection) -> Result<Vec<AssigneeRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {ASSIGNEE_COLUMNS} FROM assignees ORDER BY position"))
            .fetch_all(conn)
            .await?,
    )
}

/// How many open leads (new, contacting, qualified) each assignee with a capacity holds.
pub async fn open_leads_of_assignees(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT l.owner_id, CAST(COUNT(*) AS BIGINT) FROM leads l JOIN assignees a ON a.employee_id = l.owner_id \
         WHERE a.capacity > 0 AND l.deleted_at IS NULL AND l.status IN ('new', 'contacting', 'qualified') \
         GROUP BY l.owner_id",
    )
    .fetch_all(conn)
    .await?)
}

/// Stores the position of the assignee served last.
pub async fn save_turn(conn: &mut AnyConnection, last_position: i64) -> Result<()> {
    sqlx::query("UPDATE assignment_rules SET last_position = $1 WHERE id = 1")
        .bind(last_position)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets whether the rules are enabled and their mode, starting the turns afresh.
pub async fn update_rules(conn: &mut AnyConnection, enabled: bool, mode: &str, now: i64, actor: &str) -> Result<()> {
    sqlx::query(
        "UPDATE assignment_rules SET enabled = $1, mode = $2, last_position = 0, updated_at = $3, updated_by = $4 WHERE id = 1",
    )
    .bind(i64::from(enabled))
    .bind(mode)
    .bind(now)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes every assignee.
pub async fn clear_assignees(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM assignees").execute(conn).await?;
    Ok(())
}

/// Inserts an assignee.
pub async fn insert_assignee(conn: &mut AnyConnection, a: &AssigneeRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO assignees (employee_id, position, provinces, sources, capacity, department_path) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&a.employee_id)
    .bind(a.position)
    .bind(&a.provinces)
    .bind(&a.sources)
    .bind(a.capacity)
    .bind(&a.department_path)
    .execute(conn)
    .await?;
    Ok(())
}
