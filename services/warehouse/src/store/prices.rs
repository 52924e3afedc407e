//! Price lists, their customers and their prices, and the price a customer pays on a day.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// A stored price list (with how many products it prices, when read).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriceListRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub kind: String,
    pub customer_level: String,
    pub valid_from: String,
    pub valid_until: String,
    pub status: String,
    pub remark: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
    pub price_count: i64,
}

const SELECT: &str = "SELECT l.id, l.name, l.name_key, l.kind, l.customer_level, l.valid_from, l.valid_until, \
    l.status, l.remark, l.created_at, l.created_by, l.updated_at, l.updated_by, l.version, \
    CAST((SELECT COUNT(*) FROM prices x WHERE x.price_list_id = l.id) AS BIGINT) AS price_count FROM price_lists l";

fn shared() -> ReadScope {
    ReadScope::everything("price lists are shared catalog configuration")
}

/// Inserts a price list; false when its name is taken.
pub async fn insert(conn: &mut AnyConnection, l: &PriceListRow) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO price_lists (id, name, name_key, kind, customer_level, valid_from, valid_until, status, remark, \
         created_at, created_by, updated_at, updated_by, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&l.id)
    .bind(&l.name)
    .bind(&l.name_key)
    .bind(&l.kind)
    .bind(&l.customer_level)
    .bind(&l.valid_from)
    .bind(&l.valid_until)
    .bind(&l.status)
    .bind(&l.remark)
    .bind(l.created_at)
    .bind(&l.created_by)
    .bind(l.updated_at)
    .bind(&l.updated_by)
    .bind(l.version)
    .execute(conn)
    .await;
    match r {
        Ok(_) => Ok(true),
        Err(e) if crm_kit::errors::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Writes a price list's fields if it is still at `version`: `None` when it is not, false
/// when its new name is taken.
pub async fn update(conn: &mut AnyConnection, l: &PriceListRow, version: i64) -> Result<Option<bool>> {
    let r = sqlx::query(
        "UPDATE price_lists SET name = $1, name_key = $2, customer_level = $3, valid_from = $4, valid_until = $5, \
         status = $6, remark = $7, updated_at = $8, updated_by = $9, version = version + 1 \
         WHERE id = $10 AND version = $11",
    )
    .bind(&l.name)
    .bind(&l.name_key)
    .bind(&l.customer_level)
    .bind(&l.valid_from)
    .bind(&l.valid_until)
    .bind(&l.status)
    .bind(&l.remark)
    .bind(l.updated_at)
    .bind(&l.updated_by)
    .bind(&l.id)
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

/// Marks a price list changed (its prices were), if it is still at `version`.
pub async fn touch(conn: &mut AnyConnection, id: &str, version: Option<i64>, at: i64, by: &str) -> Result<bool> {
    let mut q = SqlBuf::new("UPDATE price_lists SET version = version + 1, updated_at = ");
    q.int(at).push(", updated_by = ").text(by).push(" WHERE id = ").text(id);
    if let Some(v) = version {
        q.push(" AND version = ").int(v);
    }
    Ok(q.query().execute(conn).await?.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<PriceListRow>> {
    let mut q = SqlBuf::read(SELECT, &shared());
    q.push(" AND l.id = ").text(id);
    Ok(q.query_as::<PriceListRow>().fetch_optional(conn).await?)
}

/// The list holding a folded name, other than `except`.
pub async fn named(conn: &mut AnyConnection, name_key: &str, except: &str) -> Result<Option<PriceListRow>> {
    let mut q = SqlBuf::read(SELECT, &shared());
    q.push(" AND l.name_key = ")
        .text(name_key)
        .push(" AND l.id <> ")
        .text(except);
    Ok(q.query_as::<PriceListRow>().fetch_optional(conn).await?)
}

/// A page of price lists matching `filter`, by name.
pub async fn page(
    conn: &mut AnyConnection,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<PriceListRow>> {
    super::page(conn, SELECT, &shared(), filter, keyset, |l: &PriceListRow| {
        Position::at(l.name_key.clone(), &l.id)
    })
    .await
}

/// The customers of a named list, sorted.
pub async fn customers(conn: &mut AnyConnection, id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar(
            "SELECT customer_id FROM price_list_customers WHERE price_list_id = $1 ORDER BY customer_id",
        )
        .bind(id)
        .fetch_all(conn)
        .await?,
    )
}

/// The customers of the lists `ids`, as (list, customer), for a page at once.
pub async fn customers_of(conn: &mut AnyConnection, ids: &[&str]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(400) {
        let mut q = SqlBuf::read(
            "SELECT b.price_list_id, b.customer_id FROM price_list_customers b",
            &shared(),
        );
        q.push(" AND ")
            .in_texts("b.price_list_id", chunk.iter().copied())
            .push(" ORDER BY b.price_list_id, b.customer_id");
        out.extend(q.query_as::<(String, String)>().fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Replaces the customers of a named list.
pub async fn set_customers(conn: &mut AnyConnection, id: &str, customers: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM price_list_customers WHERE price_list_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for chunk in customers.chunks(400) {
        let mut q = SqlBuf::new("INSERT INTO price_list_customers (price_list_id, customer_id) VALUES ");
        for (i, c) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").text(id).push(", ").text(c.clone()).push(")");
        }
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets (adds or replaces) prices of a list: (product, price).
pub async fn set_prices(conn: &mut AnyConnection, id: &str, prices: &[(String, i64)], at: i64, by: &str) -> Result<()> {
    for chunk in prices.chunks(200) {
        let mut q =
            SqlBuf::new("INSERT INTO prices (price_list_id, product_id, price, updated_at, updated_by) VALUES ");
        for (i, (product, price)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .text(id)
                .push(", ")
                .text(product.clone())
                .push(", ")
                .int(*price)
                .push(", ")
                .int(at)
                .push(", ")
                .text(by)
                .push(")");
        }
        q.push(
            " ON CONFLICT (price_list_id, product_id) DO UPDATE SET price = excluded.price, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        );
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Removes products from a list.
pub async fn remove_prices(conn: &mut AnyConnection, id: &str, products: &[String]) -> Result<()> {
    for chunk in products.chunks(400) {
        let mut q = SqlBuf::new("DELETE FROM prices WHERE price_list_id = ");
        q.text(id)
            .push(" AND ")
            .in_texts("product_id", chunk.iter().map(String::as_str));
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// A price on a list, with its product's code and name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriceRow {
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub code_key: String,
    pub price: i64,
}

/// A page of a list's prices matching `filter`, by product code.
pub async fn prices(
    conn: &mut AnyConnection,
    id: &str,
    filter: Option<&CompiledFilter>,
    keyset: &Keyset<'_>,
) -> Result<Page<PriceRow>> {
    let mut q = SqlBuf::read(
        "SELECT b.product_id, p.code AS product_code, p.name AS product_name, p.code_key, b.price \
         FROM prices b JOIN products p ON p.id = b.product_id",
        &shared(),
    );
    q.push(" AND b.price_list_id = ").text(id);
    if let Some(f) = filter {
        q.push(" AND (").filter(f).push(")");
    }
    keyset
        .fetch(conn, q, |r: &PriceRow| Position::at(r.code_key.clone(), &r.product_id))
        .await
}

/// The price a customer pays for a product on `day`, from a list: (price, list id, list name,
/// kind). A named list naming the customer comes before a list of the customer's level; of
/// one kind, the list valid from the latest day (then the newest).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResolvedPrice {
    pub product_id: String,
    pub price: i64,
    pub price_list_id: String,
    pub price_list_name: String,
    pub kind: String,
}

pub async fn resolve(
    conn: &mut AnyConnection,
    customer_id: &str,
    customer_level: &str,
    day: &str,
    products: &[&str],
) -> Result<Vec<ResolvedPrice>> {
    let mut out: Vec<ResolvedPrice> = Vec::new();
    for chunk in products.chunks(400) {
        let mut q = SqlBuf::read(
            "SELECT e.product_id, e.price, l.id AS price_list_id, l.name AS price_list_name, l.kind \
             FROM prices e JOIN price_lists l ON l.id = e.price_list_id",
            &shared(),
        );
        q.push(" AND l.status = 'active' AND l.valid_from <= ")
            .text(day)
            .push(" AND (l.valid_until = '' OR l.valid_until >= ")
            .text(day)
            .push(") AND ((l.kind = 'named' AND EXISTS (SELECT 1 FROM price_list_customers c WHERE c.price_list_id = l.id AND c.customer_id = ")
            .text(customer_id)
            .push(")) OR (l.kind = 'level' AND l.customer_level = ")
            .text(customer_level)
            .push(" AND l.customer_level <> '')) AND ")
            .in_texts("e.product_id", chunk.iter().copied())
            .push(
                " ORDER BY e.product_id, CASE l.kind WHEN 'named' THEN 0 ELSE 1 END, l.valid_from DESC, \
                 l.created_at DESC, l.id DESC",
            );
        let rows = q.query_as::<ResolvedPrice>().fetch_all(&mut *conn).await?;
        // The first row per product is its price.
        for r in rows {
            if out.last().is_none_or(|l| l.product_id != r.product_id) {
                out.push(r);
            }
        }
    }
    Ok(out)
}
