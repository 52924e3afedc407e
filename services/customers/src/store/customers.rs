//! Customer rows: insert, load, update, soft delete, duplicates and keyset lists.

use std::collections::{BTreeMap, HashMap};

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::db::{Backend, backend};
use crm_kit::money::Money;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::SqlBuf;
use super::search::{self, SearchEntry};
use crate::domain::customer::CustomerFields;
use crate::domain::names;
use crm_kit::errors::reason;

/// Every column of `customers`, in [`CustomerRow::from_row`] order.
pub const COLUMNS: &str = "c.id, c.kind, c.name, c.name_key, c.short_name, c.tax_id, c.industry_code, c.scale, \
    c.website, c.country, c.province, c.city, c.district, c.address, c.phone, c.mobile, c.email, c.gender, c.birthday, \
    c.id_number, c.category_id, c.type_code, c.level_code, c.source_code, c.status, c.credit_currency, c.credit_limit, \
    c.remark, c.tags, c.custom_fields, c.owner_id, c.owner_department_path, c.owned_since, c.reclaim_locked, c.last_follow_up_at, \
    c.next_follow_up_at, c.last_order_at, c.totals_currency, c.total_ordered, c.receivable_balance, c.payable_balance, \
    c.order_count, c.created_at, c.created_by, c.updated_at, c.updated_by, c.version, c.deleted_at, c.phone_typed, \
    c.mobile_typed";

/// One stored customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    pub id: String,
    pub fields: CustomerFields,
    pub name_key: String,
    pub owner_id: String,
    /// The owner's department path in identity (`/d1/d7/`); empty in the pool.
    pub owner_department_path: String,
    pub owned_since: i64,
    pub reclaim_locked: bool,
    pub last_follow_up_at: i64,
    pub next_follow_up_at: i64,
    pub last_order_at: i64,
    pub totals_currency: String,
    pub total_ordered: i64,
    pub receivable_balance: i64,
    pub payable_balance: i64,
    pub order_count: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
    pub deleted_at: Option<i64>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for CustomerRow {
    fn from_row(r: &'r AnyRow) -> std::result::Result<Self, sqlx::Error> {
        CustomerRow::from_row(r)
    }
}

fn static_code(options: &'static [&'static str], value: &str) -> &'static str {
    options.iter().copied().find(|o| *o == value).unwrap_or("")
}

impl CustomerRow {
    /// Decodes a row selected with [`COLUMNS`].
    pub fn from_row(r: &AnyRow) -> std::result::Result<CustomerRow, sqlx::Error> {
        let credit_currency: String = r.try_get("credit_currency")?;
        let credit_limit: i64 = r.try_get("credit_limit")?;
        let tags: String = r.try_get("tags")?;
        let custom: String = r.try_get("custom_fields")?;
        let fields = CustomerFields {
            kind: static_code(&["company", "individual"], &r.try_get::<String, _>("kind")?),
            name: r.try_get("name")?,
            short_name: r.try_get("short_name")?,
            tax_id: r.try_get("tax_id")?,
            industry_code: r.try_get("industry_code")?,
            scale: r.try_get("scale")?,
            website: r.try_get("website")?,
            country: r.try_get("country")?,
            province: r.try_get("province")?,
            city: r.try_get("city")?,
            district: r.try_get("district")?,
            address: r.try_get("address")?,
            phone: r.try_get("phone")?,
            phone_typed: r.try_get("phone_typed")?,
            mobile: r.try_get("mobile")?,
            mobile_typed: r.try_get("mobile_typed")?,
            email: r.try_get("email")?,
            gender: static_code(&["male", "female", "other"], &r.try_get::<String, _>("gender")?),
            birthday: r.try_get("birthday")?,
            id_number: r.try_get("id_number")?,
            category_id: r.try_get("category_id")?,
            type_code: r.try_get("type_code")?,
            level_code: r.try_get("level_code")?,
            source_code: r.try_get("source_code")?,
            status: static_code(
                &["potential", "active", "dormant", "lost"],
                &r.try_get::<String, _>("status")?,
            ),
            credit_limit: (!credit_currency.is_empty()).then(|| Money::from_storage(&credit_currency, credit_limit)),
            remark: r.try_get("remark")?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            custom_fields: serde_json::from_str::<BTreeMap<String, String>>(&custom).unwrap_or_default(),
        };
        Ok(CustomerRow {
            id: r.try_get("id")?,
            fields,
            name_key: r.try_get("name_key")?,
            owner_id: r.try_get("owner_id")?,
            owner_department_path: r.try_get("owner_department_path")?,
            owned_since: r.try_get("owned_since")?,
            reclaim_locked: r.try_get::<i64, _>("reclaim_locked")? != 0,
            last_follow_up_at: r.try_get("last_follow_up_at")?,
            next_follow_up_at: r.try_get("next_follow_up_at")?,
            last_order_at: r.try_get("last_order_at")?,
            totals_currency: r.try_get("totals_currency")?,
            total_ordered: r.try_get("total_ordered")?,
            receivable_balance: r.try_get("receivable_balance")?,
            payable_balance: r.try_get("payable_balance")?,
            order_count: r.try_get("order_count")?,
            created_at: r.try_get("created_at")?,
            created_by: r.try_get("created_by")?,
            updated_at: r.try_get("updated_at")?,
            updated_by: r.try_get("updated_by")?,
            version: r.try_get("version")?,
            deleted_at: r.try_get("deleted_at")?,
        })
    }

    /// The etag clients send back: the row version.
    pub fn etag(&self) -> String {
        crm_kit::update::etag(self.version)
    }
}

fn credit_parts(f: &CustomerFields) -> Result<(String, i64)> {
    match &f.credit_limit {
        None => Ok((String::new(), 0)),
        Some(m) => Ok((
            m.currency.clone(),
            m.storage()
                .map_err(|e| crm_kit::Error::invalid("customer.credit_limit", reason::OUT_OF_RANGE, e.to_string()))?,
        )),
    }
}

/// Why an insert failed.
#[derive(Debug)]
pub enum InsertError {
    /// A unique index (name key, tax id, mobile) refused it: a concurrent duplicate.
    Duplicate,
    Other(crm_kit::Error),
}

impl From<sqlx::Error> for InsertError {
    fn from(e: sqlx::Error) -> Self {
        if crm_kit::errors::is_unique_violation(&e) {
            InsertError::Duplicate
        } else {
            InsertError::Other(e.into())
        }
    }
}

/// Loads a customer; deleted ones only when asked.
pub async fn load(conn: &mut AnyConnection, id: &str, include_deleted: bool) -> Result<Option<CustomerRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customers c WHERE c.id = $1{}",
        if include_deleted {
            ""
        } else {
            " AND c.deleted_at IS NULL"
        }
    );
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    Ok(row.map(|r| CustomerRow::from_row(&r)).transpose()?)
}

/// Loads customers by id, in no particular order.
pub async fn load_many(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<CustomerRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = SqlBuf::read(
        &format!("SELECT {COLUMNS} FROM customers c"),
        &ReadScope::everything("customers picked by a scoped read"),
    );
    q.push(" AND ").in_texts("c.id", ids.iter().map(String::as_str));
    let rows = q.query().fetch_all(conn).await?;
    Ok(rows
        .iter()
        .map(CustomerRow::from_row)
        .collect::<std::result::Result<_, _>>()?)
}

/// Writes new field values if the version is still `expected_version`; false when it is not.
pub async fn update_fields(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    f: &CustomerFields,
    actor: &str,
    now: i64,
) -> std::result::Result<bool, InsertError> {
    let (credit_currency, credit_limit) = credit_parts(f).map_err(InsertError::Other)?;
    let result = sqlx::query(
        "UPDATE customers SET kind = $1, name = $2, name_key = $3, short_name = $4, tax_id = $5, industry_code = $6, \
         scale = $7, website = $8, country = $9, province = $10, city = $11, district = $12, address = $13, phone = $14, \
         mobile = $15, email = $16, gender = $17, birthday = $18, id_number = $19, category_id = $20, type_code = $21, \
         level_code = $22, source_code = $23, status = $24, credit_currency = $25, credit_limit = $26, remark = $27, \
         tags = $28, custom_fields = $29, updated_at = $30, updated_by = $31, version = version + 1, \
         phone_typed = $34, mobile_typed = $35 WHERE id = $32 AND version = $33 AND deleted_at IS NULL",
    )
    .bind(f.kind)
    .bind(&f.name)
    .bind(names::name_key(&f.name))
    .bind(&f.short_name)
    .bind(&f.tax_id)
    .bind(&f.industry_code)
    .bind(&f.scale)
    .bind(&f.website)
    .bind(&f.country)
    .bind(&f.province)
    .bind(&f.city)
    .bind(&f.district)
    .bind(&f.address)
    .bind(&f.phone)
    .bind(&f.mobile)
    .bind(&f.email)
    .bind(f.gender)
    .bind(&f.birthday)
    .bind(&f.id_number)
    .bind(&f.category_id)
    .bind(&f.type_code)
    .bind(&f.level_code)
    .bind(&f.source_code)
    .bind(f.status)
    .bind(credit_currency)
    .bind(credit_limit)
    .bind(&f.remark)
    .bind(serde_json::to_string(&f.tags).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::to_string(&f.custom_fields).unwrap_or_else(|_| "{}".into()))
    .bind(now)
    .bind(actor)
    .bind(id)
    .bind(expected_version)
    .bind(&f.phone_typed)
    .bind(&f.mobile_typed)
    .execute(conn)
    .await;
    match result {
        Ok(r) => Ok(r.rows_affected() == 1),
        Err(e) if crm_kit::errors::is_unique_violation(&e) => Err(InsertError::Duplicate),
        Err(e) => Err(InsertError::Other(e.into())),
    }
}

/// Bumps version and update time (after a change to contacts, owner, collaborators...).
pub async fn touch(conn: &mut AnyConnection, id: &str, actor: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE customers SET version = version + 1, updated_at = $1, updated_by = $2 WHERE id = $3")
        .bind(now)
        .bind(actor)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Soft-deletes a customer at `expected_version`; false when the version moved.
pub async fn soft_delete(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    actor: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE customers SET deleted_at = $1, updated_at = $1, updated_by = $2, version = version + 1 \
         WHERE id = $3 AND version = $4 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(actor)
    .bind(id)
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// An existing customer a new one would duplicate, and on what.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub row: CustomerRow,
    pub matched_on: &'static str,
}

/// The first existing (not deleted) customer that `f` would duplicate, other than `exclude_id`:
/// same normalised name (companies), same tax id, or same mobile (individuals).
pub async fn find_duplicate(
    conn: &mut AnyConnection,
    f: &CustomerFields,
    exclude_id: &str,
) -> Result<Option<Duplicate>> {
    // Each predicate repeats its partial unique index's condition so the planner can use it.
    let key = names::name_key(&f.name);
    let mut checks: Vec<(&'static str, String, &'static str)> = Vec::new();
    if f.kind == "company" && !key.is_empty() {
        checks.push(("name", key, "c.kind = 'company' AND c.name_key = $1"));
    }
    if !f.tax_id.is_empty() {
        checks.push(("tax_id", f.tax_id.clone(), "c.tax_id <> '' AND c.tax_id = $1"));
    }
    if f.kind == "individual" && !f.mobile.is_empty() {
        checks.push((
            "mobile",
            f.mobile.clone(),
            "c.kind = 'individual' AND c.mobile <> '' AND c.mobile = $1",
        ));
    }
    for (matched_on, value, predicate) in checks {
        let sql = format!(
            "SELECT {COLUMNS} FROM customers c WHERE {predicate} AND c.deleted_at IS NULL AND c.id <> $2 LIMIT 1"
        );
        if let Some(r) = sqlx::query(&sql)
            .bind(value)
            .bind(exclude_id)
            .fetch_optional(&mut *conn)
            .await?
        {
            return Ok(Some(Duplicate {
                row: CustomerRow::from_row(&r)?,
                matched_on,
            }));
        }
    }
    Ok(None)
}

/// Customers matching exactly on one column (for CheckDuplicates): name_key, tax_id, phone,
/// mobile or email.
pub async fn exact_matches(
    conn: &mut AnyConnection,
    column: &'static str,
    value: &str,
    limit: i64,
) -> Result<Vec<CustomerRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customers c WHERE c.{column} <> '' AND c.{column} = $1 AND c.deleted_at IS NULL \
         ORDER BY c.id LIMIT $2"
    );
    let rows = sqlx::query(&sql).bind(value).bind(limit).fetch_all(conn).await?;
    Ok(rows
        .iter()
        .map(CustomerRow::from_row)
        .collect::<std::result::Result<_, _>>()?)
}

/// Runs a list query built by the api layer and decodes the customers.
pub async fn fetch(conn: &mut AnyConnection, q: &SqlBuf) -> Result<Vec<CustomerRow>> {
    let rows = q.query().fetch_all(conn).await?;
    Ok(rows
        .iter()
        .map(CustomerRow::from_row)
        .collect::<std::result::Result<_, _>>()?)
}

/// Collaborators per customer.
pub async fn collaborators(conn: &mut AnyConnection, ids: &[&str]) -> Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut q = SqlBuf::read(
        "SELECT customer_id, employee_id FROM customer_collaborators",
        &ReadScope::everything("collaborators of customers read in scope"),
    );
    q.push(" AND ")
        .in_texts("customer_id", ids.iter().copied())
        .push(" ORDER BY customer_id, employee_id");
    let rows: Vec<(String, String)> = q.query_as().fetch_all(conn).await?;
    for (c, e) in rows {
        out.entry(c).or_default().push(e);
    }
    Ok(out)
}

/// Counts of what hangs off a customer: (contacts, follow-ups, owner changes, changes).
pub async fn dependents(conn: &mut AnyConnection, id: &str) -> Result<(i64, i64, i64, i64)> {
    let mut counts = [0i64; 4];
    for (i, table) in ["contacts", "follow_ups", "owner_changes", "customer_changes"]
        .iter()
        .enumerate()
    {
        counts[i] = sqlx::query_scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE customer_id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    }
    Ok((counts[0], counts[1], counts[2], counts[3]))
}

/// Moves everything that hangs off `from` to `to` (merge). Contacts lose their primary flag
/// when the survivor already has a primary contact.
pub async fn move_dependents(conn: &mut AnyConnection, from: &str, to: &str) -> Result<()> {
    let survivor_has_primary: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM contacts WHERE customer_id = $1 AND is_primary = 1")
            .bind(to)
            .fetch_one(&mut *conn)
            .await?;
    if survivor_has_primary > 0 {
        sqlx::query("UPDATE contacts SET is_primary = 0 WHERE customer_id = $1")
            .bind(from)
            .execute(&mut *conn)
            .await?;
    }
    for table in ["contacts", "follow_ups", "owner_changes", "customer_changes"] {
        sqlx::query(&format!("UPDATE {table} SET customer_id = $1 WHERE customer_id = $2"))
            .bind(to)
            .bind(from)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "INSERT INTO customer_collaborators (customer_id, employee_id) SELECT $1, employee_id FROM customer_collaborators \
         WHERE customer_id = $2 ON CONFLICT DO NOTHING",
    )
    .bind(to)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM customer_collaborators WHERE customer_id = $1")
        .bind(from)
        .execute(&mut *conn)
        .await?;
    // The survivor's follow-up times and totals cover both records.
    sqlx::query(
        "UPDATE customers SET \
           last_follow_up_at = (SELECT MAX(x.last_follow_up_at) FROM customers x WHERE x.id IN ($1, $2)), \
           last_order_at = (SELECT MAX(x.last_order_at) FROM customers x WHERE x.id IN ($1, $2)), \
           total_ordered = (SELECT CAST(SUM(x.total_ordered) AS BIGINT) FROM customers x WHERE x.id IN ($1, $2)), \
           receivable_balance = (SELECT CAST(SUM(x.receivable_balance) AS BIGINT) FROM customers x WHERE x.id IN ($1, $2)), \
           payable_balance = (SELECT CAST(SUM(x.payable_balance) AS BIGINT) FROM customers x WHERE x.id IN ($1, $2)), \
           order_count = (SELECT CAST(SUM(x.order_count) AS BIGINT) FROM customers x WHERE x.id IN ($1, $2)) \
         WHERE id = $1",
    )
    .bind(to)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts many new customers with one statement per 200 rows (import).
pub async fn insert_many(
    conn: &mut AnyConnection,
    rows: &[CustomerRow],
    search: &[SearchEntry],
) -> std::result::Result<(), InsertError> {
    for q in insert_statements(backend(conn), rows, search).map_err(InsertError::Other)? {
        q.query().execute(&mut *conn).await.map_err(InsertError::from)?;
    }
    Ok(())
}

/// Inserts one new customer with its search data (see [`insert_statements`]).
pub async fn insert(
    conn: &mut AnyConnection,
    row: &CustomerRow,
    search: &SearchEntry,
) -> std::result::Result<(), InsertError> {
    insert_many(conn, std::slice::from_ref(row), std::slice::from_ref(search)).await
}

/// The statements that insert new customers with their search data: multi-row inserts of the
/// rows (the bigrams in the row's array on PostgreSQL), then on SQLite the gram rows.
pub fn insert_statements(on: Backend, rows: &[CustomerRow], search: &[SearchEntry]) -> Result<Vec<SqlBuf>> {
    let postgres = on == Backend::Postgres;
    if postgres && rows.len() > 1 {
        return Ok(vec![array_insert(rows, search)?]);
    }
    let per_statement = crm_kit::db::rows_per_statement_on(on, 41);
    let mut statements = Vec::new();
    for (chunk, entries) in rows.chunks(per_statement).zip(search.chunks(per_statement)) {
        let mut q = SqlBuf::new(&format!(
            "INSERT INTO customers (id, kind, name, name_key, short_name, tax_id, industry_code, scale, website, country, \
             province, city, district, address, phone, mobile, email, gender, birthday, id_number, category_id, type_code, \
             level_code, source_code, status, credit_currency, credit_limit, remark, tags, custom_fields, owner_id, \
             owner_department_path, owned_since, created_at, created_by, updated_at, updated_by, version, search_text, \
             phone_typed, mobile_typed{}) VALUES ",
            if postgres { ", grams" } else { "" }
        ));
        for (i, (row, entry)) in chunk.iter().zip(entries).enumerate() {
            let f = &row.fields;
            let (credit_currency, credit_limit) = credit_parts(f)?;
            q.push(if i == 0 { "(" } else { ", (" });
            for (j, text) in [
                row.id.as_str(),
                f.kind,
                &f.name,
                &row.name_key,
                &f.short_name,
                &f.tax_id,
                &f.industry_code,
                &f.scale,
                &f.website,
                &f.country,
                &f.province,
                &f.city,
                &f.district,
                &f.address,
                &f.phone,
                &f.mobile,
                &f.email,
                f.gender,
                &f.birthday,
                &f.id_number,
                &f.category_id,
                &f.type_code,
                &f.level_code,
                &f.source_code,
                f.status,
                &credit_currency,
            ]
            .into_iter()
            .enumerate()
            {
                if j > 0 {
                    q.push(", ");
                }
                q.text(text);
            }
            q.push(", ").int(credit_limit);
            q.push(", ").text(f.remark.clone());
            q.push(", ")
                .text(serde_json::to_string(&f.tags).unwrap_or_else(|_| "[]".into()));
            q.push(", ")
                .text(serde_json::to_string(&f.custom_fields).unwrap_or_else(|_| "{}".into()));
            q.push(", ").text(row.owner_id.clone());
            q.push(", ").text(row.owner_department_path.clone());
            q.push(", ").int(row.owned_since);
            q.push(", ").int(row.created_at);
            q.push(", ").text(row.created_by.clone());
            q.push(", ").int(row.updated_at);
            q.push(", ").text(row.updated_by.clone());
            q.push(", 1, ").text(entry.text.clone());
            q.push(", ").text(f.phone_typed.clone());
            q.push(", ").text(f.mobile_typed.clone());
            if postgres {
                q.push(", CAST(").text(entry.grams_literal()).push(" AS BIGINT[])");
            }
            q.push(")");
        }
        statements.push(q);
    }
    let grams: Vec<(&str, &[i64])> = rows
        .iter()
        .zip(search)
        .map(|(r, e)| (r.id.as_str(), e.grams.as_slice()))
        .collect();
    statements.extend(search::gram_statements(on, &grams));
    Ok(statements)
}

/// The customers of [`insert_statements`] on PostgreSQL as one statement of array parameters
/// (bulk imports: one parse and plan, a few parameters, whatever the number of rows).
fn array_insert(rows: &[CustomerRow], search: &[SearchEntry]) -> Result<SqlBuf> {
    const TEXTS: [&str; 26] = [
        "id",
        "kind",
        "name",
        "name_key",
        "short_name",
        "tax_id",
        "industry_code",
        "scale",
        "website",
        "country",
        "province",
        "city",
        "district",
        "address",
        "phone",
        "mobile",
        "email",
        "gender",
        "birthday",
        "id_number",
        "category_id",
        "type_code",
        "level_code",
        "source_code",
        "status",
        "credit_currency",
    ];
    let mut columns: Vec<(&'static str, &'static str)> = TEXTS.iter().map(|c| (*c, "TEXT")).collect();
    columns.extend([
        ("credit_limit", "BIGINT"),
        ("remark", "TEXT"),
        ("tags", "TEXT"),
        ("custom_fields", "TEXT"),
        ("owner_id", "TEXT"),
        ("owner_department_path", "TEXT"),
        ("owned_since", "BIGINT"),
        ("created_at", "BIGINT"),
        ("created_by", "TEXT"),
        ("updated_at", "BIGINT"),
        ("updated_by", "TEXT"),
        ("version", "BIGINT"),
        ("search_text", "TEXT"),
        ("phone_typed", "TEXT"),
        ("mobile_typed", "TEXT"),
        ("grams", "BIGINT[]"),
    ]);
    let mut insert = crm_kit::sql::ArrayInsert::new("customers", &columns);
    for (row, entry) in rows.iter().zip(search) {
        let f = &row.fields;
        let (credit_currency, credit_limit) = credit_parts(f)?;
        let tags = serde_json::to_string(&f.tags).unwrap_or_else(|_| "[]".into());
        let custom_fields = serde_json::to_string(&f.custom_fields).unwrap_or_else(|_| "{}".into());
        let (credit_limit, owned_since, created_at, updated_at) = (
            credit_limit.to_string(),
            row.owned_since.to_string(),
            row.created_at.to_string(),
            row.updated_at.to_string(),
        );
        let grams = entry.grams_literal();
        insert.row(&[
            row.id.as_str(),
            f.kind,
            &f.name,
            &row.name_key,
            &f.short_name,
            &f.tax_id,
            &f.industry_code,
            &f.scale,
            &f.website,
            &f.country,
            &f.province,
            &f.city,
            &f.district,
            &f.address,
            &f.phone,
            &f.mobile,
            &f.email,
            f.gender,
            &f.birthday,
            &f.id_number,
            &f.category_id,
            &f.type_code,
            &f.level_code,
            &f.source_code,
            f.status,
            &credit_currency,
            &credit_limit,
            &f.remark,
            &tags,
            &custom_fields,
            &row.owner_id,
            &row.owner_department_path,
            &owned_since,
            &created_at,
            &row.created_by,
            &updated_at,
            &row.updated_by,
            "1",
            &entry.text,
            &f.phone_typed,
            &f.mobile_typed,
            &grams,
        ]);
    }
    Ok(insert.statement())
}

/// Live customers that collide with any of the given keys: company name keys, tax ids,
/// individual mobiles. One query per key type, each shaped like its partial unique index (an
/// OR of the three cannot use them and scans the table).
pub async fn colliding(
    conn: &mut AnyConnection,
    name_keys: &[&str],
    tax_ids: &[&str],
    mobiles: &[&str],
) -> Result<Vec<CustomerRow>> {
    let per_statement = crm_kit::db::rows_per_statement(conn, 1);
    let mut found: Vec<CustomerRow> = Vec::new();
    for (values, predicate, column) in [
        (name_keys, "c.kind = 'company'", "c.name_key"),
        (tax_ids, "c.tax_id <> ''", "c.tax_id"),
        (mobiles, "c.kind = 'individual' AND c.mobile <> ''", "c.mobile"),
    ] {
        for chunk in values.chunks(per_statement) {
            // Duplicates are looked for across the whole company: a salesperson must hear that
            // someone else already has the customer (the error names only its name and owner).
            let mut q = SqlBuf::read(
                &format!("SELECT {COLUMNS} FROM customers c"),
                &ReadScope::everything("duplicate detection spans every owner"),
            );
            q.push(" AND c.deleted_at IS NULL AND ")
                .push(predicate)
                .push(" AND ")
                .in_texts(column, chunk.iter().copied());
            for row in fetch(conn, &q).await? {
                if !found.iter().any(|f| f.id == row.id) {
                    found.push(row);
                }
            }
        }
    }
    Ok(found)
}
