//! Contacts: the people at a customer; exactly one primary when there are any.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use sqlx::AnyConnection;

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactRow {
    pub id: String,
    pub customer_id: String,
    pub name: String,
    pub title: String,
    pub department: String,
    /// Mobile and phone in E.164, and as typed (empty for numbers saved before it was kept).
    pub mobile: String,
    pub mobile_typed: String,
    pub phone: String,
    pub phone_typed: String,
    pub email: String,
    pub im_handles: String,
    pub birthday: String,
    pub is_primary: i64,
    pub remark: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
}

impl ContactRow {
    /// This contact as the primary contact of a customer being created by `actor` at `now`.
    pub fn into_primary_of(mut self, customer_id: &str, actor: &str, now: i64) -> ContactRow {
        self.customer_id = customer_id.to_string();
        self.is_primary = 1;
        self.created_at = now;
        self.updated_at = now;
        self.created_by = actor.to_string();
        self.updated_by = actor.to_string();
        self
    }
}

const SELECT: &str = "SELECT id, customer_id, name, title, department, mobile, mobile_typed, phone, phone_typed, email, im_handles, birthday, \
    is_primary, remark, created_at, created_by, updated_at, updated_by, version FROM contacts";

/// One contact.
pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<ContactRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// A customer's contacts, primary first, then oldest first.
pub async fn of_customer(conn: &mut AnyConnection, customer_id: &str) -> Result<Vec<ContactRow>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE customer_id = $1 ORDER BY is_primary DESC, created_at, id"
    ))
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// The primary contacts of several customers.
pub async fn primaries(conn: &mut AnyConnection, customer_ids: &[&str]) -> Result<Vec<ContactRow>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = super::SqlBuf::read(SELECT, &ReadScope::everything("contacts of customers read in scope"));
    q.push(" AND is_primary = 1 AND ")
        .in_texts("customer_id", customer_ids.iter().copied());
    Ok(q.query_as().fetch_all(conn).await?)
}

/// How many contacts a customer has.
pub async fn count(conn: &mut AnyConnection, customer_id: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM contacts WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Clears the primary flag of every contact of a customer.
pub async fn clear_primary(conn: &mut AnyConnection, customer_id: &str) -> Result<()> {
    sqlx::query("UPDATE contacts SET is_primary = 0 WHERE customer_id = $1 AND is_primary = 1")
        .bind(customer_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the oldest contact primary when the customer has contacts but no primary one.
pub async fn ensure_primary(conn: &mut AnyConnection, customer_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE contacts SET is_primary = 1 WHERE id = (SELECT id FROM contacts WHERE customer_id = $1 ORDER BY created_at, id LIMIT 1) \
         AND NOT EXISTS (SELECT 1 FROM contacts WHERE customer_id = $1 AND is_primary = 1)",
    )
    .bind(customer_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a contact.
pub async fn insert(conn: &mut AnyConnection, c: &ContactRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO contacts (id, customer_id, name, title, department, mobile, phone, email, im_handles, birthday, birthday_md, \
         is_primary, remark, created_at, created_by, updated_at, updated_by, version, mobile_typed, phone_typed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18, $19)",
    )
    .bind(&c.id)
    .bind(&c.customer_id)
    .bind(&c.name)
    .bind(&c.title)
    .bind(&c.department)
    .bind(&c.mobile)
    .bind(&c.phone)
    .bind(&c.email)
    .bind(&c.im_handles)
    .bind(&c.birthday)
    .bind(crate::domain::month_day(&c.birthday))
    .bind(c.is_primary)
    .bind(&c.remark)
    .bind(c.created_at)
    .bind(&c.created_by)
    .bind(c.updated_at)
    .bind(&c.updated_by)
    .bind(&c.mobile_typed)
    .bind(&c.phone_typed)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a contact's fields at `expected_version`; false when the version moved.
pub async fn update(conn: &mut AnyConnection, c: &ContactRow, expected_version: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE contacts SET name = $1, title = $2, department = $3, mobile = $4, phone = $5, email = $6, im_handles = $7, \
         birthday = $8, birthday_md = $9, is_primary = $10, remark = $11, updated_at = $12, updated_by = $13, version = version + 1, \
         mobile_typed = $16, phone_typed = $17 WHERE id = $14 AND version = $15",
    )
    .bind(&c.name)
    .bind(&c.title)
    .bind(&c.department)
    .bind(&c.mobile)
    .bind(&c.phone)
    .bind(&c.email)
    .bind(&c.im_handles)
    .bind(&c.birthday)
    .bind(crate::domain::month_day(&c.birthday))
    .bind(c.is_primary)
    .bind(&c.remark)
    .bind(c.updated_at)
    .bind(&c.updated_by)
    .bind(&c.id)
    .bind(expected_version)
    .bind(&c.mobile_typed)
    .bind(&c.phone_typed)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes a contact.
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM contacts WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Inserts many contacts (import).
pub async fn insert_many(conn: &mut AnyConnection, rows: &[ContactRow]) -> Result<()> {
    for q in insert_statements(crm_kit::db::backend(conn), rows) {
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The contacts of [`insert_statements`] on PostgreSQL as one statement of array parameters.
fn array_insert(rows: &[ContactRow]) -> super::SqlBuf {
    let mut columns: Vec<(&'static str, &'static str)> = [
        "id",
        "customer_id",
        "name",
        "title",
        "department",
        "mobile",
        "mobile_typed",
        "phone",
        "phone_typed",
        "email",
        "im_handles",
        "birthday",
        "birthday_md",
    ]
    .iter()
    .map(|c| (*c, "TEXT"))
    .collect();
    columns.extend([
        ("is_primary", "BIGINT"),
        ("remark", "TEXT"),
        ("created_at", "BIGINT"),
        ("created_by", "TEXT"),
        ("updated_at", "BIGINT"),
        ("updated_by", "TEXT"),
        ("version", "BIGINT"),
    ]);
    let mut insert = crm_kit::sql::ArrayInsert::new("contacts", &columns);
    for c in rows {
        let (month_day, is_primary, created_at, updated_at) = (
            crate::domain::month_day(&c.birthday),
            c.is_primary.to_string(),
            c.created_at.to_string(),
            c.updated_at.to_string(),
        );
        insert.row(&[
            c.id.as_str(),
            &c.customer_id,
            &c.name,
            &c.title,
            &c.department,
            &c.mobile,
            &c.mobile_typed,
            &c.phone,
            &c.phone_typed,
            &c.email,
            &c.im_handles,
            &c.birthday,
            &month_day,
            &is_primary,
            &c.remark,
            &created_at,
            &c.created_by,
            &updated_at,
            &c.updated_by,
            "1",
        ]);
    }
    insert.statement()
}

/// The multi-row statements of [`insert_many`].
pub fn insert_statements(on: crm_kit::db::Backend, rows: &[ContactRow]) -> Vec<super::SqlBuf> {
    if on == crm_kit::db::Backend::Postgres && rows.len() > 1 {
        return vec![array_insert(rows)];
    }
    let mut statements = Vec::new();
    for chunk in rows.chunks(crm_kit::db::rows_per_statement_on(on, 19)) {
        let mut q = super::SqlBuf::new(
            "INSERT INTO contacts (id, customer_id, name, title, department, mobile, mobile_typed, phone, phone_typed, email, \
             im_handles, birthday, birthday_md, is_primary, remark, created_at, created_by, updated_at, updated_by, version) VALUES ",
        );
        for (i, c) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            for (j, t) in [
                &c.id,
                &c.customer_id,
                &c.name,
                &c.title,
                &c.department,
                &c.mobile,
                &c.mobile_typed,
                &c.phone,
                &c.phone_typed,
                &c.email,
                &c.im_handles,
                &c.birthday,
            ]
            .into_iter()
            .enumerate()
            {
                if j > 0 {
                    q.push(", ");
                }
                q.text(t.clone());
            }
            q.push(", ").text(crate::domain::month_day(&c.birthday));
            q.push(", ").int(c.is_primary).push(", ").text(c.remark.clone());
            q.push(", ").int(c.created_at).push(", ").text(c.created_by.clone());
            q.push(", ")
                .int(c.updated_at)
                .push(", ")
                .text(c.updated_by.clone())
                .push(", 1)");
        }
        statements.push(q);
    }
    statements
}
