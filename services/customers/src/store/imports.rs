//! Import jobs: the stored progress of an import keyed by its request_id, and the cancel flag.

use crm_kit::Result;
use sqlx::AnyConnection;

/// One import job as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportJobRow {
    pub request_id: String,
    pub employee_id: String,
    pub department_path: String,
    /// running, succeeded, failed or cancelled.
    pub state: String,
    pub rows_read: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    pub bytes_received: i64,
    pub bytes_declared: i64,
    pub cancel_requested: i64,
    pub error_message: String,
    pub started_at: i64,
    pub updated_at: i64,
    pub ended_at: i64,
}

/// The counts an import has reached.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub rows_read: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    pub bytes_received: i64,
}

const COLUMNS: &str = "request_id, employee_id, department_path, state, rows_read, created, updated, skipped, failed, \
    bytes_received, bytes_declared, cancel_requested, error_message, started_at, updated_at, ended_at";

/// Starts (or restarts, for a retry of an import that did not finish) the job of `request_id`
/// for `employee_id`. False when the request_id belongs to another employee's job.
pub async fn start(
    conn: &mut AnyConnection,
    request_id: &str,
    employee_id: &str,
    department_path: &str,
    bytes_declared: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO import_jobs (request_id, employee_id, department_path, state, bytes_declared, started_at, updated_at) \
         VALUES ($1, $2, $3, 'running', $4, $5, $5) \
         ON CONFLICT (request_id) DO UPDATE SET state = 'running', rows_read = 0, created = 0, updated = 0, skipped = 0, \
         failed = 0, bytes_received = 0, bytes_declared = excluded.bytes_declared, cancel_requested = 0, \
         error_message = '', started_at = excluded.started_at, updated_at = excluded.updated_at, ended_at = 0 \
         WHERE import_jobs.employee_id = excluded.employee_id",
    )
    .bind(request_id)
    .bind(employee_id)
    .bind(department_path)
    .bind(bytes_declared)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records the progress after a committed batch; answers whether a cancel was asked for.
pub async fn advance(conn: &mut AnyConnection, request_id: &str, p: Progress, now: i64) -> Result<bool> {
    let cancel: Option<i64> = sqlx::query_scalar(
        "UPDATE import_jobs SET rows_read = $2, created = $3, updated = $4, skipped = $5, failed = $6, \
         bytes_received = $7, updated_at = $8 WHERE request_id = $1 RETURNING cancel_requested",
    )
    .bind(request_id)
    .bind(p.rows_read)
    .bind(p.created)
    .bind(p.updated)
    .bind(p.skipped)
    .bind(p.failed)
    .bind(p.bytes_received)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(cancel.unwrap_or(0) != 0)
}

/// Ends the job in `state` (succeeded, failed, cancelled) with its final counts.
pub async fn end(
    conn: &mut AnyConnection,
    request_id: &str,
    state: &str,
    p: Progress,
    error_message: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE import_jobs SET state = $2, rows_read = $3, created = $4, updated = $5, skipped = $6, failed = $7, \
         bytes_received = $8, error_message = $9, updated_at = $10, ended_at = $10 WHERE request_id = $1",
    )
    .bind(request_id)
    .bind(state)
    .bind(p.rows_read)
    .bind(p.created)
    .bind(p.updated)
    .bind(p.skipped)
    .bind(p.failed)
    .bind(p.bytes_received)
    .bind(error_message)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Raises the cancel flag of a running job.
pub async fn request_cancel(conn: &mut AnyConnection, request_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE import_jobs SET cancel_requested = 1, updated_at = $2 WHERE request_id = $1 AND state = 'running'",
    )
    .bind(request_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The job of `request_id`, if any.
pub async fn get(conn: &mut AnyConnection, request_id: &str) -> Result<Option<ImportJobRow>> {
    Ok(
        sqlx::query_as::<_, ImportJobRow>(&format!("SELECT {COLUMNS} FROM import_jobs WHERE request_id = $1"))
            .bind(request_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}
