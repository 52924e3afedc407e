//! Tracing for every service: a subscriber (pretty on a terminal, JSON otherwise), one span per
//! call joined to the caller's W3C trace context (`traceparent` in, and out on calls this service
//! makes through [`PropagateTrace`]), one structured log line per call with its gRPC status and
//! latency, and OTLP/gRPC export of the spans when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use tracing_opentelemetry::OpenTelemetrySpanExt;
pub use tracing_subscriber::EnvFilter;
pub use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, filter::LevelFilter};

use crate::config::LogFormat;

/// Keeps span export running; [`TelemetryGuard::shutdown`] flushes what is buffered.
#[derive(Debug, Default)]
#[must_use = "dropping the guard without shutdown may lose the last spans"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Whether spans are being exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports every finished span now (tests, and before a process exits).
    pub async fn flush(&self) {
        if let Some(provider) = self.provider.clone() {
            let _ = tokio::task::spawn_blocking(move || provider.force_flush()).await;
        }
    }

    /// Flushes and stops the exporters (spans, and metrics when they are pushed). The export
    /// runs on this runtime, so the blocking shutdown moves off the async worker.
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
        crate::metrics::get().shutdown().await;
    }
}

/// Installs the global subscriber for service `service` (the OTLP `service.name` unless
/// `OTEL_SERVICE_NAME` says otherwise), exporting spans when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
/// Call it inside the Tokio runtime. Later calls install nothing (tests start many services).
pub fn init(format: LogFormat, service: &str) -> TelemetryGuard {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .ok()
        .filter(|e| !e.trim().is_empty());
    init_with(format, service, endpoint.as_deref())
}

/// [`init`] with the OTLP endpoint given rather than read from the environment.
pub fn init_with(format: LogFormat, service: &str, otlp_endpoint: Option<&str>) -> TelemetryGuard {
    let filter =
        EnvFilter::try_from_env("CRM_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,h2=warn,tower=warn"));
    init_to(
        format,
        service,
        otlp_endpoint,
        filter,
        BoxMakeWriter::new(std::io::stderr),
    )
}

/// [`init_with`] writing the log lines that pass `filter` to `writer` (tests read them).
pub fn init_to(
    format: LogFormat,
    service: &str,
    otlp_endpoint: Option<&str>,
    filter: EnvFilter,
    writer: BoxMakeWriter,
) -> TelemetryGuard {
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    let fmt: Box<dyn Layer<_> + Send + Sync> = if json {
        Box::new(
            fmt.json()
                .flatten_event(true)
                .with_current_span(true)
                .with_filter(filter),
        )
    } else {
        Box::new(fmt.compact().with_filter(filter))
    };

    // Spans always join the caller's trace (so logs carry its trace id); they are exported
    // only when there is somewhere to send them.
    let exporter = otlp_endpoint.and_then(|endpoint| {
        match opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
        {
            Ok(exporter) => Some(exporter),
            Err(e) => {
                eprintln!("OTLP export to {endpoint} disabled: {e}");
                None
            }
        }
    });
    let service_name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_string());
    let metrics_endpoint = crate::metrics::otlp_endpoint_from_env().or_else(|| otlp_endpoint.map(str::to_string));
    crate::metrics::install(metrics_endpoint.as_deref());
    let mut builder = SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service_name)
                .build(),
        );
    let exporting = exporter.is_some();
    if let (Some(exporter), Ok(runtime)) = (exporter, tokio::runtime::Handle::try_current()) {
        builder = builder.with_batch_exporter(OnRuntime {
            inner: Arc::new(exporter),
            runtime,
        });
    }
    let provider = builder.build();
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("crm"))
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_filter(LevelFilter::INFO);
    let installed = tracing_subscriber::registry().with(fmt).with(otel).try_init().is_ok();
    TelemetryGuard {
        provider: (installed && exporting).then_some(provider),
    }
}

/// Runs the OTLP exporter's calls on the service's Tokio runtime: the batch processor exports
/// from its own thread, where tonic finds no reactor.
#[derive(Debug)]
struct OnRuntime {
    inner: Arc<opentelemetry_otlp::SpanExporter>,
    runtime: tokio::runtime::Handle,
}

impl SpanExporter for OnRuntime {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let inner = Arc::clone(&self.inner);
        self.runtime
            .spawn(async move { inner.export(batch).await })
            .await
            .unwrap_or_else(|e| Err(OTelSdkError::InternalFailure(e.to_string())))
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// The trace id of `span` (lowercase hex), if it belongs to a trace.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let id = span.context().span().span_context().trace_id();
    (id != TraceId::INVALID).then(|| id.to_string())
}

/// The span of one incoming call: a child of the caller's `traceparent` when it sent a valid
/// one, else the root of a new trace. Its `trace_id` field puts the id on every log line.
pub fn rpc_span(req: &http::Request<()>) -> tracing::Span {
    let path = req.uri().path();
    let span = tracing::info_span!(
        "rpc",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        rpc.system = "grpc",
        rpc.method = %path,
        rpc.grpc.status_code = tracing::field::Empty,
        trace_id = tracing::field::Empty,
        enduser.id = tracing::field::Empty,
    );
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(req.headers()));
    let _ = span.set_parent(parent);
    if let Some(id) = trace_id(&span) {
        span.record("trace_id", id);
    }
    span
}

/// The span of one incoming HTTP request (the gateway's REST and gRPC-Web front), joined to the
/// caller's `traceparent` like [`rpc_span`].
pub fn http_span(method: &http::Method, path: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!(
        "http",
        otel.name = %format!("{method} {path}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        url.path = %path,
        http.response.status_code = tracing::field::Empty,
        http.route = tracing::field::Empty,
        trace_id = tracing::field::Empty,
        request_id = tracing::field::Empty,
        enduser.id = tracing::field::Empty,
    );
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    let _ = span.set_parent(parent);
    if let Some(id) = trace_id(&span) {
        span.record("trace_id", id);
    }
    span
}

/// Writes the current span's trace context into the headers of an outgoing HTTP request,
/// replacing whatever the request carried.
pub fn inject_trace_headers(headers: &mut http::HeaderMap) {
    headers.remove("traceparent");
    headers.remove("tracestate");
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut HeaderInjector(headers));
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Writes the current span's trace context (`traceparent`, `tracestate`) into outgoing metadata.
pub fn inject_trace_context(metadata: &mut tonic::metadata::MetadataMap) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MetadataInjector(metadata));
}

/// The current span's W3C `traceparent`, or empty outside a trace: stored with an outbox event
/// so the consumer's work joins the trace of the change that caused it.
pub fn current_traceparent() -> String {
    let mut headers = http::HeaderMap::new();
    inject_trace_headers(&mut headers);
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The span of a consumer applying one event, a child of the producer's `traceparent`.
pub fn event_span(feed: &str, event_type: &str, sequence: i64, traceparent: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "event.apply",
        otel.name = %format!("apply {event_type}"),
        otel.kind = "consumer",
        messaging.system = "crm-events",
        messaging.source.name = %feed,
        event.type = %event_type,
        event.sequence = sequence,
        trace_id = tracing::field::Empty,
    );
    if !traceparent.is_empty() {
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_str(traceparent) {
            headers.insert("traceparent", value);
        }
        let parent = TraceContextPropagator::new().extract(&HeaderExtractor(&headers));
        let _ = span.set_parent(parent);
    }
    if let Some(id) = trace_id(&span) {
        span.record("trace_id", id);
    }
    span
}

/// A client interceptor that carries the current trace to the called service:
/// `Client::with_interceptor(channel, PropagateTrace)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PropagateTrace;

impl tonic::service::Interceptor for PropagateTrace {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        inject_trace_context(req.metadata_mut());
        Ok(req)
    }
}

/// The target of the access lines, so an operator can turn all of them on
/// (`CRM_LOG=info,crm::access=debug`) or off (`crm::access=off`).
pub const ACCESS_TARGET: &str = "crm::access";

/// Observes every call: the RPC metrics (duration by method and status, calls in flight) and
/// one access line with method, status, latency and the trace id. Failed calls and calls slower
/// than `slow` are logged at INFO (server faults at WARN), the rest at DEBUG: at any real volume
/// an INFO line per call is noise. Messages are [`mask`]ed.
#[derive(Debug, Clone, Copy)]
pub struct AccessLayer {
    /// The service's short name (`crm.service` in the metrics).
    pub service: &'static str,
    /// Calls at least this slow are logged at INFO.
    pub slow: std::time::Duration,
}

impl<S> tower::Layer<S> for AccessLayer {
    type Service = Access<S>;
    fn layer(&self, inner: S) -> Access<S> {
        Access { inner, layer: *self }
    }
}

/// The service [`AccessLayer`] makes.
#[derive(Debug, Clone)]
pub struct Access<S> {
    inner: S,
    layer: AccessLayer,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Access<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_string();
        let started = Instant::now();
        let call = crate::metrics::RpcCall::start(self.layer.service, &method);
        let slow = self.layer.slow;
        let fut = self.inner.call(req);
        Box::pin(async move {
            let result = fut.await;
            let elapsed = started.elapsed();
            let span = tracing::Span::current();
            let trace = trace_id(&span).unwrap_or_default();
            let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            match &result {
                Ok(resp) => {
                    // Failures are "trailers-only" responses, so their status is in the headers;
                    // a successful call carries grpc-status 0 in the trailers.
                    let code = resp
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .unwrap_or(0);
                    if let Some(call) = call {
                        call.finish(code, elapsed);
                    }
                    span.record("rpc.grpc.status_code", code);
                    if is_server_fault(code) {
                        span.record("otel.status_code", "ERROR");
                    }
                    if code == 0 {
                        if elapsed >= slow {
                            tracing::info!(target: ACCESS_TARGET, trace_id = %trace, rpc.method = %method, grpc.code = code, latency_us = micros, "rpc slow");
                        } else {
                            tracing::debug!(target: ACCESS_TARGET, trace_id = %trace, rpc.method = %method, grpc.code = code, latency_us = micros, "rpc done");
                        }
                    } else {
                        let message = resp
                            .headers()
                            .get("grpc-message")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        let message = mask(&percent_decoded(message));
                        if is_server_fault(code) {
                            tracing::warn!(target: ACCESS_TARGET, trace_id = %trace, rpc.method = %method, grpc.code = code, grpc.message = %message, latency_us = micros, "rpc failed");
                        } else {
                            tracing::info!(target: ACCESS_TARGET, trace_id = %trace, rpc.method = %method, grpc.code = code, grpc.message = %message, latency_us = micros, "rpc failed");
                        }
                    }
                }
                Err(e) => {
                    if let Some(call) = call {
                        call.finish(14, elapsed);
                    }
                    span.record("otel.status_code", "ERROR");
                    tracing::warn!(target: ACCESS_TARGET, trace_id = %trace, rpc.method = %method, error = %mask(&e.to_string()), latency_us = micros, "rpc transport error");
                }
            }
            result
        })
    }
}

/// `grpc-message` is percent-encoded on the wire.
fn percent_decoded(message: &str) -> String {
    percent_encoding::percent_decode_str(message)
        .decode_utf8_lossy()
        .into_owned()
}

/// Masks what must not reach a log in text that may quote a caller's input: bearer tokens
/// (three base64url parts joined by dots, `eyJ...`) become `[token]`; runs of seven or more
/// digits, with the spaces, dashes, dots, brackets and plus signs people type in phone numbers,
/// keep only their last two digits (`***00`).
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // A JWT: eyJ followed by base64url and two dots.
        if chars[i] == 'e' && chars.get(i + 1) == Some(&'y') && chars.get(i + 2) == Some(&'J') {
            let mut j = i;
            let mut dots = 0;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || matches!(chars[j], '-' | '_' | '.')) {
                dots += usize::from(chars[j] == '.');
                j += 1;
            }
            if dots >= 2 {
                out.push_str("[token]");
                i = j;
                continue;
            }
        }
        if chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let mut j = i;
            let mut digits = String::new();
            let mut end = i;
            while j < chars.len()
                && (chars[j].is_ascii_digit() || matches!(chars[j], ' ' | '-' | '.' | '(' | ')' | '+'))
            {
                if chars[j].is_ascii_digit() {
                    digits.push(chars[j]);
                    end = j + 1;
                }
                j += 1;
            }
            // Wide digits (full-width) are folded by NFKC elsewhere; here only ASCII counts.
            // Part of a word or a code (`SO-20261122-0007`), not a number someone typed.
            let preceded_by_word = i > 0
                && (chars[i - 1].is_alphanumeric() || (chars[i - 1] == '-' && i > 1 && chars[i - 2].is_alphanumeric()));
            if digits.len() >= 7 && !preceded_by_word {
                out.push_str("***");
                out.push_str(&digits[digits.len() - 2..]);
                i = end;
                continue;
            }
            out.extend(&chars[i..end.max(i + 1)]);
            i = end.max(i + 1);
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// gRPC codes that mean the server failed (OpenTelemetry's rule for server spans): UNKNOWN,
/// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS.
fn is_server_fault(code: i32) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT_SPAN: &str = "00f067aa0ba902b7";

    fn with_otel<T>(f: impl FnOnce() -> T) -> T {
        let provider = SdkTracerProvider::builder().build();
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, f)
    }

    fn request(traceparent: Option<&str>) -> http::Request<()> {
        let mut req = http::Request::builder().uri("/crm.customers.v1.CustomersService/GetCustomer");
        if let Some(tp) = traceparent {
            req = req.header("traceparent", tp);
        }
        req.body(()).unwrap()
    }

    fn header_parts(md: &tonic::metadata::MetadataMap) -> Vec<String> {
        md.get("traceparent")
            .expect("traceparent injected")
            .to_str()
            .unwrap()
            .split('-')
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn incoming_traceparent_is_joined_and_passed_on_to_outgoing_calls() {
        with_otel(|| {
            let span = rpc_span(&request(Some(&format!("00-{PARENT_TRACE}-{PARENT_SPAN}-01"))));
            assert_eq!(trace_id(&span).as_deref(), Some(PARENT_TRACE));
            let mut md = tonic::metadata::MetadataMap::new();
            span.in_scope(|| inject_trace_context(&mut md));
            let parts = header_parts(&md);
            assert_eq!(parts[0], "00");
            assert_eq!(parts[1], PARENT_TRACE, "the outgoing call stays in the caller's trace");
            assert_ne!(
                parts[2], PARENT_SPAN,
                "its parent is this service's span, not the caller's"
            );
            assert_eq!(parts[3], "01");
        });
    }

    #[test]
    fn missing_or_malformed_traceparent_starts_a_new_trace() {
        with_otel(|| {
            for header in [
                None,
                Some("garbage"),
                Some("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            ] {
                let span = rpc_span(&request(header));
                let id = trace_id(&span).expect("a new trace id");
                assert_eq!(id.len(), 32);
                assert_ne!(id, PARENT_TRACE);
                let mut md = tonic::metadata::MetadataMap::new();
                span.in_scope(|| inject_trace_context(&mut md));
                assert_eq!(header_parts(&md)[1], id);
            }
        });
    }

    #[test]
    fn masking_hides_phone_numbers_and_tokens_and_keeps_the_rest() {
        assert_eq!(mask("phone 138 0013 8000 is taken"), "phone ***00 is taken");
        assert_eq!(mask("+86-138-0013-8000"), "***00");
        assert_eq!(mask("(020) 8765-4321 office"), "(***21 office");
        assert_eq!(
            mask("token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl refused"),
            "token [token] refused"
        );
        assert_eq!(
            mask("page 2 of 12, 250 rows"),
            "page 2 of 12, 250 rows",
            "short numbers stay"
        );
        assert_eq!(
            mask("order SO-20261122-0007 is shipped"),
            "order SO-20261122-0007 is shipped"
        );
        assert_eq!(mask("名字 13800138000 重复"), "名字 ***00 重复");
        assert_eq!(percent_decoded("a%20b%E4%B8%AD%"), "a b中%");
    }

    #[test]
    fn server_faults_follow_the_opentelemetry_rule() {
        assert!(!is_server_fault(0));
        assert!(!is_server_fault(3), "INVALID_ARGUMENT is the caller's fault");
        assert!(!is_server_fault(5));
        assert!(is_server_fault(13));
        assert!(is_server_fault(14));
    }
}
