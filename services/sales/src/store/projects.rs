//! Projects and their maintenance records.

use crm_kit::Result;
use sqlx::AnyConnection;

use super::Listed;

/// A stored project.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: String,
    pub opportunity_id: String,
    pub name: String,
    pub customer_id: String,
    pub contact_id: String,
    pub owner_id: String,
    pub owner_department_path: String,
    pub stage_id: String,
    pub probability: i64,
    pub currency: String,
    pub expected_amount: i64,
    pub expected_cost: i64,
    pub actual_cost: i64,
    pub actual_sales: i64,
    pub partners: String,
    pub remark: String,
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
}

/// The columns of a [`ProjectRow`] of projects `p`.
pub const COLUMNS: &str = "p.id, p.opportunity_id, p.name, p.customer_id, p.contact_id, p.owner_id, \
    p.owner_department_path, p.stage_id, p.probability, p.currency, p.expected_amount, p.expected_cost, p.actual_cost, \
    p.actual_sales, p.partners, p.remark, p.status, p.created_at, p.created_by, p.updated_at, p.updated_by, p.version";

/// Every project, for a list.
pub fn listed() -> Listed {
    Listed {
        select: format!("SELECT {COLUMNS} FROM projects p"),
        conditions: "1 = 1".into(),
        alias: "p",
    }
}

/// One project.
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<ProjectRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM projects p WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Inserts a project.
pub async fn insert(conn: &mut AnyConnection, p: &ProjectRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO projects ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22)",
        COLUMNS.replace("p.", "")
    ))
    .bind(&p.id)
    .bind(&p.opportunity_id)
    .bind(&p.name)
    .bind(&p.customer_id)
    .bind(&p.contact_id)
    .bind(&p.owner_id)
    .bind(&p.owner_department_path)
    .bind(&p.stage_id)
    .bind(p.probability)
    .bind(&p.currency)
    .bind(p.expected_amount)
    .bind(p.expected_cost)
    .bind(p.actual_cost)
    .bind(p.actual_sales)
    .bind(&p.partners)
    .bind(&p.remark)
    .bind(&p.status)
    .bind(p.created_at)
    .bind(&p.created_by)
    .bind(p.updated_at)
    .bind(&p.updated_by)
    .bind(p.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a project's editable fields and status if it is still at `version`; false otherwise.
pub async fn update(conn: &mut AnyConnection, p: &ProjectRow, version: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE projects SET name = $1, contact_id = $2, actual_cost = $3, actual_sales = $4, partners = $5, remark = $6, \
         status = $7, updated_at = $8, updated_by = $9, version = version + 1 WHERE id = $10 AND version = $11",
    )
    .bind(&p.name)
    .bind(&p.contact_id)
    .bind(p.actual_cost)
    .bind(p.actual_sales)
    .bind(&p.partners)
    .bind(&p.remark)
    .bind(&p.status)
    .bind(p.updated_at)
    .bind(&p.updated_by)
    .bind(&p.id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A stored maintenance record of a project.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MaintenanceRecordRow {
    pub id: String,
    pub project_id: String,
    pub sequence: i64,
    pub method: String,
    pub record_at: i64,
    pub summary: String,
    pub completed: i64,
    pub completed_at: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

const RECORD_COLUMNS: &str = "id, project_id, sequence, method, record_at, summary, completed, completed_at, created_at, created_by, updated_at, updated_by";

/// One maintenance record.
pub async fn record(conn: &mut AnyConnection, id: &str) -> Result<Option<MaintenanceRecordRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM maintenance_records WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// The maintenance records of a project in order.
pub async fn records(conn: &mut AnyConnection, project_id: &str) -> Result<Vec<MaintenanceRecordRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM maintenance_records WHERE project_id = $1 ORDER BY sequence"
    ))
    .bind(project_id)
    .fetch_all(conn)
    .await?)
}

/// Inserts a maintenance record as the next of its project (its sequence is set here).
pub async fn insert_record(conn: &mut AnyConnection, r: &mut MaintenanceRecordRow) -> Result<()> {
    r.sequence = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(sequence), 0) + 1 AS BIGINT) FROM maintenance_records WHERE project_id = $1",
    )
    .bind(&r.project_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO maintenance_records ({RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&r.id)
    .bind(&r.project_id)
    .bind(r.sequence)
    .bind(&r.method)
    .bind(r.record_at)
    .bind(&r.summary)
    .bind(r.completed)
    .bind(r.completed_at)
    .bind(r.created_at)
    .bind(&r.created_by)
    .bind(r.updated_at)
    .bind(&r.updated_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The first record of a project before `sequence` that is not completed: its id and sequence.
pub async fn earlier_open_record(
    conn: &mut AnyConnection,
    project_id: &str,
    sequence: i64,
) -> Result<Option<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT id, sequence FROM maintenance_records WHERE project_id = $1 AND sequence < $2 AND completed = 0 \
         ORDER BY sequence LIMIT 1",
    )
    .bind(project_id)
    .bind(sequence)
    .fetch_optional(conn)
    .await?)
}

/// Completes a record at `now`; false when it is completed already (or gone).
pub async fn complete_record(conn: &mut AnyConnection, id: &str, now: i64, actor: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE maintenance_records SET completed = 1, completed_at = $1, updated_at = $1, updated_by = $2 \
         WHERE id = $3 AND completed = 0",
    )
    .bind(now)
    .bind(actor)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Deletes a maintenance record.
pub async fn delete_record(conn: &mut AnyConnection, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM maintenance_records WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
