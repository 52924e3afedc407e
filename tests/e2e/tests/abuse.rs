//! Load and abuse: while 2,000 idle TCP connections sit on the gateway and 2,000 on the customers
//! service's gRPC port, and four clients keep sending 200,000-element lists, each one call every
//! 2 s or so (CreateCustomer with 200,000 tags, ShareCustomer with 200,000 collaborator ids, over
//! gRPC straight to customers and over REST through the gateway), a normal client's GetCustomer keeps working and keeps its
//! latency: every call succeeds and the p95 stays within 2× of the quiet p95 (measured first,
//! with a floor of 10 ms so that noise on tiny figures does not decide), over REST and over gRPC
//! through the gateway alike. The gateway's `/healthz` and identity's `GetKeySet` keep
//! answering, and the abusive calls are refused as the client's fault: INVALID_ARGUMENT over
//! gRPC, 400 or 413 over REST, never a 5xx, nor no answer.
//!
//! The suite runs on a runtime of its own with two worker threads, as `crm` would on a
//! two-core machine; the clients run on another, so the client side's work does not count
//! against the suite. Each kind of client has its own loopback address (the gateway limits
//! connections and calls per address): the normal client 127.0.0.2, the idle connections
//! 127.0.0.3, the abusive calls 127.0.0.4, the health probes 127.0.0.5.
//!
//! Bounded in time: about 8 s of quiet calls, 15 s of load, and at most 5 s to stop; the
//! figures are printed (`--nocapture` shows them when it passes).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crm_e2e::{ADMIN_PASSWORD, Suite, sign_in, with_token};
use crm_gateway::upstream::RawCodec;
use crm_proto::customers as pb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::identity as id;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use prost::Message as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Mutex;
use tonic::transport::{Channel, Endpoint};

const NORMAL: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const IDLE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const ABUSIVE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
const PROBES: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 5);

/// Idle connections held on the gateway, and as many on the customers service's gRPC port.
const IDLE_CONNECTIONS: usize = 2_000;
/// Elements in each abusive list.
const LIST_LEN: usize = 200_000;
/// GetCustomer calls measured on the quiet suite (half over REST, half over gRPC).
const QUIET_CALLS: usize = 300;
/// How long the suite is under load.
const LOAD: Duration = Duration::from_secs(15);
/// One normal call every this often: 40 calls a second, under the gateway's 50 a second per
/// employee.
const PACE: Duration = Duration::from_millis(25);
/// Each abusive client's pause between its calls. Receiving and decoding a 200,000-element
/// message is work no server avoids (about 0.1 s of a core in a debug build); paced, the abuse
/// leaves the machine's two cores room for the normal calls as long as the suite does no more
/// than that with it; de-duplicating the list in quadratic time takes minutes on the first call.
const ABUSE_PAUSE: Duration = Duration::from_millis(2000);
/// The longest a normal call, a health probe or an abusive call may take before it counts as
/// unanswered.
const NORMAL_TIMEOUT: Duration = Duration::from_secs(5);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const ABUSE_TIMEOUT: Duration = Duration::from_secs(5);
/// What the p95 under load may be, as a multiple of the quiet p95 (at least [`FLOOR`]).
const MAX_RATIO: f64 = 2.0;
/// A debug build on two shared cores answers a quiet GetCustomer in 3 to 6 ms and sees single
/// calls of 10 ms from scheduling alone; the floor keeps that noise from deciding, while a
/// starved suite (calls queued behind the abuse) is far beyond 2× of it.
const FLOOR: Duration = Duration::from_millis(10);

#[test]
fn normal_calls_keep_their_latency_under_idle_connections_and_huge_lists() {
    check_descriptor_limit();
    let suite_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("suite")
        .enable_all()
        .build()
        .unwrap();
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("clients")
        .enable_all()
        .build()
        .unwrap();
    let suite = suite_runtime.block_on(Suite::start());
    let data_dir = suite.data_dir.clone();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| clients.block_on(run(suite))));
    // Work the abuse left running in the suite (a handler that never yields) is not waited for.
    clients.shutdown_timeout(Duration::from_secs(5));
    suite_runtime.shutdown_timeout(Duration::from_secs(1));
    let _ = std::fs::remove_dir_all(&data_dir);
    let report = outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    if report.problems.is_empty() {
        println!("{}", report.figures);
    }
    assert!(
        report.problems.is_empty(),
        "{} problem(s) under load:\n  - {}\n{}",
        report.problems.len(),
        report.problems.join("\n  - "),
        report.figures
    );
}

struct Report {
    figures: String,
    problems: Vec<String>,
}

async fn run(suite: Suite) -> Report {
    let (gateway, customers_addr, identity_addr) = (suite.gateway, suite.customers, suite.identity);
    let (admin_token, admin) = sign_in(identity_addr, "admin", ADMIN_PASSWORD).await;
    // The abusive REST calls come from another employee, so they do not spend the normal
    // client's share of the gateway's per-employee rate.
    let mut identity =
        IdentityServiceClient::with_interceptor(channel_from(NORMAL, identity_addr).await, with_token(&admin_token));
    identity
        .create_employee(id::CreateEmployeeRequest {
            employee: Some(id::Employee {
                login: "abuser".into(),
                display_name: "Abuser".into(),
                department_id: admin.department_id.clone(),
                role_ids: vec!["admin".into()],
                ..Default::default()
            }),
            password: "e2e-abuser-password".into(),
            employee_id: "abuser".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (abuser_token, _) = sign_in(identity_addr, "abuser", "e2e-abuser-password").await;
    let customer =
        CustomersServiceClient::with_interceptor(channel_from(NORMAL, customers_addr).await, with_token(&admin_token))
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(pb::Customer {
                    kind: pb::CustomerKind::Company as i32,
                    name: "负载测试有限公司".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();

    let mut normal = Normal {
        rest: Rest::new(NORMAL, gateway, admin_token.clone()),
        grpc: CustomersServiceClient::new(channel_from(NORMAL, gateway).await),
        token: admin_token.clone(),
        id: customer.id.clone(),
        samples: Samples::default(),
    };
    // Warm up (connections, caches), then measure the quiet suite.
    for i in 0..20 {
        normal.call(i).await;
    }
    normal.samples = Samples::default();
    let mut tick = tokio::time::interval(PACE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 0..QUIET_CALLS {
        tick.tick().await;
        normal.call(i).await;
    }
    let quiet = std::mem::take(&mut normal.samples);

    // Load: idle connections first, then the abusive clients, the health probes and the normal
    // client all at once.
    let started_idle = Instant::now();
    let (idle_gateway, idle_gateway_failed) = hold_idle(gateway).await;
    let (idle_customers, idle_customers_failed) = hold_idle(customers_addr).await;
    let idle_took = started_idle.elapsed();

    let deadline = Instant::now() + LOAD;
    let outcomes: Arc<Mutex<BTreeMap<String, BTreeMap<String, usize>>>> = Arc::default();
    let mut abusers = Vec::new();
    for kind in [Abuse::GrpcCreate, Abuse::GrpcShare, Abuse::RestCreate, Abuse::RestShare] {
        let outcomes = outcomes.clone();
        let token = abuser_token.clone();
        let customer_id = customer.id.clone();
        // Each request is encoded once, off the runtime's workers: what is measured is the
        // suite's work with it, not the client's.
        let payload = tokio::task::spawn_blocking(move || kind.payload(&customer_id))
            .await
            .unwrap();
        let grpc = channel_from(ABUSIVE, customers_addr).await;
        abusers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let outcome = kind.call(&payload, grpc.clone(), gateway, &token).await;
                tokio::time::sleep(ABUSE_PAUSE).await;
                *outcomes
                    .lock()
                    .await
                    .entry(kind.name().to_string())
                    .or_default()
                    .entry(outcome)
                    .or_default() += 1;
            }
        }));
    }
    let healthz = tokio::spawn(probe(deadline, move || async move {
        let response = http_from(
            PROBES,
            gateway,
            "GET /healthz HTTP/1.1\r\nHost: crm\r\nConnection: close\r\n\r\n",
        )
        .await?;
        if response.starts_with("HTTP/1.1 200") {
            Ok(())
        } else {
            Err(first_line(&response))
        }
    }));
    let key_set_channel = channel_from(PROBES, identity_addr).await;
    let key_set = tokio::spawn(probe(deadline, move || {
        let mut client = IdentityServiceClient::new(key_set_channel.clone());
        async move {
            match client.get_key_set(id::GetKeySetRequest {}).await {
                Ok(r) if !r.get_ref().keys.is_empty() => Ok(()),
                Ok(_) => Err("an empty key set".to_string()),
                Err(s) => Err(format!("{:?}: {}", s.code(), s.message())),
            }
        }
    }));
    let mut i = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        normal.call(i).await;
        i += 1;
    }
    let loaded = std::mem::take(&mut normal.samples);
    for a in abusers {
        // An abusive call still in flight is at most ABUSE_TIMEOUT from its end.
        let _ = tokio::time::timeout(ABUSE_TIMEOUT + Duration::from_secs(1), a).await;
    }
    let healthz = healthz.await.unwrap();
    let key_set = key_set.await.unwrap();
    let idle_gateway_open = still_open(&idle_gateway);
    let idle_customers_open = still_open(&idle_customers);
    drop((idle_gateway, idle_customers));
    let stopped = tokio::time::timeout(Duration::from_secs(5), suite.stop()).await.is_ok();

    // The figures, then what went wrong.
    let mut problems = Vec::new();
    let mut figures = String::new();
    let outcomes = outcomes.lock().await.clone();
    writeln!(
        figures,
        "idle connections: gateway {} held ({} refused or timed out), {} still open at the end; \
         customers gRPC {} held ({} refused or timed out), {} still open at the end; opened in {:.1} s",
        IDLE_CONNECTIONS - idle_gateway_failed,
        idle_gateway_failed,
        idle_gateway_open,
        IDLE_CONNECTIONS - idle_customers_failed,
        idle_customers_failed,
        idle_customers_open,
        idle_took.as_secs_f64()
    )
    .unwrap();
    for transport in [Transport::Rest, Transport::Grpc] {
        let name = transport.name();
        let (q, l) = (quiet.of(transport), loaded.of(transport));
        let quiet_p95 = p95(&q.latencies);
        let load_p95 = p95(&l.latencies);
        let base = quiet_p95.max(FLOOR);
        let ratio = load_p95.as_secs_f64() / base.as_secs_f64();
        writeln!(
            figures,
            "GetCustomer over {name}: quiet p95 {:.2} ms over {} calls (median {:.2} ms); under load p95 {:.2} ms over {} calls \
             (median {:.2} ms, max {:.2} ms, {} failed); ratio to max(quiet p95, {} ms) = {ratio:.2} (at most {MAX_RATIO})",
            ms(quiet_p95),
            q.latencies.len(),
            ms(percentile(&q.latencies, 0.5)),
            ms(load_p95),
            l.latencies.len(),
            ms(percentile(&l.latencies, 0.5)),
            ms(l.latencies.iter().copied().max().unwrap_or_default()),
            l.failures.len(),
            FLOOR.as_millis()
        )
        .unwrap();
        if !q.failures.is_empty() {
            problems.push(format!(
                "{} of {} quiet GetCustomer calls over {name} failed, e.g. {}",
                q.failures.len(),
                q.latencies.len(),
                q.failures[0]
            ));
        }
        if !l.failures.is_empty() {
            problems.push(format!(
                "{} of {} GetCustomer calls over {name} under load failed, e.g. {}",
                l.failures.len(),
                l.latencies.len(),
                summarize(&l.failures)
            ));
        }
        if ratio > MAX_RATIO {
            problems.push(format!(
                "GetCustomer over {name}: p95 under load {:.2} ms is {ratio:.2}× the quiet max(p95 {:.2} ms, {} ms) (at most {MAX_RATIO}×)",
                ms(load_p95),
                ms(quiet_p95),
                FLOOR.as_millis()
            ));
        }
    }
    for (name, p) in [("gateway /healthz", &healthz), ("identity GetKeySet", &key_set)] {
        writeln!(
            figures,
            "{name}: {} probes, {} failed, slowest answer {:.2} ms",
            p.calls,
            p.failures.len(),
            ms(p.slowest)
        )
        .unwrap();
        if p.calls == 0 || !p.failures.is_empty() {
            problems.push(format!(
                "{name}: {} of {} probes got no answer within {PROBE_TIMEOUT:?}, e.g. {}",
                p.failures.len(),
                p.calls,
                summarize(&p.failures)
            ));
        }
    }
    for kind in [Abuse::GrpcCreate, Abuse::GrpcShare, Abuse::RestCreate, Abuse::RestShare] {
        let seen = outcomes.get(kind.name()).cloned().unwrap_or_default();
        writeln!(figures, "{}: {seen:?}", kind.name()).unwrap();
        let wrong: Vec<String> = seen
            .iter()
            .filter(|(outcome, _)| !kind.expected(outcome))
            .map(|(outcome, n)| format!("{n}× {outcome}"))
            .collect();
        if seen.is_empty() {
            problems.push(format!("{}: no call finished", kind.name()));
        } else if !wrong.is_empty() {
            problems.push(format!(
                "{}: answered {} (expected {})",
                kind.name(),
                wrong.join(", "),
                kind.expectation()
            ));
        }
    }
    if !stopped {
        writeln!(
            figures,
            "the suite did not stop within 5 s (work left running by the abuse)"
        )
        .unwrap();
    }
    Report { figures, problems }
}

/// GetCustomer, alternately over REST and over gRPC through the gateway.
struct Normal {
    rest: Rest,
    grpc: CustomersServiceClient<Channel>,
    token: String,
    id: String,
    samples: Samples,
}

impl Normal {
    async fn call(&mut self, i: usize) {
        let started = Instant::now();
        let (transport, result) = if i.is_multiple_of(2) {
            let path = format!("/v1/customers/{}", self.id);
            let result = match tokio::time::timeout(NORMAL_TIMEOUT, self.rest.get(&path)).await {
                Err(_) => Err(format!("no answer within {NORMAL_TIMEOUT:?}")),
                Ok(Err(e)) => Err(e),
                Ok(Ok((200, body))) if body.contains(&self.id) => Ok(()),
                Ok(Ok((status, body))) => Err(format!("{status} {}", truncate(&body))),
            };
            (Transport::Rest, result)
        } else {
            let call = self
                .grpc
                .get_customer(signed(&self.token, pb::GetCustomerRequest { id: self.id.clone() }));
            let result = match tokio::time::timeout(NORMAL_TIMEOUT, call).await {
                Err(_) => Err(format!("no answer within {NORMAL_TIMEOUT:?}")),
                Ok(Err(s)) => Err(format!("{:?}: {}", s.code(), s.message())),
                Ok(Ok(r)) if r.get_ref().customer.as_ref().is_some_and(|c| c.id == self.id) => Ok(()),
                Ok(Ok(r)) => Err(format!("another answer: {:?}", r.into_inner())),
            };
            (Transport::Grpc, result)
        };
        let took = started.elapsed();
        let series = self.samples.of_mut(transport);
        series.latencies.push(took);
        if let Err(e) = result {
            series.failures.push(e);
        }
    }
}

#[derive(Clone, Copy)]
enum Transport {
    Rest,
    Grpc,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Rest => "REST",
            Transport::Grpc => "gRPC through the gateway",
        }
    }
}

#[derive(Default)]
struct Series {
    latencies: Vec<Duration>,
    failures: Vec<String>,
}

#[derive(Default)]
struct Samples {
    rest: Series,
    grpc: Series,
}

impl Samples {
    fn of(&self, t: Transport) -> &Series {
        match t {
            Transport::Rest => &self.rest,
            Transport::Grpc => &self.grpc,
        }
    }

    fn of_mut(&mut self, t: Transport) -> &mut Series {
        match t {
            Transport::Rest => &mut self.rest,
            Transport::Grpc => &mut self.grpc,
        }
    }
}

fn percentile(latencies: &[Duration], q: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn p95(latencies: &[Duration]) -> Duration {
    percentile(latencies, 0.95)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Each distinct failure once, with how often it happened.
fn summarize(failures: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in failures {
        *counts.entry(f.as_str()).or_default() += 1;
    }
    counts
        .iter()
        .map(|(f, n)| format!("{n}× {f}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

fn first_line(response: &str) -> String {
    let line = response.lines().next().unwrap_or("");
    if line.is_empty() {
        "no answer (connection closed)".into()
    } else {
        line.into()
    }
}

/// The kinds of abusive call, each in a loop of its own.
#[derive(Clone, Copy)]
enum Abuse {
    GrpcCreate,
    GrpcShare,
    RestCreate,
    RestShare,
}

impl Abuse {
    fn name(self) -> &'static str {
        match self {
            Abuse::GrpcCreate => "CreateCustomer with 200,000 tags (gRPC to customers)",
            Abuse::GrpcShare => "ShareCustomer with 200,000 collaborator ids (gRPC to customers)",
            Abuse::RestCreate => "POST /v1/customers with 200,000 tags (REST)",
            Abuse::RestShare => "POST /v1/customers/{id}:share with 200,000 collaborator ids (REST)",
        }
    }

    fn expectation(self) -> &'static str {
        match self {
            Abuse::GrpcCreate | Abuse::GrpcShare => "InvalidArgument",
            Abuse::RestCreate | Abuse::RestShare => "HTTP 400 or 413",
        }
    }

    fn expected(self, outcome: &str) -> bool {
        match self {
            Abuse::GrpcCreate | Abuse::GrpcShare => outcome == "InvalidArgument",
            Abuse::RestCreate | Abuse::RestShare => outcome == "HTTP 400" || outcome == "HTTP 413",
        }
    }

    /// The request: its path (gRPC method or REST path) and its encoded body.
    fn payload(self, customer_id: &str) -> (String, Bytes) {
        let list = |prefix: &str| (0..LIST_LEN).map(|i| format!("{prefix}{i:06}")).collect::<Vec<_>>();
        let json_list = |prefix: &str| {
            (0..LIST_LEN)
                .map(|i| format!("\"{prefix}{i:06}\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Abuse::GrpcCreate => (
                "/crm.customers.v1.CustomersService/CreateCustomer".into(),
                pb::CreateCustomerRequest {
                    customer: Some(pb::Customer {
                        kind: pb::CustomerKind::Company as i32,
                        name: "标签过多有限公司".into(),
                        tags: list("t"),
                        ..Default::default()
                    }),
                    ..Default::default()
                }
                .encode_to_vec()
                .into(),
            ),
            Abuse::GrpcShare => (
                "/crm.customers.v1.CustomersService/ShareCustomer".into(),
                pb::ShareCustomerRequest {
                    id: customer_id.to_string(),
                    collaborator_ids: list("e"),
                }
                .encode_to_vec()
                .into(),
            ),
            Abuse::RestCreate => (
                "/v1/customers".into(),
                format!(
                    r#"{{"customer":{{"kind":"CUSTOMER_KIND_COMPANY","name":"Too Many Tags Ltd","tags":[{}]}}}}"#,
                    json_list("t")
                )
                .into(),
            ),
            Abuse::RestShare => (
                format!("/v1/customers/{customer_id}:share"),
                format!(r#"{{"collaboratorIds":[{}]}}"#, json_list("e")).into(),
            ),
        }
    }

    /// Sends one call and names its outcome: the gRPC code, `HTTP <status>`, or how it failed.
    async fn call(self, (path, body): &(String, Bytes), channel: Channel, gateway: SocketAddr, token: &str) -> String {
        let timed_out = || format!("no answer within {ABUSE_TIMEOUT:?}");
        match self {
            Abuse::GrpcCreate | Abuse::GrpcShare => {
                let mut grpc = tonic::client::Grpc::new(channel);
                let call = async {
                    grpc.ready()
                        .await
                        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
                    let path = http::uri::PathAndQuery::try_from(path.as_str()).unwrap();
                    grpc.unary(signed(token, body.clone()), path, RawCodec).await
                };
                match tokio::time::timeout(ABUSE_TIMEOUT, call).await {
                    Ok(Ok(_)) => "OK".to_string(),
                    Ok(Err(s)) => format!("{:?}", s.code()),
                    Err(_) => timed_out(),
                }
            }
            Abuse::RestCreate | Abuse::RestShare => {
                match tokio::time::timeout(ABUSE_TIMEOUT, post_from(ABUSIVE, gateway, path, token, body)).await {
                    Ok(Ok(status)) => format!("HTTP {status}"),
                    Ok(Err(e)) => e,
                    Err(_) => timed_out(),
                }
            }
        }
    }
}

/// `message` with `token` as its bearer token.
fn signed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// Calls `check` every 250 ms until `deadline`: how many calls, which failed, the slowest.
struct Probed {
    calls: usize,
    failures: Vec<String>,
    slowest: Duration,
}

async fn probe<F, Fut>(deadline: Instant, mut check: F) -> Probed
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut probed = Probed {
        calls: 0,
        failures: Vec::new(),
        slowest: Duration::ZERO,
    };
    while Instant::now() < deadline {
        let started = Instant::now();
        let result = tokio::time::timeout(PROBE_TIMEOUT, check()).await;
        probed.calls += 1;
        probed.slowest = probed.slowest.max(started.elapsed());
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => probed.failures.push(e),
            Err(_) => probed.failures.push(format!("no answer within {PROBE_TIMEOUT:?}")),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    probed
}

/// Opens [`IDLE_CONNECTIONS`] connections to `addr` from [`IDLE`] that never send a byte: the
/// ones that opened, and how many did not within 2 s.
async fn hold_idle(addr: SocketAddr) -> (Vec<TcpStream>, usize) {
    let mut held = Vec::with_capacity(IDLE_CONNECTIONS);
    let mut failed = 0;
    for _ in 0..IDLE_CONNECTIONS / 100 {
        let batch: Vec<_> = (0..100)
            .map(|_| tokio::spawn(tokio::time::timeout(Duration::from_secs(2), connect_from(IDLE, addr))))
            .collect();
        for c in batch {
            match c.await.unwrap() {
                Ok(Ok(stream)) => held.push(stream),
                _ => failed += 1,
            }
        }
    }
    (held, failed)
}

/// How many of `streams` the other side has not closed.
fn still_open(streams: &[TcpStream]) -> usize {
    let mut buf = [0u8; 1];
    streams
        .iter()
        .filter(|s| match s.try_read(&mut buf) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
        })
        .count()
}

async fn connect_from(source: Ipv4Addr, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A gRPC channel to `addr` whose connections come from `source`.
async fn channel_from(source: Ipv4Addr, addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: http::Uri| async move {
            connect_from(source, addr).await.map(TokioIo::new)
        }))
        .await
        .unwrap()
}

/// One keep-alive HTTP/1.1 connection from `source` to the gateway, opened again when it closes.
struct Rest {
    source: Ipv4Addr,
    addr: SocketAddr,
    token: String,
    sender: Option<hyper::client::conn::http1::SendRequest<Empty<Bytes>>>,
}

impl Rest {
    fn new(source: Ipv4Addr, addr: SocketAddr, token: String) -> Rest {
        Rest {
            source,
            addr,
            token,
            sender: None,
        }
    }

    async fn get(&mut self, path: &str) -> Result<(u16, String), String> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = connect_from(self.source, self.addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().unwrap();
        sender.ready().await.map_err(|e| format!("connection: {e}"))?;
        let request = http::Request::get(path)
            .header(http::header::HOST, "crm")
            .header(http::header::AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Empty::new())
            .unwrap();
        let response = match sender.send_request(request).await {
            Ok(r) => r,
            Err(e) => {
                self.sender = None;
                return Err(format!("request: {e}"));
            }
        };
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// One request on a connection of its own from `source`, read to the end.
async fn http_from(source: Ipv4Addr, addr: SocketAddr, request: &str) -> Result<String, String> {
    let mut stream = connect_from(source, addr).await.map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("read: {e}"))?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

/// POSTs `body` as JSON from `source` and returns the response's status. The gateway may answer
/// (413) before the body is all sent, so the response is read while the body is written.
async fn post_from(source: Ipv4Addr, addr: SocketAddr, path: &str, token: &str, body: &Bytes) -> Result<u16, String> {
    let stream = connect_from(source, addr).await.map_err(|e| format!("connect: {e}"))?;
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: crm\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let writer = async {
        wr.write_all(head.as_bytes()).await?;
        wr.write_all(body).await
    };
    let reader = async {
        let mut response = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = rd.read(&mut chunk).await?;
            if n == 0 || {
                response.extend_from_slice(&chunk[..n]);
                response.windows(4).any(|w| w == b"\r\n\r\n")
            } {
                return Ok::<_, std::io::Error>(response);
            }
        }
    };
    tokio::pin!(writer, reader);
    let mut written = None;
    let response = loop {
        tokio::select! {
            r = &mut reader => break r,
            w = &mut writer, if written.is_none() => written = Some(w),
        }
    };
    let response = match response {
        Ok(r) if !r.is_empty() => String::from_utf8_lossy(&r).into_owned(),
        Ok(_) => return Err(format!("no answer (connection closed; writing: {written:?})")),
        Err(e) => return Err(format!("no answer ({e}; writing: {written:?})")),
    };
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {}", truncate(&response)))
}

/// The test holds 4,000 idle client sockets and the suite, in the same process, their 4,000
/// server ends, besides its own.
fn check_descriptor_limit() {
    let needed = 4 * IDLE_CONNECTIONS + 1_000;
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok());
    if let Some(soft) = soft {
        assert!(
            soft >= needed,
            "this test needs at least {needed} open files (ulimit -n), the process may have {soft}"
        );
    }
}
