//! Lead import and export of the sales service, each with a baseline from the same run:
//!
//! - import: ImportLeads (a client stream of CSV, checked row by row, written in batches of
//!   1,000) vs a raw multi-row insert of the same rows in batches of the same size, each on
//!   its own fresh database;
//! - export: ExportLeads of every imported lead (keyset pages of the caller's scope, CSV) vs a
//!   raw `SELECT` of the same columns in one statement.

use std::time::Instant;

use crm_kit::db::Db;
use crm_kit::sql::SqlBuf;
use crm_kit::testing::fresh_database_at;
use crm_proto::sales as pb;
use crm_proto::sales::sales_service_client::SalesServiceClient;
use tokio_stream::StreamExt;

use crate::{Args, Rng, identity};

const PROVINCES: &[&str] = &["广东", "浙江", "江苏", "北京", "上海", "四川"];
const SOURCES: &[&str] = &["referral", "event", "campaign", "phone_inquiry", "website_form"];

/// One lead: company, contact, mobile, source, province.
type Lead = (String, String, String, &'static str, &'static str);

fn leads(n: usize) -> Vec<Lead> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            (
                format!("Lead Company {i} Ltd"),
                format!("联系人{i}"),
                format!("139{:08}", rng.next() % 100_000_000),
                rng.pick(SOURCES),
                rng.pick(PROVINCES),
            )
        })
        .collect()
}

async fn raw_insert(db: &Db, offset: usize, rows: &[Lead]) {
    let per_statement = crm_kit::db::rows_per_statement_on(db.backend, 11);
    let mut tx = db.pool.begin().await.expect("begin");
    for (c, chunk) in rows.chunks(per_statement).enumerate() {
        let mut q = SqlBuf::new(
            "INSERT INTO leads (id, company_name, contact_name, mobile, source, province, owner_id, created_at, created_by, \
             updated_at, updated_by) VALUES ",
        );
        for (i, (company, contact, mobile, source, province)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.text(format!("raw-{}", offset + c * per_statement + i));
            for v in [company.as_str(), contact, mobile, source, province, "bench"] {
                q.push(", ").text(v);
            }
            let now = crm_kit::time::now_micros();
            q.push(", ").int(now);
            q.push(", ").text("bench");
            q.push(", ").int(now);
            q.push(", ").text("bench").push(")");
        }
        q.query().execute(&mut *tx).await.expect("raw insert");
    }
    tx.commit().await.expect("commit");
}

pub async fn bench_import_export(args: &Args, backend: &str, admin: Option<&str>) {
    let n = args.import_rows.unwrap_or(if args.smoke { 20_000 } else { 200_000 });
    let data = leads(n);

    let raw = Db::connect(&fresh_database_at(admin, "bench_leads_raw").await.url, 4)
        .await
        .expect("connect");
    crm_kit::service::migrate(&raw, crm_sales::MIGRATIONS)
        .await
        .expect("migrate");
    let started = Instant::now();
    for (i, chunk) in data.chunks(1000).enumerate() {
        raw_insert(&raw, i * 1000, chunk).await;
    }
    let raw_rate = n as f64 / started.elapsed().as_secs_f64();

    let (identity, token) = identity().await;
    let url = fresh_database_at(admin, "bench_leads_svc").await.url;
    let sales = crm_sales::testing::spawn_with(&identity.url(), "http://127.0.0.1:50052", None, |c| {
        c.service.database_url = Some(url);
        c.service.db_max_connections = 8;
        c.forecast_snapshot_check_seconds = 0;
    })
    .await
    .server;
    let channel = tonic::transport::Channel::from_shared(sales.endpoint())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client = SalesServiceClient::with_interceptor(channel, crm_identity::testing::Bearer::new(token))
        .max_decoding_message_size(64 * 1024 * 1024);

    let mut csv = String::from("company_name,contact_name,mobile,source,province\n");
    for (company, contact, mobile, source, province) in &data {
        csv.push_str(&format!("{company},{contact},{mobile},{source},{province}\n"));
    }
    let mut messages = vec![pb::ImportLeadsRequest {
        part: Some(pb::import_leads_request::Part::Options(
            pb::ImportLeadsOptions::default(),
        )),
    }];
    messages.extend(csv.as_bytes().chunks(256 * 1024).map(|c| pb::ImportLeadsRequest {
        part: Some(pb::import_leads_request::Part::CsvChunk(c.to_vec())),
    }));
    let started = Instant::now();
    let result = client
        .import_leads(tokio_stream::iter(messages))
        .await
        .expect("import")
        .into_inner();
    let elapsed = started.elapsed();
    assert_eq!(
        result.created as usize,
        n,
        "{:?}",
        &result.errors[..result.errors.len().min(5)]
    );
    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "lead import [{backend}] {n} rows: {rate:.0} rows/s ({:.1} s), raw batched insert {raw_rate:.0} rows/s, ratio {:.2}",
        elapsed.as_secs_f64(),
        rate / raw_rate
    );

    let started = Instant::now();
    let mut stream = client
        .export_leads(pb::ExportLeadsRequest::default())
        .await
        .expect("export")
        .into_inner();
    let mut lines = 0usize;
    while let Some(chunk) = stream.next().await {
        lines += chunk.expect("chunk").csv_chunk.iter().filter(|b| **b == b'\n').count();
    }
    let elapsed = started.elapsed();
    assert_eq!(lines, n + 1, "every lead and the header");
    let started = Instant::now();
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT id, company_name, contact_name, mobile, source FROM leads ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(&raw.pool)
    .await
    .expect("raw select");
    let raw_elapsed = started.elapsed();
    assert_eq!(rows.len(), n);
    let rate = n as f64 / elapsed.as_secs_f64();
    let raw_rate = n as f64 / raw_elapsed.as_secs_f64();
    println!(
        "lead export [{backend}] {n} rows: {rate:.0} rows/s ({:.1} s), raw SELECT {raw_rate:.0} rows/s, ratio {:.2}",
        elapsed.as_secs_f64(),
        rate / raw_rate
    );
    raw.pool.close().await;
}
