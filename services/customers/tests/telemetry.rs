//! Spans reach an OTLP collector, joined to the caller's W3C trace context, and calls made with
//! the kit's `PropagateTrace` interceptor carry the current trace on to the called service.
//! Its own test binary: it installs the process-wide subscriber.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crm_kit::config::LogFormat;
use crm_kit::telemetry::PropagateTrace;
use crm_kit::testing::{TestServer, fresh_database};
use crm_proto::customers as pb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use tonic::transport::{Channel, Server};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// A collector that keeps what it is sent.
#[derive(Clone, Default)]
struct Collector {
    received: Arc<Mutex<Vec<(String, Span)>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = self.received.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.push((service.clone(), span));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Collector {
    /// Waits until a span named `name` in trace `trace_id` has arrived.
    async fn span(&self, guard: &crm_kit::telemetry::TelemetryGuard, trace_id: &[u8], name: &str) -> (String, Span) {
        for _ in 0..100 {
            guard.flush().await;
            if let Some(found) = self
                .received
                .lock()
                .unwrap()
                .iter()
                .find(|(_, s)| s.trace_id == trace_id && s.name == name)
            {
                return found.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no span {name} in trace {} reached the collector", hex(trace_id));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn int_attribute(span: &Span, key: &str) -> Option<i64> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match v.value {
            Some(Value::IntValue(n)) => Some(n),
            _ => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_in_the_callers_trace_and_passed_on() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_addr = listener.local_addr().unwrap();
    tokio::spawn(
        Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let guard = crm_kit::telemetry::init_with(
        LogFormat::Json,
        "crm-customers",
        Some(&format!("http://{collector_addr}")),
    );
    assert!(guard.exporting());

    let identity = crm_identity::testing::TestIdentity::start(&fresh_database("identity").await).await;
    let token = identity.token("tracer", "salesperson");
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let db = fresh_database("customers").await;
    let mut config = crm_customers::Config::for_suite(&std::env::temp_dir());
    config.service.database_url = Some(db.url.clone());
    config.service.identity_url = identity.url();
    config.reclaim_interval_seconds = 0;
    let server = TestServer::start(move |listener, shutdown| async move {
        crm_customers::run(config, listener, shutdown)
            .await
            .expect("customers service runs");
    })
    .await;
    let channel = Channel::from_shared(server.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();

    // A caller that sends its own traceparent: the service's span joins that trace.
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let caller_span = "b7ad6b7169203331";
    let mut client = CustomersServiceClient::new(channel.clone());
    let mut req = tonic::Request::new(pb::CreateCustomerRequest {
        customer: Some(pb::Customer {
            kind: pb::CustomerKind::Company as i32,
            name: "Tracing Instruments Ltd".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    req.metadata_mut()
        .insert("traceparent", format!("00-{trace}-{caller_span}-01").parse().unwrap());
    req.metadata_mut().insert("authorization", bearer.clone());
    client.create_customer(req).await.expect("created");
    let (service, span) = collector
        .span(
            &guard,
            &unhex(trace),
            "crm.customers.v1.CustomersService/CreateCustomer",
        )
        .await;
    assert_eq!(service, "crm-customers");
    assert_eq!(hex(&span.parent_span_id), caller_span);
    assert_eq!(span.kind, 2, "a server span");
    assert_eq!(int_attribute(&span, "rpc.grpc.status_code"), Some(0));

    // A call made from inside a span through `PropagateTrace`: the called service's span is
    // that span's child, in its trace.
    let outer = tracing::info_span!("outgoing-call");
    let outer_context = outer.context();
    let outer_span = opentelemetry::trace::TraceContextExt::span(&outer_context)
        .span_context()
        .clone();
    let mut traced = CustomersServiceClient::with_interceptor(channel, move |req| {
        let mut req = tonic::service::Interceptor::call(&mut PropagateTrace, req)?;
        req.metadata_mut().insert("authorization", bearer.clone());
        Ok(req)
    });
    let missing = tracing::Instrument::instrument(
        traced.get_customer(pb::GetCustomerRequest {
            id: "no-such-customer".into(),
        }),
        outer.clone(),
    )
    .await;
    assert_eq!(missing.unwrap_err().code(), tonic::Code::NotFound);
    let (_, span) = collector
        .span(
            &guard,
            &outer_span.trace_id().to_bytes(),
            "crm.customers.v1.CustomersService/GetCustomer",
        )
        .await;
    assert_eq!(span.parent_span_id, outer_span.span_id().to_bytes().to_vec());
    assert_eq!(int_attribute(&span, "rpc.grpc.status_code"), Some(5));

    drop(server);
    guard.shutdown().await;
}
