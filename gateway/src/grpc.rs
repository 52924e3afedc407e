//! gRPC and gRPC-Web pass-through: gRPC-Web is translated to gRPC (tonic-web), the call is
//! authorized like a REST one, and forwarded to the service that owns the method's package
//! with only an allow-list of headers.

use std::convert::Infallible;

use http::{HeaderValue, Request, Response, header};
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, ServiceExt};

use crate::server::Employee;
use crate::{Caller, Gateway};

/// Headers a gRPC call may carry to a service; everything else from outside is dropped
/// (identity headers in particular: a service learns who is calling from the token only).
const FORWARDED: &[header::HeaderName] = &[
    header::CONTENT_TYPE,
    header::TE,
    header::AUTHORIZATION,
    header::USER_AGENT,
];
const FORWARDED_GRPC: &[&str] = &["grpc-timeout", "grpc-encoding", "grpc-accept-encoding"];

/// Serves one gRPC or gRPC-Web request.
pub async fn serve(
    gateway: std::sync::Arc<Gateway>,
    req: Request<crate::connections::RequestBody>,
    caller: Caller,
) -> Response<Body> {
    let forward = tower::service_fn(move |req: Request<Body>| {
        let gateway = gateway.clone();
        let caller = caller.clone();
        async move { Ok::<_, Infallible>(forward(&gateway, req, &caller).await) }
    });
    let service = tonic_web::GrpcWebLayer::new().layer(forward);
    match service.oneshot(req.map(Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

async fn forward(gateway: &Gateway, req: Request<Body>, caller: &Caller) -> Response<Body> {
    let path = req.uri().path().to_string();
    let Some(access) = crm_proto::method_access(&path) else {
        return Status::unimplemented(format!("{path} is not a CRM method")).into_http();
    };
    if crate::is_internal(&path) {
        return Status::unimplemented(format!(
            "{path} is internal: services call it directly, not through the gateway"
        ))
        .into_http();
    }
    // `/crm.customers.v1.CustomersService/GetCustomer` → customers.
    let service = path.trim_start_matches('/').split('.').nth(1).unwrap_or_default();
    let Some(channel) = gateway.upstreams.channel(service) else {
        return Status::unimplemented(format!("no {service} service is configured")).into_http();
    };
    tracing::Span::current().record("http.route", path.as_str());
    if let Err(wait) = gateway.per_ip.check(&caller.ip) {
        return crate::rate_limited("per_ip", "requests from this address", wait).into_http();
    }
    let principal = match gateway.authorize(access, req.headers(), caller).await {
        Ok(p) => p,
        Err(status) => return status.into_http(),
    };
    let (parts, body) = req.into_parts();
    let mut out = Request::new(body);
    *out.method_mut() = http::Method::POST;
    *out.uri_mut() = parts.uri;
    *out.version_mut() = http::Version::HTTP_2;
    let headers = out.headers_mut();
    for name in FORWARDED {
        if let Some(v) = parts.headers.get(name) {
            headers.insert(name.clone(), v.clone());
        }
    }
    for name in FORWARDED_GRPC {
        if let Some(v) = parts.headers.get(*name) {
            headers.insert(*name, v.clone());
        }
    }
    if let Ok(v) = HeaderValue::from_str(&caller.request_id) {
        headers.insert("x-request-id", v);
    }
    crm_kit::telemetry::inject_trace_headers(headers);
    let mut response = match channel.oneshot(out).await {
        Ok(response) => response,
        Err(e) => crate::upstream::unreachable(service, e).into_http(),
    };
    if let Some(p) = principal {
        response.extensions_mut().insert(Employee(p.employee_id));
    }
    response.extensions_mut().insert(crm_kit::metrics::grpc_route(&path));
    response
}
