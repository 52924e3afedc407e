//! crm-bench: measures the customers service against baselines taken in the same run on the
//! same database, and prints figures and ratios (never asserts timings).
//!
//! - create: CreateCustomer over gRPC vs raw SQL inserting the same rows (customer + search
//!   index rows), at the same concurrency;
//! - import: ImportCustomers (client stream) vs COPY of the same rows into the same tables
//!   without secondary indexes (the physical limit; see [`import`]), with the service's peak RSS;
//! - search: a six-class query mix over the imported rows beside the bare `LIKE '%x%'` scan
//!   (see [`search`]), and a filtered keyset page deep in the list;
//! - memory: resident memory of the service process idle and under the create load.
//!
//! The customer export against `COPY ... TO STDOUT` (or SQLite's bare `SELECT`) is in [`export`].
//!
//! The service runs as its own process (`crm-customers` next to this binary), so its memory
//! is its own.
//!
//! The gateway, access-control, metrics-cost and sign-in benchmarks are in [`front`]; event latency and the
//! departure handover in [`events`]; the sales service's lead import and export in [`leads`], its
//! reports over a large book of deals in [`reports`]; the warehouse's postings and stock reads
//! over a long ledger in [`stock`].

// The baselines run their own SQL against the service's database.
#![allow(clippy::disallowed_methods)]

mod events;
mod export;
mod front;
mod import;
mod leads;
mod reports;
mod search;
mod stock;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use crm_customers::domain::names;
use crm_customers::store::SqlBuf;
use crm_kit::db::{Backend, Db};
use crm_proto::customers as pb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use tonic::transport::Channel;

#[derive(Parser, Debug, Clone)]
#[command(about = "Benchmarks of the CRM customers service")]
struct Args {
    /// Small sizes, for CI: checks the benchmarks run, not the machine's speed.
    #[arg(long)]
    smoke: bool,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// PostgreSQL server to create benchmark databases on.
    #[arg(
        long,
        env = "CRM_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Customers created one by one in the create benchmark.
    #[arg(long)]
    creates: Option<usize>,
    /// Concurrent callers in the create benchmark.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Rows imported (and then searched).
    #[arg(long)]
    import_rows: Option<usize>,
    /// Queries timed in the search benchmark.
    #[arg(long)]
    queries: Option<usize>,
    /// Which benchmarks run: create, import (import, search and pages), export, gateway, auth,
    /// metrics (the cost of recording metrics), signin,
    /// events, handover, leads (lead import and export), reports (sales reports), stock (the
    /// warehouse's postings and stock reads), or all.
    #[arg(long, default_value = "all")]
    only: String,
}

/// A deterministic xorshift generator: the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

pub(crate) const CITIES: &[&str] = &[
    "深圳市",
    "广州市",
    "北京",
    "上海",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "苏州",
    "西安",
    "Madrid",
    "Barcelona",
    "Valencia",
];
pub(crate) const WORDS: &[&str] = &[
    "腾飞", "华强", "创新", "远航", "金达", "宏图", "瑞丰", "恒信", "天成", "博远", "中科", "新锐", "鼎盛", "嘉禾",
    "永安", "盛世", "东方", "蓝海", "Global", "Nova", "Iberia", "Solar", "Delta", "Alpha", "Orion", "Atlas", "Vértice",
    "Norte",
];
pub(crate) const TRADES: &[&str] = &[
    "科技",
    "电子",
    "贸易",
    "机械",
    "物流",
    "软件",
    "医疗",
    "食品",
    "建材",
    "Trading",
    "Systems",
    "Logistics",
];
const SUFFIXES: &[&str] = &["有限公司", "股份有限公司", "集团", " S.L.", " Co., Ltd.", ""];
const LEVELS: &[&str] = &["A", "B", "C", "D"];

/// One generated customer: unique name (a serial keeps it unique), level, city, mobile.
fn customer(rng: &mut Rng, i: usize) -> (String, &'static str, &'static str, String) {
    let city = rng.pick(CITIES);
    let name = format!(
        "{city}{}{}{}{i}号{}",
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(TRADES),
        rng.pick(SUFFIXES)
    );
    let mobile = format!("13{:09}", rng.next() % 1_000_000_000);
    let level = LEVELS[i % 4];
    let city: &'static str = CITIES.iter().copied().find(|c| *c == city).unwrap_or("");
    (name, level, city, mobile)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The service as a child process.
struct Service {
    child: Child,
    addr: String,
}

/// The identity service every benchmarked customers service verifies tokens with, and the
/// token the benchmark calls with (an administrator's: the calls measure the service, not a
/// scope).
static IDENTITY: tokio::sync::OnceCell<(crm_identity::testing::TestIdentity, String)> =
    tokio::sync::OnceCell::const_new();

async fn identity() -> &'static (crm_identity::testing::TestIdentity, String) {
    IDENTITY
        .get_or_init(|| async {
            let identity = crm_identity::testing::TestIdentity::start(
                &crm_kit::testing::fresh_database_at(None, "bench_identity").await,
            )
            .await;
            let token = identity.token_lasting(
                "bench",
                "admin",
                &identity.department_id,
                &identity.department_path,
                7 * 24 * 3600,
            );
            (identity, token)
        })
        .await
}

type Client =
    CustomersServiceClient<tonic::service::interceptor::InterceptedService<Channel, crm_identity::testing::Bearer>>;

impl Service {
    async fn start(database_url: &str) -> Service {
        let exe = std::env::current_exe().expect("current exe");
        let bin = exe.with_file_name("crm-customers");
        assert!(
            bin.exists(),
            "{} is missing: build it with `cargo build --release -p crm-customers`",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let (identity, _) = identity().await;
        let child = Command::new(bin)
            .env("CRM_IDENTITY_URL", identity.url())
            .env("CRM_LISTEN", &addr)
            .env("CRM_DATABASE_URL", database_url)
            .env("CRM_RECLAIM_INTERVAL_SECONDS", "0")
            .env("CRM_DB_MAX_CONNECTIONS", "16")
            .env("CRM_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start crm-customers");
        let service = Service { child, addr };
        for _ in 0..300 {
            if service.client().await.is_some() {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("crm-customers did not start");
    }

    async fn client(&self) -> Option<Client> {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .ok()?
            .connect()
            .await
            .ok()?;
        let (_, token) = identity().await;
        let mut client = CustomersServiceClient::with_interceptor(channel, crm_identity::testing::Bearer::new(token))
            .max_decoding_message_size(64 * 1024 * 1024);
        client.list_categories(pb::ListCategoriesRequest {}).await.ok()?;
        Some(client)
    }

    fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The most resident memory the process has had (the kernel's high-water mark).
    fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn raw_db(url: &str) -> Db {
    let db = Db::connect(url, 16).await.expect("connect");
    crm_kit::service::migrate(&db, crm_customers::MIGRATIONS)
        .await
        .expect("migrate");
    db
}

/// What a raw baseline writes for a generated customer: the rows the service writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// CreateCustomer: the customer (mobile on the customer) and its search index.
    Create,
    /// ImportCustomers: the customer, its primary contact (name and mobile from the CSV), the
    /// search index over both, and the two history rows of an imported customer.
    Import,
}

/// The raw baseline: rows `first..first + rows.len()` of the generated data written with
/// hand-written multi-row SQL in one transaction, the search index in the backend's form.
async fn raw_insert(db: &Db, first: usize, rows: &[(String, &'static str, &'static str, String)], shape: Shape) {
    let now = crm_kit::time::now_micros();
    let postgres = db.backend == Backend::Postgres;
    let mut tx = db.begin_write().await.expect("begin");
    let mut customers = Vec::new();
    let mut grams: Vec<(String, Vec<i64>)> = Vec::new();
    for (offset, (name, level, city, mobile)) in rows.iter().enumerate() {
        let id = crm_kit::new_id();
        let contact = format!("联系人{}", first + offset);
        let texts: Vec<&str> = match shape {
            Shape::Create => vec![name, mobile],
            Shape::Import => vec![name, &contact, mobile],
        };
        let search_text = texts
            .iter()
            .map(|t| names::normalize_text(t))
            .collect::<Vec<_>>()
            .join("|");
        grams.push((id.clone(), names::index_grams(&texts)));
        customers.push((
            id,
            name,
            names::name_key(name),
            *level,
            *city,
            mobile.clone(),
            contact,
            search_text,
        ));
    }
    let per_statement = crm_kit::db::rows_per_statement(&tx, 11);
    for (chunk, chunk_grams) in customers.chunks(per_statement).zip(grams.chunks(per_statement)) {
        let mut q = SqlBuf::new(&format!(
            "INSERT INTO customers (id, kind, name, name_key, level_code, city, mobile, search_text, owner_id, owned_since, \
             created_at, created_by, updated_at, updated_by{}) VALUES ",
            if postgres { ", grams" } else { "" }
        ));
        for (i, ((id, name, key, level, city, mobile, _, text), (_, g))) in chunk.iter().zip(chunk_grams).enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.text(id.as_str())
                .push(", 'company', ")
                .text(name.as_str())
                .push(", ")
                .text(key.as_str());
            q.push(", ").text(*level).push(", ").text(*city).push(", ");
            q.text(if shape == Shape::Create { mobile.as_str() } else { "" });
            q.push(", ")
                .text(text.as_str())
                .push(", 'bench', ")
                .int(now)
                .push(", ")
                .int(now);
            q.push(", 'bench', ").int(now).push(", 'bench'");
            if postgres {
                let literal = format!("{{{}}}", g.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
                q.push(", CAST(").text(literal).push(" AS BIGINT[])");
            }
            q.push(")");
        }
        q.query().execute(&mut *tx).await.expect("raw insert customers");
    }
    if !postgres {
        let pairs: Vec<(&str, i64)> = grams
            .iter()
            .flat_map(|(id, g)| g.iter().map(move |g| (id.as_str(), *g)))
            .collect();
        for chunk in pairs.chunks(crm_kit::db::rows_per_statement(&tx, 2)) {
            let mut q = SqlBuf::new("INSERT INTO customer_grams (gram, customer_id) VALUES ");
            for (i, (id, g)) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" })
                    .int(*g)
                    .push(", ")
                    .text(*id)
                    .push(")");
            }
            q.push(" ON CONFLICT DO NOTHING");
            q.query().execute(&mut *tx).await.expect("raw insert grams");
        }
    }
    if shape == Shape::Import {
        for chunk in customers.chunks(crm_kit::db::rows_per_statement(&tx, 6)) {
            let mut contacts = SqlBuf::new(
                "INSERT INTO contacts (id, customer_id, name, mobile, is_primary, created_at, created_by, updated_at, updated_by) VALUES ",
            );
            let mut changes = SqlBuf::new(
                "INSERT INTO customer_changes (id, customer_id, action, fields, changed_by, changed_at) VALUES ",
            );
            let mut owners = SqlBuf::new(
                "INSERT INTO owner_changes (id, customer_id, from_owner_id, to_owner_id, reason, note, changed_by, changed_at) VALUES ",
            );
            for (i, (id, _, _, _, _, mobile, contact, _)) in chunk.iter().enumerate() {
                let sep = if i == 0 { "(" } else { ", (" };
                contacts.push(sep).text(crm_kit::new_id()).push(", ").text(id.as_str());
                contacts
                    .push(", ")
                    .text(contact.as_str())
                    .push(", ")
                    .text(mobile.as_str());
                contacts
                    .push(", 1, ")
                    .int(now)
                    .push(", 'bench', ")
                    .int(now)
                    .push(", 'bench')");
                changes.push(sep).text(crm_kit::new_id()).push(", ").text(id.as_str());
                changes.push(", 'import', '[]', 'bench', ").int(now).push(")");
                owners.push(sep).text(crm_kit::new_id()).push(", ").text(id.as_str());
                owners.push(", '', 'bench', 'import', '', 'bench', ").int(now).push(")");
            }
            for q in [contacts, changes, owners] {
                q.query()
                    .execute(&mut *tx)
                    .await
                    .expect("raw insert contacts and history");
            }
        }
    }
    tx.commit().await.expect("commit");
}

async fn bench_create(args: &Args, backend: &str, admin: Option<&str>) {
    let n = args.creates.unwrap_or(if args.smoke { 400 } else { 20_000 });
    let c = args.concurrency.max(1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let data: Arc<Vec<_>> = Arc::new((0..n).map(|i| customer(&mut rng, i)).collect());

    let raw = raw_db(&crm_kit::testing::fresh_database_at(admin, "bench_raw").await.url).await;
    let service = Service::start(&crm_kit::testing::fresh_database_at(admin, "bench_svc").await.url).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = service.rss_kib();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
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
                peak.fetch_max(rss, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    // Raw SQL and the service take turns on equal slices of the rows, so both databases grow
    // alike and a slow moment of a shared machine lands on one round, not on one side.
    let rounds = CREATE_ROUNDS.min(n);
    let (mut raw_time, mut svc_time) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let slice = (round * n / rounds)..((round + 1) * n / rounds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..c {
            let db = raw.clone();
            let data = data.clone();
            let slice = slice.clone();
            tasks.push(tokio::spawn(async move {
                for i in (slice.start + w..slice.end).step_by(c) {
                    raw_insert(&db, i, std::slice::from_ref(&data[i]), Shape::Create).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let raw_round = started.elapsed();

        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..c {
            let mut client = service.client().await.expect("client");
            let data = data.clone();
            let slice = slice.clone();
            tasks.push(tokio::spawn(async move {
                for i in (slice.start + w..slice.end).step_by(c) {
                    let (name, level, city, mobile) = &data[i];
                    let customer = pb::Customer {
                        kind: pb::CustomerKind::Company as i32,
                        name: name.clone(),
                        level_code: (*level).into(),
                        mobile: mobile.clone(),
                        region: Some(pb::Region {
                            city: (*city).into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    client
                        .create_customer(pb::CreateCustomerRequest {
                            customer: Some(customer),
                            ..Default::default()
                        })
                        .await
                        .expect("create");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let svc_round = started.elapsed();
        raw_time += raw_round;
        svc_time += svc_round;
        ratios.push(raw_round.as_secs_f64() / svc_round.as_secs_f64().max(1e-9));
    }
    sampler.abort();
    raw.pool.close().await;
    ratios.sort_by(f64::total_cmp);
    let rate = n as f64 / svc_time.as_secs_f64();
    let raw_rate = n as f64 / raw_time.as_secs_f64();
    println!(
        "create [{backend}] {n} customers, concurrency {c}, {rounds} alternating rounds: gRPC {rate:.0}/s, raw SQL {raw_rate:.0}/s, ratio {:.2} (rounds {}) (target >= 0.6)",
        rate / raw_rate,
        ratios.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(" ")
    );
    println!(
        "memory [{backend}] customers process: idle {:.1} MiB, peak under create {:.1} MiB",
        idle as f64 / 1024.0,
        peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
    );
}

/// How many turns raw SQL and the service take in the create benchmark.
const CREATE_ROUNDS: usize = 4;

fn csv_of(rows: &[(String, &'static str, &'static str, String)]) -> Vec<u8> {
    let mut out = String::from("name,level_code,region.city,contact.name,contact.mobile\n");
    for (i, (name, level, city, mobile)) in rows.iter().enumerate() {
        // Names like "Acme Co., Ltd." hold commas: quote them as any spreadsheet would.
        out.push_str(&format!(
            "\"{}\",{level},{city},联系人{i},{mobile}\n",
            name.replace('"', "\"\"")
        ));
    }
    out.into_bytes()
}

async fn bench_import_and_search(args: &Args, backend: &str, admin: Option<&str>) {
    let n = args.import_rows.unwrap_or(if args.smoke { 20_000 } else { 1_000_000 });
    let queries = args.queries.unwrap_or(if args.smoke { 40 } else { 400 });
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let data: Vec<_> = (0..n).map(|i| customer(&mut rng, i)).collect();

    // The physical limit: COPY of the same rows into the same tables without secondary indexes.
    let copy_url = crm_kit::testing::fresh_database_at(admin, "bench_copy").await.url;
    let copy_db = raw_db(&copy_url).await;
    let raw_rate = import::baseline(&copy_db, &copy_url, &data).await;
    copy_db.pool.close().await;

    let service_url = crm_kit::testing::fresh_database_at(admin, "bench_svc").await.url;
    let service = Service::start(&service_url).await;
    let mut client = service.client().await.expect("client");
    let idle = service.rss_kib();
    let csv = csv_of(&data);
    let mut messages = vec![pb::ImportCustomersRequest {
        part: Some(pb::import_customers_request::Part::Options(pb::ImportOptions {
            mode: pb::ImportMode::Skip as i32,
            declared: Some(crm_proto::common::UploadDeclaration {
                size_bytes: Some(csv.len() as i64),
                ..Default::default()
            }),
            ..Default::default()
        })),
    }];
    messages.extend(csv.chunks(256 * 1024).map(|c| pb::ImportCustomersRequest {
        part: Some(pb::import_customers_request::Part::CsvChunk(c.to_vec())),
    }));
    let started = Instant::now();
    let result = client
        .import_customers(tokio_stream::iter(messages))
        .await
        .expect("import")
        .into_inner();
    let elapsed = started.elapsed();
    assert_eq!(
        result.created as usize + result.skipped as usize,
        n,
        "{:?}",
        &result.errors[..result.errors.len().min(5)]
    );
    let rate = n as f64 / elapsed.as_secs_f64();
    let target = if backend == "postgres" { 50_000 } else { 20_000 };
    println!(
        "import [{backend}] {n} rows: {rate:.0} rows/s ({:.1} s, target >= {target}), {} {raw_rate:.0} rows/s, ratio {:.2} (target >= 0.5); service RSS idle {} MiB, peak {} MiB",
        elapsed.as_secs_f64(),
        if backend == "postgres" {
            "COPY into index-free tables"
        } else {
            "multi-row inserts into index-free tables (SQLite has no COPY)"
        },
        rate / raw_rate,
        idle / 1024,
        service.peak_rss_kib() / 1024
    );
    // The searches below compare with a bare scan of the same rows.
    let raw = raw_db(&service_url).await;

    // The search mix, six classes of pieces from rare to common.
    search::bench_mix(&mut client, &raw, &data, backend, queries / 6).await;

    // A filtered keyset page deep in the list: walk the pages of level A by name.
    let mut token = String::new();
    let mut page_lat = Vec::new();
    let mut depth = 0usize;
    loop {
        let t = Instant::now();
        let page = client
            .list_customers(pb::ListCustomersRequest {
                filter: r#"level_code = "A""#.into(),
                order_by: "name".into(),
                page_size: 50,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        page_lat.push(t.elapsed());
        depth += page.customers.len();
        if page.next_page_token.is_empty() || page_lat.len() >= queries * 10 {
            break;
        }
        token = page.next_page_token;
    }
    let deep: Vec<Duration> = {
        let mut d = page_lat[page_lat.len() / 2..].to_vec();
        d.sort();
        d
    };
    let t = Instant::now();
    let offset = depth.saturating_sub(50);
    let _: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM customers WHERE level_code = 'A' ORDER BY name, id LIMIT 50 OFFSET $1")
            .bind(offset as i64)
            .fetch_all(&raw.pool)
            .await
            .expect("raw offset");
    let raw_offset = t.elapsed();
    println!(
        "page [{backend}] filtered keyset pages, {} pages to row {depth}: deeper half p50 {} p95 {} (target p95 < 100 ms); raw OFFSET {offset} page {}",
        page_lat.len(),
        ms(percentile(&deep, 0.5)),
        ms(percentile(&deep, 0.95)),
        ms(raw_offset)
    );
    raw.pool.close().await;
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let backends: Vec<&str> = match args.backend.as_str() {
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        _ => vec!["sqlite", "postgres"],
    };
    println!(
        "crm-bench ({}), every figure with its same-run baseline",
        if args.smoke { "smoke sizes" } else { "full sizes" }
    );
    for backend in backends {
        let admin = (backend == "postgres").then_some(args.postgres_url.as_str());
        if matches!(args.only.as_str(), "all" | "create") {
            bench_create(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "import") {
            bench_import_and_search(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "export") {
            export::bench_export(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "gateway") {
            front::bench_gateway(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "auth") {
            front::bench_auth(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "metrics") {
            front::bench_metrics(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "events") {
            events::bench_latency(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "handover") {
            events::bench_handover(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "leads") {
            leads::bench_import_export(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "reports") {
            reports::bench_reports(&args, backend, admin).await;
        }
        if matches!(args.only.as_str(), "all" | "stock") {
            stock::bench_stock(&args, backend, admin).await;
        }
    }
    if matches!(args.only.as_str(), "all" | "signin") {
        front::bench_sign_in(&args).await;
    }
}
