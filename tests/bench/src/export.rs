//! Customer export: ExportCustomers of every customer (the administrator's scope, the default
//! order by name) over gRPC, counting bytes and rows, against the database's own limit for the
//! same columns, measured in the same run on the same database:
//!
//! - PostgreSQL: `COPY (SELECT <the export's columns> ... ORDER BY name, id) TO STDOUT` as CSV,
//!   read to the end over a plain connection;
//! - SQLite: the bare `SELECT` of the same columns in the same order, read to the end.
//!
//! The rows are written with the raw baseline insert of the import benchmark (customer,
//! primary contact, search index, history), so the export joins a contact for every row.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crm_customers::store::export::SELECT;
use crm_kit::db::Backend;
use crm_proto::customers as pb;
use sqlx::Connection;
use tokio_stream::StreamExt;

use crate::{Args, Rng, Service, Shape, customer, raw_db, raw_insert};

/// The export's default query as the baseline runs it.
fn baseline_sql() -> String {
    format!("{SELECT} WHERE c.deleted_at IS NULL ORDER BY c.name ASC, c.id ASC")
}

/// Times of the alternating rounds (export, baseline) each side takes; the best of each counts.
const ROUNDS: usize = 2;

pub async fn bench_export(args: &Args, backend: &str, admin: Option<&str>) {
    let n = args.import_rows.unwrap_or(if args.smoke { 20_000 } else { 1_000_000 });
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let data: Vec<_> = (0..n).map(|i| customer(&mut rng, i)).collect();
    let url = crm_kit::testing::fresh_database_at(admin, "bench_export").await.url;
    let db = raw_db(&url).await;
    let started = Instant::now();
    for (i, chunk) in data.chunks(1000).enumerate() {
        raw_insert(&db, i * 1000, chunk, Shape::Import).await;
    }
    drop(data);
    // The raw rows carry keys derived by the current rules: mark them so, or the service would
    // rebuild every customer's keys at start-up.
    sqlx::query("INSERT INTO derived_keys (name, version) VALUES ('customers', $1)")
        .bind(crm_customers::store::rekey::VERSION)
        .execute(&db.pool)
        .await
        .expect("derived keys");
    if db.backend == Backend::Postgres {
        sqlx::query("VACUUM ANALYZE").execute(&db.pool).await.expect("vacuum");
    } else {
        sqlx::query("ANALYZE").execute(&db.pool).await.expect("analyze");
    }
    println!(
        "export [{backend}] loaded {n} customers with primary contacts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let service = Service::start(&url).await;
    let mut client = service.client().await.expect("client");
    let idle = service.rss_kib();
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        let pid = service.child.id();
        tokio::spawn(async move {
            loop {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let rss = status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                peak.fetch_max(rss, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let (mut export_best, mut baseline_best) = (Duration::MAX, Duration::MAX);
    let (mut bytes, mut baseline_bytes, mut messages) = (0usize, 0usize, 0usize);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let mut stream = client
            .export_customers(pb::ExportCustomersRequest::default())
            .await
            .expect("export")
            .into_inner();
        let (mut b, mut lines, mut m) = (0usize, 0usize, 0usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("chunk").csv_chunk;
            b += chunk.len();
            lines += chunk.iter().filter(|c| **c == b'\n').count();
            m += 1;
        }
        export_best = export_best.min(started.elapsed());
        // The generated rows hold no line breaks: one line per row, plus the header.
        assert_eq!(lines, n + 1, "every customer and the header");
        (bytes, messages) = (b, m);

        let started = Instant::now();
        let (rows, b) = baseline(&url, db.backend, &db).await;
        baseline_best = baseline_best.min(started.elapsed());
        assert_eq!(rows, n, "the baseline reads every customer");
        baseline_bytes = b;
    }
    sampler.abort();
    let rate = n as f64 / export_best.as_secs_f64();
    let baseline_rate = n as f64 / baseline_best.as_secs_f64();
    println!(
        "export [{backend}] {n} rows: {rate:.0} rows/s ({:.2} s, {:.1} MiB in {messages} messages), {} {baseline_rate:.0} rows/s ({:.2} s{}), ratio {:.2} (target >= 200000 rows/s on postgres); best of {ROUNDS}",
        export_best.as_secs_f64(),
        bytes as f64 / (1024.0 * 1024.0),
        if db.backend == Backend::Postgres {
            "COPY ... TO STDOUT (csv)"
        } else {
            "bare SELECT read to the end"
        },
        baseline_best.as_secs_f64(),
        if baseline_bytes > 0 {
            format!(", {:.1} MiB", baseline_bytes as f64 / (1024.0 * 1024.0))
        } else {
            String::new()
        },
        rate / baseline_rate
    );
    println!(
        "memory [{backend}] customers process: idle {:.1} MiB, peak during export {:.1} MiB",
        idle as f64 / 1024.0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
    db.pool.close().await;
}

/// Reads the baseline to the end: rows and (for COPY) bytes.
async fn baseline(url: &str, backend: Backend, db: &crm_kit::db::Db) -> (usize, usize) {
    match backend {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            let mut out = conn
                .copy_out_raw(&format!("COPY ({}) TO STDOUT WITH (FORMAT csv)", baseline_sql()))
                .await
                .expect("copy out");
            let (mut bytes, mut lines) = (0usize, 0usize);
            while let Some(chunk) = out.next().await {
                let chunk = chunk.expect("copy chunk");
                bytes += chunk.len();
                lines += chunk.iter().filter(|c| **c == b'\n').count();
            }
            drop(out);
            conn.close().await.expect("close");
            (lines, bytes)
        }
        Backend::Sqlite => {
            let sql = baseline_sql();
            let mut rows = sqlx::query(&sql).fetch(&db.pool);
            let mut count = 0usize;
            while let Some(row) = rows.next().await {
                let _ = row.expect("row");
                count += 1;
            }
            (count, 0)
        }
    }
}
