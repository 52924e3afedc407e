//! Warehouses and their keepers.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// A stored warehouse.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WarehouseRow {
    pub id: String,
    pub code: String,
    pub code_key: String,
    pub name: String,
    pub address: String,
    pub allow_negative: i64,
    pub status: String,
    pub remark: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
}

/// The columns of a [`WarehouseRow`] of warehouses `w`.
pub const COLUMNS: &str = "w.id, w.code, w.code_key, w.name, w.address, w.allow_negative, w.status, w.remark, \
    w.created_at, w.created_by, w.updated_at, w.updated_by, w.version";

/// The warehouse `id` if it is in `scope`.
pub async fn visible(conn: &mut AnyConnection, scope: &ReadScope, id: &str) -> Result<Option<WarehouseRow>> {
    let mut q = SqlBuf::read(&format!("SELECT {COLUMNS} FROM warehouses w"), scope);
    q.push(" AND w.id = ").text(id);
    Ok(q.query_as::<WarehouseRow>().fetch_optional(conn).await?)
}

/// A page of the warehouses in `scope`, by code.
pub async fn page(conn: &mut AnyConnection, scope: &ReadScope, keyset: &Keyset<'_>) -> Result<Page<WarehouseRow>> {
    let q = SqlBuf::read(&format!("SELECT {COLUMNS} FROM warehouses w"), scope);
    keyset
        .fetch(conn, q, |w: &WarehouseRow| Position::at(w.code_key.clone(), &w.id))
        .await
}

/// The keepers of a warehouse, sorted.
pub async fn keepers(conn: &mut AnyConnection, warehouse_id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT employee_id FROM warehouse_keepers WHERE warehouse_id = $1 ORDER BY employee_id")
            .bind(warehouse_id)
            .fetch_all(conn)
            .await?,
    )
}

/// The keepers of the warehouses `ids`, as (warehouse, employee) sorted, for a page at once.
pub async fn keepers_of(conn: &mut AnyConnection, ids: &[&str]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(400) {
        let mut q = SqlBuf::read(
            "SELECT k.warehouse_id, k.employee_id FROM warehouse_keepers k",
            &ReadScope::everything("the keepers of warehouses the caller already reached"),
        );
        q.push(" AND ")
            .in_texts("k.warehouse_id", chunk.iter().copied())
            .push(" ORDER BY k.warehouse_id, k.employee_id");
        out.extend(q.query_as::<(String, String)>().fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Replaces the keepers of a warehouse.
pub async fn set_keepers(conn: &mut AnyConnection, warehouse_id: &str, keepers: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM warehouse_keepers WHERE warehouse_id = $1")
        .bind(warehouse_id)
        .execute(&mut *conn)
        .await?;
    for k in keepers {
        sqlx::query("INSERT INTO warehouse_keepers (warehouse_id, employee_id) VALUES ($1, $2)")
            .bind(warehouse_id)
            .bind(k)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts a warehouse; `false` when its code is taken.
pub async fn insert(conn: &mut AnyConnection, w: &WarehouseRow) -> Result<bool> {
    crm_kit::errors::inserted(
        sqlx::query(&format!(
            "INSERT INTO warehouses ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            COLUMNS.replace("w.", "")
        ))
        .bind(&w.id)
        .bind(&w.code)
        .bind(&w.code_key)
        .bind(&w.name)
        .bind(&w.address)
        .bind(w.allow_negative)
        .bind(&w.status)
        .bind(&w.remark)
        .bind(w.created_at)
        .bind(&w.created_by)
        .bind(w.updated_at)
        .bind(&w.updated_by)
        .bind(w.version)
        .execute(conn)
        .await,
    )
}

/// Writes a warehouse at `version`: `None` when the version moved on, `Some(false)` when its
/// code is taken.
pub async fn update(conn: &mut AnyConnection, w: &WarehouseRow, version: i64) -> Result<Option<bool>> {
    let r = sqlx::query(
        "UPDATE warehouses SET code = $1, code_key = $2, name = $3, address = $4, allow_negative = $5, status = $6, \
         remark = $7, updated_at = $8, updated_by = $9, version = version + 1 WHERE id = $10 AND version = $11",
    )
    .bind(&w.code)
    .bind(&w.code_key)
    .bind(&w.name)
    .bind(&w.address)
    .bind(w.allow_negative)
    .bind(&w.status)
    .bind(&w.remark)
    .bind(w.updated_at)
    .bind(&w.updated_by)
    .bind(&w.id)
    .bind(version)
    .execute(conn)
    .await;
    match r {
        Ok(r) if r.rows_affected() == 0 => Ok(None),
        Ok(_) => Ok(Some(true)),
        Err(e) if crm_kit::errors::is_unique_violation(&e) => Ok(Some(false)),
        Err(e) => Err(e.into()),
    }
}
