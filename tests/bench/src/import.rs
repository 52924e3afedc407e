//! The import's baseline: the physical limit of writing the rows an import writes. A fresh
//! database whose customers, contacts and history tables keep only their primary keys, loaded
//! with PostgreSQL's `COPY ... FROM STDIN` (one per table); SQLite has no COPY, so there the
//! same rows go in with multi-row inserts, one transaction per 1000 rows.

use std::time::Instant;

use crm_customers::domain::names;
use crm_kit::db::{Backend, Db};
use sqlx::Connection;

use crate::{Shape, raw_insert};

/// Rows per COPY.
const COPY_ROWS: usize = 50_000;

/// The tables an import writes.
const TABLES: &[&str] = &[
    "customers",
    "contacts",
    "customer_changes",
    "owner_changes",
    "customer_grams",
];

/// Drops every index of the import's tables but the primary keys.
pub async fn strip_secondary_indexes(db: &Db) {
    let list = TABLES.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let sql = match db.backend {
        Backend::Postgres => format!(
            "SELECT CAST(i.indexname AS TEXT) FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename IN ({list}) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype = 'p')"
        ),
        // Primary-key and UNIQUE-constraint indexes have no SQL of their own.
        Backend::Sqlite => {
            format!("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({list}) AND sql IS NOT NULL")
        }
    };
    let indexes: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(&db.pool).await.expect("list indexes");
    for (name,) in indexes {
        sqlx::query(&format!("DROP INDEX {name}"))
            .execute(&db.pool)
            .await
            .expect("drop index");
    }
}

/// Appends one row in COPY's text format (tab-separated fields, backslash escapes).
fn line(out: &mut String, values: &[&str]) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        field(out, value);
    }
    out.push('\n');
}

fn field(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Streams `rows` (in COPY text form) into `table (columns)`.
async fn copy_in(conn: &mut sqlx::PgConnection, table: &str, columns: &str, rows: String) {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN"))
        .await
        .expect("copy in");
    copy.send(rows.into_bytes()).await.expect("copy send");
    copy.finish().await.expect("copy finish");
}

/// Loads the generated rows as an import would write them, at the physical limit; answers rows
/// per second.
pub async fn baseline(db: &Db, url: &str, data: &[(String, &'static str, &'static str, String)]) -> f64 {
    strip_secondary_indexes(db).await;
    let started = Instant::now();
    if db.backend == Backend::Sqlite {
        for (i, chunk) in data.chunks(1000).enumerate() {
            raw_insert(db, i * 1000, chunk, Shape::Import).await;
        }
        return data.len() as f64 / started.elapsed().as_secs_f64();
    }
    let now = crm_kit::time::now_micros().to_string();
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect for COPY");
    // One COPY per table and slice of the rows: the memory stays bounded.
    for (i, chunk) in data.chunks(COPY_ROWS).enumerate() {
        let (mut c, mut k, mut h, mut o) = (String::new(), String::new(), String::new(), String::new());
        for (offset, (name, level, city, mobile)) in chunk.iter().enumerate() {
            let id = crm_kit::new_id();
            let contact = format!("联系人{}", i * COPY_ROWS + offset);
            let texts = [name.as_str(), &contact, mobile];
            let search_text = texts
                .iter()
                .map(|t| names::normalize_text(t))
                .collect::<Vec<_>>()
                .join("|");
            let grams = format!(
                "{{{}}}",
                names::index_grams(&texts)
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            line(
                &mut c,
                &[
                    id.as_str(),
                    "company",
                    name,
                    &names::name_key(name),
                    level,
                    city,
                    &search_text,
                    "bench",
                    &now,
                    &now,
                    "bench",
                    &now,
                    "bench",
                    &grams,
                ],
            );
            line(
                &mut k,
                &[
                    &crm_kit::new_id(),
                    id.as_str(),
                    &contact,
                    mobile,
                    "1",
                    &now,
                    "bench",
                    &now,
                    "bench",
                ],
            );
            line(
                &mut h,
                &[&crm_kit::new_id(), id.as_str(), "import", "[]", "bench", &now],
            );
            line(
                &mut o,
                &[
                    &crm_kit::new_id(),
                    id.as_str(),
                    "",
                    "bench",
                    "import",
                    "",
                    "bench",
                    &now,
                ],
            );
        }
        let mut tx = conn.begin().await.expect("begin");
        copy_in(
            &mut tx,
            "customers",
            "id, kind, name, name_key, level_code, city, search_text, owner_id, owned_since, created_at, created_by, \
         updated_at, updated_by, grams",
            c,
        )
        .await;
        copy_in(
            &mut tx,
            "contacts",
            "id, customer_id, name, mobile, is_primary, created_at, created_by, updated_at, updated_by",
            k,
        )
        .await;
        copy_in(
            &mut tx,
            "customer_changes",
            "id, customer_id, action, fields, changed_by, changed_at",
            h,
        )
        .await;
        copy_in(
            &mut tx,
            "owner_changes",
            "id, customer_id, from_owner_id, to_owner_id, reason, note, changed_by, changed_at",
            o,
        )
        .await;
        tx.commit().await.expect("commit");
    }
    data.len() as f64 / started.elapsed().as_secs_f64()
}
