//! Hostile clients and connections: a panic in a handler is answered, stalled connections are
//! closed, the connection caps refuse past their limit, an early refusal leaves a keep-alive
//! connection usable, a malformed body is the client's fault, and a shutdown drains. Raw
//! sockets where the test needs bytes a well-behaved client would not send.

use std::net::SocketAddr;
use std::time::Duration;

use http::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{start, start_with};

/// The longest a test waits for the gateway to close a stalled connection (its timeouts are
/// set to one second in these tests; the defaults are far longer).
const PATIENCE: Duration = Duration::from_secs(8);

/// Reads until the gateway closes the connection; what it sent, or None when it is still
/// open after `PATIENCE`.
async fn read_until_closed(tcp: &mut TcpStream) -> Option<String> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| String::from_utf8_lossy(&answer).into_owned())
}

/// Reads one HTTP/1.1 response (head and a Content-Length body) from a connection that may
/// stay open; the head's text and the body.
async fn read_response(tcp: &mut TcpStream) -> (String, String) {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let result = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().expect("content-length"))
                    .unwrap_or(0);
                if data.len() >= end + 4 + length {
                    let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned();
                    data.drain(..end + 4 + length);
                    return Ok((head, body));
                }
            }
            match tcp.read(&mut buf).await {
                Ok(0) => return Err(format!("closed after {:?}", String::from_utf8_lossy(&data))),
                Ok(n) => data.extend_from_slice(&buf[..n]),
                Err(e) => return Err(format!("{e} after {:?}", String::from_utf8_lossy(&data))),
            }
        }
    })
    .await;
    match result {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => panic!("no whole response: {e}"),
        Err(_) => panic!("no response within {PATIENCE:?}"),
    }
}

/// A connection to the gateway from the loopback address `from` (127.0.0.x).
async fn connect_from(from: [u8; 4], gateway: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback source address");
    socket.connect(gateway).await.expect("connect")
}

fn status_of(head: &str) -> u16 {
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"))
}

#[tokio::test]
async fn a_panic_in_a_handler_is_answered_500_or_internal_and_the_gateway_goes_on() {
    let system = start().await;
    let alice = system.sales("alice");
    let panic = crm_gateway::TEST_PANIC_HEADER;

    // REST: a JSON 500 naming the request id, not a dropped connection.
    let reply = system
        .http
        .send(Method::GET, "/v1/customers", Some(&alice), &[(panic, "1")], Vec::new())
        .await
        .expect(500);
    let error = reply.json()["error"].clone();
    assert_eq!(error["status"], "INTERNAL", "{error}");
    assert_eq!(
        Some(error["requestId"].as_str().expect("request id")),
        reply.header("x-request-id")
    );

    // gRPC-Web: HTTP 200 with grpc-status INTERNAL.
    let reply = system
        .http
        .send(
            Method::POST,
            "/crm.customers.v1.CustomersService/ListCustomers",
            Some(&alice),
            &[
                ("content-type", "application/grpc-web+proto"),
                ("x-grpc-web", "1"),
                (panic, "1"),
            ],
            vec![0u8, 0, 0, 0, 0],
        )
        .await
        .expect(200);
    assert_eq!(reply.header("grpc-status"), Some("13"), "{reply:?}");

    // gRPC over HTTP/2: INTERNAL, and the same connection carries the next call.
    let channel = tonic::transport::Channel::from_shared(system.http_base())
        .expect("url")
        .connect()
        .await
        .expect("connect to the gateway");
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {alice}").parse().expect("ascii");
    let mut grpc = crm_proto::customers::customers_service_client::CustomersServiceClient::new(channel);
    let mut request = tonic::Request::new(crm_proto::customers::ListCustomersRequest::default());
    request.metadata_mut().insert("authorization", bearer.clone());
    request.metadata_mut().insert(panic, "1".parse().expect("ascii"));
    let status = grpc.list_customers(request).await.expect_err("a panic");
    assert_eq!(status.code(), tonic::Code::Internal, "{status:?}");
    let mut request = tonic::Request::new(crm_proto::customers::ListCustomersRequest::default());
    request.metadata_mut().insert("authorization", bearer);
    grpc.list_customers(request)
        .await
        .expect("the next call on the same channel");

    // The gateway goes on serving on the same pooled connection.
    system.http.get("/v1/customers", Some(&alice)).await.expect(200);
}

#[tokio::test]
async fn stalled_connections_are_closed() {
    let system = start_with(|c| {
        c.header_timeout_seconds = 1;
        c.body_timeout_seconds = 1;
    })
    .await;
    let gateway = system.gateway_addr;
    let alice = system.sales("alice");

    // A connection that sends nothing.
    let mut silent = TcpStream::connect(gateway).await.expect("connect");
    // One whose head never ends.
    let mut endless_head = TcpStream::connect(gateway).await.expect("connect");
    endless_head
        .write_all(b"GET /v1/customers HTTP/1.1\r\nhost: gateway\r\nx-one: 1\r\n")
        .await
        .expect("write");
    // One whose body stops half-way.
    let mut stalled_body = TcpStream::connect(gateway).await.expect("connect");
    let head = format!(
        "POST /v1/customers HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {alice}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"customer\":"
    );
    stalled_body.write_all(head.as_bytes()).await.expect("write");

    let (silent, endless_head, stalled_body) = tokio::join!(
        read_until_closed(&mut silent),
        read_until_closed(&mut endless_head),
        read_until_closed(&mut stalled_body),
    );
    assert!(silent.is_some(), "a silent connection is still open after {PATIENCE:?}");
    assert!(
        endless_head.is_some(),
        "an endless head is still open after {PATIENCE:?}"
    );
    let stalled_body = stalled_body.unwrap_or_else(|| panic!("a stalled body is still open after {PATIENCE:?}"));
    assert!(stalled_body.starts_with("HTTP/1.1 408"), "{stalled_body}");
    assert!(
        stalled_body.to_ascii_lowercase().contains("connection: close"),
        "{stalled_body}"
    );

    // Normal requests are unaffected.
    system.http.get("/v1/customers", Some(&alice)).await.expect(200);
}

#[tokio::test]
async fn connections_past_the_per_address_cap_are_refused_and_others_served() {
    let system = start_with(|c| c.max_connections_per_ip = 3).await;
    let gateway = system.gateway_addr;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut tcp = connect_from([127, 0, 0, 2], gateway).await;
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
            .await
            .expect("write");
        let (head, _) = read_response(&mut tcp).await;
        assert_eq!(status_of(&head), 200, "{head}");
        held.push(tcp);
    }
    // A fourth from the same address is closed at once, unanswered.
    let mut fourth = connect_from([127, 0, 0, 2], gateway).await;
    let _ = fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await;
    let answer = read_until_closed(&mut fourth)
        .await
        .expect("a connection over the cap is closed");
    assert!(answer.is_empty(), "a refused connection gets no answer: {answer}");

    // Another address is served, and so are the held connections.
    let mut other = connect_from([127, 0, 0, 3], gateway).await;
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .expect("write");
    assert_eq!(status_of(&read_response(&mut other).await.0), 200);
    system.http.get("/healthz", None).await.expect(200);
    held[0]
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .expect("write");
    assert_eq!(status_of(&read_response(&mut held[0]).await.0), 200);

    // A place freed is given to the next connection.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = connect_from([127, 0, 0, 2], gateway).await;
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .expect("write");
    assert_eq!(status_of(&read_response(&mut again).await.0), 200);
}

#[tokio::test]
async fn a_request_refused_before_its_body_leaves_the_connection_usable() {
    let system = start().await;
    let gateway = system.gateway_addr;
    let body =
        serde_json::to_vec(&json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "Early Ltd"}})).expect("json");

    // The head first, the body a moment later (as a client streaming a body sends it): the
    // 401 is decided before the body arrives; the connection still carries the next request.
    let mut tcp = TcpStream::connect(gateway).await.expect("connect");
    let head = format!(
        "POST /v1/customers HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.expect("write head");
    tokio::time::sleep(Duration::from_millis(200)).await;
    tcp.write_all(&body).await.expect("write body");
    let (head, _) = read_response(&mut tcp).await;
    assert_eq!(status_of(&head), 401, "{head}");
    if head.contains("connection: close") {
        assert!(read_until_closed(&mut tcp).await.is_some(), "closed as announced");
    } else {
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
            .await
            .expect("the connection takes the next request");
        let (head, body) = read_response(&mut tcp).await;
        assert_eq!(status_of(&head), 200, "{head} {body}");
    }

    // A large body still on its way: the answer says the connection closes.
    let large = vec![b' '; 600 * 1024];
    let mut tcp = TcpStream::connect(gateway).await.expect("connect");
    let head = format!(
        "POST /v1/customers HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        large.len()
    );
    tcp.write_all(head.as_bytes()).await.expect("write head");
    tcp.write_all(&large[..1024]).await.expect("write some");
    let (head, _) = read_response(&mut tcp).await;
    assert_eq!(status_of(&head), 401, "{head}");
    assert!(head.contains("connection: close"), "{head}");

    // A pooling client sending unauthenticated bodies then more requests: never an error
    // from a connection closed under it.
    for i in 0..20 {
        let big = vec![b' '; if i % 2 == 0 { 300 * 1024 } else { 2 * 1024 }];
        system
            .http
            .send(
                Method::POST,
                "/v1/customers",
                None,
                &[("content-type", "application/json")],
                big,
            )
            .await
            .expect(401);
        system.http.get("/healthz", None).await.expect(200);
    }
}

#[tokio::test]
async fn a_malformed_chunked_body_is_a_400() {
    let system = start().await;
    let mut tcp = TcpStream::connect(system.gateway_addr).await.expect("connect");
    tcp.write_all(
        b"POST /v1/auth/login HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n\
          transfer-encoding: chunked\r\n\r\n5\r\n{\"log\r\nzz-not-a-size\r\n\r\n",
    )
    .await
    .expect("write");
    let answer = read_until_closed(&mut tcp).await.expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("INVALID_ARGUMENT"), "{answer}");
}

#[tokio::test]
async fn a_shutdown_lets_accepted_requests_finish_and_refuses_new_ones() {
    let mut system = start_with(|c| c.shutdown_grace_seconds = 15).await;
    let gateway = system.gateway_addr;
    let alice = system.sales("alice");

    // Six creates in flight: their heads are in, their bodies still coming.
    let mut in_flight = Vec::new();
    for i in 0..6 {
        let body = serde_json::to_vec(
            &json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": format!("Drain {i} Ltd")}}),
        )
        .expect("json");
        let mut tcp = TcpStream::connect(gateway).await.expect("connect");
        let head = format!(
            "POST /v1/customers HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer {alice}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        tcp.write_all(head.as_bytes()).await.expect("write head");
        tcp.write_all(&body[..10]).await.expect("write some");
        in_flight.push((tcp, body));
    }
    // A keep-alive connection that has served a request and is idle.
    let mut idle = TcpStream::connect(gateway).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .expect("write");
    assert_eq!(status_of(&read_response(&mut idle).await.0), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let stopped = system.stop_gateway();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!stopped.is_finished(), "the gateway waits for the requests in flight");

    // New requests meanwhile: 503 with Connection: close, on a new connection and on the
    // idle keep-alive one.
    let mut late = TcpStream::connect(gateway)
        .await
        .expect("the listener is open while draining");
    late.write_all(b"GET /v1/customers HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .expect("write");
    let (head, body) = read_response(&mut late).await;
    assert_eq!(status_of(&head), 503, "{head} {body}");
    assert!(head.contains("connection: close"), "{head}");
    assert!(body.contains("UNAVAILABLE"), "{body}");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .expect("write");
    let (head, _) = read_response(&mut idle).await;
    assert_eq!(status_of(&head), 503, "{head}");
    assert!(head.contains("connection: close"), "{head}");

    // Every request in flight gets its answer.
    let mut names = Vec::new();
    for (tcp, body) in &mut in_flight {
        tcp.write_all(&body[10..]).await.expect("write the rest");
    }
    for (tcp, _) in &mut in_flight {
        let (head, body) = read_response(tcp).await;
        assert_eq!(status_of(&head), 200, "{head} {body}");
        assert!(head.contains("connection: close"), "answered during the drain: {head}");
        let created: serde_json::Value = serde_json::from_str(&body).expect("json");
        names.push(created["customer"]["name"].as_str().expect("name").to_string());
    }
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");

    // Then the gateway stops, well within its grace, and its port refuses.
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("stopped once the requests were answered")
        .expect("stop task");
    assert!(TcpStream::connect(gateway).await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let system = start_with(|c| {
        c.idle_timeout_seconds = 1;
        c.header_timeout_seconds = 1;
        c.h2_keepalive_seconds = 0;
    })
    .await;
    let mut tcp = TcpStream::connect(system.gateway_addr).await.expect("connect");
    // The HTTP/2 preface and an empty SETTINGS frame, then nothing.
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("write");
    assert!(
        read_until_closed(&mut tcp).await.is_some(),
        "an idle HTTP/2 connection is still open after {PATIENCE:?}"
    );
}

#[tokio::test]
async fn a_client_that_reads_nothing_of_its_responses_is_disconnected() {
    let system = start_with(|c| c.send_timeout_seconds = 1).await;
    let size = system.http.get("/openapi.json", None).await.expect(200).body.len();
    // A small receive window, and many large responses asked for at once, never read.
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    let mut tcp = socket.connect(system.gateway_addr).await.expect("connect");
    let asked = 40;
    let requests = "GET /openapi.json HTTP/1.1\r\nhost: gateway\r\n\r\n".repeat(asked);
    tcp.write_all(requests.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Reading now: the gateway has given up on this client, so far fewer bytes than asked
    // for arrive before the connection ends.
    let mut total = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let ended = tokio::time::timeout(PATIENCE, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => total += n,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection is still open, {total} bytes read");
    assert!(total < size * asked, "{total} bytes of {}", size * asked);
    system.http.get("/healthz", None).await.expect(200);
}

#[tokio::test]
async fn connections_past_the_total_cap_are_refused_until_one_closes() {
    let system = start_with(|c| {
        c.max_connections = 4;
        c.max_connections_per_ip = 0;
    })
    .await;
    let gateway = system.gateway_addr;
    let mut held = Vec::new();
    for i in 0..4u8 {
        let mut tcp = connect_from([127, 0, 0, 10 + i], gateway).await;
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
            .await
            .expect("write");
        assert_eq!(status_of(&read_response(&mut tcp).await.0), 200);
        held.push(tcp);
    }
    let mut fifth = connect_from([127, 0, 0, 20], gateway).await;
    let _ = fifth.write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n").await;
    let answer = read_until_closed(&mut fifth)
        .await
        .expect("a connection over the cap is closed");
    assert!(answer.is_empty(), "a refused connection gets no answer: {answer}");
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut next = connect_from([127, 0, 0, 20], gateway).await;
    next.write_all(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n")
        .await
        .expect("write");
    assert_eq!(status_of(&read_response(&mut next).await.0), 200);
}

#[tokio::test]
async fn request_heads_and_http2_streams_are_bounded() {
    let system = start_with(|c| {
        c.max_header_bytes = 16 * 1024;
        c.h2_max_concurrent_streams = 7;
    })
    .await;
    // An HTTP/1.1 head larger than the limit: 431, not a buffer grown to fit.
    let mut tcp = TcpStream::connect(system.gateway_addr).await.expect("connect");
    let head = format!(
        "GET /healthz HTTP/1.1\r\nhost: gateway\r\nx-big: {}\r\n\r\n",
        "a".repeat(40 * 1024)
    );
    let _ = tcp.write_all(head.as_bytes()).await;
    let answer = read_until_closed(&mut tcp).await.expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    system.http.get("/healthz", None).await.expect(200);

    // HTTP/2: the server's SETTINGS announce the stream and header-list limits.
    let mut tcp = TcpStream::connect(system.gateway_addr).await.expect("connect");
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("write");
    let mut frame_head = [0u8; 9];
    tokio::time::timeout(PATIENCE, tcp.read_exact(&mut frame_head))
        .await
        .expect("settings in time")
        .expect("read");
    assert_eq!(frame_head[3], 4, "the first frame is SETTINGS");
    let length = usize::from(frame_head[0]) << 16 | usize::from(frame_head[1]) << 8 | usize::from(frame_head[2]);
    let mut payload = vec![0u8; length];
    tcp.read_exact(&mut payload).await.expect("read settings");
    let settings: std::collections::BTreeMap<u16, u32> = payload
        .chunks(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect();
    assert_eq!(
        settings.get(&0x3),
        Some(&7),
        "SETTINGS_MAX_CONCURRENT_STREAMS in {settings:?}"
    );
    assert_eq!(
        settings.get(&0x6),
        Some(&(16 * 1024)),
        "SETTINGS_MAX_HEADER_LIST_SIZE in {settings:?}"
    );
}

#[tokio::test]
async fn an_http2_peer_that_does_not_answer_pings_is_disconnected() {
    let system = start_with(|c| {
        c.h2_keepalive_seconds = 1;
        c.idle_timeout_seconds = 600;
    })
    .await;
    let mut tcp = TcpStream::connect(system.gateway_addr).await.expect("connect");
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("write");
    let frames = read_until_closed(&mut tcp)
        .await
        .unwrap_or_else(|| panic!("a peer ignoring pings is still connected after {PATIENCE:?}"));
    assert!(!frames.is_empty(), "the gateway spoke HTTP/2 first");
}
