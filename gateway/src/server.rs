//! The HTTP server: HTTP/1.1 and HTTP/2 on one port, and what every request goes through
//! (request id, span, CORS, the per-IP limit, the access log) before it is routed to REST,
//! gRPC/gRPC-Web, health or the OpenAPI document.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tonic::body::Body;
use tracing::Instrument;

use crate::{Caller, Config, DEFAULT_PORT, Gateway};

/// Binds the configured address and serves until `shutdown` completes.
pub async fn run_standalone(config: Config, shutdown: impl Future<Output = ()> + Send) -> crm_kit::Result<()> {
    let addr = config
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)));
    let listener = crm_kit::serve::bind(addr).await?;
    run(config, listener, shutdown).await
}

/// Serves on `listener` until `shutdown` completes; then stops accepting and gives in-flight
/// requests the grace period to finish.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> crm_kit::Result<()> {
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let poll = Duration::from_millis(config.revocation_poll_ms.max(10));
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
    tracing::info!(%addr, routes = gateway.routes.all().count(), "gateway serving REST, gRPC-Web and gRPC");
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let gateway = gateway.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let gateway = gateway.clone();
            async move { Ok::<_, Infallible>(handle(gateway, req, peer).await) }
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    tracing::info!("gateway shutting down: draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => tracing::warn!("grace period over; abandoning unfinished requests"),
    }
    tracing::info!("gateway stopped");
    Ok(())
}

/// A marker in a response's extensions: the employee the request was made as.
#[derive(Debug, Clone)]
pub(crate) struct Employee(pub String);

async fn handle(gateway: Arc<Gateway>, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let started = Instant::now();
    let request_id = request_id(req.headers());
    let ip = client_ip(req.headers(), peer, gateway.config.trust_forwarded_for);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let span = crm_kit::telemetry::http_span(&method, &path, req.headers());
    span.record("request_id", request_id.as_str());
    let caller = Caller {
        request_id: request_id.clone(),
        ip: ip.clone(),
    };
    let mut response = dispatch(&gateway, req, &caller, origin.as_ref())
        .instrument(span.clone())
        .await;

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
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| {
        tracing::info!(
            http.method = %method,
            url.path = %path,
            http.status = status.as_u16(),
            grpc.status = response.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or(""),
            client.ip = %ip,
            enduser.id = %employee,
            latency_us,
            "request"
        );
    });
    response
}

async fn dispatch(
    gateway: &Arc<Gateway>,
    req: Request<Incoming>,
    caller: &Caller,
    origin: Option<&HeaderValue>,
) -> Response<Body> {
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
            &crate::rate_limited("requests from this address", wait),
            caller,
        );
    }
    if req.method() == Method::GET && req.uri().path() == "/openapi.json" {
        return json(StatusCode::OK, gateway.openapi.clone());
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
