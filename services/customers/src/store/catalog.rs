//! Categories, dictionaries, settings and saved filters.

use crm_kit::Result;
use sqlx::AnyConnection;

/// A stored category with its counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: String,
    pub parent_id: String,
    pub name: String,
    pub sort_order: i64,
    pub version: i64,
    pub customer_count: i64,
    pub child_count: i64,
}

const CATEGORY_SELECT: &str = "SELECT k.id, k.parent_id, k.name, k.sort_order, k.version, \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM customers c WHERE c.category_id <> '' AND c.category_id = k.id AND c.deleted_at IS NULL) AS customer_count, \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM categories x WHERE x.parent_id = k.id) AS child_count FROM categories k";

/// The condition that every named dictionary code exists and is enabled and that the category
/// (when named) exists and is a leaf: the cheap form of the reference checks, evaluated inside a
/// write (see `store::execute_guarded`). `None` when nothing is named.
pub fn references_guard(codes: &[(&str, &str)], category_id: &str) -> Option<super::SqlBuf> {
    let mut q = super::SqlBuf::new("");
    for (dictionary, code) in codes {
        if !q.sql.is_empty() {
            q.push(" AND ");
        }
        q.push("EXISTS (SELECT 1 FROM dictionary_entries WHERE dictionary = ")
            .text(*dictionary)
            .push(" AND code = ")
            .text(*code)
            .push(" AND enabled = 1)");
    }
    if !category_id.is_empty() {
        if !q.sql.is_empty() {
            q.push(" AND ");
        }
        q.push("EXISTS (SELECT 1 FROM categories k WHERE k.id = ")
            .text(category_id)
            .push(" AND NOT EXISTS (SELECT 1 FROM categories x WHERE x.parent_id = k.id))");
    }
    (!q.sql.is_empty()).then_some(q)
}

/// One category with counts.
pub async fn category(conn: &mut AnyConnection, id: &str) -> Result<Option<CategoryRow>> {
    Ok(sqlx::query_as(&format!("{CATEGORY_SELECT} WHERE k.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Every category with counts.
pub async fn categories(conn: &mut AnyConnection) -> Result<Vec<CategoryRow>> {
    Ok(
        sqlx::query_as(&format!("{CATEGORY_SELECT} ORDER BY k.sort_order, k.name, k.id"))
            .fetch_all(conn)
            .await?,
    )
}

/// Inserts a category; false when a sibling has the same name.
pub async fn insert_category(conn: &mut AnyConnection, c: &CategoryRow, actor: &str, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO categories (id, parent_id, name, sort_order, version, created_at, created_by, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, 1, $5, $6, $5, $6)",
    )
    .bind(&c.id)
    .bind(&c.parent_id)
    .bind(&c.name)
    .bind(c.sort_order)
    .bind(now)
    .bind(actor)
    .execute(conn)
    .await;
    crm_kit::errors::inserted(r)
}

/// Writes a category's name, parent and order at `expected_version`. Ok(None) when the version
/// moved, Ok(Some(false)) on a sibling-name clash.
pub async fn update_category(
    conn: &mut AnyConnection,
    c: &CategoryRow,
    expected_version: i64,
    actor: &str,
    now: i64,
) -> Result<Option<bool>> {
    let r = sqlx::query(
        "UPDATE categories SET parent_id = $1, name = $2, sort_order = $3, version = version + 1, updated_at = $4, updated_by = $5 \
         WHERE id = $6 AND version = $7",
    )
    .bind(&c.parent_id)
    .bind(&c.name)
    .bind(c.sort_order)
    .bind(now)
    .bind(actor)
    .bind(&c.id)
    .bind(expected_version)
    .execute(conn)
    .await;
    match r {
        Ok(r) if r.rows_affected() == 1 => Ok(Some(true)),
        Ok(_) => Ok(None),
        Err(e) if crm_kit::errors::is_unique_violation(&e) => Ok(Some(false)),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a category that has no customers and no children; false otherwise.
pub async fn delete_category(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let r = sqlx::query(
        "DELETE FROM categories WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.category_id <> '' AND c.category_id = $1 AND c.deleted_at IS NULL) \
         AND NOT EXISTS (SELECT 1 FROM categories x WHERE x.parent_id = $1)",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The ids of the ancestors of a category, nearest first (for cycle checks).
pub async fn ancestors(conn: &mut AnyConnection, id: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut current = id.to_string();
    // Trees are shallow; the bound guards against a corrupted cycle.
    for _ in 0..64 {
        let parent: Option<String> = sqlx::query_scalar("SELECT parent_id FROM categories WHERE id = $1")
            .bind(&current)
            .fetch_optional(&mut *conn)
            .await?;
        match parent {
            Some(p) if !p.is_empty() => {
                out.push(p.clone());
                current = p;
            }
            _ => break,
        }
    }
    Ok(out)
}

/// A stored dictionary entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub dictionary: String,
    pub code: String,
    pub display_name: String,
    pub enabled: i64,
    pub sort_order: i64,
}

/// One entry.
pub async fn entry(conn: &mut AnyConnection, dictionary: &str, code: &str) -> Result<Option<EntryRow>> {
    Ok(sqlx::query_as(
        "SELECT dictionary, code, display_name, enabled, sort_order FROM dictionary_entries WHERE dictionary = $1 AND code = $2",
    )
    .bind(dictionary)
    .bind(code)
    .fetch_optional(conn)
    .await?)
}

/// The entries of a dictionary in display order.
pub async fn entries(conn: &mut AnyConnection, dictionary: &str, include_disabled: bool) -> Result<Vec<EntryRow>> {
    Ok(sqlx::query_as(
        "SELECT dictionary, code, display_name, enabled, sort_order FROM dictionary_entries \
         WHERE dictionary = $1 AND ($2 = 1 OR enabled = 1) ORDER BY sort_order, code",
    )
    .bind(dictionary)
    .bind(i64::from(include_disabled))
    .fetch_all(conn)
    .await?)
}

/// Inserts an entry; false when the code exists.
pub async fn insert_entry(conn: &mut AnyConnection, e: &EntryRow, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO dictionary_entries (dictionary, code, display_name, enabled, sort_order, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&e.dictionary)
    .bind(&e.code)
    .bind(&e.display_name)
    .bind(e.enabled)
    .bind(e.sort_order)
    .bind(now)
    .execute(conn)
    .await;
    crm_kit::errors::inserted(r)
}

/// Writes an entry's name, flag and order.
pub async fn update_entry(conn: &mut AnyConnection, e: &EntryRow, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE dictionary_entries SET display_name = $1, enabled = $2, sort_order = $3, updated_at = $4 WHERE dictionary = $5 AND code = $6",
    )
    .bind(&e.display_name)
    .bind(e.enabled)
    .bind(e.sort_order)
    .bind(now)
    .bind(&e.dictionary)
    .bind(&e.code)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes an entry.
pub async fn delete_entry(conn: &mut AnyConnection, dictionary: &str, code: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM dictionary_entries WHERE dictionary = $1 AND code = $2")
        .bind(dictionary)
        .bind(code)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The customers column that holds a dictionary's codes, if customers use it.
pub fn customer_column(dictionary: &str) -> Option<&'static str> {
    match dictionary {
        "industry" => Some("industry_code"),
        "customer_type" => Some("type_code"),
        "level" => Some("level_code"),
        "source" => Some("source_code"),
        _ => None,
    }
}

/// How many live customers use a code.
pub async fn code_usage(conn: &mut AnyConnection, dictionary: &str, code: &str) -> Result<i64> {
    let Some(column) = customer_column(dictionary) else {
        return Ok(0);
    };
    Ok(sqlx::query_scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE {column} = $1 AND deleted_at IS NULL"
    ))
    .bind(code)
    .fetch_one(conn)
    .await?)
}

/// A setting's JSON value.
pub async fn setting(conn: &mut AnyConnection, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await?)
}

/// Writes a setting.
pub async fn put_setting(conn: &mut AnyConnection, key: &str, value: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored saved filter.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SavedFilterRow {
    pub id: String,
    pub employee_id: String,
    pub name: String,
    pub filter: String,
    pub query: String,
    pub order_by: String,
    pub created_at: i64,
}

/// Inserts a saved filter; false when the employee already has one with that name.
pub async fn insert_saved_filter(conn: &mut AnyConnection, f: &SavedFilterRow) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO saved_filters (id, employee_id, name, filter, query, order_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&f.id)
    .bind(&f.employee_id)
    .bind(&f.name)
    .bind(&f.filter)
    .bind(&f.query)
    .bind(&f.order_by)
    .bind(f.created_at)
    .execute(conn)
    .await;
    crm_kit::errors::inserted(r)
}

/// An employee's saved filters by name.
pub async fn saved_filters(conn: &mut AnyConnection, employee_id: &str) -> Result<Vec<SavedFilterRow>> {
    Ok(sqlx::query_as(
        "SELECT id, employee_id, name, filter, query, order_by, created_at FROM saved_filters WHERE employee_id = $1 ORDER BY name",
    )
    .bind(employee_id)
    .fetch_all(conn)
    .await?)
}

/// Deletes one of an employee's saved filters.
pub async fn delete_saved_filter(conn: &mut AnyConnection, employee_id: &str, id: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM saved_filters WHERE id = $1 AND employee_id = $2")
        .bind(id)
        .bind(employee_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}
