//! The system under test and an HTTP client for it.

use std::collections::BTreeMap;

use bytes::{Buf, Bytes};
use crm_identity::testing::TestIdentity;
use crm_kit::testing::{TestServer, fresh_database};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Salespeople of the Sales department.
pub const SALESPEOPLE: &[&str] = &["alice", "bob"];
/// Their manager.
pub const MANAGER: &str = "boss";

/// Identity, customers and a gateway in front of them.
pub struct System {
    pub identity: TestIdentity,
    pub customers: TestServer,
    pub sales: TestServer,
    pub warehouse: TestServer,
    /// The gateway (kept running for the test's length, unless a test stops it).
    pub gateway: Option<TestServer>,
    /// Where the gateway listens.
    pub gateway_addr: std::net::SocketAddr,
    pub http: Http,
}

/// Starts the system; `tune` adjusts the gateway's settings (limits).
pub async fn start_with(tune: impl FnOnce(&mut crm_gateway::Config)) -> System {
    let identity = TestIdentity::start(&fresh_database("identity").await).await;
    for id in SALESPEOPLE {
        identity.employee(id, "salesperson").await;
    }
    identity.employee(MANAGER, "sales_manager").await;
    let customers = crm_customers::testing::spawn_with(&identity.url(), None, |c| c.service.db_max_connections = 4)
        .await
        .server;
    let sales = crm_sales::testing::spawn(&identity.url(), &customers.endpoint())
        .await
        .server;
    let warehouse = crm_warehouse::testing::spawn_with(&identity.url(), None, |c| c.service.db_max_connections = 4)
        .await
        .server;
    let mut config = crm_gateway::Config::local("127.0.0.1:0".parse().expect("addr"))
        .with_upstream("identity", identity.url())
        .with_upstream("customers", customers.endpoint())
        .with_upstream("sales", sales.endpoint())
        .with_upstream("warehouse", warehouse.endpoint());
    // Tests make many calls from one address; the limit tests set their own.
    config.rate_per_ip = 0.0;
    config.rate_per_employee = 0.0;
    config.public_rate_per_minute = 0.0;
    config.cors_origins = vec!["https://app.example".into()];
    tune(&mut config);
    let gateway = TestServer::start(move |listener, shutdown| async move {
        crm_gateway::run(config, listener, shutdown)
            .await
            .expect("gateway runs");
    })
    .await;
    let http = Http::new(gateway.endpoint());
    System {
        identity,
        customers,
        sales,
        warehouse,
        gateway_addr: gateway.addr,
        gateway: Some(gateway),
        http,
    }
}

/// Starts the system with the test settings.
pub async fn start() -> System {
    start_with(|_| {}).await
}

impl System {
    /// A salesperson's token.
    pub fn sales(&self, id: &str) -> String {
        self.identity.token(id, "salesperson")
    }

    /// `http://127.0.0.1:port` of the gateway.
    pub fn http_base(&self) -> String {
        format!("http://{}", self.gateway_addr)
    }

    /// Tells the gateway to stop (as SIGTERM does); the task completes when it has stopped.
    pub fn stop_gateway(&mut self) -> tokio::task::JoinHandle<()> {
        let gateway = self.gateway.take().expect("the gateway is running");
        tokio::spawn(gateway.stop())
    }

    /// The sales manager's token.
    pub fn manager(&self) -> String {
        self.identity.token(MANAGER, "sales_manager")
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// The `error.details[]` entry of `@type` ending in `kind`.
    pub fn detail(&self, kind: &str) -> serde_json::Value {
        let json = self.json();
        json["error"]["details"]
            .as_array()
            .and_then(|d| {
                d.iter()
                    .find(|x| x["@type"].as_str().is_some_and(|t| t.ends_with(kind)))
                    .cloned()
            })
            .unwrap_or_else(|| panic!("no {kind} detail in {json}"))
    }
}

/// An HTTP/1.1 client for the gateway.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Http {
    pub fn new(base: String) -> Http {
        Http {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base,
        }
    }

    /// Sends a request with `headers` and `body`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(body.into())).expect("request");
        let resp = self.client.request(req).await.expect("HTTP request");
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    /// A JSON request.
    pub async fn json(&self, method: Method, path: &str, token: Option<&str>, body: serde_json::Value) -> Reply {
        let bytes = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(serde_json::to_vec(&body).expect("json"))
        };
        self.send(method, path, token, &[("content-type", "application/json")], bytes)
            .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, &[], Bytes::new()).await
    }

    /// A gRPC-Web call (binary format) of `path` with one encoded message; the gRPC status
    /// code, message and the response messages.
    pub async fn grpc_web(&self, path: &str, token: Option<&str>, message: &[u8]) -> GrpcWebReply {
        let mut frame = Vec::with_capacity(message.len() + 5);
        frame.push(0u8);
        frame.extend_from_slice(&u32::try_from(message.len()).expect("small").to_be_bytes());
        frame.extend_from_slice(message);
        let reply = self
            .send(
                Method::POST,
                path,
                token,
                &[("content-type", "application/grpc-web+proto"), ("x-grpc-web", "1")],
                frame,
            )
            .await;
        assert_eq!(reply.status, 200, "gRPC-Web answers HTTP 200: {reply:?}");
        let mut trailers = BTreeMap::new();
        for (k, v) in &reply.headers {
            if let Ok(v) = v.to_str() {
                trailers.insert(k.as_str().to_string(), v.to_string());
            }
        }
        let mut messages = Vec::new();
        let mut body = reply.body.clone();
        while body.remaining() >= 5 {
            let flag = body.get_u8();
            let len = body.get_u32() as usize;
            let payload = body.split_to(len);
            if flag & 0x80 != 0 {
                for line in String::from_utf8_lossy(&payload).split("\r\n") {
                    if let Some((k, v)) = line.split_once(':') {
                        trailers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
            } else {
                messages.push(payload);
            }
        }
        let code = trailers
            .get("grpc-status")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no grpc-status in {trailers:?}"));
        GrpcWebReply {
            code,
            message: trailers.get("grpc-message").cloned().unwrap_or_default(),
            messages,
        }
    }
}

/// A gRPC-Web answer.
#[derive(Debug)]
pub struct GrpcWebReply {
    pub code: i32,
    pub message: String,
    pub messages: Vec<Bytes>,
}

/// Creates a company through REST as the holder of `token`; returns it as JSON.
pub async fn create_company(http: &Http, token: &str, name: &str) -> serde_json::Value {
    let reply = http
        .json(
            Method::POST,
            "/v1/customers",
            Some(token),
            serde_json::json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": name}}),
        )
        .await
        .expect(200);
    reply.json()["customer"].clone()
}
