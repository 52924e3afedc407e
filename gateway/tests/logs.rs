//! What the suite logs while people sign in, call with tokens and type phone numbers holds no
//! password, no token and no phone number, at every level an operator can turn on, and the
//! access lines carry the trace id, method, status and duration. Its own test binary: it
//! installs the process-wide subscriber, writing to a buffer.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex};

use crm_kit::config::LogFormat;
use crm_kit::telemetry::{BoxMakeWriter, EnvFilter};
use http::Method;
use serde_json::json;

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_hold_no_secrets_or_phone_numbers_and_access_lines_hold_the_call() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Everything the kit and the services log, DEBUG included (the access line of every call).
    let _guard = crm_kit::telemetry::init_to(
        LogFormat::Json,
        "crm-logs-test",
        None,
        EnvFilter::new("debug,sqlx=warn,h2=warn,tower=warn,hyper=warn,hyper_util=warn,rustls=warn"),
        BoxMakeWriter::new(move || writer.clone()),
    );
    let system = helpers::start().await;
    let http = &system.http;

    // Sign-ins: a wrong password, then the right one.
    let password = crm_identity::testing::PASSWORD;
    http.json(
        Method::POST,
        "/v1/auth/login",
        None,
        json!({"login": "alice", "password": "wrong-password-7"}),
    )
    .await
    .expect(401);
    let tokens = http
        .json(
            Method::POST,
            "/v1/auth/login",
            None,
            json!({"login": "alice", "password": password}),
        )
        .await
        .expect(200)
        .json()["tokens"]
        .clone();
    let access = tokens["accessToken"].as_str().expect("access token").to_string();
    let refresh = tokens["refreshToken"].as_str().expect("refresh token").to_string();

    // Phone numbers as people type them: accepted, duplicated, and refused.
    let phone = "138 0013 8000";
    let customer = json!({"customer": {
        "kind": "CUSTOMER_KIND_COMPANY",
        "name": "Masking Instruments Ltd",
        "phone": phone,
        "mobile": "+86 139-0013-9000",
    }});
    http.json(Method::POST, "/v1/customers", Some(&access), customer.clone())
        .await
        .expect(200);
    let duplicate = http
        .json(
            Method::POST,
            "/v1/customers",
            Some(&access),
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "Another Masking Ltd", "phone": "13800138000"}}),
        )
        .await;
    assert!(duplicate.status >= 400 || duplicate.status == 200);
    http.json(
        Method::POST,
        "/v1/customers",
        Some(&access),
        json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "Bad Number Ltd", "phone": "1380013800099999999"}}),
    )
    .await
    .expect(400);
    http.get("/v1/customers?query=13800138000", Some(&access))
        .await
        .expect(200);
    // A refusal whose message quotes the value typed: the access line masks it.
    http.get(
        "/v1/customers?filter=create_time%20%3E%20%2213800138000%22",
        Some(&access),
    )
    .await
    .expect(400);
    // A forged token and the refresh and sign-out that carry the refresh token.
    http.get("/v1/customers", Some("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.Zm9yZ2Vk"))
        .await
        .expect(401);
    let refreshed = http
        .json(Method::POST, "/v1/auth/refresh", None, json!({"refreshToken": refresh}))
        .await
        .expect(200)
        .json()["tokens"]
        .clone();
    let refresh2 = refreshed["refreshToken"].as_str().unwrap().to_string();
    http.json(Method::POST, "/v1/auth/logout", None, json!({"refreshToken": refresh2}))
        .await
        .expect(200);

    let logs = captured.text();
    // The access lines are there: the calls were logged, with what an operator needs.
    let access_lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == crm_kit::telemetry::ACCESS_TARGET)
        .collect();
    let create = access_lines
        .iter()
        .find(|l| l["rpc.method"] == "/crm.customers.v1.CustomersService/CreateCustomer" && l["grpc.code"] == 0)
        .unwrap_or_else(|| panic!("no access line of a create among {} access lines", access_lines.len()));
    assert_eq!(create["level"], "DEBUG", "a fast successful call is DEBUG");
    assert_eq!(create["trace_id"].as_str().map(str::len), Some(32), "{create}");
    assert!(create["latency_us"].as_u64().is_some(), "{create}");
    let refused = access_lines
        .iter()
        .find(|l| l["rpc.method"] == "/crm.customers.v1.CustomersService/CreateCustomer" && l["grpc.code"] == 3)
        .expect("the refused create is logged");
    assert_eq!(refused["level"], "INFO", "a failed call is INFO");
    let quoted = access_lines
        .iter()
        .find(|l| {
            l["rpc.method"] == "/crm.customers.v1.CustomersService/ListCustomers"
                && l["grpc.code"] == 3
                && l["grpc.message"].as_str().is_some_and(|m| m.contains("create_time"))
        })
        .expect("the refused filter is logged");
    assert!(quoted["grpc.message"].as_str().unwrap().contains("***00"), "{quoted}");
    assert!(
        access_lines
            .iter()
            .any(|l| l["message"] == "request" && l["url.path"] == "/v1/customers"),
        "the gateway's access line"
    );

    // And nothing that must stay out of logs is in them.
    let forbidden = [
        password,
        "wrong-password-7",
        access.as_str(),
        refresh.as_str(),
        refresh2.as_str(),
        refreshed["accessToken"].as_str().unwrap(),
        "eyJ",
        "13800138000",
        "138 0013 8000",
        "8613800138000",
        "13900139000",
        "139-0013-9000",
        "1380013800099999999",
    ];
    for secret in forbidden {
        let found: Vec<&str> = logs.lines().filter(|l| l.contains(secret)).take(3).collect();
        assert!(found.is_empty(), "{secret:?} is in the logs: {found:#?}");
    }
    assert!(logs.lines().count() > 50, "the capture holds the run's logs");
}
