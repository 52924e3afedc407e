//! REST requests: find the route, authorize, build the request message, call the owning
//! service, answer with JSON (or stream CSV in and out).

use std::str::FromStr;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use prost::Message as _;
use prost_reflect::{DynamicMessage, Kind, ReflectMessage, Value};
use tokio_stream::StreamExt;
use tonic::Status;
use tonic::body::Body;

use crate::connections::RequestBody;
use crate::routes::Route;
use crate::server::{Employee, json};
use crate::upstream::{RawCodec, client, unreachable};
use crate::{Caller, Gateway, transcode};

/// The size of the CSV pieces an upload is sent to the service in.
const UPLOAD_CHUNK: usize = 64 * 1024;

/// Serves one REST request.
pub async fn serve(gateway: &Gateway, req: Request<RequestBody>, caller: &Caller) -> Response<Body> {
    let path = req.uri().path().to_string();
    let (route, vars) = match gateway.routes.find(req.method(), &path) {
        Ok(found) => found,
        Err(allowed) if allowed.is_empty() => {
            let status = Status::not_found(format!("no such resource: {} {path}", req.method()));
            return problem(gateway, &status, caller);
        }
        Err(allowed) => {
            let status = Status::unimplemented(format!(
                "{path} does not support {}; it supports {}",
                req.method(),
                allowed.join(", ")
            ));
            let mut response = problem_as(gateway, &status, caller, StatusCode::METHOD_NOT_ALLOWED);
            if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                response.headers_mut().insert(header::ALLOW, v);
            }
            return response;
        }
    };
    let template = route.template.openapi_path();
    tracing::Span::current().record("http.route", template.as_str());
    let http_route = crm_kit::metrics::HttpRoute(template.into());
    let (parts, body) = req.into_parts();
    let principal = match gateway.authorize(route.access, &parts.headers, caller).await {
        Ok(p) => p,
        Err(status) => {
            let mut response = problem(gateway, &status, caller);
            response.extensions_mut().insert(http_route);
            return response;
        }
    };
    let mut response = match call(gateway, route, &vars, parts, body, caller).await {
        Ok(response) => response,
        Err(status) => problem(gateway, &status, caller),
    };
    if let Some(p) = principal {
        response.extensions_mut().insert(Employee(p.employee_id));
    }
    response.extensions_mut().insert(http_route);
    response
}

async fn call(
    gateway: &Gateway,
    route: &Route,
    vars: &[(String, String)],
    parts: http::request::Parts,
    body: RequestBody,
    caller: &Caller,
) -> Result<Response<Body>, Status> {
    let query = parts.uri.query();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if route.method.is_client_streaming() {
        if declared.is_some_and(|n| n > gateway.config.max_upload_bytes) {
            return Err(too_large("upload", gateway.config.max_upload_bytes));
        }
        let mut first = transcode::request(route, vars, query, b"")?;
        if let Some(size) = declared {
            declare_size(&mut first, size);
        }
        return upload(gateway, route, first, &parts.headers, body, caller).await;
    }
    let limit = gateway.config.max_body_bytes;
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large("body", limit as u64));
    }
    let within = gateway.body_timeout();
    let bytes = tokio::time::timeout(within, http_body_util::Limited::new(body, limit).collect())
        .await
        .map_err(|_| body_timed_out(within))?
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large("body", limit as u64)
            } else {
                broken_body(&*e)
            }
        })?
        .to_bytes();
    if !bytes.is_empty()
        && let Some(ct) = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
        && !ct.starts_with("application/json")
    {
        return Err(crm_kit::Error::invalid(
            "content-type",
            "UNSUPPORTED_MEDIA_TYPE",
            format!("{ct} is not accepted; send application/json"),
        )
        .into());
    }
    let mut message = transcode::request(route, vars, query, &bytes)?;
    if let Some(size) = transcode::page_size(&message)
        && size > gateway.config.max_page_size
        && let Some(field) = message.descriptor().get_field_by_name("page_size")
    {
        let max = gateway.config.max_page_size;
        let value = match field.kind() {
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(max),
            Kind::Uint32 | Kind::Fixed32 => Value::U32(u32::try_from(max).unwrap_or(u32::MAX)),
            Kind::Uint64 | Kind::Fixed64 => Value::U64(u64::try_from(max).unwrap_or(0)),
            _ => Value::I32(i32::try_from(max).unwrap_or(i32::MAX)),
        };
        message.set_field(&field, value);
    }
    let request = outgoing(&parts.headers, caller, Bytes::from(message.encode_to_vec()));
    let (mut grpc, path) = connect(gateway, route).await?;
    if route.method.is_server_streaming() {
        return download(
            route,
            grpc.server_streaming(request, path, RawCodec).await?.into_inner(),
        )
        .await;
    }
    let mut request = request;
    request.set_timeout(gateway.upstream_timeout());
    let response = grpc.unary(request, path, RawCodec).await?.into_inner();
    unary_reply(route, response)
}

/// A ready client to the service owning `route`, and the method's path.
async fn connect(
    gateway: &Gateway,
    route: &Route,
) -> Result<(tonic::client::Grpc<tonic::transport::Channel>, http::uri::PathAndQuery), Status> {
    let channel = gateway
        .upstreams
        .channel(&route.service)
        .ok_or_else(|| Status::unimplemented(format!("no {} service is configured", route.service)))?;
    let mut grpc = client(channel);
    grpc.ready().await.map_err(|e| unreachable(&route.service, e))?;
    let path = http::uri::PathAndQuery::from_str(&route.grpc_path).map_err(|e| Status::internal(e.to_string()))?;
    Ok((grpc, path))
}

/// The JSON answer of a unary (or client-streaming) call from its encoded response.
fn unary_reply(route: &Route, encoded: Bytes) -> Result<Response<Body>, Status> {
    let message = DynamicMessage::decode(route.method.output(), encoded)
        .map_err(|e| Status::internal(format!("undecodable response: {e}")))?;
    Ok(json(
        StatusCode::OK,
        Bytes::from(transcode::response_json(route, &message)?),
    ))
}

/// The call to the service, carrying only what the gateway vouches for: the bearer token (the
/// service verifies it again), the request id and the trace context.
fn outgoing<T>(headers: &http::HeaderMap, caller: &Caller, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Ok(v) = auth.parse()
    {
        metadata.insert("authorization", v);
    }
    if let Ok(v) = caller.request_id.parse() {
        metadata.insert("x-request-id", v);
    }
    crm_kit::telemetry::inject_trace_context(metadata);
    request
}

/// The content type of a streamed download: CSV for a `csv_chunk` field, bytes for other
/// bytes fields, newline-delimited JSON for whole messages.
pub fn stream_content_type(route: &Route) -> &'static str {
    match &route.response_body {
        Some(field) if field.ends_with("csv_chunk") => "text/csv; charset=utf-8",
        Some(field)
            if route
                .method
                .output()
                .get_field_by_name(field)
                .is_some_and(|f| matches!(f.kind(), Kind::Bytes)) =>
        {
            "application/octet-stream"
        }
        _ => "application/x-ndjson",
    }
}

/// Streams a server-streaming response as it arrives. Failures before the first message are
/// answered as errors; a failure later cuts the body short, so a client never mistakes a
/// truncated file for a whole one.
async fn download(route: &Route, mut stream: tonic::Streaming<Bytes>) -> Result<Response<Body>, Status> {
    let first = stream.message().await?;
    let output = route.method.output();
    let raw_field = route
        .response_body
        .as_deref()
        .and_then(|f| output.get_field_by_name(f))
        .filter(|f| matches!(f.kind(), Kind::Bytes));
    let response_body = route.response_body.clone();
    let convert = move |encoded: Bytes| -> Result<Bytes, Status> {
        let message = DynamicMessage::decode(output.clone(), encoded)
            .map_err(|e| Status::internal(format!("undecodable response: {e}")))?;
        if let Some(field) = &raw_field {
            return Ok(match message.get_field(field).as_ref() {
                Value::Bytes(b) => b.clone(),
                _ => Bytes::new(),
            });
        }
        let mut json = transcode::to_json(&message).map_err(Status::from)?;
        if let Some(name) = &response_body {
            json = json.get(name).cloned().unwrap_or(serde_json::Value::Null);
        }
        let mut line = serde_json::to_vec(&json).map_err(|e| Status::internal(e.to_string()))?;
        line.push(b'\n');
        Ok(Bytes::from(line))
    };
    // A file download names itself in its first message (`file_name`, `content_type`).
    let head_message = first
        .clone()
        .and_then(|bytes| DynamicMessage::decode(route.method.output(), bytes).ok());
    let named = |name: &str| -> Option<String> {
        let message = head_message.as_ref()?;
        let field = message.descriptor().get_field_by_name(name)?;
        match message.get_field(&field).as_ref() {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    };
    let (file_name, file_type) = (named("file_name"), named("content_type"));
    let head = tokio_stream::iter(first.map(Ok));
    let frames = head.chain(stream).map(move |item| {
        item.and_then(&convert).map(hyper::body::Frame::data).inspect_err(
            |status| tracing::warn!(code = ?status.code(), message = status.message(), "download cut short"),
        )
    });
    let mut response = Response::new(Body::new(http_body_util::StreamBody::new(frames)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        file_type
            .and_then(|t| HeaderValue::from_str(&t).ok())
            .unwrap_or_else(|| HeaderValue::from_static(stream_content_type(route))),
    );
    if let Some(name) = file_name {
        // Always saved, never shown in the page: a stored HTML file must not run on this origin.
        if let Ok(v) = HeaderValue::from_str(&content_disposition(&name)) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    } else if stream_content_type(route).starts_with("text/csv") {
        let name = route.method.name().trim_start_matches("Export").to_ascii_lowercase();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}

/// `attachment` with the file's name: an ASCII fallback (`filename`) and the exact name in
/// UTF-8 (`filename*`, RFC 6266 and RFC 8187).
fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The message type in which an upload's first message declares what is coming.
const UPLOAD_DECLARATION: &str = "crm.common.v1.UploadDeclaration";

/// Declares `size` (the request's Content-Length) in the first message of an upload, in its
/// `crm.common.v1.UploadDeclaration` field (at the top, or in a message field such as an
/// import's `options`), unless the caller declared a size itself. The service then stores
/// the upload only when exactly that many bytes reached it: a stream to it can end cleanly
/// although the HTTP body broke off.
fn declare_size(first: &mut DynamicMessage, size: u64) {
    let input = first.descriptor();
    let is_declaration = |f: &prost_reflect::FieldDescriptor| {
        !f.is_list() && !f.is_map() && matches!(f.kind(), Kind::Message(m) if m.full_name() == UPLOAD_DECLARATION)
    };
    let mut path = input.fields().find(is_declaration).map(|f| vec![f]);
    if path.is_none() {
        path = input.fields().find_map(|outer| match outer.kind() {
            Kind::Message(m) if !outer.is_list() && !outer.is_map() => {
                m.fields().find(is_declaration).map(|inner| vec![outer.clone(), inner])
            }
            _ => None,
        });
    }
    let Some(path) = path else { return };
    let mut target = first;
    for field in &path {
        target = match target.get_field_mut(field) {
            Value::Message(m) => m,
            _ => return,
        };
    }
    let Some(size_field) = target.descriptor().get_field_by_name("size_bytes") else {
        return;
    };
    if !target.has_field(&size_field) {
        target.set_field(&size_field, Value::I64(i64::try_from(size).unwrap_or(i64::MAX)));
    }
}

/// Why an upload stopped early.
enum Aborted {
    TooLarge,
    /// The body broke off, was malformed or stalled: the status to answer.
    Broken(Status),
}

/// Streams a request body into a client-streaming method: the message built from the query
/// string first, then the body in pieces in the route's `body` field.
async fn upload(
    gateway: &Gateway,
    route: &Route,
    first: DynamicMessage,
    headers: &http::HeaderMap,
    mut body: RequestBody,
    caller: &Caller,
) -> Result<Response<Body>, Status> {
    let input = route.method.input();
    let field = route
        .body
        .as_deref()
        .and_then(|b| input.get_field_by_name(b))
        .filter(|f| matches!(f.kind(), Kind::Bytes))
        .ok_or_else(|| Status::unimplemented("this upload has no bytes field to stream into"))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let (abort_tx, abort_rx) = tokio::sync::oneshot::channel::<Aborted>();
    tx.send(Bytes::from(first.encode_to_vec()))
        .await
        .map_err(|_| Status::internal("upload channel closed"))?;
    let max = gateway.config.max_upload_bytes;
    let within = gateway.body_timeout();
    let reader = tokio::spawn(async move {
        let chunk = |data: Bytes| {
            let mut m = DynamicMessage::new(input.clone());
            m.set_field(&field, Value::Bytes(data));
            Bytes::from(m.encode_to_vec())
        };
        let mut buffer = BytesMut::new();
        let mut total = 0u64;
        loop {
            // On a failure the stream to the service is kept open until the call is dropped
            // (which cancels it there): ending it would read as the end of the file.
            let frame = match tokio::time::timeout(within, body.frame()).await {
                Ok(Some(Ok(frame))) => frame,
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    let _ = abort_tx.send(Aborted::Broken(broken_body(&e)));
                    return std::future::pending::<()>().await;
                }
                Err(_) => {
                    let _ = abort_tx.send(Aborted::Broken(body_timed_out(within)));
                    return std::future::pending::<()>().await;
                }
            };
            let Ok(data) = frame.into_data() else { continue };
            total += data.len() as u64;
            if total > max {
                let _ = abort_tx.send(Aborted::TooLarge);
                return std::future::pending::<()>().await;
            }
            buffer.extend_from_slice(&data);
            if buffer.len() >= UPLOAD_CHUNK && tx.send(chunk(buffer.split().freeze())).await.is_err() {
                return;
            }
        }
        if !buffer.is_empty() {
            let _ = tx.send(chunk(buffer.freeze())).await;
        }
    });
    let request = outgoing(headers, caller, tokio_stream::wrappers::ReceiverStream::new(rx));
    let (mut grpc, path) = connect(gateway, route).await?;
    let aborted = async {
        match abort_rx.await {
            Ok(reason) => reason,
            Err(_) => std::future::pending().await,
        }
    };
    // Abandoning the call cancels it at the service, which then stops reading.
    let result = tokio::select! {
        r = grpc.client_streaming(request, path, RawCodec) => r,
        reason = aborted => {
            reader.abort();
            return Err(match reason {
                Aborted::TooLarge => too_large("upload", max),
                Aborted::Broken(status) => status,
            });
        }
    };
    // The service answered, possibly before the whole body was read (it refused the upload).
    reader.abort();
    let response = result?.into_inner();
    unary_reply(route, response)
}

/// The reason of a request whose body stalled (answered 408).
const BODY_TIMEOUT: &str = "BODY_TIMEOUT";

fn body_timed_out(within: std::time::Duration) -> Status {
    use tonic_types::{ErrorDetails, StatusExt as _};
    Status::with_error_details(
        tonic::Code::DeadlineExceeded,
        format!(
            "the request body did not arrive within {} s; the connection is closed",
            within.as_secs()
        ),
        ErrorDetails::with_error_info(
            BODY_TIMEOUT,
            crm_kit::errors::ERROR_DOMAIN,
            std::collections::HashMap::new(),
        ),
    )
}

/// Why a request body could not be read: malformed (chunked encoding that does not parse:
/// 400, the client's fault), or the client went away (CANCELLED; nobody hears it).
fn broken_body(e: &(dyn std::error::Error + 'static)) -> Status {
    let mut source = Some(e);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput
            )
        {
            return crm_kit::Error::invalid("body", "MALFORMED_BODY", format!("the request body is malformed: {io}"))
                .into();
        }
        source = e.source();
    }
    Status::cancelled("the request body was not received in full")
}

fn too_large(what: &str, limit: u64) -> Status {
    crm_kit::Error::ResourceExhausted {
        reason: "REQUEST_TOO_LARGE",
        message: format!("the {what} is larger than the limit of {limit} bytes"),
        retry_after: None,
    }
    .into()
}

/// The JSON error response for `status`.
pub fn problem(gateway: &Gateway, status: &Status, caller: &Caller) -> Response<Body> {
    let http = match reason(status).as_deref() {
        Some("REQUEST_TOO_LARGE") if status.code() == tonic::Code::ResourceExhausted => StatusCode::PAYLOAD_TOO_LARGE,
        Some(BODY_TIMEOUT) => StatusCode::REQUEST_TIMEOUT,
        _ => crate::problem::http_status(status.code()),
    };
    let mut response = problem_as(gateway, status, caller, http);
    if http == StatusCode::REQUEST_TIMEOUT {
        // The rest of the body may still come: the connection cannot carry another request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn problem_as(gateway: &Gateway, status: &Status, caller: &Caller, http: StatusCode) -> Response<Body> {
    let (body, retry_after) = crate::problem::body(&gateway.pool, status, http, &caller.request_id);
    let mut response = json(http, Bytes::from(body));
    if let Some(seconds) = retry_after
        && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// The ErrorInfo reason of a status, when it has one.
fn reason(status: &Status) -> Option<String> {
    use tonic_types::StatusExt as _;
    status.get_details_error_info().map(|i| i.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Routes;
    use prost_reflect::DescriptorPool;

    fn first_message(path: &str, query: &str) -> DynamicMessage {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        let routes = Routes::from_pool(&pool).unwrap();
        let (route, vars) = routes.find(&http::Method::POST, path).expect("route");
        let mut first = transcode::request(route, &vars, Some(query), b"").unwrap();
        declare_size(&mut first, 307_200);
        first
    }

    #[test]
    fn a_rest_upload_declares_its_content_length_in_the_first_message() {
        let json = transcode::to_json(&first_message("/v1/projects/p-1/documents", "document.fileName=a.pdf")).unwrap();
        assert_eq!(json["declared"]["sizeBytes"], "307200", "{json}");
        assert_eq!(json["document"]["fileName"], "a.pdf");
        let json = transcode::to_json(&first_message("/v1/customers:import", "")).unwrap();
        assert_eq!(json["options"]["declared"]["sizeBytes"], "307200", "{json}");
        let json = transcode::to_json(&first_message("/v1/leads:import", "options.ownerId=pool")).unwrap();
        assert_eq!(json["options"]["declared"]["sizeBytes"], "307200", "{json}");
        assert_eq!(json["options"]["ownerId"], "pool");
        // A size the caller declared is kept (and checked by the service).
        let json = transcode::to_json(&first_message(
            "/v1/projects/p-1/documents",
            "declared.sizeBytes=5&declared.sha256=ab",
        ))
        .unwrap();
        assert_eq!(json["declared"]["sizeBytes"], "5");
        assert_eq!(json["declared"]["sha256"], "ab");
    }
}
