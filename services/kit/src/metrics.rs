//! Metrics for every service and the gateway, named after OpenTelemetry's semantic conventions
//! (RPC, HTTP, database client connections), plus the CRM's own (`crm.events.*`, `crm.auth.*`,
//! `crm.import.*`). One meter provider per process: scraped as Prometheus text on the metrics
//! port ([`serve`], `CRM_METRICS_ADDR`) and pushed over OTLP when an endpoint is configured
//! (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`).
//!
//! Every series carries `crm.service` (`crm_service` in Prometheus), so one process running
//! several services (the suite) stays readable. The kit records what it sees itself (calls,
//! pools, feeds, health); services report what only they know through the small functions here
//! ([`sign_in_failed`], [`import_rows`], ...).
//!
//! The Prometheus names follow OpenTelemetry's translation: dots become underscores, the unit
//! `s` becomes the suffix `_seconds`, counters end in `_total`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, Weak};
use std::time::Duration;

use opentelemetry::metrics::{Counter, Gauge, Histogram, MeterProvider as _, ObservableGauge, UpDownCounter};
use opentelemetry::{KeyValue, Value};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality};

/// Bucket bounds for durations in seconds: OpenTelemetry's recommendation for
/// `rpc.server.call.duration` and `http.server.request.duration`.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The process's metrics: the provider, the reader the metrics port collects from, and the
/// instruments the kit records into.
pub struct Metrics {
    provider: SdkMeterProvider,
    reader: Arc<ManualReader>,
    pub(crate) rpc_duration: Histogram<f64>,
    pub(crate) rpc_active: UpDownCounter<i64>,
    http_duration: Histogram<f64>,
    http_active: UpDownCounter<i64>,
    pool_wait: Histogram<f64>,
    outbox_backlog: Gauge<i64>,
    feed_head: Gauge<i64>,
    consumer_lag: Gauge<i64>,
    events_applied: Counter<u64>,
    apply_errors: Counter<u64>,
    rate_limited: Counter<u64>,
    sign_in_failures: Counter<u64>,
    lockouts: Counter<u64>,
    import_rows: Counter<u64>,
    export_rows: Counter<u64>,
    _observed: Vec<ObservableGauge<i64>>,
    _observed_f64: Vec<ObservableGauge<f64>>,
    exporting: bool,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("exporting", &self.exporting)
            .finish_non_exhaustive()
    }
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// Whether recording is on for this process (`CRM_METRICS=false` turns it off; the
/// benchmarks compare both in one run through [`set_enabled`]).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns recording on or off for the whole process.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether metrics are being recorded.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The process's metrics, made on first use. Call [`install`] first (telemetry's `init` does)
/// to push them over OTLP too.
pub fn get() -> &'static Metrics {
    METRICS.get_or_init(|| Metrics::new(None))
}

/// Makes the process's metrics, pushing them over OTLP to `otlp_endpoint` every
/// `OTEL_METRIC_EXPORT_INTERVAL` milliseconds (60 s by default). Call it inside the Tokio
/// runtime; once metrics exist, later calls change nothing.
pub fn install(otlp_endpoint: Option<&str>) -> &'static Metrics {
    let exporter = otlp_endpoint.and_then(|endpoint| {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        match opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
        {
            Ok(exporter) => Some(OnRuntime {
                inner: exporter,
                runtime,
            }),
            Err(e) => {
                eprintln!("OTLP metrics export to {endpoint} disabled: {e}");
                None
            }
        }
    });
    let mut exporter = exporter;
    let metrics = METRICS.get_or_init(|| Metrics::new(exporter.take()));
    if exporter.is_some() {
        tracing::warn!("metrics were recorded before telemetry was set up; they are not exported over OTLP");
    }
    metrics
}

/// The OTLP endpoint for metrics from the environment, if one is set.
pub fn otlp_endpoint_from_env() -> Option<String> {
    std::env::var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .ok()
        .filter(|e| !e.trim().is_empty())
}

impl Metrics {
    fn new(exporter: Option<OnRuntime>) -> Metrics {
        let reader = Arc::new(ManualReader::builder().build());
        let service_name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "crm".to_string());
        let mut builder = SdkMeterProvider::builder()
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name(service_name)
                    .build(),
            )
            .with_reader(Shared(Arc::clone(&reader)));
        let exporting = exporter.is_some();
        if let Some(exporter) = exporter {
            let interval = std::env::var("OTEL_METRIC_EXPORT_INTERVAL")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(Duration::from_secs(60), Duration::from_millis);
            builder = builder.with_reader(
                opentelemetry_sdk::metrics::PeriodicReader::builder(exporter)
                    .with_interval(interval)
                    .build(),
            );
        }
        let provider = builder.build();
        let meter = provider.meter("crm");
        let observed = vec![
            meter
                .i64_observable_gauge("db.client.connection.count")
                .with_description("Connections of the pool, by state (used, idle)")
                .with_unit("{connection}")
                .with_callback(|o| {
                    for pool in pools() {
                        let size = i64::from(pool.db.pool.size());
                        let idle = i64::try_from(pool.db.pool.num_idle()).unwrap_or(i64::MAX);
                        let used = (size - idle).max(0);
                        o.observe(used, &pool.labels("used"));
                        o.observe(idle, &pool.labels("idle"));
                    }
                })
                .build(),
            meter
                .i64_observable_gauge("db.client.connection.max")
                .with_description("The most connections the pool opens")
                .with_unit("{connection}")
                .with_callback(|o| {
                    for pool in pools() {
                        o.observe(i64::from(pool.db.max_connections()), &pool.service_labels());
                    }
                })
                .build(),
            meter
                .i64_observable_gauge("db.client.connection.pending_requests")
                .with_description("Write transactions waiting for a connection or the SQLite writer")
                .with_unit("{request}")
                .with_callback(|o| {
                    for pool in pools() {
                        o.observe(pool.db.pending_writers(), &pool.service_labels());
                    }
                })
                .build(),
            meter
                .i64_observable_gauge("crm.health.serving")
                .with_description("1 while the health entry reports SERVING, 0 otherwise")
                .with_callback(|o| {
                    for ((service, check), serving) in health_states() {
                        o.observe(
                            i64::from(serving),
                            &[KeyValue::new("crm.service", service), KeyValue::new("check", check)],
                        );
                    }
                })
                .build(),
        ];
        let observed_f64 = vec![
            meter
                .f64_observable_gauge("crm.events.consumer.lag.time")
                .with_description("Seconds since this consumer last held everything its feed had (0 while caught up)")
                .with_unit("s")
                .with_callback(|o| {
                    let now = crate::time::now_micros();
                    for clock in lag_clocks() {
                        if let Some(behind) = clock.seconds_behind(now) {
                            o.observe(behind, &clock.labels);
                        }
                    }
                })
                .build(),
        ];
        Metrics {
            rpc_duration: meter
                .f64_histogram("rpc.server.call.duration")
                .with_description("Duration of gRPC calls served, by method and status code")
                .with_unit("s")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            rpc_active: meter
                .i64_up_down_counter("rpc.server.active_requests")
                .with_description("gRPC calls in flight")
                .with_unit("{request}")
                .build(),
            http_duration: meter
                .f64_histogram("http.server.request.duration")
                .with_description("Duration of HTTP requests served, by route and status")
                .with_unit("s")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            http_active: meter
                .i64_up_down_counter("http.server.active_requests")
                .with_description("HTTP requests in flight")
                .with_unit("{request}")
                .build(),
            pool_wait: meter
                .f64_histogram("db.client.connection.wait_time")
                .with_description("Time a write transaction waited for its connection (and SQLite's writer)")
                .with_unit("s")
                .with_boundaries(vec![
                    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .build(),
            outbox_backlog: meter
                .i64_gauge("crm.events.outbox.backlog")
                .with_description("Committed changes whose events are not yet numbered into the feed")
                .with_unit("{event}")
                .build(),
            feed_head: meter
                .i64_gauge("crm.events.feed.head")
                .with_description("The last sequence published in the service's event feed")
                .with_unit("{event}")
                .build(),
            consumer_lag: meter
                .i64_gauge("crm.events.consumer.lag")
                .with_description("Events of this feed a consumer has not acknowledged yet")
                .with_unit("{event}")
                .build(),
            events_applied: meter
                .u64_counter("crm.events.applied")
                .with_description("Events applied from followed feeds")
                .with_unit("{event}")
                .build(),
            apply_errors: meter
                .u64_counter("crm.events.apply.errors")
                .with_description("Events refused, and pages that failed to apply and will be retried")
                .with_unit("{error}")
                .build(),
            rate_limited: meter
                .u64_counter("crm.rate_limit.refusals")
                .with_description("Requests refused by a rate limit")
                .with_unit("{request}")
                .build(),
            sign_in_failures: meter
                .u64_counter("crm.auth.sign_in.failures")
                .with_description("Sign-ins refused, by reason")
                .with_unit("{attempt}")
                .build(),
            lockouts: meter
                .u64_counter("crm.auth.lockouts")
                .with_description("Accounts locked after repeated failed sign-ins")
                .with_unit("{lockout}")
                .build(),
            import_rows: meter
                .u64_counter("crm.import.rows")
                .with_description("Rows of imports processed, by kind and outcome")
                .with_unit("{row}")
                .build(),
            export_rows: meter
                .u64_counter("crm.export.rows")
                .with_description("Rows exported, by kind")
                .with_unit("{row}")
                .build(),
            _observed: observed,
            _observed_f64: observed_f64,
            provider,
            reader,
            exporting,
        }
    }

    /// Whether the metrics are pushed over OTLP too.
    pub fn exporting(&self) -> bool {
        self.exporting
    }

    /// Everything recorded so far, as Prometheus text (version 0.0.4).
    pub fn prometheus_text(&self) -> String {
        let mut collected = ResourceMetrics::default();
        if let Err(e) = self.reader.collect(&mut collected) {
            tracing::warn!(error = %e, "collecting metrics failed");
        }
        encode(&collected)
    }

    /// Pushes what is recorded to the OTLP endpoint now and stops the export.
    pub async fn shutdown(&self) {
        if self.exporting {
            let provider = self.provider.clone();
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}

/// Lets the provider own a reader the metrics port still collects from.
#[derive(Debug)]
struct Shared(Arc<ManualReader>);

impl MetricReader for Shared {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// Runs the OTLP exporter on the service's runtime: the periodic reader exports from a thread
/// of its own, where tonic finds no reactor.
struct OnRuntime {
    inner: opentelemetry_otlp::MetricExporter,
    runtime: tokio::runtime::Handle,
}

impl PushMetricExporter for OnRuntime {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        // The reader's thread is not one of the runtime's, so it may block on it.
        self.runtime.block_on(self.inner.export(metrics))
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

// --- What the kit records -------------------------------------------------------------------

/// A method's service (`crm.customers.v1.CustomersService`) and name (`GetCustomer`).
type Names = (Arc<str>, Arc<str>);

/// The gRPC methods the suite serves, as `(service, method)` by path: an unknown path is
/// recorded as `_OTHER`, so a client sending made-up paths cannot grow the series without end.
static METHODS: LazyLock<HashMap<String, Names>> = LazyLock::new(|| {
    use prost::Message as _;
    let mut methods = HashMap::new();
    for set in [crm_proto::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET] {
        let Ok(set) = prost_types::FileDescriptorSet::decode(set) else {
            continue;
        };
        for file in set.file {
            let package = file.package().to_string();
            for service in file.service {
                let full: Arc<str> = format!("{package}.{}", service.name()).into();
                for method in service.method {
                    let path = format!("/{full}/{}", method.name());
                    methods.insert(path, (Arc::clone(&full), Arc::from(method.name())));
                }
            }
        }
    }
    for service in [
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        let full: Arc<str> = service.into();
        methods.insert(
            format!("/{service}/ServerReflectionInfo"),
            (Arc::clone(&full), Arc::from("ServerReflectionInfo")),
        );
    }
    methods
});

static OTHER: LazyLock<Names> = LazyLock::new(|| (Arc::from("_OTHER"), Arc::from("_OTHER")));

/// The status codes as label values, made once.
static CODES: LazyLock<Vec<Value>> = LazyLock::new(|| (0..=16).map(|c| Value::from(c.to_string())).collect());

/// One gRPC call being served: in flight until [`RpcCall::finish`] (or drop).
#[derive(Debug)]
pub(crate) struct RpcCall {
    service: &'static str,
    names: Names,
    finished: bool,
}

impl RpcCall {
    /// Counts a call to `path` as in flight; `None` while metrics are off.
    pub(crate) fn start(service: &'static str, path: &str) -> Option<RpcCall> {
        if !enabled() {
            return None;
        }
        let names = METHODS.get(path).unwrap_or(&OTHER).clone();
        get().rpc_active.add(
            1,
            &[
                KeyValue::new("crm.service", service),
                KeyValue::new("rpc.service", names.0.clone()),
            ],
        );
        Some(RpcCall {
            service,
            names,
            finished: false,
        })
    }

    /// Records the call's duration under its status code.
    pub(crate) fn finish(mut self, code: i32, elapsed: Duration) {
        self.finished = true;
        let metrics = get();
        let code = CODES
            .get(usize::try_from(code).unwrap_or(2))
            .cloned()
            .unwrap_or_else(|| Value::from(code.to_string()));
        let (service, method) = if code.as_str() == "12" {
            // UNIMPLEMENTED: a path nobody serves here.
            OTHER.clone()
        } else {
            self.names.clone()
        };
        metrics.rpc_duration.record(
            elapsed.as_secs_f64(),
            &[
                KeyValue::new("crm.service", self.service),
                KeyValue::new("rpc.system", "grpc"),
                KeyValue::new("rpc.service", service),
                KeyValue::new("rpc.method", method),
                KeyValue::new("rpc.grpc.status_code", code),
            ],
        );
        self.leave();
    }

    fn leave(&self) {
        get().rpc_active.add(
            -1,
            &[
                KeyValue::new("crm.service", self.service),
                KeyValue::new("rpc.service", self.names.0.clone()),
            ],
        );
    }
}

impl Drop for RpcCall {
    fn drop(&mut self) {
        // A call whose future was dropped (the client went away) is no longer in flight.
        if !self.finished {
            self.leave();
        }
    }
}

/// Records one gRPC call to `path` exactly as the access layer does (in flight, then its
/// duration under `code`): benchmarks time it.
pub fn record_call(service: &'static str, path: &str, code: i32, elapsed: Duration) {
    if let Some(call) = RpcCall::start(service, path) {
        call.finish(code, elapsed);
    }
}

/// The route an HTTP response answered, as a template (`/v1/customers/{customer_id}`), put in
/// the response's extensions by whoever matched it; the metrics record it as `http.route`.
#[derive(Debug, Clone)]
pub struct HttpRoute(pub Arc<str>);

/// The route of a gRPC (or gRPC-Web) call through the gateway: its method path when it is one
/// the suite serves, else `_OTHER`.
pub fn grpc_route(path: &str) -> HttpRoute {
    HttpRoute(match METHODS.get(path) {
        Some(_) => Arc::from(path),
        None => Arc::from("_OTHER"),
    })
}

/// One HTTP request being served: in flight until [`HttpRequest::finish`] (or drop).
#[derive(Debug)]
pub struct HttpRequest {
    service: &'static str,
    method: Value,
    finished: bool,
}

impl HttpRequest {
    /// Counts a request as in flight; `None` while metrics are off.
    pub fn start(service: &'static str, method: &http::Method) -> Option<HttpRequest> {
        if !enabled() {
            return None;
        }
        let method = match *method {
            http::Method::GET => "GET",
            http::Method::POST => "POST",
            http::Method::PUT => "PUT",
            http::Method::PATCH => "PATCH",
            http::Method::DELETE => "DELETE",
            http::Method::HEAD => "HEAD",
            http::Method::OPTIONS => "OPTIONS",
            _ => "_OTHER",
        };
        let request = HttpRequest {
            service,
            method: Value::from(method),
            finished: false,
        };
        get().http_active.add(1, &request.active_labels());
        Some(request)
    }

    fn active_labels(&self) -> [KeyValue; 2] {
        [
            KeyValue::new("crm.service", self.service),
            KeyValue::new("http.request.method", self.method.clone()),
        ]
    }

    /// Records the request's duration under its route (`None`: no route matched, recorded as
    /// `_OTHER`) and status.
    pub fn finish(mut self, route: Option<&HttpRoute>, status: u16, elapsed: Duration) {
        self.finished = true;
        let route = route.map_or_else(|| Value::from("_OTHER"), |r| Value::from(r.0.clone()));
        get().http_duration.record(
            elapsed.as_secs_f64(),
            &[
                KeyValue::new("crm.service", self.service),
                KeyValue::new("http.request.method", self.method.clone()),
                KeyValue::new("http.route", route),
                KeyValue::new("http.response.status_code", i64::from(status)),
            ],
        );
        get().http_active.add(-1, &self.active_labels());
    }
}

impl Drop for HttpRequest {
    fn drop(&mut self) {
        if !self.finished {
            get().http_active.add(-1, &self.active_labels());
        }
    }
}

// --- Pools ------------------------------------------------------------------------------------

struct PoolEntry {
    service: &'static str,
    db: crate::db::Db,
}

impl PoolEntry {
    fn labels(&self, state: &'static str) -> [KeyValue; 2] {
        [
            KeyValue::new("crm.service", self.service),
            KeyValue::new("db.client.connection.state", state),
        ]
    }

    fn service_labels(&self) -> [KeyValue; 1] {
        [KeyValue::new("crm.service", self.service)]
    }
}

static POOLS: Mutex<Vec<(u64, Arc<PoolEntry>)>> = Mutex::new(Vec::new());
static NEXT_POOL: AtomicI64 = AtomicI64::new(1);

fn pools() -> Vec<Arc<PoolEntry>> {
    POOLS
        .lock()
        .map(|p| p.iter().map(|(_, e)| Arc::clone(e)).collect())
        .unwrap_or_default()
}

/// Reports `db`'s pool as `service`'s until the guard drops.
pub fn observe_pool(service: &'static str, db: &crate::db::Db) -> PoolObserved {
    db.name_for_metrics(service);
    let id = NEXT_POOL.fetch_add(1, Ordering::Relaxed) as u64;
    if let Ok(mut pools) = POOLS.lock() {
        pools.push((
            id,
            Arc::new(PoolEntry {
                service,
                db: db.clone(),
            }),
        ));
    }
    PoolObserved(id)
}

/// Stops reporting a pool when dropped (see [`observe_pool`]).
#[derive(Debug)]
pub struct PoolObserved(u64);

impl Drop for PoolObserved {
    fn drop(&mut self) {
        if let Ok(mut pools) = POOLS.lock() {
            pools.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Records how long a write transaction of `service` waited for its connection.
pub(crate) fn pool_waited(service: &'static str, waited: Duration) {
    if enabled() {
        get()
            .pool_wait
            .record(waited.as_secs_f64(), &[KeyValue::new("crm.service", service)]);
    }
}

// --- Health -----------------------------------------------------------------------------------

static HEALTH: Mutex<Vec<((&'static str, String), bool)>> = Mutex::new(Vec::new());

fn health_states() -> Vec<((&'static str, String), bool)> {
    HEALTH.lock().map(|h| h.clone()).unwrap_or_default()
}

/// Records what health reports for `service`'s entry `check` (`""`: the service itself).
pub(crate) fn health(service: &'static str, check: &str, serving: bool) {
    if let Ok(mut states) = HEALTH.lock() {
        match states.iter_mut().find(|((s, c), _)| *s == service && c == check) {
            Some((_, state)) => *state = serving,
            None => states.push(((service, check.to_string()), serving)),
        }
    }
}

// --- Events -----------------------------------------------------------------------------------

/// What a producer's feed holds, sampled: the outbox's unnumbered changes, the head, and each
/// consumer's acknowledged position.
pub(crate) fn feed_sampled(service: &'static str, backlog: i64, head: i64, consumers: &[(String, i64)]) {
    if !enabled() {
        return;
    }
    let metrics = get();
    let labels = [KeyValue::new("crm.service", service)];
    metrics.outbox_backlog.record(backlog, &labels);
    metrics.feed_head.record(head, &labels);
    for (consumer, acked) in consumers {
        metrics.consumer_lag.record(
            (head - acked).max(0),
            &[
                KeyValue::new("crm.service", service),
                KeyValue::new("consumer", consumer.clone()),
            ],
        );
    }
}

/// How far one follower of a feed is behind, in time: when it last held everything the feed
/// had. Read at each scrape.
#[derive(Debug)]
pub(crate) struct LagClock {
    labels: [KeyValue; 2],
    /// Microseconds since the epoch when the follower last held the feed's head; 0 while it
    /// holds it now; [`STANDBY`] while another replica follows.
    behind_since: AtomicI64,
}

impl LagClock {
    fn seconds_behind(&self, now: i64) -> Option<f64> {
        match self.behind_since.load(Ordering::Relaxed) {
            STANDBY => None,
            0 => Some(0.0),
            since => Some((now - since).max(0) as f64 / 1e6),
        }
    }

    /// Another replica follows the feed: this one reports no lag of its own until it takes
    /// over (and then counts as behind until the feed tells it otherwise).
    pub(crate) fn standby(&self) {
        self.behind_since.store(STANDBY, Ordering::Relaxed);
    }

    /// The follower holds everything up to the feed's head.
    pub(crate) fn caught_up(&self) {
        self.behind_since.store(0, Ordering::Relaxed);
    }

    /// The follower no longer knows it is caught up (the feed is ahead, or out of reach):
    /// from now on it counts as behind since the last time it was not.
    pub(crate) fn behind(&self) {
        let now = crate::time::now_micros().max(1);
        let _ = self
            .behind_since
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |since| {
                matches!(since, 0 | STANDBY).then_some(now)
            });
    }

    /// Counts `n` events applied.
    pub(crate) fn applied(&self, n: u64) {
        if n > 0 && enabled() {
            get().events_applied.add(n, &self.labels);
        }
    }

    /// Counts an event refused, or a page that failed and will be retried (`kind`).
    pub(crate) fn apply_failed(&self, kind: &'static str) {
        if enabled() {
            let [service, feed] = self.labels.clone();
            get().apply_errors.add(1, &[service, feed, KeyValue::new("kind", kind)]);
        }
    }
}

/// [`LagClock::behind_since`] of a standby replica.
const STANDBY: i64 = -1;

static LAG_CLOCKS: Mutex<Vec<Weak<LagClock>>> = Mutex::new(Vec::new());

fn lag_clocks() -> Vec<Arc<LagClock>> {
    LAG_CLOCKS
        .lock()
        .map(|mut clocks| {
            clocks.retain(|c| c.strong_count() > 0);
            clocks.iter().filter_map(Weak::upgrade).collect()
        })
        .unwrap_or_default()
}

/// A lag clock for `service` following `feed`, reported while it lives. It starts behind: a
/// follower knows it is caught up only once the feed has told it.
pub(crate) fn lag_clock(service: &str, feed: &str) -> Arc<LagClock> {
    let clock = Arc::new(LagClock {
        labels: [
            KeyValue::new("crm.service", service.to_string()),
            KeyValue::new("feed", feed.to_string()),
        ],
        behind_since: AtomicI64::new(crate::time::now_micros().max(1)),
    });
    if let Ok(mut clocks) = LAG_CLOCKS.lock() {
        clocks.push(Arc::downgrade(&clock));
    }
    clock
}

// --- What services report ---------------------------------------------------------------------

/// Counts a request refused by `limiter` of `service`.
pub fn rate_limited(service: &'static str, limiter: &'static str) {
    if enabled() {
        get().rate_limited.add(
            1,
            &[KeyValue::new("crm.service", service), KeyValue::new("limiter", limiter)],
        );
    }
}

/// Counts a refused sign-in (`reason`: `bad_credentials`, `locked`, `inactive`, ...).
pub fn sign_in_failed(service: &'static str, reason: &'static str) {
    if enabled() {
        get().sign_in_failures.add(
            1,
            &[KeyValue::new("crm.service", service), KeyValue::new("reason", reason)],
        );
    }
}

/// Counts an account locked after repeated failures.
pub fn locked_out(service: &'static str) {
    if enabled() {
        get().lockouts.add(1, &[KeyValue::new("crm.service", service)]);
    }
}

/// Counts rows of an import of `kind`: `imported` taken, `failed` refused.
pub fn import_rows(service: &'static str, kind: &'static str, imported: u64, failed: u64) {
    if !enabled() {
        return;
    }
    for (outcome, n) in [("imported", imported), ("failed", failed)] {
        if n > 0 {
            get().import_rows.add(
                n,
                &[
                    KeyValue::new("crm.service", service),
                    KeyValue::new("kind", kind),
                    KeyValue::new("outcome", outcome),
                ],
            );
        }
    }
}

/// Counts `n` rows exported of `kind`.
pub fn export_rows(service: &'static str, kind: &'static str, n: u64) {
    if n > 0 && enabled() {
        get()
            .export_rows
            .add(n, &[KeyValue::new("crm.service", service), KeyValue::new("kind", kind)]);
    }
}

// --- The metrics port -------------------------------------------------------------------------

/// Serves `GET /metrics` (Prometheus text) on `listener` until `stop` fires.
pub async fn serve(listener: tokio::net::TcpListener, mut stop: crate::serve::Stopping) {
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let addr = listener.local_addr().ok();
    tracing::info!(addr = ?addr, "serving metrics at /metrics");
    loop {
        let (stream, _) = tokio::select! {
            _ = stop.wait() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics port: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        tokio::spawn(async move {
            let service = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                Ok::<_, std::convert::Infallible>(answer(req.method(), req.uri().path()))
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(method: &http::Method, path: &str) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let (status, content_type, body) = match (method, path) {
        (&http::Method::GET, "/metrics") => (
            http::StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            get().prometheus_text(),
        ),
        (&http::Method::GET, _) => (
            http::StatusCode::NOT_FOUND,
            "text/plain",
            "not found: see /metrics\n".into(),
        ),
        _ => (http::StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n".into()),
    };
    let mut response = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
}

// --- Prometheus text --------------------------------------------------------------------------

/// The Prometheus name of an OpenTelemetry metric: dots to underscores, the unit as a suffix,
/// `_total` on counters.
fn prometheus_name(name: &str, unit: &str, counter: bool) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let suffix = match unit {
        "s" => "_seconds",
        "ms" => "_milliseconds",
        "By" => "_bytes",
        _ => "",
    };
    if !suffix.is_empty() && !out.ends_with(suffix) {
        out.push_str(suffix);
    }
    if counter {
        out.push_str("_total");
    }
    out
}

fn label_name(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n").replace('"', "\\\"")
}

fn labels<'a>(attributes: impl Iterator<Item = &'a KeyValue>, extra: Option<(&str, String)>) -> String {
    let mut pairs: Vec<(String, String)> = attributes
        .map(|kv| (label_name(kv.key.as_str()), escape(&kv.value.as_str())))
        .collect();
    pairs.sort();
    if let Some((k, v)) = extra {
        pairs.push((k.to_string(), v));
    }
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(","))
}

fn number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

/// Writes every metric of `collected` in the Prometheus text format.
fn encode(collected: &ResourceMetrics) -> String {
    let mut out = String::new();
    for scope in collected.scope_metrics() {
        for metric in scope.metrics() {
            match metric.data() {
                AggregatedMetrics::F64(data) => encode_data(&mut out, metric, data, |v| number(*v)),
                AggregatedMetrics::I64(data) => encode_data(&mut out, metric, data, |v| v.to_string()),
                AggregatedMetrics::U64(data) => encode_data(&mut out, metric, data, |v| v.to_string()),
            }
        }
    }
    out
}

fn encode_data<T: Copy>(
    out: &mut String,
    metric: &opentelemetry_sdk::metrics::data::Metric,
    data: &MetricData<T>,
    show: impl Fn(&T) -> String,
) {
    let help = metric.description().replace('\\', "\\\\").replace('\n', "\\n");
    match data {
        MetricData::Gauge(gauge) => {
            let name = prometheus_name(metric.name(), metric.unit(), false);
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for point in gauge.data_points() {
                let _ = writeln!(
                    out,
                    "{name}{} {}",
                    labels(point.attributes(), None),
                    show(&point.value())
                );
            }
        }
        MetricData::Sum(sum) => {
            let counter = sum.is_monotonic();
            let name = prometheus_name(metric.name(), metric.unit(), counter);
            let kind = if counter { "counter" } else { "gauge" };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for point in sum.data_points() {
                let _ = writeln!(
                    out,
                    "{name}{} {}",
                    labels(point.attributes(), None),
                    show(&point.value())
                );
            }
        }
        MetricData::Histogram(histogram) => {
            let name = prometheus_name(metric.name(), metric.unit(), false);
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for point in histogram.data_points() {
                let mut cumulative = 0u64;
                let bounds: Vec<f64> = point.bounds().collect();
                for (i, count) in point.bucket_counts().enumerate() {
                    cumulative += count;
                    let le = bounds.get(i).map_or_else(|| "+Inf".to_string(), |b| number(*b));
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {cumulative}",
                        labels(point.attributes(), Some(("le", le)))
                    );
                }
                let plain = labels(point.attributes(), None);
                let _ = writeln!(out, "{name}_sum{plain} {}", show(&point.sum()));
                let _ = writeln!(out, "{name}_count{plain} {}", point.count());
            }
        }
        MetricData::ExponentialHistogram(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_opentelemetry_translation() {
        assert_eq!(
            prometheus_name("rpc.server.call.duration", "s", false),
            "rpc_server_call_duration_seconds"
        );
        assert_eq!(
            prometheus_name("crm.events.applied", "{event}", true),
            "crm_events_applied_total"
        );
        assert_eq!(
            prometheus_name("db.client.connection.count", "{connection}", false),
            "db_client_connection_count"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let kv = [KeyValue::new("a.b", "x\"y\\z\nw")];
        assert_eq!(labels(kv.iter(), None), r#"{a_b="x\"y\\z\nw"}"#);
    }

    #[test]
    fn known_methods_are_named_and_others_are_not() {
        let (service, method) = METHODS
            .get("/crm.customers.v1.CustomersService/GetCustomer")
            .expect("a served method");
        assert_eq!(
            (&**service, &**method),
            ("crm.customers.v1.CustomersService", "GetCustomer")
        );
        assert!(METHODS.contains_key("/grpc.health.v1.Health/Check"));
        assert!(!METHODS.contains_key("/made.up/Path"));
    }

    #[test]
    fn a_recorded_call_shows_in_the_text() {
        let call = RpcCall::start("unit", "/crm.customers.v1.CustomersService/GetCustomer").unwrap();
        call.finish(5, Duration::from_millis(30));
        let text = get().prometheus_text();
        let line = text
            .lines()
            .find(|l| {
                l.starts_with("rpc_server_call_duration_seconds_count{")
                    && l.contains("crm_service=\"unit\"")
                    && l.contains("rpc_grpc_status_code=\"5\"")
            })
            .unwrap_or_else(|| panic!("no count line in:\n{text}"));
        assert!(line.contains("rpc_method=\"GetCustomer\""), "{line}");
        assert!(line.ends_with(" 1") || line.split(' ').next_back().unwrap().parse::<u64>().unwrap() >= 1);
        assert!(text.contains("le=\"0.05\""), "the buckets are the ones set");
    }

    /// Every metric the alerts and the dashboard read (`k8s/components/monitoring/metrics.txt`,
    /// which CI checks against their expressions) is one the kit exports.
    #[tokio::test]
    async fn every_metric_the_alerts_and_dashboard_read_is_exported() {
        let db = crate::db::Db::connect("sqlite::memory:", 1).await.unwrap();
        let _pool = observe_pool("unit-all", &db);
        drop(db.begin_write().await.unwrap());
        RpcCall::start("unit-all", "/grpc.health.v1.Health/Check")
            .unwrap()
            .finish(0, Duration::from_millis(1));
        HttpRequest::start("unit-all", &http::Method::GET).unwrap().finish(
            Some(&HttpRoute("/v1/customers".into())),
            200,
            Duration::from_millis(1),
        );
        feed_sampled("unit-all", 0, 3, &[("unit-consumer".into(), 1)]);
        let clock = lag_clock("unit-all", "unit-feed");
        clock.applied(1);
        clock.apply_failed("refused");
        health("unit-all", "", true);
        rate_limited("unit-all", "per_ip");
        sign_in_failed("unit-all", "bad_credentials");
        locked_out("unit-all");
        import_rows("unit-all", "customers", 1, 1);
        export_rows("unit-all", "customers", 1);
        let text = get().prometheus_text();
        let exported: std::collections::HashSet<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(['{', ' ']).next())
            .collect();
        let wanted = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../k8s/components/monitoring/metrics.txt"
        ));
        let missing: Vec<&str> = wanted
            .lines()
            .map(str::trim)
            // Prometheus's own: whether the scrape worked.
            .filter(|name| !name.is_empty() && *name != "up")
            .filter(|name| !exported.contains(name))
            .collect();
        assert!(
            missing.is_empty(),
            "read by alerts or dashboards but not exported: {missing:?}"
        );
    }
}
