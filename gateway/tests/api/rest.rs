//! REST through the gateway: sign-in, CRUD, errors as JSON with their details, limits, CORS,
//! request ids, the OpenAPI document, health, CSV in and out, files in and out, and mass
//! assignment.

use http::Method;
use serde_json::json;

use crate::helpers::{System, create_company, start, start_with};

async fn sign_in(system: &System, login: &str, password: &str) -> crate::helpers::Reply {
    system
        .http
        .json(
            Method::POST,
            "/v1/auth/login",
            None,
            json!({"login": login, "password": password}),
        )
        .await
}

#[tokio::test]
async fn sign_in_refresh_and_sign_out_through_rest() {
    let system = start().await;
    let reply = sign_in(&system, "alice", crm_identity::testing::PASSWORD)
        .await
        .expect(200);
    let tokens = reply.json()["tokens"].clone();
    let access = tokens["accessToken"].as_str().expect("access token").to_string();
    let refresh = tokens["refreshToken"].as_str().expect("refresh token").to_string();
    assert_eq!(tokens["tokenType"], "Bearer");

    // The access token works for a REST call.
    let created = create_company(&system.http, &access, "Signed In Ltd").await;
    assert_eq!(created["ownerId"], "alice");

    // Refresh rotates; the old refresh token then revokes the sign-in.
    let reply = system
        .http
        .json(Method::POST, "/v1/auth/refresh", None, json!({"refreshToken": refresh}))
        .await
        .expect(200);
    let rotated = reply.json()["tokens"]["refreshToken"]
        .as_str()
        .expect("rotated")
        .to_string();
    assert_ne!(rotated, refresh);
    let reply = system
        .http
        .json(Method::POST, "/v1/auth/refresh", None, json!({"refreshToken": refresh}))
        .await;
    assert_eq!(reply.status, 401, "a reused refresh token: {reply:?}");

    // Wrong passwords: 401 with the reason in ErrorInfo, nothing about which part was wrong.
    let reply = sign_in(&system, "alice", "wrong-password").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"]["status"], "UNAUTHENTICATED");

    // Sign-out revokes the refresh token.
    let reply = sign_in(&system, "bob", crm_identity::testing::PASSWORD)
        .await
        .expect(200);
    let refresh = reply.json()["tokens"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_string();
    system
        .http
        .json(Method::POST, "/v1/auth/logout", None, json!({"refreshToken": refresh}))
        .await
        .expect(200);
    let reply = system
        .http
        .json(Method::POST, "/v1/auth/refresh", None, json!({"refreshToken": refresh}))
        .await;
    assert_eq!(reply.status, 401);

    // Forged and expired tokens are refused at the gateway like at the services.
    let expired = system.identity.token_lasting(
        "alice",
        "salesperson",
        &system.identity.department_id,
        &system.identity.department_path,
        -120,
    );
    let (header, rest) = access.split_once('.').expect("jwt");
    let none_alg = format!(
        "{}.{}",
        base64_url(br#"{"alg":"none","typ":"JWT"}"#),
        rest.rsplit_once('.').expect("jwt").0
    );
    let _ = header;
    for bad in [expired.as_str(), none_alg.as_str(), "garbage", &format!("{access}x")] {
        let reply = system.http.get("/v1/customers", Some(bad)).await;
        assert_eq!(reply.status, 401, "{bad}: {reply:?}");
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn crud_errors_and_details_map_to_http() {
    let system = start().await;
    let alice = system.sales("alice");
    let created = create_company(&system.http, &alice, "Rest Ltd").await;
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["kind"], "CUSTOMER_KIND_COMPANY");
    // Every field is present, defaults included.
    assert_eq!(created["remark"], "");

    let reply = system
        .http
        .get(&format!("/v1/customers/{id}"), Some(&alice))
        .await
        .expect(200);
    assert_eq!(reply.json()["customer"]["name"], "Rest Ltd");
    assert_eq!(reply.header("content-type"), Some("application/json"));

    // Update with a mask in the query string and the resource in the body.
    let etag = reply.json()["customer"]["etag"].as_str().expect("etag").to_string();
    let reply = system
        .http
        .json(
            Method::PATCH,
            &format!("/v1/customers/{id}?updateMask=remark"),
            Some(&alice),
            json!({"remark": "via REST", "etag": etag}),
        )
        .await
        .expect(200);
    assert_eq!(reply.json()["customer"]["remark"], "via REST");

    // A stale etag: 409 ABORTED with the reason.
    let reply = system
        .http
        .json(
            Method::PATCH,
            &format!("/v1/customers/{id}?updateMask=remark"),
            Some(&alice),
            json!({"remark": "late", "etag": etag}),
        )
        .await
        .expect(409);
    assert_eq!(reply.json()["error"]["status"], "ABORTED");
    assert_eq!(reply.detail("ErrorInfo")["reason"], "STALE_ETAG");

    // A missing name: 400 naming the field, in BadRequest.
    let reply = system
        .http
        .json(
            Method::POST,
            "/v1/customers",
            Some(&alice),
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY"}}),
        )
        .await
        .expect(400);
    let bad = reply.detail("BadRequest");
    assert_eq!(bad["fieldViolations"][0]["field"], "customer.name", "{bad}");

    // A duplicate: 409 ALREADY_EXISTS with the existing customer's owner.
    let reply = system
        .http
        .json(
            Method::POST,
            "/v1/customers",
            Some(&system.sales("bob")),
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "Rest Ltd"}}),
        )
        .await
        .expect(409);
    assert_eq!(reply.json()["error"]["status"], "ALREADY_EXISTS");
    assert!(reply.body.windows(5).any(|w| w == b"alice"), "owner named: {reply:?}");

    // Unknown id: 404; malformed JSON, unknown fields and bad query values: 400 naming them.
    system
        .http
        .get("/v1/customers/no-such-id", Some(&alice))
        .await
        .expect(404);
    let reply = system
        .http
        .send(
            Method::POST,
            "/v1/customers",
            Some(&alice),
            &[("content-type", "application/json")],
            "{\"customer\": ",
        )
        .await
        .expect(400);
    assert_eq!(reply.detail("BadRequest")["fieldViolations"][0]["field"], "body");
    let reply = system
        .http
        .json(
            Method::POST,
            "/v1/customers",
            Some(&alice),
            json!({"customer": {"colour": "red"}}),
        )
        .await
        .expect(400);
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("colour"));
    let reply = system
        .http
        .get("/v1/customers?pageSize=many", Some(&alice))
        .await
        .expect(400);
    assert_eq!(reply.detail("BadRequest")["fieldViolations"][0]["field"], "page_size");
    let reply = system
        .http
        .get("/v1/customers?shoeSize=9", Some(&alice))
        .await
        .expect(400);
    assert_eq!(reply.detail("BadRequest")["fieldViolations"][0]["field"], "shoeSize");
    let reply = system
        .http
        .send(
            Method::POST,
            "/v1/customers",
            Some(&alice),
            &[("content-type", "text/plain")],
            "hi",
        )
        .await
        .expect(400);
    assert_eq!(
        reply.detail("BadRequest")["fieldViolations"][0]["reason"],
        "UNSUPPORTED_MEDIA_TYPE"
    );

    // Finance may read but not create: 403 naming the permission.
    let finance = system.identity.token("fin", "finance");
    let reply = system
        .http
        .json(
            Method::POST,
            "/v1/customers",
            Some(&finance),
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "Nope"}}),
        )
        .await
        .expect(403);
    assert_eq!(
        reply.detail("ErrorInfo")["metadata"]["permission"],
        "customers.customer.create"
    );

    // Delete, then the id is gone.
    system
        .http
        .send(Method::DELETE, &format!("/v1/customers/{id}"), Some(&alice), &[], "")
        .await
        .expect(200);
    system
        .http
        .get(&format!("/v1/customers/{id}"), Some(&alice))
        .await
        .expect(404);
}

#[tokio::test]
async fn mass_assignment_through_rest_is_refused_or_ignored() {
    let system = start().await;
    let alice = system.sales("alice");
    let manager = system.manager();
    let created = create_company(&system.http, &alice, "Owned Ltd").await;
    let id = created["id"].as_str().expect("id").to_string();
    let etag = created["etag"].as_str().expect("etag").to_string();

    // Naming a server-owned field in the mask: refused by name, nothing changes.
    for owned in ["ownerId", "audit", "etag", "ownedSince", "collaboratorIds"] {
        let reply = system
            .http
            .json(
                Method::PATCH,
                &format!("/v1/customers/{id}?updateMask=remark,{owned}"),
                Some(&alice),
                json!({"remark": "x", "ownerId": "mallory", "etag": etag}),
            )
            .await
            .expect(400);
        let bad = reply.detail("BadRequest");
        assert!(
            bad["fieldViolations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["reason"] == "SERVER_OWNED"),
            "{owned}: {bad}"
        );
    }
    // Server-owned fields in the body but not in the mask are ignored.
    let reply = system
        .http
        .json(
            Method::PATCH,
            &format!("/v1/customers/{id}?updateMask=remark"),
            Some(&alice),
            json!({"remark": "kept", "ownerId": "mallory", "etag": etag,
                   "audit": {"createdBy": "mallory"}}),
        )
        .await
        .expect(200);
    let customer = &reply.json()["customer"];
    assert_eq!(customer["ownerId"], "alice");
    assert_eq!(customer["remark"], "kept");
    assert_eq!(customer["audit"]["createdBy"], "alice");
    // A create cannot choose its id or its audit either.
    let reply = system
        .http
        .json(
            Method::POST,
            "/v1/customers",
            Some(&alice),
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "Chosen Id Ltd",
                   "id": "chosen", "audit": {"createdBy": "mallory"}}}),
        )
        .await;
    if reply.status == 200 {
        let c = &reply.json()["customer"];
        assert_ne!(c["id"], "chosen");
        assert_eq!(c["audit"]["createdBy"], "alice");
    } else {
        assert_eq!(reply.status, 400, "{reply:?}");
    }

    // Contacts, categories and dictionary entries.
    let reply = system
        .http
        .json(
            Method::POST,
            &format!("/v1/customers/{id}/contacts"),
            Some(&alice),
            json!({"name": "Li Na"}),
        )
        .await
        .expect(200);
    let contact = reply.json()["contact"].clone();
    let contact_id = contact["id"].as_str().expect("id");
    let reply = system
        .http
        .json(
            Method::PATCH,
            &format!("/v1/contacts/{contact_id}?updateMask=title,customerId"),
            Some(&alice),
            json!({"title": "CFO", "customerId": "elsewhere", "etag": contact["etag"]}),
        )
        .await
        .expect(400);
    assert_eq!(
        reply.detail("BadRequest")["fieldViolations"][0]["reason"],
        "SERVER_OWNED"
    );

    let reply = system
        .http
        .json(
            Method::POST,
            "/v1/categories",
            Some(&manager),
            json!({"name": "Wholesale"}),
        )
        .await
        .expect(200);
    let category = reply.json()["category"].clone();
    let category_id = category["id"].as_str().expect("id");
    let reply = system
        .http
        .json(
            Method::PATCH,
            &format!("/v1/categories/{category_id}?updateMask=customerCount"),
            Some(&manager),
            json!({"customerCount": "1000", "etag": category["etag"]}),
        )
        .await
        .expect(400);
    assert_eq!(
        reply.detail("BadRequest")["fieldViolations"][0]["reason"],
        "SERVER_OWNED"
    );

    system
        .http
        .json(
            Method::POST,
            "/v1/dictionaries/industry/entries",
            Some(&manager),
            json!({"code": "mining", "displayName": "Mining", "enabled": true}),
        )
        .await
        .expect(200);
    let reply = system
        .http
        .json(
            Method::PATCH,
            "/v1/dictionaries/industry/entries/mining?updateMask=code",
            Some(&manager),
            json!({"displayName": "Mines"}),
        )
        .await
        .expect(400);
    assert_eq!(
        reply.detail("BadRequest")["fieldViolations"][0]["reason"],
        "SERVER_OWNED"
    );
}

#[tokio::test]
async fn an_import_job_is_read_and_cancelled_through_rest() {
    let system = start().await;
    let alice = system.sales("alice");
    let csv = "name\nJob Company One Ltd\nJob Company Two Ltd\n";
    system
        .http
        .send(
            Method::POST,
            "/v1/customers:import?options.request_id=rest-job-1",
            Some(&alice),
            &[("content-type", "text/csv")],
            csv,
        )
        .await
        .expect(200);
    let reply = system
        .http
        .get("/v1/customerImports/rest-job-1", Some(&alice))
        .await
        .expect(200);
    let job = &reply.json()["job"];
    assert_eq!(job["state"], "IMPORT_JOB_STATE_SUCCEEDED", "{job}");
    assert_eq!(job["created"], "2", "{job}");
    assert_eq!(job["rowsRead"], "2", "{job}");
    // Cancelling an import that has ended returns it as it is.
    let reply = system
        .http
        .json(
            Method::POST,
            "/v1/customerImports/rest-job-1:cancel",
            Some(&alice),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(reply.json()["job"]["state"], "IMPORT_JOB_STATE_SUCCEEDED");
    // Another salesperson does not see it.
    let bob = system.sales("bob");
    system
        .http
        .get("/v1/customerImports/rest-job-1", Some(&bob))
        .await
        .expect(404);
}

#[tokio::test]
async fn csv_uploads_and_downloads_stream_through_rest() {
    let system = start().await;
    let alice = system.sales("alice");
    let mut csv = String::from("name,kind,phone\n");
    for i in 0..3000 {
        csv.push_str(&format!("Uploaded Company {i:05},company,\n"));
    }
    csv.push_str(",company,\n"); // a row without a name
    let reply = system
        .http
        .send(
            Method::POST,
            "/v1/customers:import?options.mode=IMPORT_MODE_SKIP",
            Some(&alice),
            &[("content-type", "text/csv")],
            csv.clone(),
        )
        .await
        .expect(200);
    let summary = reply.json();
    assert_eq!(summary["created"], "3000", "{summary}");
    assert_eq!(summary["failed"], "1");
    assert_eq!(summary["errors"][0]["row"], "3001");
    assert_eq!(summary["errors"][0]["field"], "name");

    // Without options the defaults apply: the same rows are skipped as duplicates.
    let reply = system
        .http
        .send(
            Method::POST,
            "/v1/customers:import",
            Some(&alice),
            &[("content-type", "text/csv")],
            csv,
        )
        .await
        .expect(200);
    assert_eq!(reply.json()["skipped"], "3000");

    let reply = system
        .http
        .get("/v1/customers:export?query=uploaded", Some(&alice))
        .await
        .expect(200);
    assert_eq!(reply.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"customers.csv\"")
    );
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    assert_eq!(text.lines().count(), 3001, "header and 3000 rows");
    assert!(text.contains("Uploaded Company 02999"));

    // A bad filter fails before the download starts, as a JSON error.
    let reply = system
        .http
        .get("/v1/customers:export?filter=nonsense%20%3D%3D", Some(&alice))
        .await
        .expect(400);
    assert_eq!(reply.detail("BadRequest")["fieldViolations"][0]["field"], "filter");
}

#[tokio::test]
async fn project_documents_upload_and_download_as_files_through_rest() {
    let system = start().await;
    let alice = system.sales("alice");
    let boss = system.manager();
    let http = &system.http;
    let customer = create_company(http, &alice, "Document Client Ltd").await;
    let o = http
        .json(
            Method::POST,
            "/v1/opportunities",
            Some(&alice),
            json!({"opportunity": {"subject": "Rollout", "customerId": customer["id"]}}),
        )
        .await
        .expect(200)
        .json()["opportunity"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    http.json(
        Method::POST,
        &format!("/v1/opportunities/{o}:setStatus"),
        Some(&alice),
        json!({"status": "OPPORTUNITY_STATUS_WON"}),
    )
    .await
    .expect(200);
    http.json(
        Method::POST,
        &format!("/v1/opportunities/{o}:audit"),
        Some(&boss),
        json!({"audited": true}),
    )
    .await
    .expect(200);
    let project = http
        .json(Method::POST, "/v1/projects", Some(&alice), json!({"opportunityId": o}))
        .await
        .expect(200)
        .json()["project"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // 300 KiB of bytes that are not text, sent as the body; what it is, in the query.
    let bytes: Vec<u8> = (0..300 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    let reply = http
        .send(
            Method::POST,
            &format!(
                "/v1/projects/{project}/documents?document.fileName=Vertrag%20M%C3%BCller.pdf\
                 &document.contentType=application%2Fpdf&requestId=up-1"
            ),
            Some(&alice),
            &[("content-type", "application/pdf")],
            bytes.clone(),
        )
        .await
        .expect(200);
    let doc = reply.json()["document"].clone();
    assert_eq!(doc["fileName"], "Vertrag Müller.pdf", "{doc}");
    assert_eq!(doc["sizeBytes"], "307200");
    assert_eq!(doc["projectId"], project.as_str());

    let listed = http
        .get(&format!("/v1/projects/{project}/documents"), Some(&alice))
        .await
        .expect(200)
        .json();
    assert_eq!(listed["documents"][0]["id"], doc["id"]);

    // A digest declared in the query is checked against the bytes; the size comes from the
    // Content-Length.
    let upload_path =
        |sha256: &str| format!("/v1/projects/{project}/documents?document.fileName=again.pdf&declared.sha256={sha256}");
    let reply = http
        .send(
            Method::POST,
            &upload_path(&"0".repeat(64)),
            Some(&alice),
            &[("content-type", "application/pdf")],
            bytes.clone(),
        )
        .await
        .expect(400);
    assert_eq!(
        violation(&reply),
        ("declared.sha256".into(), "DECLARED_SHA256_MISMATCH".into())
    );
    http.send(
        Method::POST,
        &upload_path(doc["sha256"].as_str().unwrap()),
        Some(&alice),
        &[("content-type", "application/pdf")],
        bytes.clone(),
    )
    .await
    .expect(200);
    // A body that breaks off before its Content-Length: nothing is stored.
    {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let address = system.http_base().trim_start_matches("http://").to_string();
        let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST /v1/projects/{project}/documents?document.fileName=cut.pdf HTTP/1.1\r\nhost: gateway\r\n\
             authorization: Bearer {alice}\r\ncontent-type: application/pdf\r\ncontent-length: {}\r\n\r\n",
            bytes.len()
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        tcp.write_all(&bytes[..100 * 1024]).await.unwrap();
        tcp.shutdown().await.unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let listed = http
        .get(&format!("/v1/projects/{project}/documents"), Some(&alice))
        .await
        .expect(200)
        .json();
    let names: Vec<&str> = listed["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["fileName"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!names.contains(&"cut.pdf"), "{names:?}");

    // The download is the file: its bytes, type and name (never shown inline).
    let id = doc["id"].as_str().unwrap();
    let reply = http
        .get(&format!("/v1/projectDocuments/{id}:download"), Some(&alice))
        .await
        .expect(200);
    assert_eq!(reply.header("content-type"), Some("application/pdf"));
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"Vertrag M_ller.pdf\"; filename*=UTF-8''Vertrag%20M%C3%BCller.pdf")
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert!(
        reply.body.as_ref() == bytes.as_slice(),
        "the download differs from the upload"
    );

    // Another salesperson gets a JSON 404, not the file.
    let reply = http
        .get(
            &format!("/v1/projectDocuments/{id}:download"),
            Some(&system.sales("bob")),
        )
        .await
        .expect(404);
    assert_eq!(reply.json()["error"]["status"], "NOT_FOUND");
    http.send(
        Method::DELETE,
        &format!("/v1/projectDocuments/{id}"),
        Some(&alice),
        &[],
        Vec::new(),
    )
    .await
    .expect(200);
    http.get(&format!("/v1/projectDocuments/{id}:download"), Some(&alice))
        .await
        .expect(404);
}

#[tokio::test]
async fn limits_cors_request_ids_health_and_openapi() {
    let system = start_with(|c| {
        c.public_rate_per_minute = 60.0;
        c.public_burst = 3.0;
        c.rate_per_employee = 1.0;
        c.max_body_bytes = 2048;
        c.max_upload_bytes = 4096;
        c.max_page_size = 2;
    })
    .await;
    let alice = system.sales("alice");

    // Sign-in is limited per address: the burst, then 429 with Retry-After.
    for _ in 0..3 {
        let reply = sign_in(&system, "alice", "wrong-password").await;
        assert_eq!(reply.status, 401);
    }
    let reply = sign_in(&system, "alice", crm_identity::testing::PASSWORD)
        .await
        .expect(429);
    assert_eq!(reply.json()["error"]["status"], "RESOURCE_EXHAUSTED");
    let retry: u64 = reply.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert!(reply.detail("RetryInfo")["retryDelay"].is_string());

    // One employee: a burst of two, then 429; another employee is not affected.
    for i in 0..2 {
        create_company(&system.http, &alice, &format!("Limited {i}")).await;
    }
    system.http.get("/v1/customers", Some(&alice)).await.expect(429);
    system
        .http
        .get("/v1/customers", Some(&system.sales("bob")))
        .await
        .expect(200);

    // Bodies over the limit: 413, before the service sees them.
    let big = json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "x".repeat(4000)}});
    let bob = system.sales("bob");
    let reply = system
        .http
        .json(Method::POST, "/v1/customers", Some(&bob), big)
        .await
        .expect(413);
    assert_eq!(reply.detail("ErrorInfo")["reason"], "REQUEST_TOO_LARGE");
    let carol = system.identity.token("carol", "salesperson");
    system
        .http
        .send(
            Method::POST,
            "/v1/customers:import",
            Some(&carol),
            &[("content-type", "text/csv")],
            "name\n".to_string() + &"y\n".repeat(3000),
        )
        .await
        .expect(413);

    // Page sizes above the limit are coerced down (AIP-158).
    let manager = system.manager();
    create_company(&system.http, &manager, "Limited 2").await;
    let reply = system
        .http
        .get("/v1/customers?pageSize=1000", Some(&manager))
        .await
        .expect(200);
    assert_eq!(reply.json()["customers"].as_array().unwrap().len(), 2);
    assert_ne!(reply.json()["nextPageToken"], "");

    // Request ids: the caller's is kept, else one is made; errors carry it too.
    let reply = system
        .http
        .send(Method::GET, "/healthz", None, &[("x-request-id", "trace-me-42")], "")
        .await
        .expect(200);
    assert_eq!(reply.header("x-request-id"), Some("trace-me-42"));
    let reply = system.http.get("/v1/customers/none", None).await.expect(401);
    let made = reply.header("x-request-id").expect("a request id").to_string();
    assert_eq!(reply.json()["error"]["requestId"], made.as_str());

    // CORS: the allowed origin gets the headers, another origin does not.
    let reply = system
        .http
        .send(
            Method::OPTIONS,
            "/v1/customers",
            None,
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "authorization, content-type"),
            ],
            "",
        )
        .await
        .expect(204);
    assert_eq!(reply.header("access-control-allow-origin"), Some("https://app.example"));
    assert!(
        reply
            .header("access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
    let reply = system
        .http
        .send(
            Method::OPTIONS,
            "/v1/customers",
            None,
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "POST"),
            ],
            "",
        )
        .await;
    assert!(reply.header("access-control-allow-origin").is_none());

    // Health and readiness tell the truth about the services behind.
    assert_eq!(
        system.http.get("/healthz", None).await.expect(200).json()["status"],
        "SERVING"
    );
    let ready = system.http.get("/readyz", None).await.expect(200).json();
    assert_eq!(ready["services"]["customers"], "SERVING");
    assert_eq!(ready["services"]["identity"], "SERVING");

    // The OpenAPI document describes the routes.
    let doc = system.http.get("/openapi.json", None).await.expect(200).json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/customers/{id}"]["get"].is_object());
    assert!(doc["paths"]["/v1/auth/login"]["post"].is_object());
    // Uploads take the file as the body: CSV for an import, any file for a document.
    let body_type = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(body_type("/v1/leads:import"), ["text/csv"]);
    assert_eq!(
        body_type("/v1/projects/{document_project_id}/documents"),
        ["application/octet-stream"]
    );

    // A service going away is reported (the gateway itself stays ready: it still answers every
    // call, with a 503 for the ones that need that service).
    let late = system.identity.token("late", "salesperson");
    let System { customers, http, .. } = system;
    customers.stop().await;
    let ready = http.get("/readyz", None).await.expect(200).json();
    assert_eq!(ready["status"], "DEGRADED");
    assert_eq!(ready["services"]["customers"], "UNREACHABLE");
    let reply = http.get("/v1/customers", Some(&late)).await.expect(503);
    assert_eq!(reply.json()["error"]["status"], "UNAVAILABLE");
}

/// The first field violation of a 400 answer: its field and reason.
fn violation(reply: &crate::helpers::Reply) -> (String, String) {
    let bad = reply.detail("BadRequest");
    let first = &bad["fieldViolations"][0];
    (
        first["field"].as_str().unwrap_or_default().to_string(),
        first["reason"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn json_that_does_not_decode_is_named_by_its_field_path_as_grpc_names_it() {
    let system = start().await;
    let alice = system.sales("alice");

    // An unknown enum value over REST names the field gRPC names for a bad kind.
    let reply = system
        .http
        .json(
            Method::POST,
            "/v1/customers",
            Some(&alice),
            json!({"customer": {"kind": "CUSTOMER_KIND_ROBOT", "name": "Robot Ltd"}}),
        )
        .await
        .expect(400);
    assert_eq!(violation(&reply), ("customer.kind".into(), "MALFORMED".into()));
    let mut grpc =
        crm_proto::customers::customers_service_client::CustomersServiceClient::connect(system.customers.endpoint())
            .await
            .expect("customers");
    let mut request = tonic::Request::new(crm_proto::customers::CreateCustomerRequest {
        customer: Some(crm_proto::customers::Customer {
            kind: 99,
            name: "Robot Ltd".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {alice}").parse().unwrap());
    let status = grpc.create_customer(request).await.expect_err("kind 99 is refused");
    use tonic_types::StatusExt as _;
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("BadRequest")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["customer.kind"], "over gRPC");

    // A wrong type, a bad nested field, a bad element of a repeated field (and of a repeated
    // message), an unknown field: each named where it is, in proto names.
    for (body, field, reason) in [
        (
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": 42}}),
            "customer.name",
            "MALFORMED",
        ),
        (
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "N", "region": {"city": {"name": "x"}}}}),
            "customer.region.city",
            "MALFORMED",
        ),
        (
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "N", "levelCode": ["A"]}}),
            "customer.level_code",
            "MALFORMED",
        ),
        (
            json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "N", "tags": ["vip", 7]}}),
            "customer.tags[1]",
            "MALFORMED",
        ),
        (
            json!({"customer": {"name": "N", "primaryContact": {"name": "Li", "imHandles": [{"network": "wechat", "handle": 1}]}}}),
            "customer.primary_contact.im_handles[0].handle",
            "MALFORMED",
        ),
        (
            json!({"customer": {"name": "N", "colour": "red"}}),
            "customer.colour",
            "UNKNOWN_FIELD",
        ),
    ] {
        let reply = system
            .http
            .json(Method::POST, "/v1/customers", Some(&alice), body.clone())
            .await
            .expect(400);
        assert_eq!(violation(&reply), (field.into(), reason.into()), "{body}");
    }

    // A body that is one field of the request: the path starts at that field.
    let id = create_company(&system.http, &alice, "Patched Ltd").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let reply = system
        .http
        .json(
            Method::PATCH,
            &format!("/v1/customers/{id}?updateMask=kind"),
            Some(&alice),
            json!({"kind": "CUSTOMER_KIND_ROBOT"}),
        )
        .await
        .expect(400);
    assert_eq!(violation(&reply), ("customer.kind".into(), "MALFORMED".into()));
    let reply = system
        .http
        .json(
            Method::PUT,
            "/v1/poolPolicy",
            Some(&system.manager()),
            json!({"levelRules": [{"levelCode": "A", "ownedCap": 5}, {"levelCode": "B", "ownedCap": "lots"}]}),
        )
        .await
        .expect(400);
    assert_eq!(
        violation(&reply),
        ("policy.level_rules[1].owned_cap".into(), "MALFORMED".into())
    );

    // Query parameters, in JSON names or proto names, are named in proto names.
    for query in ["pageSize=ten", "page_size=ten"] {
        let reply = system
            .http
            .get(&format!("/v1/customers?{query}"), Some(&alice))
            .await
            .expect(400);
        assert_eq!(violation(&reply), ("page_size".into(), "MALFORMED".into()), "{query}");
    }
    let reply = system
        .http
        .get("/v1/customers?showDeleted=perhaps", Some(&alice))
        .await
        .expect(400);
    assert_eq!(violation(&reply), ("show_deleted".into(), "MALFORMED".into()));
    let reply = system
        .http
        .send(
            Method::POST,
            "/v1/customers:import?options.mode=IMPORT_MODE_SOMETIMES",
            Some(&alice),
            &[("content-type", "text/csv")],
            "name,kind\nA,company\n",
        )
        .await
        .expect(400);
    assert_eq!(violation(&reply), ("options.mode".into(), "MALFORMED".into()));
}

#[tokio::test]
async fn openapi_path_parameters_have_plain_names_and_required_fields_are_marked() {
    let system = start().await;
    let doc = system.http.get("/openapi.json", None).await.expect(200).json();
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, operations) in paths {
        let names: Vec<&str> = path
            .split('{')
            .skip(1)
            .map(|p| &p[..p.find('}').expect("closing brace")])
            .collect();
        for name in &names {
            // Tools build paths with format strings, where `{customer.id}` is an attribute.
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{path}: parameter {name:?}"
            );
        }
        for (method, operation) in operations.as_object().expect("operations") {
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true, "{method} {path}: {p}");
                    p["name"].as_str().expect("name")
                })
                .collect();
            assert_eq!(declared, names, "{method} {path}: every path parameter is declared");
            checked += names.len();
        }
    }
    assert!(checked > 50, "only {checked} path parameters");
    // The same URLs still reach the same methods: `{customer_id}` fills `customer.id`.
    let alice = system.sales("alice");
    let id = create_company(&system.http, &alice, "Plain Names Ltd").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(doc["paths"]["/v1/customers/{customer_id}"]["patch"].is_object());
    let etag = system
        .http
        .get(&format!("/v1/customers/{id}"), Some(&alice))
        .await
        .expect(200)
        .json()["customer"]["etag"]
        .as_str()
        .expect("etag")
        .to_string();
    system
        .http
        .json(
            Method::PATCH,
            &format!("/v1/customers/{id}?updateMask=remark"),
            Some(&alice),
            json!({"remark": "renamed", "etag": etag}),
        )
        .await
        .expect(200);

    // Fields the contracts mark REQUIRED are required in the request schemas.
    let schemas = &doc["components"]["schemas"];
    let required = |name: &str| -> Vec<String> {
        schemas[name]["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no required fields: {}", schemas[name]))
            .iter()
            .map(|v| v.as_str().expect("name").to_string())
            .collect()
    };
    assert_eq!(required("crm.identity.v1.SignInRequest"), ["login", "password"]);
    let customer = required("crm.customers.v1.Customer");
    assert!(
        customer.contains(&"name".to_string()) && customer.contains(&"kind".to_string()),
        "{customer:?}"
    );
    assert_eq!(
        doc["paths"]["/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/crm.identity.v1.SignInRequest"
    );
}
