//! How far each lead import request with a request id has written its file, so a retry of
//! one that was cut off writes only the rest.

use crm_kit::Result;
use crm_kit::idempotency::RequestKey;
use sqlx::AnyConnection;

/// The fingerprint of the import request `key` names, and the data rows it has written.
pub async fn progress(conn: &mut AnyConnection, key: &RequestKey) -> Result<Option<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT fingerprint, rows_done FROM lead_import_progress WHERE scope = $1 AND request_id = $2")
            .bind(&key.scope)
            .bind(&key.request_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Records that the import request `key` names has written its file through data row
/// `rows_done`.
pub async fn save_progress(conn: &mut AnyConnection, key: &RequestKey, rows_done: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO lead_import_progress (scope, request_id, fingerprint, rows_done) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (scope, request_id) DO UPDATE SET rows_done = excluded.rows_done",
    )
    .bind(&key.scope)
    .bind(&key.request_id)
    .bind(&key.fingerprint)
    .bind(rows_done)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the progress of the finished import request `key` names.
pub async fn clear_progress(conn: &mut AnyConnection, key: &RequestKey) -> Result<()> {
    sqlx::query("DELETE FROM lead_import_progress WHERE scope = $1 AND request_id = $2")
        .bind(&key.scope)
        .bind(&key.request_id)
        .execute(conn)
        .await?;
    Ok(())
}
