//! The warehouse service's postings and stock reads, each beside a baseline from the same run
//! on the same database:
//!
//! - posting throughput: outbound documents of 5 lines from concurrent callers over gRPC (each
//!   line a conditional balance update, its cost, its ledger line, the document and its event)
//!   vs raw SQL inserting the same ledger lines in transactions of the same size, at the same
//!   concurrency;
//! - one large document: an inbound and then an outbound of 5,000 lines posted over gRPC vs
//!   the same conditional updates and ledger inserts as raw SQL in one transaction;
//! - reads over a long ledger: GetStockLevel of one product (p50, p95) vs selecting its balance
//!   row, and GetStockValue now and as of a past time vs the bare sums;
//! - product search over a large catalog: ListProducts with rare and common pieces (a code, a
//!   word of many names, a CJK word, two digits) vs the bare `LIKE` of the same piece.

use std::time::{Duration, Instant};

use crm_kit::db::Db;
use crm_kit::sql::SqlBuf;
use crm_kit::testing::fresh_database_at;
use crm_proto::warehouse as pb;
use crm_proto::warehouse::warehouse_service_client::WarehouseServiceClient;

use crate::{Args, Rng, identity, ms, percentile};

type Client = WarehouseServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, crm_identity::testing::Bearer>,
>;

const CONCURRENCY: usize = 16;
const LINES_PER_DOCUMENT: usize = 5;

async fn start(admin: Option<&str>, name: &str) -> (crm_kit::testing::TestService, Client) {
    let (identity, token) = identity().await;
    let url = fresh_database_at(admin, name).await.url;
    let service = crm_warehouse::testing::spawn_with(&identity.url(), None, |c| {
        c.service.database_url = Some(url.clone());
        c.service.request_timeout_seconds = 600;
        c.service.db_max_connections = 16;
    })
    .await;
    let channel = tonic::transport::Channel::from_shared(service.url())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let client = WarehouseServiceClient::with_interceptor(channel, crm_identity::testing::Bearer::new(token))
        .max_decoding_message_size(256 * 1024 * 1024)
        .max_encoding_message_size(256 * 1024 * 1024);
    (service, client)
}

/// `n` products `P0..` written straight into the catalog; their ids.
async fn seed_products(db: &Db, n: usize) -> Vec<String> {
    let now = crm_kit::time::now_micros();
    let per = crm_kit::db::rows_per_statement_on(db.backend, 13);
    let mut tx = db.pool.begin().await.expect("begin");
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(per) {
        let mut q = SqlBuf::new(
            "INSERT INTO products (id, code, code_key, name, specification, identity_key, unit, currency, search_text, \
             created_at, created_by, updated_at, updated_by) VALUES ",
        );
        for i in start..(start + per).min(n) {
            let id = format!("p{i}");
            q.push(if i == start { "(" } else { ", (" });
            for v in [
                id.clone(),
                format!("P{i}"),
                format!("p{i}"),
                format!("Product {i}"),
                String::new(),
                format!("product{i}|"),
                "pcs".into(),
                "CNY".into(),
                format!("p{i}|product{i}"),
            ] {
                q.text(v).push(", ");
            }
            q.int(now)
                .push(", ")
                .text("bench")
                .push(", ")
                .int(now)
                .push(", ")
                .text("bench")
                .push(")");
            ids.push(id);
        }
        q.query().execute(&mut *tx).await.expect("products");
    }
    tx.commit().await.expect("commit");
    ids
}

async fn warehouse(client: &mut Client, code: &str) -> String {
    client
        .create_warehouse(pb::CreateWarehouseRequest {
            warehouse: Some(pb::Warehouse {
                code: code.into(),
                name: format!("Warehouse {code}"),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("warehouse")
        .into_inner()
        .warehouse
        .expect("warehouse")
        .id
}

fn document(
    kind: pb::DocumentKind,
    warehouse_id: &str,
    lines: Vec<pb::StockDocumentLine>,
) -> pb::CreateStockDocumentRequest {
    pb::CreateStockDocumentRequest {
        document: Some(pb::StockDocument {
            kind: kind as i32,
            warehouse_id: warehouse_id.into(),
            lines,
            ..Default::default()
        }),
        post: true,
        request_id: String::new(),
    }
}

fn line(product_id: &str, quantity: &str, cost: Option<&str>) -> pb::StockDocumentLine {
    pb::StockDocumentLine {
        product_id: product_id.into(),
        quantity: quantity.into(),
        unit_cost: cost.map(|c| crm_proto::common::Money {
            currency_code: "CNY".into(),
            amount: c.into(),
        }),
        ..Default::default()
    }
}

pub async fn bench_stock(args: &Args, backend: &str, admin: Option<&str>) {
    bench_posting(args, backend, admin).await;
    bench_large_document(args, backend, admin).await;
    bench_long_ledger(args, backend, admin).await;
    bench_product_search(args, backend, admin).await;
}

/// ListProducts p50/p95 per kind of piece over a catalog of realistic names, vs the bare
/// `LIKE` of the folded piece over the same table (first page of 50 either way).
async fn bench_product_search(args: &Args, backend: &str, admin: Option<&str>) {
    let n = if args.smoke { 2_000 } else { 200_000 };
    let (service, mut client) = start(admin, "bench_stock_search").await;
    let db = &service.db;
    let brands = [
        "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
    ];
    let kinds = [
        "LED desk lamp",
        "ceiling light",
        "USB cable",
        "power adapter",
        "office chair",
        "台灯",
        "吸顶灯",
        "数据线",
        "steel shelf",
        "label printer",
    ];
    let started = Instant::now();
    let per = crm_kit::db::rows_per_statement_on(db.backend, 13);
    let now = crm_kit::time::now_micros();
    let mut tx = db.pool.begin().await.expect("begin");
    for start in (0..n).step_by(per) {
        let mut q = SqlBuf::new(
            "INSERT INTO products (id, code, code_key, name, specification, identity_key, unit, currency, search_text, \
             created_at, created_by, updated_at, updated_by) VALUES ",
        );
        for i in start..(start + per).min(n) {
            let code = format!("SKU-{i:07}");
            let name = format!(
                "{} {}",
                brands[i % brands.len()],
                kinds[(i / brands.len()) % kinds.len()]
            );
            let spec = format!("{}W model {}", 5 + i % 60, i / 80);
            let key = |t: &str| crm_kit::text::fold_key(t);
            q.push(if i == start { "(" } else { ", (" });
            for v in [
                format!("s{i}"),
                code.clone(),
                key(&code),
                name.clone(),
                spec.clone(),
                format!("{}|{}", key(&name), key(&spec)),
                "pcs".into(),
                "CNY".into(),
                format!("{}|{}|{}", key(&code), key(&name), key(&spec)),
            ] {
                q.text(v).push(", ");
            }
            q.int(now)
                .push(", ")
                .text("bench")
                .push(", ")
                .int(now)
                .push(", ")
                .text("bench")
                .push(")");
        }
        q.query().execute(&mut *tx).await.expect("products");
    }
    tx.commit().await.expect("commit");
    db.refresh_statistics(&["products"]).await.expect("statistics");
    println!(
        "stock [{backend}] seeded a catalog of {n} products in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rounds = if args.smoke { 5 } else { 50 };
    for (what, piece) in [
        ("a code", format!("SKU-{:07}", n / 3)),
        ("a word of many names", "lamp".to_string()),
        ("a brand (1 in 8)", "globex".to_string()),
        ("a CJK word", "台灯".to_string()),
        ("two digits", "42".to_string()),
    ] {
        let key = crm_kit::text::fold_key(&piece);
        let (mut service_times, mut raw_times) = (Vec::new(), Vec::new());
        let mut found = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let page = client
                .list_products(pb::ListProductsRequest {
                    query: piece.clone(),
                    page_size: 50,
                    ..Default::default()
                })
                .await
                .expect("search")
                .into_inner();
            service_times.push(t.elapsed());
            found = page.products.len();
            let t = Instant::now();
            let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM products WHERE search_text LIKE $1 LIMIT 50")
                .bind(format!("%{key}%"))
                .fetch_all(&db.pool)
                .await
                .expect("raw search");
            raw_times.push(t.elapsed());
            assert_eq!(rows.len(), found, "{what}: the service finds what the bare LIKE finds");
        }
        service_times.sort();
        raw_times.sort();
        println!(
            "stock [{backend}] product search for {what} over {n} products ({found} on the first page): ListProducts p50 {} \
             p95 {}, the bare LIKE p50 {} p95 {}, p95 ratio {:.2}",
            ms(percentile(&service_times, 0.5)),
            ms(percentile(&service_times, 0.95)),
            ms(percentile(&raw_times, 0.5)),
            ms(percentile(&raw_times, 0.95)),
            percentile(&service_times, 0.95).as_secs_f64() / percentile(&raw_times, 0.95).as_secs_f64()
        );
    }
}

/// Ledger lines per second from concurrent 5-line outbound postings vs raw inserts.
async fn bench_posting(args: &Args, backend: &str, admin: Option<&str>) {
    let documents = if args.smoke { 200 } else { 4_000 };
    let (service, mut client) = start(admin, "bench_stock_posting").await;
    let products = seed_products(&service.db, 200).await;
    let w = warehouse(&mut client, "MAIN").await;
    let opening: Vec<_> = products.iter().map(|p| line(p, "1000000", Some("2.5"))).collect();
    client
        .create_stock_document(document(pb::DocumentKind::Opening, &w, opening))
        .await
        .expect("opening");

    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let mut client = client.clone();
        let (products, w) = (products.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (worker as u64 + 1));
            for _ in (worker..documents).step_by(CONCURRENCY) {
                let lines = (0..LINES_PER_DOCUMENT)
                    .map(|_| line(&products[(rng.next() % products.len() as u64) as usize], "1", None))
                    .collect();
                client
                    .create_stock_document(document(pb::DocumentKind::OtherOutbound, &w, lines))
                    .await
                    .expect("outbound");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let service_time = started.elapsed();
    let lines = documents * LINES_PER_DOCUMENT;

    // The same lines as raw inserts, a transaction per document, at the same concurrency.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let db = service.db.clone();
        tasks.push(tokio::spawn(async move {
            let now = crm_kit::time::now_micros();
            for d in (worker..documents).step_by(CONCURRENCY) {
                let mut tx = db.begin_write().await.expect("begin");
                let mut q = SqlBuf::new(
                    "INSERT INTO ledger (id, document_id, line_no, leg, kind, warehouse_id, product_id, bucket, quantity, \
                     value, unit_cost, quantity_after, value_after, balance_seq, posted_at, posted_by) VALUES ",
                );
                for l in 0..LINES_PER_DOCUMENT {
                    q.push(if l == 0 { "(" } else { ", (" })
                        .text(crm_kit::new_id())
                        .push(", ")
                        .text(format!("raw{d}"))
                        .push(", ")
                        .int(l as i64 + 1)
                        .push(", 'out', 'other_outbound', 'raw', 'raw', 'stock', -10000, -25000, 25000, 0, 0, 0, ")
                        .int(now)
                        .push(", 'bench')");
                }
                q.query().execute(&mut *tx).await.expect("raw ledger");
                tx.commit().await.expect("commit");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let raw_time = started.elapsed();
    let per_second = |d: Duration| lines as f64 / d.as_secs_f64();
    println!(
        "stock [{backend}] posting {documents} outbound documents of {LINES_PER_DOCUMENT} lines from {CONCURRENCY} callers: \
         {:.0} ledger lines/s over gRPC, raw inserts of the same lines {:.0}/s, ratio {:.2}",
        per_second(service_time),
        per_second(raw_time),
        raw_time.as_secs_f64() / service_time.as_secs_f64()
    );
}

/// One inbound and one outbound document of 5,000 lines vs the same statements as raw SQL.
async fn bench_large_document(args: &Args, backend: &str, admin: Option<&str>) {
    let n = if args.smoke { 500 } else { 5_000 };
    let (service, mut client) = start(admin, "bench_stock_large").await;
    let products = seed_products(&service.db, n).await;
    let w = warehouse(&mut client, "MAIN").await;
    let inbound: Vec<_> = products.iter().map(|p| line(p, "10", Some("3"))).collect();
    let started = Instant::now();
    client
        .create_stock_document(document(pb::DocumentKind::PurchaseReceipt, &w, inbound))
        .await
        .expect("inbound");
    let inbound_time = started.elapsed();
    let outbound: Vec<_> = products.iter().map(|p| line(p, "4", None)).collect();
    let started = Instant::now();
    let posted = client
        .create_stock_document(document(pb::DocumentKind::Delivery, &w, outbound))
        .await
        .expect("outbound")
        .into_inner()
        .document
        .expect("document");
    let outbound_time = started.elapsed();
    assert_eq!(posted.lines.len(), n);

    // The same conditional updates (returning the row) and ledger inserts, by hand, in one
    // transaction.
    let started = Instant::now();
    let mut tx = service.db.begin_write().await.expect("begin");
    let now = crm_kit::time::now_micros();
    let mut ledger = Vec::with_capacity(n);
    for p in &products {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE balances SET on_hand = on_hand - $1, seq = seq + 1 WHERE warehouse_id = $2 AND product_id = $3 \
             AND on_hand - reserved >= $1 RETURNING on_hand, value",
        )
        .bind(10_000i64)
        .bind(&w)
        .bind(p)
        .fetch_optional(&mut *tx)
        .await
        .expect("raw update");
        let (on_hand, value) = row.expect("stock");
        sqlx::query("UPDATE balances SET value = $1 WHERE warehouse_id = $2 AND product_id = $3")
            .bind(value - 30_000)
            .bind(&w)
            .bind(p)
            .execute(&mut *tx)
            .await
            .expect("raw value");
        ledger.push((p.clone(), on_hand));
    }
    for (i, chunk) in ledger.chunks(100).enumerate() {
        let mut q = SqlBuf::new(
            "INSERT INTO ledger (id, document_id, line_no, leg, kind, warehouse_id, product_id, bucket, quantity, value, \
             unit_cost, quantity_after, value_after, balance_seq, posted_at, posted_by) VALUES ",
        );
        for (j, (p, after)) in chunk.iter().enumerate() {
            q.push(if j == 0 { "(" } else { ", (" })
                .text(crm_kit::new_id())
                .push(", 'raw', ")
                .int((i * 100 + j) as i64 + 1)
                .push(", 'out', 'delivery', ")
                .text(w.clone())
                .push(", ")
                .text(p.clone())
                .push(", 'stock', -10000, -30000, 30000, ")
                .int(*after)
                .push(", 0, 0, ")
                .int(now)
                .push(", 'bench')");
        }
        q.query().execute(&mut *tx).await.expect("raw ledger");
    }
    tx.commit().await.expect("commit");
    let raw_time = started.elapsed();
    println!(
        "stock [{backend}] one document of {n} lines: inbound posted in {}, outbound (delivery) in {} (target < 2 s on \
         PostgreSQL at 5,000 lines); the outbound's statements as raw SQL in {}, ratio {:.2}",
        ms(inbound_time),
        ms(outbound_time),
        ms(raw_time),
        outbound_time.as_secs_f64() / raw_time.as_secs_f64()
    );
}

/// The stock of one product and the stock value over a ledger of millions of lines.
async fn bench_long_ledger(args: &Args, backend: &str, admin: Option<&str>) {
    let (products, warehouses, per_balance) = if args.smoke { (100, 5, 20) } else { (10_000, 10, 100) };
    let lines = products * warehouses * per_balance;
    let (service, mut client) = start(admin, "bench_stock_ledger").await;
    let db = service.db.clone();
    let product_ids = seed_products(&db, products).await;
    let mut warehouse_ids = Vec::new();
    for i in 0..warehouses {
        warehouse_ids.push(warehouse(&mut client, &format!("W{i}")).await);
    }
    let started = Instant::now();
    seed_ledger(&db, &warehouse_ids, &product_ids, per_balance).await;
    db.refresh_statistics(&["ledger", "balances", "products", "warehouses"])
        .await
        .expect("statistics");
    println!(
        "stock [{backend}] seeded {lines} ledger lines over {} balances in {:.1} s",
        products * warehouses,
        started.elapsed().as_secs_f64()
    );

    // One product's stock in one warehouse.
    let rounds = if args.smoke { 50 } else { 500 };
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut service_times = Vec::with_capacity(rounds);
    let mut raw_times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let w = &warehouse_ids[(rng.next() % warehouses as u64) as usize];
        let p = &product_ids[(rng.next() % products as u64) as usize];
        let started = Instant::now();
        let level = client
            .get_stock_level(pb::GetStockLevelRequest {
                warehouse_id: w.clone(),
                product_id: p.clone(),
            })
            .await
            .expect("level")
            .into_inner()
            .level
            .expect("level");
        service_times.push(started.elapsed());
        assert_eq!(level.on_hand, per_balance.to_string());
        let started = Instant::now();
        let (on_hand,): (i64,) =
            sqlx::query_as("SELECT on_hand FROM balances WHERE warehouse_id = $1 AND product_id = $2")
                .bind(w)
                .bind(p)
                .fetch_one(&db.pool)
                .await
                .expect("raw level");
        raw_times.push(started.elapsed());
        assert_eq!(on_hand, per_balance as i64 * 10_000);
    }
    service_times.sort();
    raw_times.sort();
    println!(
        "stock [{backend}] on hand of one product at {lines} ledger lines: GetStockLevel p50 {} p95 {} (target < 5 ms), \
         the balance row p50 {} p95 {}",
        ms(percentile(&service_times, 0.5)),
        ms(percentile(&service_times, 0.95)),
        ms(percentile(&raw_times, 0.5)),
        ms(percentile(&raw_times, 0.95))
    );

    // The stock value now, and as of the middle of the ledger's time.
    let middle = crm_kit::time::to_proto(LEDGER_EPOCH + (per_balance as i64 / 2) * LEDGER_STEP);
    // As of a past time twice: the first question sums the closed days before it once (a scan
    // of the ledger up to then), later ones read those sums and the lines of one day.
    for (what, as_of) in [
        ("now", None),
        ("as of a past time, first asked", Some(middle)),
        ("as of a past time, asked again", Some(middle)),
    ] {
        let started = Instant::now();
        let value = client
            .get_stock_value(pb::GetStockValueRequest {
                as_of,
                warehouse_id: String::new(),
            })
            .await
            .expect("value")
            .into_inner();
        let service_time = started.elapsed();
        assert_eq!(value.warehouses.len(), warehouses);
        let started = Instant::now();
        let total: (i64,) = if as_of.is_none() {
            sqlx::query_as("SELECT CAST(SUM(value) AS BIGINT) FROM balances")
                .fetch_one(&db.pool)
                .await
                .expect("raw value")
        } else {
            sqlx::query_as("SELECT CAST(SUM(value) AS BIGINT) FROM ledger WHERE posted_at <= $1")
                .bind(LEDGER_EPOCH + (per_balance as i64 / 2) * LEDGER_STEP)
                .fetch_one(&db.pool)
                .await
                .expect("raw value")
        };
        let raw_time = started.elapsed();
        assert!(total.0 > 0);
        let answered = crm_kit::money::Money::from_proto(value.total.as_ref().expect("total"))
            .expect("money")
            .storage()
            .expect("storage");
        assert_eq!(answered, total.0, "the service's total is the ledger's");
        println!(
            "stock [{backend}] stock value {what} over {lines} ledger lines: GetStockValue {} (target < 1 s), raw SUM {} \
             {}, ratio {:.2}",
            ms(service_time),
            if as_of.is_none() {
                "of the balances"
            } else {
                "of the ledger up to then"
            },
            ms(raw_time),
            service_time.as_secs_f64() / raw_time.as_secs_f64()
        );
    }
}

/// The first ledger line's time in the seeded ledger; each balance's lines follow a day apart
/// (a hundred lines a balance: about three months of a busy warehouse's ledger).
const LEDGER_EPOCH: i64 = 1_700_000_000_000_000;
/// The time between a balance's seeded lines.
const LEDGER_STEP: i64 = 86_400_000_000;

/// `per_balance` inbound lines of one unit worth 2.00 for every warehouse and product, with the
/// balances they add up to, written straight into the tables.
async fn seed_ledger(db: &Db, warehouses: &[String], products: &[String], per_balance: usize) {
    let per = crm_kit::db::rows_per_statement_on(db.backend, 16);
    let mut tx = db.pool.begin().await.expect("begin");
    let mut balances = SqlBuf::new(
        "INSERT INTO balances (warehouse_id, product_id, on_hand, value, last_unit_cost, seq, updated_at) VALUES ",
    );
    let mut first = true;
    let mut pending = 0;
    for w in warehouses {
        for p in products {
            balances
                .push(if first { "(" } else { ", (" })
                .text(w.clone())
                .push(", ")
                .text(p.clone())
                .push(", ")
                .int(per_balance as i64 * 10_000)
                .push(", ")
                .int(per_balance as i64 * 20_000)
                .push(", 20000, ")
                .int(per_balance as i64)
                .push(", ")
                .int(LEDGER_EPOCH + per_balance as i64 * LEDGER_STEP)
                .push(")");
            first = false;
            pending += 1;
            if pending == per {
                balances.query().execute(&mut *tx).await.expect("balances");
                balances = SqlBuf::new(
                    "INSERT INTO balances (warehouse_id, product_id, on_hand, value, last_unit_cost, seq, updated_at) VALUES ",
                );
                first = true;
                pending = 0;
            }
        }
    }
    if pending > 0 {
        balances.query().execute(&mut *tx).await.expect("balances");
    }
    // The ledger, in statements of `per` rows.
    let mut q = SqlBuf::new(LEDGER_INSERT);
    let mut rows = 0;
    for w in warehouses {
        for p in products {
            for k in 1..=per_balance as i64 {
                q.push(if rows == 0 { "(" } else { ", (" })
                    .text(crm_kit::new_id())
                    .push(", ")
                    .text(format!("seed-{w}-{p}"))
                    .push(", ")
                    .int(k)
                    .push(", 'in', 'opening', ")
                    .text(w.clone())
                    .push(", ")
                    .text(p.clone())
                    .push(", 'stock', 10000, 20000, 20000, ")
                    .int(k * 10_000)
                    .push(", ")
                    .int(k * 20_000)
                    .push(", ")
                    .int(k)
                    .push(", ")
                    .int(LEDGER_EPOCH + (k - 1) * LEDGER_STEP)
                    .push(", 'bench')");
                rows += 1;
                if rows == per {
                    q.query().execute(&mut *tx).await.expect("ledger");
                    q = SqlBuf::new(LEDGER_INSERT);
                    rows = 0;
                }
            }
        }
    }
    if rows > 0 {
        q.query().execute(&mut *tx).await.expect("ledger");
    }
    tx.commit().await.expect("commit");
}

const LEDGER_INSERT: &str = "INSERT INTO ledger (id, document_id, line_no, leg, kind, warehouse_id, product_id, bucket, \
    quantity, value, unit_cost, quantity_after, value_after, balance_seq, posted_at, posted_by) VALUES ";
