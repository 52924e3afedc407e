//! Project documents: what each file is, and its bytes in numbered pieces.

use crm_kit::Result;
use crm_kit::db::Db;
use sqlx::AnyConnection;

const COLUMNS: &str =
    "id, project_id, file_name, content_type, description, size_bytes, sha256, pieces, created_at, created_by";

/// A stored document (without its bytes).
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct DocumentRow {
    pub id: String,
    pub project_id: String,
    pub file_name: String,
    pub content_type: String,
    pub description: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub pieces: i64,
    pub created_at: i64,
    pub created_by: String,
}

/// One document.
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<DocumentRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM project_documents WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The documents of a project, newest first.
pub async fn of_project(conn: &mut AnyConnection, project_id: &str) -> Result<Vec<DocumentRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM project_documents WHERE project_id = $1 ORDER BY created_at DESC, id DESC"
    ))
    .bind(project_id)
    .fetch_all(conn)
    .await?)
}

/// Inserts what a document is (its pieces follow with [`insert_piece`]).
pub async fn insert(conn: &mut AnyConnection, d: &DocumentRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO project_documents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&d.id)
    .bind(&d.project_id)
    .bind(&d.file_name)
    .bind(&d.content_type)
    .bind(&d.description)
    .bind(d.size_bytes)
    .bind(&d.sha256)
    .bind(d.pieces)
    .bind(d.created_at)
    .bind(&d.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts piece number `piece` (from 0) of a document's bytes.
pub async fn insert_piece(conn: &mut AnyConnection, document_id: &str, piece: i64, data: &[u8]) -> Result<()> {
    sqlx::query("INSERT INTO project_document_pieces (document_id, piece, data) VALUES ($1, $2, $3)")
        .bind(document_id)
        .bind(piece)
        .bind(data.to_vec())
        .execute(conn)
        .await?;
    Ok(())
}

/// Piece number `piece` of a document's bytes, read outside any transaction (`None`: the
/// document is gone).
pub async fn piece(db: &Db, document_id: &str, piece: i64) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT data FROM project_document_pieces WHERE document_id = $1 AND piece = $2")
            .bind(document_id)
            .bind(piece)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// Deletes a document with its bytes.
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM project_document_pieces WHERE document_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM project_documents WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
