//! Settings every service shares: environment first (`CRM_*`), clap flags on top, defaults that
//! work for the suite on a laptop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How log lines are written.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Pretty on a terminal, JSON otherwise.
    #[default]
    Auto,
    Pretty,
    Json,
}

/// Settings of one service process.
#[derive(clap::Args, Debug, Clone)]
pub struct ServiceConfig {
    /// Address to listen on for gRPC; defaults to the service's own port on 127.0.0.1.
    #[arg(long, env = "CRM_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// `sqlite://path` or `postgres://...`; defaults to a SQLite file in the data directory.
    #[arg(long, env = "CRM_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where SQLite files live when no database URL is given.
    #[arg(long, env = "CRM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Maximum database connections.
    #[arg(long, env = "CRM_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// Secret that signs page tokens; set the same value on every replica.
    #[arg(
        long,
        env = "CRM_PAGE_TOKEN_SECRET",
        default_value = "crm-dev-page-token-secret",
        hide_env_values = true
    )]
    pub page_token_secret: String,
    /// Largest request message accepted, in bytes.
    #[arg(long, env = "CRM_MAX_REQUEST_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_request_bytes: usize,
    /// Longest a single call may run, in seconds; 0 sets no limit (a streamed import of a
    /// million rows runs for minutes, so the default leaves limits to the caller's deadline).
    #[arg(long, env = "CRM_REQUEST_TIMEOUT_SECONDS", default_value_t = 0)]
    pub request_timeout_seconds: u64,
    /// On shutdown: seconds health reports NOT_SERVING before the listener closes.
    #[arg(long, env = "CRM_SHUTDOWN_DRAIN_DELAY_SECONDS", default_value_t = 0)]
    pub shutdown_drain_delay_seconds: u64,
    /// On shutdown: the most seconds in-flight calls get to finish.
    #[arg(long, env = "CRM_SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,
    /// The identity service, whose public keys verify every caller's token.
    #[arg(long, env = "CRM_IDENTITY_URL", default_value = "http://127.0.0.1:50051")]
    pub identity_url: String,
    /// The secret services present to identity for their own (service) tokens, which event
    /// consumers use to follow other services' feeds. Set the same value on every service.
    #[arg(
        long,
        env = "CRM_SERVICE_SECRET",
        default_value = DEV_SERVICE_SECRET,
        hide_env_values = true
    )]
    pub service_secret: String,
    /// Seconds a replica's claim to follow an event feed lasts unless renewed: after a crash,
    /// another replica (or the restarted one) takes over within this time.
    #[arg(long, env = "CRM_EVENT_LEASE_SECONDS", default_value_t = 15)]
    pub event_lease_seconds: u64,
    /// Milliseconds between two polls of identity's token revocations: a deactivated
    /// employee's unexpired tokens are refused here at most about this long after identity
    /// commits the deactivation.
    #[arg(long, env = "CRM_REVOCATION_POLL_MS", default_value_t = 1000)]
    pub revocation_poll_ms: u64,
    /// Open connections the gRPC port holds at most; past it new ones are closed at once.
    #[arg(long, env = "CRM_GRPC_MAX_CONNECTIONS", default_value_t = 4096)]
    pub grpc_max_connections: usize,
    /// Concurrent HTTP/2 streams (calls) one connection may open.
    #[arg(long, env = "CRM_GRPC_MAX_CONCURRENT_STREAMS", default_value_t = 1024)]
    pub grpc_max_concurrent_streams: u32,
    /// Calls of one connection served at once; more wait their turn.
    #[arg(long, env = "CRM_GRPC_CONCURRENCY_PER_CONNECTION", default_value_t = 1024)]
    pub grpc_concurrency_per_connection: usize,
    /// Seconds between HTTP/2 pings that check a connection's peer.
    #[arg(long, env = "CRM_GRPC_KEEPALIVE_INTERVAL_SECONDS", default_value_t = 30)]
    pub grpc_keepalive_interval_seconds: u64,
    /// Seconds a ping's answer may take before the connection is closed.
    #[arg(long, env = "CRM_GRPC_KEEPALIVE_TIMEOUT_SECONDS", default_value_t = 10)]
    pub grpc_keepalive_timeout_seconds: u64,
    /// Idle seconds before TCP keepalive probes start on an accepted socket.
    #[arg(long, env = "CRM_TCP_KEEPALIVE_SECONDS", default_value_t = 60)]
    pub tcp_keepalive_seconds: u64,
    /// Seconds a new connection may stay silent before it is closed.
    #[arg(long, env = "CRM_GRPC_FIRST_BYTE_TIMEOUT_SECONDS", default_value_t = 10)]
    pub grpc_first_byte_timeout_seconds: u64,
    /// The business's base currency (ISO 4217): what totals, reports and base amounts are kept in.
    #[arg(long, env = "CRM_BASE_CURRENCY", default_value = crate::money::DEFAULT_BASE_CURRENCY)]
    pub base_currency: String,
    /// Days published events are kept once every consumer has applied them (0: kept for ever).
    #[arg(long, env = "CRM_OUTBOX_RETENTION_DAYS", default_value_t = 30)]
    pub outbox_retention_days: u64,
    /// Days after which a consumer not heard from (a removed service) no longer holds back the
    /// pruning of events it has not applied.
    #[arg(long, env = "CRM_OUTBOX_CONSUMER_EXPIRY_DAYS", default_value_t = 90)]
    pub outbox_consumer_expiry_days: u64,
    /// How often, in seconds, old events are pruned.
    #[arg(long, env = "CRM_OUTBOX_PRUNE_INTERVAL_SECONDS", default_value_t = 3600)]
    pub outbox_prune_interval_seconds: u64,
    /// Address of the metrics port (Prometheus text at `/metrics`); unset: no metrics port.
    #[arg(long, env = "CRM_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Records metrics; `false` turns every instrument of the process off.
    #[arg(long, env = "CRM_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Milliseconds between two samples of the event feed's figures (outbox backlog, head,
    /// each consumer's lag).
    #[arg(long, env = "CRM_METRICS_SAMPLE_MS", default_value_t = 5000)]
    pub metrics_sample_ms: u64,
    /// Calls at least this many milliseconds long get an access line at INFO; faster
    /// successful calls are logged at DEBUG (target `crm::access`).
    #[arg(long, env = "CRM_SLOW_CALL_MS", default_value_t = 1000)]
    pub slow_call_ms: u64,
}

/// The service secret of a laptop install when none is set. The suite replaces it with a
/// random one per run; a cluster sets its own from a Secret.
pub const DEV_SERVICE_SECRET: &str = "crm-dev-service-secret";

/// A random secret (32 bytes, hex), e.g. the suite's service secret for one run.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ServiceConfig {
    /// Settings with every default, for a service listening on `port`.
    pub fn for_port(port: u16) -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
            database_url: None,
            data_dir: PathBuf::from("./data"),
            db_max_connections: 16,
            page_token_secret: "crm-dev-page-token-secret".into(),
            max_request_bytes: 4 * 1024 * 1024,
            request_timeout_seconds: 0,
            shutdown_drain_delay_seconds: 0,
            shutdown_grace_seconds: 20,
            identity_url: "http://127.0.0.1:50051".into(),
            service_secret: DEV_SERVICE_SECRET.into(),
            event_lease_seconds: 15,
            revocation_poll_ms: 1000,
            grpc_max_connections: 4096,
            grpc_max_concurrent_streams: 1024,
            grpc_concurrency_per_connection: 1024,
            grpc_keepalive_interval_seconds: 30,
            grpc_keepalive_timeout_seconds: 10,
            tcp_keepalive_seconds: 60,
            grpc_first_byte_timeout_seconds: 10,
            base_currency: crate::money::DEFAULT_BASE_CURRENCY.into(),
            outbox_retention_days: 30,
            outbox_consumer_expiry_days: 90,
            outbox_prune_interval_seconds: 3600,
            metrics_addr: None,
            metrics: true,
            metrics_sample_ms: 5000,
            slow_call_ms: 1000,
        }
    }

    /// How long published events are kept (`None`: for ever).
    pub fn outbox_retention(&self) -> Option<crate::events::retention::Retention> {
        const DAY: u64 = 86_400;
        (self.outbox_retention_days > 0).then(|| crate::events::retention::Retention {
            keep: Duration::from_secs(self.outbox_retention_days.saturating_mul(DAY)),
            consumer_expiry: Duration::from_secs(self.outbox_consumer_expiry_days.max(1).saturating_mul(DAY)),
        })
    }

    /// How often old events are pruned.
    pub fn outbox_prune_interval(&self) -> Duration {
        Duration::from_secs(self.outbox_prune_interval_seconds.max(1))
    }

    /// The base currency, upper-cased; a start-up error when it is not a supported code.
    pub fn base_currency(&self) -> crate::Result<String> {
        let currency = self.base_currency.trim().to_ascii_uppercase();
        if crate::money::minor_units(&currency).is_none() {
            return Err(crate::Error::Internal(format!(
                "CRM_BASE_CURRENCY {currency} is not a supported currency"
            )));
        }
        Ok(currency)
    }

    /// How often the token verifier polls identity's revocations.
    pub fn revocation_poll(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.revocation_poll_ms.max(10))
    }

    /// The listen address, or 127.0.0.1 on the service's default port.
    pub fn listen_or(&self, default_port: u16) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)))
    }

    /// The database URL, or a SQLite file named after the service in the data directory.
    pub fn database_url_or(&self, service: &str) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            let path = self.data_dir.join(format!("{service}.db"));
            format!("sqlite://{}", path.display())
        })
    }

    /// The server-side limit on one call, if any.
    pub fn request_timeout(&self) -> Option<Duration> {
        (self.request_timeout_seconds > 0).then(|| Duration::from_secs(self.request_timeout_seconds))
    }

    /// A follower of `feed` at `url` with this service's credentials and lease.
    pub fn follow(&self, service: &str, feed: &str, url: &str, types: Vec<String>) -> crate::events::Follow {
        let credentials = std::sync::Arc::new(crate::auth::ServiceCredentials::new(
            &self.identity_url,
            service,
            &self.service_secret,
        ));
        let mut follow = crate::events::Follow::new(feed, url, types, credentials);
        follow.lease_ttl = Duration::from_secs(self.event_lease_seconds.max(1));
        follow.consumer = service.to_string();
        follow
    }

    /// The connection and stream limits of the gRPC port.
    pub fn connection_limits(&self) -> crate::limits::ConnectionLimits {
        crate::limits::ConnectionLimits {
            max_connections: self.grpc_max_connections.max(1),
            max_concurrent_streams: self.grpc_max_concurrent_streams.max(1),
            concurrency_per_connection: self.grpc_concurrency_per_connection.max(1),
            http2_keepalive_interval: Duration::from_secs(self.grpc_keepalive_interval_seconds.max(1)),
            http2_keepalive_timeout: Duration::from_secs(self.grpc_keepalive_timeout_seconds.max(1)),
            tcp_keepalive: Duration::from_secs(self.tcp_keepalive_seconds.max(1)),
            first_byte_timeout: Duration::from_secs(self.grpc_first_byte_timeout_seconds.max(1)),
        }
    }

    /// The shutdown timings.
    pub fn shutdown(&self) -> crate::serve::ShutdownTimings {
        crate::serve::ShutdownTimings {
            drain_delay: Duration::from_secs(self.shutdown_drain_delay_seconds),
            grace: Duration::from_secs(self.shutdown_grace_seconds),
        }
    }
}
