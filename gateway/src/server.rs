//! The HTTP server: HTTP/1.1 and HTTP/2 on one port, and what every request goes through
//! (request id, span, CORS, the per-IP limit, the access log) before it is routed to REST,
//! gRPC/gRPC-Web, health or the OpenAPI document. Connections are held to caps and timeouts
//! (see `connections`), a panic in a handler is answered 500/INTERNAL, a request refused
//! before its body was read does not leave its connection in doubt, and a shutdown drains.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tonic::body::Body;
use tracing::Instrument;

use crate::connections::{Activity, Admission, CatchPanic, Connections, Phase, RequestBody, Tracked, Watched};
use crate::{Caller, Config, DEFAULT_PORT, Gateway};

/// Binds the configured address and serves until `shutdown` completes.
pub async fn run_standalone(config: Config, shutdown: impl Future<Output = ()> + Send) -> crm_kit::Result<()> {
    let addr = config
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)));
    let listener = crm_kit::serve::bind(addr).await?;
    run(config, listener, shutdown).await
}

/// Descriptors kept free for what is not a client connection: the channels to the services,
/// files, the listener itself.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The timeouts a connection is held to.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// For the first bytes of a connection.
    first_bytes: Duration,
    /// For a connection with no request in progress.
    idle: Duration,
    /// For a write the client does not read.
    send: Duration,
}

/// Serves on `listener` until `shutdown` completes; then drains (see [`drain`]).
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> crm_kit::Result<()> {
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let poll = Duration::from_millis(config.revocation_poll_ms.max(10));
    let descriptors = crm_kit::limits::raise_descriptor_limit().map(|limit| limit.after);
    let mut max_connections = config.max_connections;
    if let Some(limit) = descriptors {
        let room = usize::try_from(limit.saturating_sub(RESERVED_DESCRIPTORS).max(16)).unwrap_or(usize::MAX);
        if room < max_connections {
            tracing::warn!(
                configured = max_connections,
                open_file_limit = limit,
                allowed = room,
                "the open-file limit allows fewer connections than configured"
            );
            max_connections = room;
        }
    }
    let per_ip = if config.trust_forwarded_for {
        0
    } else {
        config.max_connections_per_ip
    };
    let connections = Connections::new(max_connections, per_ip);
    let timeouts = Timeouts {
        first_bytes: Duration::from_secs(config.header_timeout_seconds.max(1)),
        idle: Duration::from_secs(config.idle_timeout_seconds.max(1)),
        send: Duration::from_secs(config.send_timeout_seconds.max(1)),
    };
    let builder = Arc::new(builder(&config));
    let (metrics_stop, metrics_stopping) = crm_kit::serve::Stopping::new();
    let metrics = match config.metrics_addr {
        Some(addr) => Some(tokio::spawn(crm_kit::metrics::serve(
            crm_kit::serve::bind(addr).await?,
            metrics_stopping,
        ))),
        None => None,
    };
    let gateway = Arc::new(Gateway::new(config)?);
    {
        let gateway = gateway.clone();
        tokio::spawn(async move { gateway.verifier.prefetch().await });
    }
    // Kept until the gateway stops: a deactivated employee's tokens are refused within a poll.
    let _revocations = gateway.verifier.watch_revocations(poll);
    let addr = listener
        .local_addr()
        .map_err(|e| crm_kit::Error::Internal(e.to_string()))?;
    tracing::info!(
        %addr,
        routes = gateway.routes.all().count(),
        max_connections,
        max_connections_per_ip = per_ip,
        open_file_limit = descriptors.unwrap_or(0),
        "gateway serving REST, gRPC-Web and gRPC"
    );
    let mut tasks = tokio::task::JoinSet::new();
    let accept = |accepted: std::io::Result<(TcpStream, SocketAddr)>, tasks: &mut tokio::task::JoinSet<()>| {
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                return false;
            }
        };
        let Some(admission) = connections.admit(peer.ip()) else {
            // Refused as cheaply as it came: closed at once, before a byte is read.
            tracing::debug!(%peer, open = connections.open(), "connection refused: over the connection caps");
            return true;
        };
        let _ = stream.set_nodelay(true);
        tasks.spawn(connection(
            builder.clone(),
            gateway.clone(),
            connections.clone(),
            stream,
            peer,
            admission,
            timeouts,
        ));
        true
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if !accept(accepted, &mut tasks) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    // Draining: accepted requests finish; the listener stays open, so that a request arriving
    // meanwhile is answered 503 (and its client tries elsewhere) instead of waiting unanswered
    // in the backlog and being reset when the listener closes.
    tracing::info!(
        in_flight = connections.in_flight(),
        "gateway shutting down: draining in-flight requests"
    );
    connections.enter(Phase::Draining);
    let deadline = tokio::time::Instant::now() + grace;
    let finished = loop {
        tokio::select! {
            accepted = listener.accept() => {
                if !accept(accepted, &mut tasks) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            () = connections.requests_done() => break true,
            () = tokio::time::sleep_until(deadline) => break false,
        }
    };
    if !finished {
        tracing::warn!(
            in_flight = connections.in_flight(),
            "grace period over; abandoning unfinished requests"
        );
    }
    drop(listener);
    connections.enter(Phase::Stopping);
    // Idle HTTP/1.1 connections close now, HTTP/2 ones after their GOAWAY.
    let _ = tokio::time::timeout(Duration::from_secs(1), connections.connections_closed()).await;
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    let _ = metrics_stop.send(true);
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    tracing::info!("gateway stopped");
    Ok(())
}

/// HTTP/1.1 and HTTP/2 with the configured limits.
fn builder(config: &Config) -> hyper_util::server::conn::auto::Builder<TokioExecutor> {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.header_timeout_seconds.max(1)))
        .max_buf_size(config.max_header_bytes.max(8192));
    let keepalive = (config.h2_keepalive_seconds > 0).then(|| Duration::from_secs(config.h2_keepalive_seconds));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(keepalive)
        .keep_alive_timeout(keepalive.unwrap_or(Duration::from_secs(20)))
        .max_concurrent_streams(config.h2_max_concurrent_streams.max(1))
        .max_header_list_size(u32::try_from(config.max_header_bytes).unwrap_or(u32::MAX));
    builder
}

/// Serves one connection and holds it to its timeouts: the first bytes within the header
/// timeout, no longer idle than the idle timeout, no write stuck longer than the send timeout,
/// and closes it as the shutdown proceeds.
async fn connection(
    builder: Arc<hyper_util::server::conn::auto::Builder<TokioExecutor>>,
    gateway: Arc<Gateway>,
    connections: Arc<Connections>,
    stream: TcpStream,
    peer: SocketAddr,
    admission: Admission,
    timeouts: Timeouts,
) {
    let _admission = admission;
    let activity = Activity::new(&connections);
    let service = {
        let activity = activity.clone();
        let connections = connections.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let gateway = gateway.clone();
            let request = activity.request();
            if req.version() == http::Version::HTTP_2 {
                activity.h2.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let draining = connections.phase() != Phase::Serving;
            let activity = activity.clone();
            async move {
                let response = handle(gateway, req, peer, draining, &activity).await;
                Ok::<_, Infallible>(response.map(|body| Body::new(Tracked::new(body, request))))
            }
        })
    };
    let io = TokioIo::new(Watched::new(stream, activity.clone()));
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let mut phase = connections.watch_phase();
    let opened = tokio::time::Instant::now();
    let mut closing = false;
    let mut closing_since = tokio::time::Instant::now();
    // Checked a few times per shortest timeout: cheap enough for many idle connections, and
    // a timeout is kept to within a quarter of its length.
    let check = (timeouts.first_bytes.min(timeouts.idle).min(timeouts.send) / 4)
        .clamp(Duration::from_millis(100), Duration::from_secs(1));
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection closed with an error");
                }
                return;
            }
            changed = phase.changed(), if !closing => {
                let now = if changed.is_err() { Phase::Stopping } else { *phase.borrow_and_update() };
                // HTTP/2 learns of a drain from GOAWAY, which tells the client which calls
                // were taken; an HTTP/1.1 connection is kept to answer 503 until the stop.
                if now == Phase::Stopping || activity.h2.load(std::sync::atomic::Ordering::Relaxed) {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    closing_since = tokio::time::Instant::now();
                }
            }
            () = tokio::time::sleep(check) => {
                // A peer that does not complete the close (HTTP/2: never acknowledges the
                // GOAWAY's ping) is dropped once nothing is in progress.
                if closing && activity.active() == 0 && closing_since.elapsed() >= timeouts.first_bytes.min(Duration::from_secs(5)) {
                    tracing::debug!(%peer, "connection dropped: the peer did not complete the close");
                    return;
                }
                if !activity.read_any.load(std::sync::atomic::Ordering::Relaxed) && opened.elapsed() >= timeouts.first_bytes {
                    tracing::debug!(%peer, "connection closed: nothing sent within the header timeout");
                    return;
                }
                if activity.write_blocked_ms() >= millis(timeouts.send) {
                    tracing::debug!(%peer, "connection closed: the client reads nothing");
                    return;
                }
                if !closing && activity.idle_ms() >= millis(timeouts.idle) {
                    tracing::debug!(%peer, "connection closed: idle");
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    closing_since = tokio::time::Instant::now();
                }
            }
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A marker in a response's extensions: the employee the request was made as.
#[derive(Debug, Clone)]
pub(crate) struct Employee(pub String);

/// The most of an unread request body read (and dropped) after an early answer, so that the
/// connection can carry the client's next request; a longer body closes the connection.
const DRAIN_BYTES: u64 = 64 * 1024;
/// How long draining an unread body may take.
const DRAIN_TIME: Duration = Duration::from_secs(1);

async fn handle(
    gateway: Arc<Gateway>,
    req: Request<Incoming>,
    peer: SocketAddr,
    draining: bool,
    activity: &Activity,
) -> Response<Body> {
    let started = Instant::now();
    let request_id = request_id(req.headers());
    let ip = client_ip(req.headers(), peer, gateway.config.trust_forwarded_for);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let http1 = req.version() != http::Version::HTTP_2;
    let grpc = grpc_kind(req.headers());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let span = crm_kit::telemetry::http_span(&method, &path, req.headers());
    span.record("request_id", request_id.as_str());
    let observed = crm_kit::metrics::HttpRequest::start("gateway", &method);
    let caller = Caller {
        request_id: request_id.clone(),
        ip: ip.clone(),
    };
    let (req, mut body) = {
        let (parts, incoming) = req.into_parts();
        let (body, give_back) = RequestBody::new(incoming);
        (Request::from_parts(parts, body), give_back)
    };
    let mut response = if draining {
        shutting_down(&gateway, grpc, &caller)
    } else {
        match CatchPanic::new(dispatch(&gateway, req, &caller, origin.as_ref()).instrument(span.clone())).await {
            Ok(response) => response,
            Err(panic) => {
                span.in_scope(|| {
                    tracing::error!(
                        panic = %crate::connections::panic_message(&*panic),
                        http.method = %method,
                        url.path = %path,
                        "the gateway panicked while handling a request"
                    );
                });
                internal_error(&gateway, grpc, &caller)
            }
        }
    };
    // A request refused before its body was read: the body is drained when it is short, so
    // the connection can carry the next request; otherwise the answer says the connection
    // closes, and a pooling client does not send its next request into a closed socket.
    if http1 && !body.ended.load(std::sync::atomic::Ordering::SeqCst) {
        let close = draining
            || response.headers().contains_key(header::CONNECTION)
            || declared.is_some_and(|n| n > DRAIN_BYTES)
            || match body.returned.try_recv() {
                Ok(unread) => !drain(unread).await,
                Err(_) => true,
            };
        if close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            activity.linger.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    // A request accepted before the shutdown and answered during it: its client is told not
    // to send another on this connection, which is about to close.
    if http1 && (draining || activity.shutting_down()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-request-id", v);
    }
    if let Some(origin) = origin.as_ref().filter(|o| cors_allows(&gateway.config, o)) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "grpc-status, grpc-message, grpc-status-details-bin, x-request-id, retry-after, content-disposition",
            ),
        );
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
    let status = response.status();
    let employee = response
        .extensions()
        .get::<Employee>()
        .map(|e| e.0.clone())
        .unwrap_or_default();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    let elapsed = started.elapsed();
    if let Some(observed) = observed {
        observed.finish(
            response.extensions().get::<crm_kit::metrics::HttpRoute>(),
            status.as_u16(),
            elapsed,
        );
    }
    let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let grpc_status = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Failures and slow requests at INFO (server faults at WARN), the rest at DEBUG.
    let failed = status.as_u16() >= 400 || !matches!(grpc_status, "" | "0");
    let level = if status.is_server_error() || matches!(grpc_status, "2" | "4" | "12" | "13" | "14" | "15") {
        tracing::Level::WARN
    } else if failed || elapsed >= Duration::from_millis(gateway.config.slow_call_ms) {
        tracing::Level::INFO
    } else {
        tracing::Level::DEBUG
    };
    span.in_scope(|| {
        macro_rules! access {
            ($level:expr) => {
                tracing::event!(
                    target: crm_kit::telemetry::ACCESS_TARGET,
                    $level,
                    http.method = %method,
                    url.path = %crm_kit::telemetry::mask(&path),
                    http.status = status.as_u16(),
                    grpc.status = grpc_status,
                    client.ip = %ip,
                    enduser.id = %employee,
                    latency_us,
                    "request"
                )
            };
        }
        match level {
            tracing::Level::WARN => access!(tracing::Level::WARN),
            tracing::Level::INFO => access!(tracing::Level::INFO),
            _ => access!(tracing::Level::DEBUG),
        }
    });
    response
}

/// Reads and drops what is left of a request body, within [`DRAIN_BYTES`] and [`DRAIN_TIME`];
/// whether it ended in time.
async fn drain(mut body: Incoming) -> bool {
    use http_body_util::BodyExt as _;
    let read = async {
        let mut total = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                total += data.len() as u64;
                if total > DRAIN_BYTES {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read).await.unwrap_or(false)
}

/// Which protocol a request speaks, for answers made before it is routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GrpcKind {
    Rest,
    Grpc,
    /// gRPC-Web, with its content type (binary or text).
    Web(&'static str),
}

fn grpc_kind(headers: &http::HeaderMap) -> GrpcKind {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct.starts_with("application/grpc-web-text") {
        GrpcKind::Web("application/grpc-web-text+proto")
    } else if ct.starts_with("application/grpc-web") {
        GrpcKind::Web("application/grpc-web+proto")
    } else if ct.starts_with("application/grpc") {
        GrpcKind::Grpc
    } else {
        GrpcKind::Rest
    }
}

/// The answer to a request the gateway failed on itself (a panic): 500 INTERNAL.
fn internal_error(gateway: &Gateway, kind: GrpcKind, caller: &Caller) -> Response<Body> {
    refusal(
        gateway,
        kind,
        caller,
        tonic::Status::internal(format!(
            "internal error in the gateway; it has been logged with request id {}",
            caller.request_id
        )),
    )
}

/// The answer to a request that arrives while the gateway drains: 503 UNAVAILABLE.
fn shutting_down(gateway: &Gateway, kind: GrpcKind, caller: &Caller) -> Response<Body> {
    refusal(
        gateway,
        kind,
        caller,
        tonic::Status::unavailable("the gateway is shutting down; retry"),
    )
}

fn refusal(gateway: &Gateway, kind: GrpcKind, caller: &Caller, status: tonic::Status) -> Response<Body> {
    match kind {
        GrpcKind::Rest => crate::rest::problem(gateway, &status, caller),
        GrpcKind::Grpc => status.into_http(),
        GrpcKind::Web(content_type) => {
            // Trailers-only: the status in the headers, which gRPC-Web clients read.
            let mut response: Response<Body> = status.into_http();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
    }
}

async fn dispatch(
    gateway: &Arc<Gateway>,
    req: Request<RequestBody>,
    caller: &Caller,
    origin: Option<&HeaderValue>,
) -> Response<Body> {
    // A fault on demand, for the tests that prove a panic is answered and logged.
    #[cfg(feature = "testing")]
    if req.headers().contains_key(crate::TEST_PANIC_HEADER) {
        panic!("a test asked the gateway to panic");
    }
    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return preflight(&gateway.config, origin);
    }
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => return json(StatusCode::OK, Bytes::from_static(br#"{"status":"SERVING"}"#)),
        (&Method::GET, "/readyz") => return ready(gateway).await,
        _ => {}
    }
    if is_grpc(req.headers()) {
        // Counted against the address inside, where a refusal can be a gRPC(-Web) status.
        return crate::grpc::serve(gateway.clone(), req, caller.clone()).await;
    }
    if let Err(wait) = gateway.per_ip.check(&caller.ip) {
        return crate::rest::problem(
            gateway,
            &crate::rate_limited("per_ip", "requests from this address", wait),
            caller,
        );
    }
    if req.method() == Method::GET && req.uri().path() == "/openapi.json" {
        return json(StatusCode::OK, gateway.openapi.clone());
    }
    if let Some(page) = crate::console::serve(req.method(), req.uri().path()) {
        return page;
    }
    crate::rest::serve(gateway, req, caller).await
}

/// Whether a request speaks gRPC or gRPC-Web.
fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Body::new(http_body_util::Full::new(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The caller's request id when it is a sensible one, else a new one.
fn request_id(headers: &http::HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// The client's address: the peer, or the last `X-Forwarded-For` hop when trusted.
fn client_ip(headers: &http::HeaderMap, peer: SocketAddr, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(last) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return last.to_string();
    }
    peer.ip().to_string()
}

fn cors_allows(config: &Config, origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    config
        .cors_origins
        .iter()
        .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
}

fn preflight(config: &Config, origin: Option<&HeaderValue>) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    if origin.is_some_and(|o| cors_allows(config, o)) {
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "authorization, content-type, x-request-id, traceparent, tracestate, x-grpc-web, x-user-agent, grpc-timeout, connect-protocol-version, connect-timeout-ms",
            ),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    response
}

/// Ready when the gateway can verify tokens (it holds identity's signing keys): a service
/// behind it being down is reported, not a reason to take the gateway out of rotation (every
/// replica would leave at once and callers would get connection errors instead of the JSON
/// 503 of the call that needs that service). The body tells each service's state, and the
/// overall status is DEGRADED when one is not serving.
async fn ready(gateway: &Gateway) -> Response<Body> {
    use tonic_health::pb::health_check_response::ServingStatus;
    if !gateway.verifier.has_keys() {
        gateway.verifier.prefetch().await;
    }
    let keys = gateway.verifier.has_keys();
    let served: std::collections::BTreeSet<&str> = gateway.routes.all().map(|r| r.service.as_str()).collect();
    // Asked at once, each with its own deadline, so the answer comes within one deadline.
    let checks: Vec<_> = gateway
        .upstreams
        .iter()
        .filter(|(n, _, _)| served.contains(n))
        .map(|(name, _, channel)| {
            let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
            let name = name.to_string();
            tokio::spawn(async move {
                let check = client.check(tonic_health::pb::HealthCheckRequest { service: String::new() });
                let state = match tokio::time::timeout(Duration::from_millis(1500), check).await {
                    Ok(Ok(r)) if r.get_ref().status == ServingStatus::Serving as i32 => "SERVING",
                    Ok(Ok(_)) => "NOT_SERVING",
                    Ok(Err(_)) | Err(_) => "UNREACHABLE",
                };
                (name, state)
            })
        })
        .collect();
    let mut all = true;
    let mut report = serde_json::Map::new();
    for check in checks {
        let (name, state) = check.await.unwrap_or_else(|_| (String::new(), "UNREACHABLE"));
        all &= state == "SERVING";
        report.insert(name, serde_json::Value::String(state.into()));
    }
    let status = match (keys, all) {
        (false, _) => "NOT_SERVING",
        (true, false) => "DEGRADED",
        (true, true) => "SERVING",
    };
    let doc = serde_json::json!({
        "status": status,
        "signingKeys": keys,
        "services": report,
    });
    json(
        if keys {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Bytes::from(serde_json::to_vec(&doc).unwrap_or_default()),
    )
}
