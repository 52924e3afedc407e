//! The gateway: the one front door for web clients and outside integrations.
//!
//! - **REST/JSON** for every RPC with a `google.api.http` option, transcoded through the
//!   descriptor set (`routes` reads the rules, `transcode` builds requests and writes
//!   responses with the proto3 JSON mapping, `rest` serves them); `GET /openapi.json` is
//!   generated from the same descriptors (`openapi`). CSV uploads stream into client-streaming
//!   RPCs and CSV downloads stream out of server-streaming ones.
//! - **gRPC and gRPC-Web** pass through to the owning service (`grpc`), routed by package
//!   (`crm.customers.v1` → customers).
//! - Every request: a request id, CORS, the caller's W3C trace context carried on, a span and
//!   an access log line. Every call to a CRM method: the bearer token verified and the method's
//!   permission checked with the same [`crm_kit::auth::Verifier`] the services use (they check
//!   again), rate limits per IP and per employee (stricter for the public methods: sign-in,
//!   refresh), body and page size limits. Only an allow-list of headers reaches a service, so
//!   identity headers from outside never do.
//!
//! - Every connection (`connections`, driven by `server`): capped in all and per peer
//!   address, held to header, body, idle and send timeouts and HTTP/2 keepalive and stream
//!   limits; a panic in a handler is answered 500/INTERNAL; a shutdown drains (accepted
//!   requests finish, new ones get 503 with `Connection: close`).
//!
//! Stateless: any number of replicas can run behind a load balancer.

pub mod limits;
pub mod openapi;
pub mod problem;
mod rest;
pub mod routes;
pub mod transcode;
pub mod upstream;

mod connections;
mod console;
mod grpc;
mod server;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use crm_kit::auth::{Principal, Verifier};
use crm_kit::config::LogFormat;
use crm_kit::errors::reason;
use prost_reflect::DescriptorPool;

pub use server::{run, run_standalone};

/// The gateway's port.
pub const DEFAULT_PORT: u16 = 8080;

/// The services and their default ports (also the defaults of their own binaries).
pub const DEFAULT_UPSTREAMS: &[(&str, u16)] = &[
    ("identity", 50051),
    ("customers", 50052),
    ("sales", 50053),
    ("orders", 50054),
    ("warehouse", 50055),
    ("finance", 50056),
    ("purchasing", 50057),
    ("aftersales", 50058),
    ("workspace", 50059),
];

/// Settings of the gateway.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "crm-gateway",
    about = "The CRM's front door: REST/JSON, OpenAPI, gRPC-Web and gRPC"
)]
pub struct Config {
    /// Address to listen on (HTTP/1.1 and HTTP/2, cleartext).
    #[arg(long, env = "CRM_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Where each service is, as `name=url` (e.g. `customers=http://customers:50052`),
    /// comma-separated in the environment; services not named use 127.0.0.1 and their
    /// default port.
    #[arg(long = "upstream", env = "CRM_GATEWAY_UPSTREAMS", value_delimiter = ',')]
    pub upstreams: Vec<String>,
    /// Requests per second from one IP address (bursts of twice that); 0: no limit.
    #[arg(long, env = "CRM_GATEWAY_RATE_PER_IP", default_value_t = 200.0)]
    pub rate_per_ip: f64,
    /// Requests per second from one signed-in employee (bursts of twice that); 0: no limit.
    #[arg(long, env = "CRM_GATEWAY_RATE_PER_EMPLOYEE", default_value_t = 50.0)]
    pub rate_per_employee: f64,
    /// Calls per minute from one IP address to the methods that need no sign-in (sign-in,
    /// token refresh, sign-out, the key set); 0: no limit.
    #[arg(long, env = "CRM_GATEWAY_PUBLIC_RATE_PER_MINUTE", default_value_t = 30.0)]
    pub public_rate_per_minute: f64,
    /// Bursts allowed on the public methods from one IP address.
    #[arg(long, env = "CRM_GATEWAY_PUBLIC_BURST", default_value_t = 10.0)]
    pub public_burst: f64,
    /// Largest JSON request body, in bytes.
    #[arg(long, env = "CRM_GATEWAY_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest CSV upload, in bytes (streamed, never held whole).
    #[arg(long, env = "CRM_GATEWAY_MAX_UPLOAD_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Largest page a REST list returns; larger `page_size` values are coerced down (AIP-158).
    #[arg(long, env = "CRM_GATEWAY_MAX_PAGE_SIZE", default_value_t = 500)]
    pub max_page_size: i64,
    /// Longest a unary REST call may take at the service, in seconds.
    #[arg(long, env = "CRM_GATEWAY_UPSTREAM_TIMEOUT_SECONDS", default_value_t = 30)]
    pub upstream_timeout_seconds: u64,
    /// Origins allowed to call from a browser (CORS), comma-separated; `*` for any. Empty:
    /// no cross-origin calls.
    #[arg(long, env = "CRM_GATEWAY_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Take the client address from the last `X-Forwarded-For` entry (set this behind a load
    /// balancer or ingress that appends it, and only then).
    #[arg(long, env = "CRM_GATEWAY_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// On shutdown: the most seconds in-flight requests get to finish.
    #[arg(long, env = "CRM_SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,
    /// Seconds a new connection gets to send its first bytes, and an HTTP/1.1 request to send
    /// its whole head; also how long an HTTP/1.1 connection waits for its next request.
    #[arg(long, env = "CRM_GATEWAY_HEADER_TIMEOUT_SECONDS", default_value_t = 15)]
    pub header_timeout_seconds: u64,
    /// Seconds a JSON request body gets to arrive whole, and an upload between two pieces;
    /// past it the request is answered 408 and the connection closed.
    #[arg(long, env = "CRM_GATEWAY_BODY_TIMEOUT_SECONDS", default_value_t = 30)]
    pub body_timeout_seconds: u64,
    /// Seconds a connection with no request in progress stays open (HTTP/2: then GOAWAY).
    #[arg(long, env = "CRM_GATEWAY_IDLE_TIMEOUT_SECONDS", default_value_t = 120)]
    pub idle_timeout_seconds: u64,
    /// Seconds a response may wait on a client that reads nothing before the connection is
    /// closed (a slow or stalled reader holds no buffers longer).
    #[arg(long, env = "CRM_GATEWAY_SEND_TIMEOUT_SECONDS", default_value_t = 60)]
    pub send_timeout_seconds: u64,
    /// Most connections open at once; more are closed as they are accepted (also kept below
    /// the process's open-file limit).
    #[arg(long, env = "CRM_GATEWAY_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Most connections open at once from one peer address; 0: no limit. Not applied with
    /// `--trust-forwarded-for`, where the peer is the load balancer.
    #[arg(long, env = "CRM_GATEWAY_MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: usize,
    /// Seconds between HTTP/2 pings on a connection; a peer that does not answer one within
    /// as long again is disconnected. 0: no pings.
    #[arg(long, env = "CRM_GATEWAY_H2_KEEPALIVE_SECONDS", default_value_t = 20)]
    pub h2_keepalive_seconds: u64,
    /// Most concurrent HTTP/2 streams (calls) on one connection.
    #[arg(long, env = "CRM_GATEWAY_H2_MAX_STREAMS", default_value_t = 100)]
    pub h2_max_concurrent_streams: u32,
    /// Largest request head (request line and headers, HTTP/1.1; header list, HTTP/2), in bytes.
    #[arg(long, env = "CRM_GATEWAY_MAX_HEADER_BYTES", default_value_t = 64 * 1024)]
    pub max_header_bytes: usize,
    /// Milliseconds between two polls of identity's token revocations (a deactivated
    /// employee's tokens are refused here at most about this long after the deactivation).
    #[arg(long, env = "CRM_REVOCATION_POLL_MS", default_value_t = 1000)]
    pub revocation_poll_ms: u64,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// Address of the metrics port (Prometheus text at `/metrics`); unset: no metrics port.
    #[arg(long, env = "CRM_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Requests at least this many milliseconds long get an access line at INFO; faster ones
    /// that succeed are logged at DEBUG (target `crm::access`).
    #[arg(long, env = "CRM_SLOW_CALL_MS", default_value_t = 1000)]
    pub slow_call_ms: u64,
}

impl Config {
    /// Every default, listening on `listen`, with upstreams on loopback at their default ports.
    pub fn local(listen: SocketAddr) -> Config {
        Config {
            listen: Some(listen),
            upstreams: Vec::new(),
            rate_per_ip: 200.0,
            rate_per_employee: 50.0,
            public_rate_per_minute: 30.0,
            public_burst: 10.0,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 512 * 1024 * 1024,
            max_page_size: 500,
            upstream_timeout_seconds: 30,
            cors_origins: Vec::new(),
            trust_forwarded_for: false,
            shutdown_grace_seconds: 20,
            header_timeout_seconds: 15,
            body_timeout_seconds: 30,
            idle_timeout_seconds: 120,
            send_timeout_seconds: 60,
            max_connections: 10_000,
            max_connections_per_ip: 256,
            h2_keepalive_seconds: 20,
            h2_max_concurrent_streams: 100,
            max_header_bytes: 64 * 1024,
            revocation_poll_ms: 1000,
            log_format: LogFormat::Auto,
            metrics_addr: None,
            slow_call_ms: 1000,
        }
    }

    /// Points `service` at `url`.
    pub fn with_upstream(mut self, service: &str, url: impl std::fmt::Display) -> Config {
        self.upstreams.push(format!("{service}={url}"));
        self
    }

    /// Service name → URL: the defaults with the configured ones on top.
    pub fn upstream_urls(&self) -> crm_kit::Result<BTreeMap<String, String>> {
        let mut urls: BTreeMap<String, String> = DEFAULT_UPSTREAMS
            .iter()
            .map(|(name, port)| (name.to_string(), format!("http://127.0.0.1:{port}")))
            .collect();
        for entry in self.upstreams.iter().filter(|e| !e.trim().is_empty()) {
            let (name, url) = entry.split_once('=').ok_or_else(|| {
                crm_kit::Error::invalid("upstream", reason::MALFORMED, format!("{entry:?} is not name=url"))
            })?;
            urls.insert(name.trim().to_string(), url.trim().to_string());
        }
        Ok(urls)
    }
}

/// Everything a request needs, built once at start.
pub struct Gateway {
    config: Config,
    pool: DescriptorPool,
    routes: routes::Routes,
    openapi: Bytes,
    upstreams: upstream::Upstreams,
    verifier: Arc<Verifier>,
    per_ip: limits::Limiter,
    per_employee: limits::Limiter,
    public: limits::Limiter,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Who is calling, as far as the gateway knows before the service answers.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub request_id: String,
    pub ip: String,
}

impl Gateway {
    /// Reads the contracts and prepares routes, the OpenAPI document, channels and limits.
    pub fn new(config: Config) -> crm_kit::Result<Gateway> {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET)
            .map_err(|e| crm_kit::Error::Internal(format!("descriptor set: {e}")))?;
        let routes = routes::Routes::from_pool(&pool).map_err(crm_kit::Error::Internal)?;
        let openapi = Bytes::from(serde_json::to_vec(&openapi::document(&pool, &routes)).unwrap_or_default());
        let urls = config.upstream_urls()?;
        let identity = urls
            .get("identity")
            .cloned()
            .ok_or_else(|| crm_kit::Error::Internal("no identity upstream".into()))?;
        let upstreams = upstream::Upstreams::new(&urls)?;
        let verifier = Verifier::from_identity(&identity)?;
        Ok(Gateway {
            per_ip: limits::Limiter::new(limits::Rate::per_second(config.rate_per_ip)),
            per_employee: limits::Limiter::new(limits::Rate::per_second(config.rate_per_employee)),
            public: limits::Limiter::new(limits::Rate::per_minute(
                config.public_rate_per_minute,
                config.public_burst,
            )),
            config,
            pool,
            routes,
            openapi,
            upstreams,
            verifier,
        })
    }

    /// Authenticates and authorizes a call to a method with rule `access`, and counts it
    /// against the caller's rate limits.
    pub(crate) async fn authorize(
        &self,
        access: &crm_proto::MethodAccess,
        headers: &http::HeaderMap,
        caller: &Caller,
    ) -> Result<Option<Principal>, tonic::Status> {
        if access.public {
            self.public
                .check(&caller.ip)
                .map_err(|wait| rate_limited("public", "calls without signing in from this address", wait))?;
        }
        let principal = self.verifier.authorize(access, headers).await?;
        if let Some(p) = &principal {
            tracing::Span::current().record("enduser.id", p.employee_id.as_str());
            self.per_employee
                .check(&p.employee_id)
                .map_err(|wait| rate_limited("per_employee", "calls from this employee", wait))?;
        }
        Ok(principal)
    }

    /// How long a request body may take (see [`Config::body_timeout_seconds`]).
    fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.config.body_timeout_seconds.max(1))
    }

    /// The upstream timeout of unary calls.
    fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.config.upstream_timeout_seconds.max(1))
    }
}

/// RESOURCE_EXHAUSTED with the wait in RetryInfo (and so in `Retry-After`).
/// The refusal of a request over `limiter`'s rate (counted in the metrics).
pub(crate) fn rate_limited(limiter: &'static str, what: &str, wait: Duration) -> tonic::Status {
    crm_kit::metrics::rate_limited("gateway", limiter);
    crm_kit::Error::ResourceExhausted {
        reason: "RATE_LIMITED",
        message: format!("too many {what}; retry in {} ms", wait.as_millis().max(1)),
        retry_after: Some(wait),
    }
    .into()
}

/// Methods services call on each other directly and the gateway never forwards: the event
/// feeds and handover counts (`crm.events.v1`), service tokens, which are issued against
/// the shared service secret and have no business on the internet-facing port, and the token
/// revocations verifiers poll (who was deactivated lately is not the internet's business).
pub const INTERNAL: &[&str] = &[
    "/crm.events.v1.",
    "/crm.identity.v1.IdentityService/IssueServiceToken",
    "/crm.identity.v1.IdentityService/ListRevocations",
];

/// With the `testing` feature, a request carrying this header makes the gateway's handler
/// panic (so tests can see a panic answered 500/INTERNAL and logged).
#[cfg(feature = "testing")]
pub const TEST_PANIC_HEADER: &str = "x-crm-test-panic";

/// Whether a gRPC path is internal (see [`INTERNAL`]).
pub fn is_internal(path: &str) -> bool {
    INTERNAL.iter().any(|p| path.starts_with(p))
}
