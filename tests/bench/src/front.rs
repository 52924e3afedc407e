//! Benchmarks of the front door and of access control, each against a baseline in the same run:
//!
//! - gateway: GetCustomer and CreateCustomer as REST/JSON through the gateway vs the same calls
//!   directly over gRPC to the same service (target ratio ≥ 0.7);
//! - auth: the customers service with its verifying gate vs the same service trusting a fixed
//!   caller without reading any token (target ratio ≥ 0.9);
//! - metrics: GetCustomer and CreateCustomer with metrics recorded vs not, on the same service
//!   (target ratio ≥ 0.97);
//! - sign-in: SignIn over gRPC with the real Argon2id parameters vs the bare Argon2id
//!   verification of the same password at the same concurrency.
//!
//! Everything runs in this process (services on loopback ports), so both sides of each ratio
//! share the machine alike; sides alternate in rounds.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crm_kit::auth::{Gate, Verifier};
use crm_kit::testing::TestServer;
use crm_proto::customers as pb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::identity as ipb;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use tonic::transport::Channel;

use crate::Args;

/// Alternating turns each side of a ratio takes.
const ROUNDS: usize = 4;

/// A customers service in this process, on a fresh database, behind `gate`.
async fn customers(admin: Option<&str>, identity_url: &str, gate: Gate) -> TestServer {
    let url = crm_kit::testing::fresh_database_at(admin, "bench_front").await.url;
    let mut config = crm_customers::Config::for_suite(&std::env::temp_dir());
    config.service.database_url = Some(url);
    config.service.identity_url = identity_url.to_string();
    config.service.db_max_connections = 16;
    config.reclaim_interval_seconds = 0;
    let mut server = TestServer::start(move |listener, shutdown| async move {
        crm_customers::run_gated(config, listener, shutdown, Some(gate))
            .await
            .expect("customers runs");
    })
    .await;
    server.wait_serving().await;
    server
}

type Grpc =
    CustomersServiceClient<tonic::service::interceptor::InterceptedService<Channel, crm_identity::testing::Bearer>>;

async fn grpc_client(url: &str, token: &str) -> Grpc {
    let channel = Channel::from_shared(url.to_string())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    CustomersServiceClient::with_interceptor(channel, crm_identity::testing::Bearer::new(token))
}

/// Runs `calls` calls of `call(worker, i)` on `concurrency` workers; the elapsed time.
async fn timed<F, Fut>(calls: usize, concurrency: usize, call: F) -> Duration
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..calls).step_by(concurrency) {
                call(w, i).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    started.elapsed()
}

/// Alternates `a` and `b` (in turn first) for [`ROUNDS`] rounds of `calls` each; (a's rate, b's rate, the
/// per-round ratios a/b).
async fn alternate<FA, FB, FutA, FutB>(calls: usize, a: FA, b: FB) -> (f64, f64, Vec<f64>)
where
    FA: Fn(usize) -> FutA,
    FB: Fn(usize) -> FutB,
    FutA: Future<Output = Duration>,
    FutB: Future<Output = Duration>,
{
    let (mut ta, mut tb) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::new();
    for round in 0..ROUNDS {
        // A B, B A, ...: neither side always runs first (on a warmer cache, a fuller table).
        let (da, db) = if round % 2 == 0 {
            let da = a(round).await;
            (da, b(round).await)
        } else {
            let db = b(round).await;
            (a(round).await, db)
        };
        ta += da;
        tb += db;
        ratios.push(db.as_secs_f64() / da.as_secs_f64().max(1e-9));
    }
    let n = (calls * ROUNDS) as f64;
    (n / ta.as_secs_f64(), n / tb.as_secs_f64(), ratios)
}

fn rounds(ratios: &[f64]) -> String {
    ratios.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(" ")
}

/// REST through the gateway vs gRPC directly, for a read and a write.
pub async fn bench_gateway(args: &Args, backend: &str, admin: Option<&str>) {
    let (identity, token) = crate::identity().await;
    let verifier = Verifier::from_identity(&identity.url()).expect("verifier");
    verifier.prefetch().await;
    let service = customers(admin, &identity.url(), Gate::Verify(verifier)).await;
    let mut config = crm_gateway::Config::local("127.0.0.1:0".parse().expect("addr"))
        .with_upstream("identity", identity.url())
        .with_upstream("customers", service.endpoint());
    config.rate_per_ip = 0.0;
    config.rate_per_employee = 0.0;
    config.public_rate_per_minute = 0.0;
    let gateway = TestServer::start(move |listener, shutdown| async move {
        crm_gateway::run(config, listener, shutdown)
            .await
            .expect("gateway runs");
    })
    .await;
    let base = gateway.endpoint();
    let c = args.concurrency.max(1);
    let calls = if args.smoke { 200 } else { 5_000 };
    let http: HttpClient<HttpConnector, Full<Bytes>> =
        HttpClient::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let mut grpcs = Vec::new();
    for _ in 0..c {
        grpcs.push(grpc_client(&service.endpoint(), token).await);
    }
    let grpcs = Arc::new(grpcs);
    let auth = format!("Bearer {token}");

    let rest_call = {
        let http = http.clone();
        let auth = auth.clone();
        move |method: http::Method, url: String, body: Bytes| {
            let http = http.clone();
            let auth = auth.clone();
            async move {
                let req = http::Request::builder()
                    .method(method)
                    .uri(url)
                    .header("authorization", auth)
                    .header("content-type", "application/json")
                    .body(Full::new(body))
                    .expect("request");
                let resp = http.request(req).await.expect("REST call");
                let status = resp.status();
                let body = resp.into_body().collect().await.expect("body").to_bytes();
                assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body));
            }
        }
    };

    // Create: the same customers through both doors.
    let name = |side: &str, round: usize, i: usize| format!("Front door {side} {round}-{i:06} 有限公司");
    let (rest_rate, grpc_rate, ratios) = alternate(
        calls,
        |round| {
            let rest_call = rest_call.clone();
            let base = base.clone();
            timed(calls, c, move |_, i| {
                let body = serde_json::json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": name("rest", round, i), "levelCode": "B"}});
                rest_call(
                    http::Method::POST,
                    format!("{base}/v1/customers"),
                    Bytes::from(serde_json::to_vec(&body).expect("json")),
                )
            })
        },
        |round| {
            let grpcs = grpcs.clone();
            timed(calls, c, move |w, i| {
                let mut client = grpcs[w].clone();
                async move {
                    client
                        .create_customer(pb::CreateCustomerRequest {
                            customer: Some(pb::Customer {
                                kind: pb::CustomerKind::Company as i32,
                                name: name("grpc", round, i),
                                level_code: "B".into(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        })
                        .await
                        .expect("create");
                }
            })
        },
    )
    .await;
    println!(
        "gateway [{backend}] CreateCustomer x{} @{c}: REST via gateway {rest_rate:.0}/s, gRPC direct {grpc_rate:.0}/s, ratio {:.2} (rounds {}) (target >= 0.7)",
        calls * ROUNDS,
        rest_rate / grpc_rate,
        rounds(&ratios)
    );

    // Get: reads of customers that exist.
    let mut ids = Vec::new();
    let mut client = grpcs[0].clone();
    let page = client
        .list_customers(pb::ListCustomersRequest {
            page_size: 200,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    ids.extend(page.customers.into_iter().map(|c| c.id));
    let ids = Arc::new(ids);
    let reads = calls * 4;
    let (rest_rate, grpc_rate, ratios) = alternate(
        reads,
        |_| {
            let rest_call = rest_call.clone();
            let base = base.clone();
            let ids = ids.clone();
            timed(reads, c, move |_, i| {
                rest_call(
                    http::Method::GET,
                    format!("{base}/v1/customers/{}", ids[i % ids.len()]),
                    Bytes::new(),
                )
            })
        },
        |_| {
            let grpcs = grpcs.clone();
            let ids = ids.clone();
            timed(reads, c, move |w, i| {
                let mut client = grpcs[w].clone();
                let id = ids[i % ids.len()].clone();
                async move {
                    client.get_customer(pb::GetCustomerRequest { id }).await.expect("get");
                }
            })
        },
    )
    .await;
    println!(
        "gateway [{backend}] GetCustomer x{} @{c}: REST via gateway {rest_rate:.0}/s, gRPC direct {grpc_rate:.0}/s, ratio {:.2} (rounds {}) (target >= 0.7)",
        reads * ROUNDS,
        rest_rate / grpc_rate,
        rounds(&ratios)
    );
    gateway.stop().await;
    service.stop().await;
}

/// The customers service with its verifying gate vs the same service trusting a fixed caller.
pub async fn bench_auth(args: &Args, backend: &str, admin: Option<&str>) {
    let (identity, token) = crate::identity().await;
    let verifier = Verifier::from_identity(&identity.url()).expect("verifier");
    verifier.prefetch().await;
    let principal = verifier.verify(token).await.expect("the bench token verifies");
    let verifying = customers(admin, &identity.url(), Gate::Verify(verifier)).await;
    let trusting = customers(admin, &identity.url(), Gate::Trust(principal)).await;
    let c = args.concurrency.max(1);
    let reads = if args.smoke { 400 } else { 20_000 };
    let writes = if args.smoke { 100 } else { 2_000 };
    let mut with = Vec::new();
    let mut without = Vec::new();
    for _ in 0..c {
        with.push(grpc_client(&verifying.endpoint(), token).await);
        without.push(grpc_client(&trusting.endpoint(), token).await);
    }
    let (with, without) = (Arc::new(with), Arc::new(without));
    // Each service holds the same customer to read.
    let mut ids = Vec::new();
    for clients in [&with, &without] {
        let mut client = clients[0].clone();
        let created = client
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(pb::Customer {
                    kind: pb::CustomerKind::Company as i32,
                    name: "Gate Read Co".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("create")
            .into_inner()
            .customer
            .expect("customer");
        ids.push(created.id);
    }
    let read = |clients: Arc<Vec<Grpc>>, id: String| {
        timed(reads, c, move |w, _| {
            let mut client = clients[w].clone();
            let id = id.clone();
            async move {
                client.get_customer(pb::GetCustomerRequest { id }).await.expect("get");
            }
        })
    };
    let (with_rate, without_rate, ratios) = alternate(
        reads,
        |_| read(with.clone(), ids[0].clone()),
        |_| read(without.clone(), ids[1].clone()),
    )
    .await;
    println!(
        "auth [{backend}] GetCustomer x{} @{c}: verifying gate {with_rate:.0}/s, trusting gate {without_rate:.0}/s, ratio {:.2} (rounds {}) (target >= 0.9)",
        reads * ROUNDS,
        with_rate / without_rate,
        rounds(&ratios)
    );
    let write = |clients: Arc<Vec<Grpc>>, side: &'static str, round: usize| {
        timed(writes, c, move |w, i| {
            let mut client = clients[w].clone();
            async move {
                client
                    .create_customer(pb::CreateCustomerRequest {
                        customer: Some(pb::Customer {
                            kind: pb::CustomerKind::Company as i32,
                            name: format!("Gate {side} {round}-{i:06}"),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .await
                    .expect("create");
            }
        })
    };
    let (with_rate, without_rate, ratios) = alternate(
        writes,
        |round| write(with.clone(), "with", round),
        |round| write(without.clone(), "without", round),
    )
    .await;
    println!(
        "auth [{backend}] CreateCustomer x{} @{c}: verifying gate {with_rate:.0}/s, trusting gate {without_rate:.0}/s, ratio {:.2} (rounds {}) (target >= 0.9)",
        writes * ROUNDS,
        with_rate / without_rate,
        rounds(&ratios)
    );
    verifying.stop().await;
    trusting.stop().await;
}

/// Sign-in throughput with the real Argon2id parameters, against bare verification.
pub async fn bench_sign_in(args: &Args) {
    let (identity, _) = crate::identity().await;
    identity.employee("bench-signer", "salesperson").await;
    let c = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    let n = if args.smoke { 8 } else { 200 };
    let channel = Channel::from_shared(identity.url())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let stored = crm_identity::passwords::hash(crm_identity::testing::PASSWORD.into())
        .await
        .expect("hash");
    let service = {
        let channel = channel.clone();
        move |_round: usize| {
            let channel = channel.clone();
            timed(n, c, move |_, _| {
                let mut client = ipb::identity_service_client::IdentityServiceClient::new(channel.clone());
                async move {
                    client
                        .sign_in(ipb::SignInRequest {
                            login: "bench-signer".into(),
                            password: crm_identity::testing::PASSWORD.into(),
                        })
                        .await
                        .expect("sign in");
                }
            })
        }
    };
    let bare = {
        let stored = stored.clone();
        move |_round: usize| {
            let stored = stored.clone();
            timed(n, c, move |_, _| {
                let stored = stored.clone();
                async move {
                    assert!(crm_identity::passwords::verify(crm_identity::testing::PASSWORD.into(), stored).await);
                }
            })
        }
    };
    let (rate, bare_rate, ratios) = alternate(n, service, bare).await;
    println!(
        "sign-in: {} SignIn calls @{c} with Argon2id m={} KiB t={} p=1: {rate:.1}/s ({:.0} ms each at this concurrency); bare Argon2id verification {bare_rate:.1}/s; ratio {:.2} (rounds {})",
        n * ROUNDS,
        crm_identity::passwords::MEMORY_KIB,
        crm_identity::passwords::ITERATIONS,
        1000.0 * c as f64 / rate,
        rate / bare_rate,
        rounds(&ratios)
    );
}

/// The cost of metrics: the same service with recording on and off, in alternating rounds.
pub async fn bench_metrics(args: &Args, backend: &str, admin: Option<&str>) {
    let (identity, token) = crate::identity().await;
    let verifier = Verifier::from_identity(&identity.url()).expect("verifier");
    verifier.prefetch().await;
    let service = customers(admin, &identity.url(), Gate::Verify(verifier)).await;
    let c = args.concurrency.max(1);
    let reads = if args.smoke { 400 } else { 20_000 };
    let writes = if args.smoke { 100 } else { 2_000 };
    let mut clients = Vec::new();
    for _ in 0..c {
        clients.push(grpc_client(&service.endpoint(), token).await);
    }
    let clients = Arc::new(clients);
    let id = clients[0]
        .clone()
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(pb::Customer {
                kind: pb::CustomerKind::Company as i32,
                name: "Metrics Read Co".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
        .customer
        .expect("customer")
        .id;
    let read = |on: bool| {
        crm_kit::metrics::set_enabled(on);
        let clients = clients.clone();
        let id = id.clone();
        timed(reads, c, move |w, _| {
            let mut client = clients[w].clone();
            let id = id.clone();
            async move {
                client.get_customer(pb::GetCustomerRequest { id }).await.expect("get");
            }
        })
    };
    let (on_rate, off_rate, ratios) = alternate(reads, |_| read(true), |_| read(false)).await;
    println!(
        "metrics [{backend}] GetCustomer x{} @{c}: metrics on {on_rate:.0}/s, off {off_rate:.0}/s, ratio {:.2} (rounds {}) (target >= 0.97)",
        reads * ROUNDS,
        on_rate / off_rate,
        rounds(&ratios)
    );
    let read_rate = on_rate.max(off_rate);
    let write = |on: bool, round: usize| {
        crm_kit::metrics::set_enabled(on);
        let clients = clients.clone();
        timed(writes, c, move |w, i| {
            let mut client = clients[w].clone();
            async move {
                client
                    .create_customer(pb::CreateCustomerRequest {
                        customer: Some(pb::Customer {
                            kind: pb::CustomerKind::Company as i32,
                            name: format!("Metrics {on} {round}-{i:06}"),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .await
                    .expect("create");
            }
        })
    };
    let (on_rate, off_rate, ratios) = alternate(writes, |round| write(true, round), |round| write(false, round)).await;
    println!(
        "metrics [{backend}] CreateCustomer x{} @{c}: metrics on {on_rate:.0}/s, off {off_rate:.0}/s, ratio {:.2} (rounds {}) (target >= 0.97)",
        writes * ROUNDS,
        on_rate / off_rate,
        rounds(&ratios)
    );
    // Throughput ratios on this machine swing from round to round by more than the cost being
    // measured, so the recording itself is timed too: what metrics add to one call (a duration
    // recorded with its labels, calls in flight up and down), against the CPU time one read
    // takes (the machine's cores over the reads' rate).
    crm_kit::metrics::set_enabled(true);
    let n = if args.smoke { 20_000 } else { 1_000_000 };
    // On every core at once, as the service records: the instruments' locks are shared.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let workers: Vec<_> = (0..cores)
        .map(|_| {
            tokio::task::spawn_blocking(move || {
                for i in 0..n / cores {
                    crm_kit::metrics::record_call(
                        "bench",
                        "/crm.customers.v1.CustomersService/GetCustomer",
                        0,
                        Duration::from_micros(i as u64 % 5_000),
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("probe");
    }
    // CPU time per recording: the wall time on every core over the recordings.
    let per_call = started.elapsed().as_secs_f64() * cores as f64 / n as f64;
    let cores = cores as f64;
    let call_cpu = cores / read_rate;
    println!(
        "metrics [{backend}] recording one call: {:.2} us ({:.2}% of a GetCustomer's CPU time, {cores} cores); ratio {:.3} by this measure (target >= 0.97)",
        per_call * 1e6,
        per_call / call_cpu * 100.0,
        1.0 / (1.0 + per_call / call_cpu)
    );
    service.stop().await;
}
