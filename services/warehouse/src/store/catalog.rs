//! Categories and products.

use crm_kit::Result;
use crm_kit::auth::ReadScope;
use crm_kit::filter::CompiledFilter;
use crm_kit::listing::{Keyset, Page, Position};
use crm_kit::sql::SqlBuf;
use sqlx::AnyConnection;

/// A stored category.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub parent_id: String,
    pub path: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
}

const CATEGORY_COLUMNS: &str =
    "id, name, name_key, parent_id, path, created_at, created_by, updated_at, updated_by, version";

/// Every category (a catalog has hundreds, not millions).
pub async fn categories(conn: &mut AnyConnection) -> Result<Vec<CategoryRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {CATEGORY_COLUMNS} FROM categories ORDER BY path"))
            .fetch_all(conn)
            .await?,
    )
}

pub async fn category(conn: &mut AnyConnection, id: &str) -> Result<Option<CategoryRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {CATEGORY_COLUMNS} FROM categories WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Inserts a category; `false` when a sibling already has its name.
pub async fn insert_category(conn: &mut AnyConnection, c: &CategoryRow) -> Result<bool> {
    crm_kit::errors::inserted(
        sqlx::query(&format!(
            "INSERT INTO categories ({CATEGORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.name_key)
        .bind(&c.parent_id)
        .bind(&c.path)
        .bind(c.created_at)
        .bind(&c.created_by)
        .bind(c.updated_at)
        .bind(&c.updated_by)
        .bind(c.version)
        .execute(conn)
        .await,
    )
}

/// Renames or moves a category at `version`, and re-roots the paths of its descendants and
/// their products. `None` when the version moved on; `Some(false)` on a sibling's name.
pub async fn update_category(
    conn: &mut AnyConnection,
    c: &CategoryRow,
    version: i64,
    old_path: &str,
) -> Result<Option<bool>> {
    let updated = sqlx::query(
        "UPDATE categories SET name = $1, name_key = $2, parent_id = $3, path = $4, updated_at = $5, updated_by = $6, \
         version = version + 1 WHERE id = $7 AND version = $8",
    )
    .bind(&c.name)
    .bind(&c.name_key)
    .bind(&c.parent_id)
    .bind(&c.path)
    .bind(c.updated_at)
    .bind(&c.updated_by)
    .bind(&c.id)
    .bind(version)
    .execute(&mut *conn)
    .await;
    match updated {
        Ok(r) if r.rows_affected() == 0 => return Ok(None),
        Ok(_) => {}
        Err(e) if crm_kit::errors::is_unique_violation(&e) => return Ok(Some(false)),
        Err(e) => return Err(e.into()),
    }
    if old_path != c.path {
        let like = format!("{}%", crm_kit::filter::like_escape(old_path));
        let tail_from = i64::try_from(old_path.chars().count()).unwrap_or(i64::MAX) + 1;
        for table in ["categories", "products"] {
            let column = if table == "categories" { "path" } else { "category_path" };
            sqlx::query(&format!(
                "UPDATE {table} SET {column} = $1 || SUBSTR({column}, $2) WHERE {column} LIKE $3 ESCAPE '\\'"
            ))
            .bind(&c.path)
            .bind(tail_from)
            .bind(&like)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(Some(true))
}

/// A stored product.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: String,
    pub code: String,
    pub code_key: String,
    pub name: String,
    pub specification: String,
    pub identity_key: String,
    pub unit: String,
    pub units: String,
    pub category_id: String,
    pub category_path: String,
    pub barcode: String,
    pub brand: String,
    pub currency: String,
    pub sale_price: i64,
    pub tax_rate: i64,
    pub standard_cost: i64,
    pub image_ids: String,
    pub status: String,
    pub tracking: String,
    pub warranty_months: i64,
    pub remark: String,
    pub custom_fields: String,
    pub search_text: String,
    pub moved: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    pub version: i64,
}

/// The columns of a [`ProductRow`] of products `p`.
pub const PRODUCT_COLUMNS: &str = "p.id, p.code, p.code_key, p.name, p.specification, p.identity_key, p.unit, \
    p.units, p.category_id, p.category_path, p.barcode, p.brand, p.currency, p.sale_price, p.tax_rate, \
    p.standard_cost, p.image_ids, p.status, p.tracking, p.warranty_months, p.remark, p.custom_fields, \
    p.search_text, p.moved, p.created_at, p.created_by, p.updated_at, p.updated_by, p.version";

pub async fn product(conn: &mut AnyConnection, id: &str) -> Result<Option<ProductRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The products of `ids` (those that exist), for a document's lines.
pub async fn products(conn: &mut AnyConnection, ids: &[&str]) -> Result<Vec<ProductRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q = SqlBuf::read(
            &format!("SELECT {PRODUCT_COLUMNS} FROM products p"),
            &ReadScope::everything("the catalog is shared"),
        );
        q.push(" AND ").in_texts("p.id", chunk.iter().copied());
        out.extend(q.query_as::<ProductRow>().fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The product holding a code key, or an active product holding an identity key (the
/// duplicates a new or changed product collides with), other than `except`.
pub async fn colliding(
    conn: &mut AnyConnection,
    code_key: &str,
    identity_key: Option<&str>,
    except: &str,
) -> Result<Option<(ProductRow, &'static str)>> {
    let by_code: Option<ProductRow> = sqlx::query_as(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.code_key = $1 AND p.id <> $2"
    ))
    .bind(code_key)
    .bind(except)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(p) = by_code {
        return Ok(Some((p, "code")));
    }
    let Some(identity_key) = identity_key else {
        return Ok(None);
    };
    let by_identity: Option<ProductRow> = sqlx::query_as(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.identity_key = $1 AND p.status = 'active' AND p.id <> $2"
    ))
    .bind(identity_key)
    .bind(except)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(by_identity.map(|p| (p, "identity")))
}

fn bind_product<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    p: &'q ProductRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&p.code)
        .bind(&p.code_key)
        .bind(&p.name)
        .bind(&p.specification)
        .bind(&p.identity_key)
        .bind(&p.unit)
        .bind(&p.units)
        .bind(&p.category_id)
        .bind(&p.category_path)
        .bind(&p.barcode)
        .bind(&p.brand)
        .bind(&p.currency)
        .bind(p.sale_price)
        .bind(p.tax_rate)
        .bind(p.standard_cost)
        .bind(&p.image_ids)
        .bind(&p.status)
        .bind(&p.tracking)
        .bind(p.warranty_months)
        .bind(&p.remark)
        .bind(&p.custom_fields)
        .bind(&p.search_text)
        .bind(p.updated_at)
        .bind(&p.updated_by)
}

/// Inserts a product; `false` when its code or (active) identity is taken meanwhile.
pub async fn insert_product(conn: &mut AnyConnection, p: &ProductRow) -> Result<bool> {
    let q = sqlx::query(
        "INSERT INTO products (code, code_key, name, specification, identity_key, unit, units, category_id, \
         category_path, barcode, brand, currency, sale_price, tax_rate, standard_cost, image_ids, status, tracking, \
         warranty_months, remark, custom_fields, search_text, updated_at, updated_by, id, moved, created_at, \
         created_by, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
         $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)",
    );
    crm_kit::errors::inserted(
        bind_product(q, p)
            .bind(&p.id)
            .bind(p.moved)
            .bind(p.created_at)
            .bind(&p.created_by)
            .bind(p.version)
            .execute(conn)
            .await,
    )
}

/// Writes a product's fields at `version`: `None` when the version moved on, `Some(false)`
/// when its code or identity is taken meanwhile.
pub async fn update_product(conn: &mut AnyConnection, p: &ProductRow, version: i64) -> Result<Option<bool>> {
    let q = sqlx::query(
        "UPDATE products SET code = $1, code_key = $2, name = $3, specification = $4, identity_key = $5, unit = $6, \
         units = $7, category_id = $8, category_path = $9, barcode = $10, brand = $11, currency = $12, \
         sale_price = $13, tax_rate = $14, standard_cost = $15, image_ids = $16, status = $17, tracking = $18, \
         warranty_months = $19, remark = $20, custom_fields = $21, search_text = $22, updated_at = $23, \
         updated_by = $24, version = version + 1 WHERE id = $25 AND version = $26",
    );
    match bind_product(q, p).bind(&p.id).bind(version).execute(conn).await {
        Ok(r) if r.rows_affected() == 0 => Ok(None),
        Ok(_) => Ok(Some(true)),
        Err(e) if crm_kit::errors::is_unique_violation(&e) => Ok(Some(false)),
        Err(e) => Err(e.into()),
    }
}

/// Marks products as moved (their stock unit and tracking are fixed from now on).
pub async fn mark_moved(conn: &mut AnyConnection, ids: &[&str]) -> Result<()> {
    for chunk in ids.chunks(500) {
        let mut q = SqlBuf::new("UPDATE products SET moved = 1 WHERE moved = 0 AND ");
        q.in_texts("id", chunk.iter().copied());
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// A page of products: by code when `search` is empty, else the products whose search text
/// holds the folded `search`, ranked (the exact code or barcode, then codes and names starting
/// with it, then the rest; by code within a rank). The catalog is shared: no data scope.
pub async fn page(
    conn: &mut AnyConnection,
    filter: Option<&CompiledFilter>,
    under: Option<&str>,
    search: &Search,
    keyset: &Keyset<'_>,
) -> Result<Page<ProductRow>> {
    let conditions = |q: &mut SqlBuf| {
        if let Some(f) = filter {
            q.push(" AND (").filter(f).push(")");
        }
        if let Some(path) = under {
            q.push(" AND p.category_path LIKE ")
                .text(format!("{}%", crm_kit::filter::like_escape(path)))
                .push(" ESCAPE '\\'");
        }
    };
    if search.key.is_empty() {
        let mut q = SqlBuf::read(
            &format!("SELECT {PRODUCT_COLUMNS} FROM products p"),
            &ReadScope::everything("the catalog is shared"),
        );
        conditions(&mut q);
        return keyset
            .fetch(conn, q, |p: &ProductRow| Position::at(p.code_key.clone(), &p.id))
            .await;
    }
    // Three tiers, each read in code order and cut at the page's size, so a piece many
    // products hold reads a page's worth of them, not all: the exact code or barcode (0), a
    // code or another field starting with the piece (1), the rest holding it (2). The keyset
    // position is `tier:code_key` and the row id.
    let escaped = crm_kit::filter::like_escape(&search.key);
    let exact = |q: &mut SqlBuf| {
        q.push("(p.code_key = ")
            .text(search.key.clone())
            .push(" OR p.barcode = ")
            .text(search.typed.clone())
            .push(")");
    };
    let starts = |q: &mut SqlBuf| {
        q.push("(p.code_key LIKE ")
            .text(format!("{escaped}%"))
            .push(" ESCAPE '\\' OR p.search_text LIKE ")
            .text(format!("%|{escaped}%"))
            .push(" ESCAPE '\\')");
    };
    let after = keyset.after().map(|p| {
        let key = match p.key() {
            Some(crm_kit::listing::SortValue::Text(t)) => t.clone(),
            _ => String::new(),
        };
        let (tier, code) = key.split_once(':').unwrap_or(("2", ""));
        (tier.parse::<u8>().unwrap_or(2), code.to_string(), p.id().to_string())
    });
    let limit = keyset.fetch_limit();
    let shared = ReadScope::everything("the catalog is shared");
    let mut branches: Vec<SqlBuf> = Vec::new();
    for tier in 0u8..3 {
        if after.as_ref().is_some_and(|(t, _, _)| *t > tier) {
            continue;
        }
        let mut q = SqlBuf::read(
            &format!("SELECT {PRODUCT_COLUMNS}, '{tier}:' || p.code_key AS search_rank FROM products p"),
            &shared,
        );
        q.push(" AND ");
        match tier {
            0 => exact(&mut q),
            1 => {
                starts(&mut q);
                q.push(" AND NOT ");
                exact(&mut q);
            }
            _ => {
                q.push("p.search_text LIKE ")
                    .text(format!("%{escaped}%"))
                    .push(" ESCAPE '\\' AND NOT ");
                starts(&mut q);
                q.push(" AND NOT ");
                exact(&mut q);
            }
        }
        conditions(&mut q);
        if let Some((_, code, id)) = after.as_ref().filter(|(t, _, _)| *t == tier) {
            q.push(" AND (p.code_key > ")
                .text(code.clone())
                .push(" OR (p.code_key = ")
                .text(code.clone())
                .push(" AND p.id > ")
                .text(id.clone())
                .push("))");
        }
        q.push(&format!(" ORDER BY p.code_key, p.id LIMIT {limit}"));
        branches.push(q);
    }
    let mut q = SqlBuf::union_all(&branches, "ranked");
    q.push(&format!(" ORDER BY ranked.search_rank, ranked.id LIMIT {limit}"));
    let rows = q.query_as::<Ranked>().fetch_all(&mut *conn).await?;
    let page = keyset.page(rows, |r: &Ranked| Position::at(r.search_rank.clone(), &r.product.id));
    Ok(Page {
        rows: page.rows.into_iter().map(|r| r.product).collect(),
        next_page_token: page.next_page_token,
    })
}

/// How a search orders products (as the order its page tokens are bound to; [`page`] reads it
/// tier by tier): `rank:code_key`, the rank 0 for the exact code or barcode, 1 for a code or
/// another field starting with the query, 2 for the rest. Its placeholders are the
/// folded query ($1), the query as typed ($2), and the LIKE patterns of a prefix of the code
/// ($3) and of another field ($4).
pub const SEARCH_ORDER: &str = "(CAST(CASE WHEN p.code_key = $1 OR p.barcode = $2 THEN 0 \
    WHEN p.code_key LIKE $3 ESCAPE '\\' OR p.search_text LIKE $4 ESCAPE '\\' THEN 1 ELSE 2 END AS TEXT) || ':' || p.code_key)";

/// What a product search looks for: the folded key (letters and digits) and the text as typed
/// (trimmed), which a barcode is compared with.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub key: String,
    pub typed: String,
}

/// A product row with its search rank, `rank:code_key`.
#[derive(Debug, sqlx::FromRow)]
pub struct Ranked {
    #[sqlx(flatten)]
    product: ProductRow,
    search_rank: String,
}
