//! Conservation under crashes, in the style of Jepsen's bank test: a seeded random mix of
//! inbound, outbound, transfer (straight and through transit), stocktake, loan (lent, returned,
//! sold), reservation and delivery postings from concurrent clients against the real `crm-warehouse` binary, which is killed
//! (SIGKILL) at random moments and restarted; every request that got no answer is sent again
//! with its request id until it gets one. Afterwards:
//!
//! - every balance equals the sum of its ledger lines (the audit), and equals what the answered
//!   requests add up to, computed here independently;
//! - what is held and in transit across warehouses equals inbound minus outbound;
//! - no request took effect twice: each answered document exists once, each refused one not at
//!   all, and sending a request again returns its first answer;
//! - no balance was ever below zero.
//!
//! `CRM_CONSERVATION_SEED` replays a run; `CRM_CONSERVATION_OPS` and `CRM_CONSERVATION_KILLS`
//! change its size.

// These tests check the database directly.
#![allow(clippy::disallowed_methods)]

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crm_identity::testing::{Bearer, TestIdentity};
use crm_kit::testing::fresh_database;
use crm_proto::warehouse as pb;
use crm_proto::warehouse::warehouse_service_client::WarehouseServiceClient;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

type Client = WarehouseServiceClient<InterceptedService<Channel, Bearer>>;

const WAREHOUSES: usize = 3;
const PRODUCTS: usize = 4;
const WORKERS: usize = 12;

/// A small deterministic generator (splitmix64), so a seed replays a run.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The `crm-warehouse` process; killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Service {
    identity_url: String,
    database_url: String,
    addr: std::net::SocketAddr,
}

impl Service {
    async fn start(&self) -> Process {
        let child = Command::new(env!("CARGO_BIN_EXE_crm-warehouse"))
            .env("CRM_LISTEN", self.addr.to_string())
            .env("CRM_DATABASE_URL", &self.database_url)
            .env("CRM_IDENTITY_URL", &self.identity_url)
            .env("CRM_LOG_FORMAT", "json")
            .env("RUST_LOG", "error")
            .env("CRM_SHUTDOWN_DRAIN_DELAY_SECONDS", "0")
            .env_remove(crm_kit::failpoint::ENV)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start crm-warehouse");
        let process = Process(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(channel) = Channel::from_shared(format!("http://{}", self.addr))
                .unwrap()
                .connect()
                .await
            {
                let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
                if health
                    .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
                    .await
                    .is_ok_and(|r| r.into_inner().status == 1)
                {
                    return process;
                }
            }
            assert!(Instant::now() < deadline, "crm-warehouse did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn client(addr: std::net::SocketAddr, token: &str) -> Client {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(10))
        .connect_lazy();
    WarehouseServiceClient::with_interceptor(channel, Bearer::new(token))
}

/// Whether a failure says nothing about the request's fate (the process died under it).
fn unanswered(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::DeadlineExceeded | Code::Aborted | Code::Internal
    )
}

/// Sends a request until it is answered (a success or a refusal on its merits); counts resends.
async fn until_answered<T, F, Fut>(resent: &Mutex<u64>, mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match call().await {
            Ok(r) => return Ok(r.into_inner()),
            Err(s) if unanswered(&s) && Instant::now() < deadline => {
                *resent.lock().unwrap() += 1;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            Err(s) => return Err(s),
        }
    }
}

/// What the answered requests add up to, per (warehouse, product): (on hand, in transit).
#[derive(Default)]
struct Model {
    held: BTreeMap<(usize, usize), (i64, i64)>,
    reserved: BTreeMap<(usize, usize), i64>,
    lent: BTreeMap<(usize, usize), i64>,
    inbound: i64,
    outbound: i64,
    /// Request ids answered with a document, and the document's id.
    documents: HashMap<String, String>,
    /// Request ids refused on their merits.
    refused: Vec<String>,
    /// Stocktakes posted.
    stocktakes: usize,
    /// The document requests answered, as sent.
    requests: HashMap<String, pb::CreateStockDocumentRequest>,
}

fn quantity_of(doc: &pb::StockDocument) -> i64 {
    doc.lines
        .iter()
        .map(|l| l.quantity.parse::<i64>().expect("whole"))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn balances_survive_kills_and_retries_and_add_up() {
    let ops: usize = std::env::var("CRM_CONSERVATION_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let kills: usize = std::env::var("CRM_CONSERVATION_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("CRM_CONSERVATION_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| crm_kit::time::now_micros() as u64);
    println!("conservation: seed {seed}, {ops} requests, {kills} kills");

    let identity = TestIdentity::start(&fresh_database("identity").await).await;
    identity.employee("stock-manager", "warehouse_manager").await;
    let token = identity.token("stock-manager", "warehouse_manager");
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let database = fresh_database("warehouse").await;
    let service = Service {
        identity_url: identity.url(),
        database_url: database.url.clone(),
        addr,
    };
    let process = Arc::new(Mutex::new(Some(service.start().await)));

    // The set-up, before any kill.
    let mut setup = client(addr, &token);
    let mut warehouses = Vec::new();
    for i in 0..WAREHOUSES {
        let w = setup
            .create_warehouse(pb::CreateWarehouseRequest {
                warehouse: Some(pb::Warehouse {
                    code: format!("W{i}"),
                    name: format!("Warehouse {i}"),
                    ..Default::default()
                }),
                request_id: format!("warehouse-{i}"),
            })
            .await
            .expect("warehouse")
            .into_inner()
            .warehouse
            .expect("warehouse");
        warehouses.push(w.id);
    }
    let mut products = Vec::new();
    for i in 0..PRODUCTS {
        let p = setup
            .create_product(pb::CreateProductRequest {
                product: Some(pb::Product {
                    code: format!("P{i}"),
                    name: format!("Product {i}"),
                    unit: "pcs".into(),
                    standard_cost: Some(crm_proto::common::Money {
                        currency_code: "CNY".into(),
                        amount: format!("{}.25", i + 1),
                    }),
                    ..Default::default()
                }),
                request_id: format!("product-{i}"),
            })
            .await
            .expect("product")
            .into_inner()
            .product
            .expect("product");
        products.push(p.id);
    }
    let warehouses = Arc::new(warehouses);
    let products = Arc::new(products);

    let model = Arc::new(Mutex::new(Model::default()));
    let resent = Arc::new(Mutex::new(0u64));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    // The killer: at `kills` moments spread over the run, SIGKILL and restart.
    let killer = {
        let process = process.clone();
        let done = done.clone();
        let mut rng = Rng(seed ^ 0xDEAD_BEEF);
        let service = Service {
            identity_url: service.identity_url.clone(),
            database_url: service.database_url.clone(),
            addr,
        };
        tokio::spawn(async move {
            let mut moments: Vec<usize> = (0..kills).map(|_| rng.below(ops.max(1))).collect();
            moments.sort_unstable();
            for at in moments {
                while done.load(std::sync::atomic::Ordering::Relaxed) < at {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                // Mid-request: let the next few calls get under way first.
                tokio::time::sleep(Duration::from_millis(rng.below(20) as u64)).await;
                drop(process.lock().unwrap().take());
                let restarted = service.start().await;
                *process.lock().unwrap() = Some(restarted);
            }
        })
    };

    // The workers: each draws its requests from the seed and sends each until answered.
    let per_worker = ops.div_ceil(WORKERS);
    let mut tasks = Vec::new();
    for worker in 0..WORKERS {
        let (warehouses, products, model, resent, done) = (
            warehouses.clone(),
            products.clone(),
            model.clone(),
            resent.clone(),
            done.clone(),
        );
        let w = client(addr, &token);
        let mut rng = Rng(seed.wrapping_add(worker as u64 * 7919));
        tasks.push(tokio::spawn(async move {
            let mut pending_receives: Vec<(String, String)> = Vec::new();
            let mut reservations: Vec<(String, usize, usize, i64)> = Vec::new();
            let mut loans_out: Vec<(String, usize, usize, i64)> = Vec::new();
            for n in 0..per_worker {
                let op = format!("w{worker}-{n}");
                let (wi, pi) = (rng.below(WAREHOUSES), rng.below(PRODUCTS));
                let (wid, pid) = (warehouses[wi].clone(), products[pi].clone());
                let q = 1 + rng.below(12) as i64;
                let line = |qty: i64| pb::StockDocumentLine {
                    product_id: pid.clone(),
                    quantity: qty.to_string(),
                    ..Default::default()
                };
                let create = |kind: pb::DocumentKind, to: &str, in_transit: bool, lines: Vec<pb::StockDocumentLine>| {
                    pb::CreateStockDocumentRequest {
                        document: Some(pb::StockDocument {
                            kind: kind as i32,
                            warehouse_id: wid.clone(),
                            to_warehouse_id: to.to_string(),
                            in_transit,
                            reference: op.clone(),
                            lines,
                            ..Default::default()
                        }),
                        post: true,
                        request_id: op.clone(),
                    }
                };
                let roll = rng.below(100);
                if roll < 30 {
                    let kind = [pb::DocumentKind::PurchaseReceipt, pb::DocumentKind::OtherInbound][rng.below(2)];
                    let req = create(kind, "", false, vec![line(q)]);
                    let answer = until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), req.clone());
                        async move { c.create_stock_document(r).await }
                    })
                    .await;
                    let doc = answer.expect("an inbound is never refused").document.expect("doc");
                    let mut m = model.lock().unwrap();
                    m.held.entry((wi, pi)).or_default().0 += q;
                    m.inbound += q;
                    m.documents.insert(op.clone(), doc.id);
                    m.requests.insert(op.clone(), req);
                } else if roll < 58 {
                    let kind = [pb::DocumentKind::OtherOutbound, pb::DocumentKind::MaterialIssue][rng.below(2)];
                    let req = create(kind, "", false, vec![line(q)]);
                    match until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), req.clone());
                        async move { c.create_stock_document(r).await }
                    })
                    .await
                    {
                        Ok(r) => {
                            let doc = r.document.expect("doc");
                            let mut m = model.lock().unwrap();
                            m.held.entry((wi, pi)).or_default().0 -= q;
                            m.outbound += q;
                            m.documents.insert(op.clone(), doc.id);
                            m.requests.insert(op.clone(), req);
                        }
                        Err(s) if s.code() == Code::FailedPrecondition => {
                            model.lock().unwrap().refused.push(op.clone())
                        }
                        Err(s) => panic!("{op}: {s:?}"),
                    }
                } else if roll < 76 {
                    let to_i = (wi + 1 + rng.below(WAREHOUSES - 1)) % WAREHOUSES;
                    let travels = rng.below(2) == 0;
                    let req = create(pb::DocumentKind::Transfer, &warehouses[to_i], travels, vec![line(q)]);
                    match until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), req.clone());
                        async move { c.create_stock_document(r).await }
                    })
                    .await
                    {
                        Ok(r) => {
                            let doc = r.document.expect("doc");
                            let mut m = model.lock().unwrap();
                            m.held.entry((wi, pi)).or_default().0 -= q;
                            if travels {
                                m.held.entry((to_i, pi)).or_default().1 += q;
                                // Two in three are received later; the rest stay in transit.
                                if rng.below(3) > 0 {
                                    pending_receives.push((op.clone(), doc.id.clone()));
                                }
                            } else {
                                m.held.entry((to_i, pi)).or_default().0 += q;
                            }
                            m.documents.insert(op.clone(), doc.id);
                            m.requests.insert(op.clone(), req);
                        }
                        Err(s) if s.code() == Code::FailedPrecondition => {
                            model.lock().unwrap().refused.push(op.clone())
                        }
                        Err(s) => panic!("{op}: {s:?}"),
                    }
                } else if roll < 82 {
                    // A count of one product: found `book + delta` as at the freeze.
                    let delta = rng.below(5) as i64 - 2;
                    let create = pb::CreateStocktakeRequest {
                        warehouse_id: wid.clone(),
                        product_ids: vec![pid.clone()],
                        request_id: format!("{op}-freeze"),
                        ..Default::default()
                    };
                    let sheet = match until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), create.clone());
                        async move { c.create_stocktake(r).await }
                    })
                    .await
                    {
                        Ok(r) => r.stocktake.expect("stocktake"),
                        // Another worker is counting it.
                        Err(s) if s.code() == Code::FailedPrecondition => {
                            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            continue;
                        }
                        Err(s) => panic!("{op}: {s:?}"),
                    };
                    let book = sheet.lines[0].book_quantity.parse::<i64>().expect("whole");
                    let counted = (book + delta).max(0);
                    let counts = pb::RecordCountsRequest {
                        id: sheet.id.clone(),
                        counts: vec![pb::Count {
                            product_id: pid.clone(),
                            counted_quantity: counted.to_string(),
                            unit: String::new(),
                        }],
                        request_id: format!("{op}-count"),
                    };
                    until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), counts.clone());
                        async move { c.record_counts(r).await }
                    })
                    .await
                    .unwrap_or_else(|s| panic!("{op}: {s:?}"));
                    let post = pb::PostStocktakeRequest {
                        id: sheet.id.clone(),
                        request_id: format!("{op}-post"),
                    };
                    match until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), post.clone());
                        async move { c.post_stocktake(r).await }
                    })
                    .await
                    {
                        Ok(_) => {
                            let adjustment = counted - book;
                            let mut m = model.lock().unwrap();
                            m.held.entry((wi, pi)).or_default().0 += adjustment;
                            if adjustment > 0 {
                                m.inbound += adjustment;
                            } else {
                                m.outbound -= adjustment;
                            }
                            m.stocktakes += 1;
                        }
                        // Less is left than the count says went missing: nothing changes.
                        Err(s) if s.code() == Code::FailedPrecondition => {
                            let cancel = pb::CancelStocktakeRequest { id: sheet.id.clone() };
                            until_answered(&resent, || {
                                let (mut c, r) = (w.clone(), cancel.clone());
                                async move { c.cancel_stocktake(r).await }
                            })
                            .await
                            .unwrap_or_else(|s| panic!("{op}: {s:?}"));
                            model.lock().unwrap().refused.push(op.clone());
                        }
                        Err(s) => panic!("{op}: {s:?}"),
                    }
                } else if roll < 88 {
                    // Lent to a customer, to come back or be sold later.
                    let mut req = create(pb::DocumentKind::LoanOut, "", false, vec![line(q)]);
                    {
                        let doc = req.document.as_mut().expect("doc");
                        doc.counterparty_id = format!("customer-{}", rng.below(5));
                        doc.counterparty_kind = pb::CounterpartyKind::Customer as i32;
                    }
                    match until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), req.clone());
                        async move { c.create_stock_document(r).await }
                    })
                    .await
                    {
                        Ok(r) => {
                            let doc = r.document.expect("doc");
                            let mut m = model.lock().unwrap();
                            m.held.entry((wi, pi)).or_default().0 -= q;
                            *m.lent.entry((wi, pi)).or_default() += q;
                            m.documents.insert(op.clone(), doc.id.clone());
                            m.requests.insert(op.clone(), req);
                            loans_out.push((doc.id, wi, pi, q));
                        }
                        Err(s) if s.code() == Code::FailedPrecondition => {
                            model.lock().unwrap().refused.push(op.clone())
                        }
                        Err(s) => panic!("{op}: {s:?}"),
                    }
                } else if roll < 92 && !loans_out.is_empty() {
                    // Part of a loan comes back, or is kept as a sale.
                    let (doc_id, lwi, lpi, out) = loans_out.pop().expect("a loan");
                    let found = until_answered(&resent, || {
                        let mut c = w.clone();
                        let filter = format!("status = \"open\" AND warehouse_id = \"{}\"", warehouses[lwi]);
                        async move {
                            c.list_loans(pb::ListLoansRequest {
                                filter,
                                page_size: 1000,
                                ..Default::default()
                            })
                            .await
                        }
                    })
                    .await
                    .expect("loans")
                    .loans
                    .into_iter()
                    .find(|l| l.document_id == doc_id)
                    .expect("the loan is open");
                    let part = 1 + rng.below(out as usize) as i64;
                    let sold = rng.below(3) == 0;
                    let result = if sold {
                        let req = pb::SellLoanRequest {
                            id: found.id.clone(),
                            quantity: part.to_string(),
                            reference: op.clone(),
                            request_id: op.clone(),
                            serial_numbers: Vec::new(),
                        };
                        until_answered(&resent, || {
                            let (mut c, r) = (w.clone(), req.clone());
                            async move { c.sell_loan(r).await }
                        })
                        .await
                        .map(|r| r.loan)
                    } else {
                        let req = pb::ReturnLoanRequest {
                            id: found.id.clone(),
                            quantity: part.to_string(),
                            remark: String::new(),
                            request_id: op.clone(),
                            serial_numbers: Vec::new(),
                        };
                        until_answered(&resent, || {
                            let (mut c, r) = (w.clone(), req.clone());
                            async move { c.return_loan(r).await }
                        })
                        .await
                        .map(|r| r.loan)
                    };
                    result.unwrap_or_else(|s| panic!("{op}: settles a loan: {s:?}"));
                    let mut m = model.lock().unwrap();
                    *m.lent.entry((lwi, lpi)).or_default() -= part;
                    if sold {
                        m.outbound += part;
                    } else {
                        m.held.entry((lwi, lpi)).or_default().0 += part;
                    }
                    if part < out {
                        loans_out.push((doc_id, lwi, lpi, out - part));
                    }
                } else if roll < 95 {
                    let req = pb::ReserveStockRequest {
                        warehouse_id: wid.clone(),
                        product_id: pid.clone(),
                        quantity: q.to_string(),
                        reference: op.clone(),
                        request_id: op.clone(),
                        ..Default::default()
                    };
                    match until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), req.clone());
                        async move { c.reserve_stock(r).await }
                    })
                    .await
                    {
                        Ok(r) => {
                            let r = r.reservation.expect("reservation");
                            *model.lock().unwrap().reserved.entry((wi, pi)).or_default() += q;
                            reservations.push((r.id, wi, pi, q));
                        }
                        Err(s) if s.code() == Code::FailedPrecondition => {
                            model.lock().unwrap().refused.push(op.clone())
                        }
                        Err(s) => panic!("{op}: {s:?}"),
                    }
                } else if let Some((rid, rwi, rpi, rq)) = reservations.pop() {
                    if rng.below(2) == 0 {
                        // Shipped from the reservation.
                        let req = pb::CreateStockDocumentRequest {
                            document: Some(pb::StockDocument {
                                kind: pb::DocumentKind::Delivery as i32,
                                warehouse_id: warehouses[rwi].clone(),
                                reference: op.clone(),
                                courier: "SF".into(),
                                lines: vec![pb::StockDocumentLine {
                                    product_id: products[rpi].clone(),
                                    quantity: rq.to_string(),
                                    reservation_id: rid.clone(),
                                    ..Default::default()
                                }],
                                ..Default::default()
                            }),
                            post: true,
                            request_id: op.clone(),
                        };
                        let r = until_answered(&resent, || {
                            let (mut c, r) = (w.clone(), req.clone());
                            async move { c.create_stock_document(r).await }
                        })
                        .await
                        .unwrap_or_else(|s| panic!("{op}: a reservation ships: {s:?}"));
                        let mut m = model.lock().unwrap();
                        m.held.entry((rwi, rpi)).or_default().0 -= rq;
                        *m.reserved.entry((rwi, rpi)).or_default() -= rq;
                        m.outbound += rq;
                        m.documents.insert(op.clone(), r.document.expect("doc").id);
                        m.requests.insert(op.clone(), req);
                    } else {
                        let req = pb::ReleaseReservationRequest {
                            id: rid.clone(),
                            request_id: op.clone(),
                        };
                        until_answered(&resent, || {
                            let (mut c, r) = (w.clone(), req.clone());
                            async move { c.release_reservation(r).await }
                        })
                        .await
                        .unwrap_or_else(|s| panic!("{op}: {s:?}"));
                        *model.lock().unwrap().reserved.entry((rwi, rpi)).or_default() -= rq;
                    }
                } else if let Some((sent_op, doc_id)) = pending_receives.pop() {
                    let req = pb::ReceiveTransferRequest {
                        id: doc_id.clone(),
                        request_id: op.clone(),
                    };
                    let doc = until_answered(&resent, || {
                        let (mut c, r) = (w.clone(), req.clone());
                        async move { c.receive_transfer(r).await }
                    })
                    .await
                    .unwrap_or_else(|s| panic!("{op} receives {sent_op}: {s:?}"))
                    .document
                    .expect("doc");
                    let to_i = warehouses
                        .iter()
                        .position(|x| *x == doc.to_warehouse_id)
                        .expect("destination");
                    let p_i = products
                        .iter()
                        .position(|x| *x == doc.lines[0].product_id)
                        .expect("product");
                    let moved = quantity_of(&doc);
                    let mut m = model.lock().unwrap();
                    let e = m.held.entry((to_i, p_i)).or_default();
                    e.0 += moved;
                    e.1 -= moved;
                }
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    killer.await.expect("killer");
    let model = Arc::try_unwrap(model).ok().expect("model").into_inner().unwrap();
    let resent = *resent.lock().unwrap();

    // The service's own audit: every balance equals its ledger.
    let mut w = client(addr, &token);
    let audit = w
        .audit_stock(pb::AuditStockRequest {})
        .await
        .expect("audit")
        .into_inner();
    assert!(audit.mismatches.is_empty(), "seed {seed}: {:?}", audit.mismatches);
    assert!(
        audit.reservation_mismatches.is_empty(),
        "seed {seed}: {:?}",
        audit.reservation_mismatches
    );
    let number = |s: &str| s.parse::<i64>().unwrap_or_else(|_| panic!("whole units: {s}"));
    assert_eq!(number(&audit.inbound_quantity), model.inbound, "seed {seed}: inbound");
    assert_eq!(
        number(&audit.outbound_quantity),
        model.outbound,
        "seed {seed}: outbound"
    );
    assert_eq!(
        number(&audit.on_hand_quantity) + number(&audit.in_transit_quantity) + number(&audit.on_loan_quantity),
        number(&audit.inbound_quantity) - number(&audit.outbound_quantity),
        "seed {seed}: what is held, travels and is lent out is what came in less what left"
    );

    // Every balance is what the answered requests add up to.
    for (wi, wid) in warehouses.iter().enumerate() {
        for (pi, pid) in products.iter().enumerate() {
            let level = w
                .get_stock_level(pb::GetStockLevelRequest {
                    warehouse_id: wid.clone(),
                    product_id: pid.clone(),
                })
                .await
                .expect("level")
                .into_inner()
                .level
                .expect("level");
            let (on_hand, in_transit) = model.held.get(&(wi, pi)).copied().unwrap_or_default();
            let reserved = model.reserved.get(&(wi, pi)).copied().unwrap_or_default();
            assert_eq!(
                (
                    number(&level.on_hand),
                    number(&level.in_transit),
                    number(&level.reserved)
                ),
                (on_hand, in_transit, reserved),
                "seed {seed}: warehouse {wi} product {pi}"
            );
        }
    }

    // Nothing took effect twice, nothing refused took effect at all, no balance went below zero.
    let db = crm_kit::testing::connect(&database.url).await;
    let mut conn = db.pool.acquire().await.expect("conn");
    let per_reference: Vec<(String, i64)> =
        sqlx::query_as("SELECT reference, COUNT(*) FROM documents GROUP BY reference")
            .fetch_all(&mut *conn)
            .await
            .expect("documents");
    let per_reference: HashMap<String, i64> = per_reference.into_iter().collect();
    for (op, id) in &model.documents {
        assert_eq!(per_reference.get(op), Some(&1), "seed {seed}: {op} ({id}) posted once");
    }
    for op in &model.refused {
        assert_eq!(per_reference.get(op), None, "seed {seed}: refused {op} left a document");
    }
    let below: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger WHERE bucket = 'stock' AND quantity_after < 0")
        .fetch_one(&mut *conn)
        .await
        .expect("ledger");
    assert_eq!(below, 0, "seed {seed}: a balance went below zero");
    let doubled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT document_id, line_no, leg FROM ledger GROUP BY document_id, line_no, leg \
         HAVING COUNT(*) > 1) x",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("ledger");
    assert_eq!(doubled, 0, "seed {seed}: a leg was posted twice");

    // A request sent again gets its first answer and changes nothing; its id with another
    // request is refused.
    let before = w
        .audit_stock(pb::AuditStockRequest {})
        .await
        .expect("audit")
        .into_inner();
    let mut replayed = 0;
    for (op, req) in model.requests.iter().take(200) {
        let again = w
            .create_stock_document(req.clone())
            .await
            .expect("replayed")
            .into_inner();
        assert_eq!(
            again.document.expect("doc").id,
            model.documents[op],
            "seed {seed}: {op} replayed"
        );
        let other = pb::CreateStockDocumentRequest {
            post: false,
            ..req.clone()
        };
        assert_eq!(
            w.create_stock_document(other).await.expect_err("a used id").code(),
            Code::AlreadyExists,
            "{op}"
        );
        replayed += 1;
    }
    let after = w
        .audit_stock(pb::AuditStockRequest {})
        .await
        .expect("audit")
        .into_inner();
    assert_eq!(before.ledger_lines, after.ledger_lines);
    println!(
        "conservation: seed {seed}: {} documents, {} stocktakes, {} refused, {resent} requests sent again after {kills} kills, \
         {} ledger lines over {} balances, {replayed} requests replayed; inbound {} = on hand {} + in transit {} + on loan {} + outbound {}",
        model.documents.len(),
        model.stocktakes,
        model.refused.len(),
        audit.ledger_lines,
        audit.balances,
        audit.inbound_quantity,
        audit.on_hand_quantity,
        audit.in_transit_quantity,
        audit.on_loan_quantity,
        audit.outbound_quantity
    );
    drop(process.lock().unwrap().take());
}
