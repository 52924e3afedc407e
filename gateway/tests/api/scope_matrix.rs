//! Every read RPC of the contracts, over gRPC and through each of its REST routes, asked by a
//! manager of another department about records a salesperson of Sales owns: nothing of them
//! comes back. The same request by the owner (or the owner's manager) does show them, so each
//! row of the matrix can fail. A read RPC missing from the matrix fails the test. The warehouse
//! is scoped by who keeps a warehouse, not by owner: its rows are asked by the keeper of another
//! warehouse about the records of a warehouse someone else keeps.

use bytes::{Buf, Bytes};
use crm_gateway::routes::Routes;
use crm_gateway::upstream::RawCodec;
use crm_proto::identity as ipb;
use http::Method;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor};
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{Reply, System, start};

/// Text that appears only in the records of the salesperson whose data is probed.
const SECRETS: &[&str] = &[
    "Leaky Alice Co",
    "Leaky Contact",
    "Leaky Lead Co",
    "Leaky Deal",
    "Leaky Won Deal",
    "Leaky Activity",
    "Leaky Filter",
    "leaky-plan.txt",
    "987654.32",
    "555444.33",
    "Leaky Warehouse",
    "Leaky Receipt",
    "Leaky Borrower",
    "LEAKY-SN-1",
    "Leaky Lot",
    "777666.55",
];

/// Read methods that are not scoped by owner, and why.
const SHARED: &[(&str, &str)] = &[
    (
        "/crm.customers.v1.CustomersService/GetPoolPolicy",
        "the company's pool rules",
    ),
    (
        "/crm.customers.v1.CustomersService/ListCategories",
        "shared configuration",
    ),
    (
        "/crm.customers.v1.CustomersService/ListDictionaryEntries",
        "shared configuration",
    ),
    (
        "/crm.customers.v1.CustomersService/CheckDuplicates",
        "duplicates are looked for across owners on purpose; it names a match and its owner only",
    ),
    ("/crm.sales.v1.SalesService/ListPipelines", "shared configuration"),
    ("/crm.sales.v1.SalesService/ListWebForms", "shared configuration"),
    ("/crm.sales.v1.SalesService/GetAssignmentRules", "shared configuration"),
    (
        "/crm.warehouse.v1.WarehouseService/GetProduct",
        "the shared product catalog",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/ListProducts",
        "the shared product catalog",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/ListCategories",
        "the shared product catalog",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/ExportProducts",
        "the shared product catalog",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/ListProductImages",
        "the shared product catalog",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/DownloadProductImage",
        "the shared product catalog",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/GetPriceList",
        "the shared price lists",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/ListPriceLists",
        "the shared price lists",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/ListPrices",
        "the shared price lists",
    ),
    (
        "/crm.warehouse.v1.WarehouseService/GetCustomerPrices",
        "the shared price lists, for a customer the caller names",
    ),
    ("/crm.identity.v1.IdentityService/GetKeySet", "public keys"),
    (
        "/crm.identity.v1.IdentityService/GetCurrentEmployee",
        "the caller themself",
    ),
    ("/crm.identity.v1.IdentityService/GetEmployee", "the company directory"),
    (
        "/crm.identity.v1.IdentityService/ListEmployees",
        "the company directory",
    ),
    (
        "/crm.identity.v1.IdentityService/ListDepartments",
        "the company directory",
    ),
    ("/crm.identity.v1.IdentityService/ListRoles", "shared configuration"),
    (
        "/crm.identity.v1.IdentityService/ListPermissions",
        "shared configuration",
    ),
];

/// What the owner's side of a row must show.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// The answer contains a secret.
    Shows,
    /// The answer contains this text (an aggregate keyed by the owner), which the outsider's
    /// does not.
    ShowsText(&'static str),
    /// The call succeeds (a record's sub-list that may be empty); the outsider gets NOT_FOUND.
    Found,
}

/// Whether a method reads (by its name).
fn is_read(name: &str) -> bool {
    ["Get", "List", "Export", "Check", "Download"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// One call over gRPC with a JSON request; the raw response messages or the status.
async fn grpc(url: &str, method: &MethodDescriptor, token: &str, request: &Value) -> Result<Vec<Bytes>, tonic::Status> {
    let message = DynamicMessage::deserialize(method.input(), request.clone())
        .unwrap_or_else(|e| panic!("{} request {request}: {e}", method.full_name()));
    let channel = Channel::from_shared(url.to_string())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.expect("ready");
    let path: http::uri::PathAndQuery = format!("/{}/{}", method.parent_service().full_name(), method.name())
        .parse()
        .expect("path");
    let mut req = tonic::Request::new(Bytes::from(message.encode_to_vec()));
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().expect("ascii"));
    if method.is_server_streaming() {
        let mut stream = client.server_streaming(req, path, RawCodec).await?.into_inner();
        let mut out = Vec::new();
        while let Some(m) = stream.message().await? {
            out.push(m);
        }
        Ok(out)
    } else {
        Ok(vec![client.unary(req, path, RawCodec).await?.into_inner()])
    }
}

/// The first response of a call as JSON (for the set-up calls).
async fn call(pool: &DescriptorPool, url: &str, path: &str, token: &str, request: Value) -> Value {
    let method = method(pool, path);
    let answer = grpc(url, &method, token, &request)
        .await
        .unwrap_or_else(|s| panic!("{path} {request}: {s:?}"));
    let decoded = DynamicMessage::decode(method.output(), answer[0].clone()).expect("response");
    serde_json::to_value(&decoded).expect("json")
}

fn method(pool: &DescriptorPool, path: &str) -> MethodDescriptor {
    let (service, name) = path.trim_start_matches('/').split_once('/').expect("path");
    pool.get_service_by_name(service)
        .and_then(|s| s.methods().find(|m| m.name() == name))
        .unwrap_or_else(|| panic!("no method {path}"))
}

/// Whether `text` occurs in `bytes`.
fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// The secrets (and the row's own text) found in `bytes`.
fn leaked(bytes: &[u8], expect: Expect) -> Vec<&'static str> {
    let own = match expect {
        Expect::ShowsText(t) => Some(t),
        _ => None,
    };
    SECRETS.iter().copied().chain(own).filter(|s| holds(bytes, s)).collect()
}

/// Whether the insider's answer shows what the row expects.
fn shows(bytes: &[u8], expect: Expect) -> bool {
    match expect {
        Expect::Shows => !leaked(bytes, expect).is_empty(),
        Expect::ShowsText(t) => holds(bytes, t),
        Expect::Found => true,
    }
}

/// The value at dotted `path` of `request`, as URL text.
fn field_text(request: &Value, path: &str) -> String {
    let mut v = request;
    for part in path.split('.') {
        v = &v[part];
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn percent(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The REST request of `route` for `request`: path variables filled, the rest as query
/// parameters or as the JSON body.
fn rest_request(route: &crm_gateway::routes::Route, request: &Value) -> (String, Vec<u8>) {
    let mut url = String::new();
    let mut used = Vec::new();
    let template = route.template.openapi_path();
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        url.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("closing brace") + open;
        let name = &rest[open + 1..close];
        let field = route
            .template
            .variables()
            .find(|v| v.replace('.', "_") == name.replace('.', "_") || *v == name)
            .unwrap_or(name)
            .to_string();
        url.push_str(&percent(&field_text(request, &field)));
        used.push(field.split('.').next().unwrap_or_default().to_string());
        rest = &rest[close + 1..];
    }
    url.push_str(rest);
    match route.body.as_deref() {
        Some("*") => (url, serde_json::to_vec(request).expect("json")),
        _ => {
            let mut query = Vec::new();
            if let Value::Object(fields) = request {
                for (k, v) in fields {
                    if used.contains(k) {
                        continue;
                    }
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Bool(_) | Value::Number(_) => v.to_string(),
                        _ => continue,
                    };
                    query.push(format!("{k}={}", percent(&text)));
                }
            }
            if !query.is_empty() {
                url.push('?');
                url.push_str(&query.join("&"));
            }
            (url, Vec::new())
        }
    }
}

async fn rest(system: &System, route: &crm_gateway::routes::Route, token: &str, request: &Value) -> Reply {
    let (url, body) = rest_request(route, request);
    system
        .http
        .send(
            route.http_method.clone(),
            &url,
            Some(token),
            &[("content-type", "application/json")],
            body,
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_read_rpc_shows_another_departments_records_over_grpc_or_rest() {
    let system = start().await;
    let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let routes = Routes::from_pool(&pool).expect("routes");
    let customers = system.customers.endpoint();
    let sales = system.sales.endpoint();

    // A manager over another department (Finance), with the same role as Sales' manager.
    let admin = system.identity.token("test-admin", "admin");
    let finance = system
        .identity
        .client(&admin)
        .await
        .create_department(ipb::CreateDepartmentRequest {
            department: Some(ipb::Department {
                name: "Finance".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("department")
        .into_inner()
        .department
        .expect("department");
    let outsider = system
        .identity
        .token_in("fin-boss", "sales_manager", &finance.id, &finance.path);
    let alice = system.sales("alice");
    let boss = system.manager();
    let warehouse = system.warehouse.endpoint();
    for k in ["keeper-a", "keeper-b"] {
        system.identity.employee(k, "warehouse_keeper").await;
    }
    let keeper = system.identity.token("keeper-a", "warehouse_keeper");
    let other_keeper = system.identity.token("keeper-b", "warehouse_keeper");

    // Alice's records, touching every kind of record a read returns.
    let now = crm_kit::time::now_micros();
    let day = crm_kit::time::DAY_MICROS;
    let today = crm_kit::time::local_day_start(now, 0);
    let (y, m, d) = crm_kit::time::civil_from_days(now.div_euclid(day));
    let date = format!("{y:04}-{m:02}-{d:02}");
    let ts = crm_kit::time::format_rfc3339;
    let cs = "/crm.customers.v1.CustomersService/";
    let ss = "/crm.sales.v1.SalesService/";
    let customer = call(
        &pool,
        &customers,
        &format!("{cs}CreateCustomer"),
        &alice,
        json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "Leaky Alice Co",
            "primary_contact": {"name": "Leaky Contact", "mobile": "13800138000", "birthday": date}}}),
    )
    .await;
    let customer_id = customer["customer"]["id"].as_str().expect("id").to_string();
    let contact_id = customer["customer"]["primaryContact"]["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    let contact_id = if contact_id.is_empty() {
        let contacts = call(
            &pool,
            &customers,
            &format!("{cs}ListContacts"),
            &alice,
            json!({"customer_id": customer_id}),
        )
        .await;
        contacts["contacts"][0]["id"].as_str().expect("contact").to_string()
    } else {
        contact_id
    };
    // Due today (late in the UTC day) and, for a second customer, overdue.
    let follow_up = call(
        &pool,
        &customers,
        &format!("{cs}CreateFollowUp"),
        &alice,
        json!({"follow_up": {"customer_id": customer_id, "method": "FOLLOW_UP_METHOD_PHONE",
            "summary": "Leaky Alice Co call", "occur_time": ts(now - 60_000_000),
            "next_contact_time": ts((today + day - 1).max(now))}}),
    )
    .await;
    let follow_up_id = follow_up["followUp"]["id"].as_str().expect("id").to_string();
    call(
        &pool,
        &customers,
        &format!("{cs}CreateSavedFilter"),
        &alice,
        json!({"saved_filter": {"name": "Leaky Filter", "filter": "level_code = \"A\""}}),
    )
    .await;
    let lead = call(
        &pool,
        &sales,
        &format!("{ss}CreateLead"),
        &alice,
        json!({"lead": {"company_name": "Leaky Lead Co", "contact_name": "Lee"}}),
    )
    .await;
    let lead_id = lead["lead"]["id"].as_str().expect("id").to_string();
    let deal = |subject: &str| {
        json!({"opportunity": {"subject": subject, "customer_id": customer_id,
            "expected_amount": {"currency_code": "CNY", "amount": "987654.32"},
            "planned_close_date": date}})
    };
    let opportunity = call(
        &pool,
        &sales,
        &format!("{ss}CreateOpportunity"),
        &alice,
        deal("Leaky Deal"),
    )
    .await;
    let opportunity_id = opportunity["opportunity"]["id"].as_str().expect("id").to_string();
    call(
        &pool,
        &sales,
        &format!("{ss}CreateActivity"),
        &alice,
        json!({"activity": {"opportunity_id": opportunity_id, "method": "ACTIVITY_METHOD_VISIT",
            "summary": "Leaky Activity", "activity_time": ts(now)}}),
    )
    .await;
    let won = call(
        &pool,
        &sales,
        &format!("{ss}CreateOpportunity"),
        &alice,
        deal("Leaky Won Deal"),
    )
    .await;
    let won_id = won["opportunity"]["id"].as_str().expect("id").to_string();
    call(
        &pool,
        &sales,
        &format!("{ss}SetOpportunityStatus"),
        &alice,
        json!({"id": won_id, "status": "OPPORTUNITY_STATUS_WON"}),
    )
    .await;
    call(
        &pool,
        &sales,
        &format!("{ss}AuditOpportunity"),
        &boss,
        json!({"id": won_id, "audited": true}),
    )
    .await;
    let project = call(
        &pool,
        &sales,
        &format!("{ss}CreateProject"),
        &alice,
        json!({"opportunity_id": won_id, "name": "Leaky Won Deal"}),
    )
    .await;
    let project_id = project["project"]["id"].as_str().expect("id").to_string();
    let upload = system
        .http
        .send(
            Method::POST,
            &format!(
                "/v1/projects/{project_id}/documents?document.fileName=leaky-plan.txt&document.contentType=text/plain"
            ),
            Some(&alice),
            &[("content-type", "text/plain")],
            Bytes::from_static(b"Leaky Won Deal plan"),
        )
        .await
        .expect(200);
    let document_id = upload.json()["document"]["id"].as_str().expect("id").to_string();
    call(
        &pool,
        &sales,
        &format!("{ss}SetQuota"),
        &boss,
        json!({"quota": {"period": &date[..7], "subject_id": "alice",
            "amount": {"currency_code": "CNY", "amount": "555444.33"}}}),
    )
    .await;
    call(&pool, &sales, &format!("{ss}TakeForecastSnapshot"), &boss, json!({})).await;
    // The outsider's own customer, so their lists are not empty for want of data.
    call(
        &pool,
        &customers,
        &format!("{cs}CreateCustomer"),
        &outsider,
        json!({"customer": {"kind": "CUSTOMER_KIND_COMPANY", "name": "Finance Own Co"}}),
    )
    .await;

    let period = json!({"from_date": format!("{}-01", &date[..7]), "to_date": date});
    let reminders = |kind: &str, team: bool| json!({"kind": kind, "team": team, "utc_offset_minutes": 0});
    // (method, request, who sees it, what they see).
    // An import job of Alice's.
    system
        .http
        .send(
            Method::POST,
            "/v1/customers:import?options.request_id=leaky-import",
            Some(&alice),
            &[("content-type", "text/csv")],
            "name\nLeaky Imported Co\n",
        )
        .await
        .expect(200);
    let mut matrix: Vec<(String, Value, &str, Expect)> = vec![
        (
            format!("{cs}GetCustomer"),
            json!({"id": customer_id}),
            "alice",
            Expect::Shows,
        ),
        (
            format!("{cs}ListCustomers"),
            json!({"page_size": 100}),
            "boss",
            Expect::Shows,
        ),
        (
            format!("{cs}ListCustomers"),
            json!({"query": "Leaky"}),
            "boss",
            Expect::Shows,
        ),
        (
            format!("{cs}ListOwnerChanges"),
            json!({"customer_id": customer_id}),
            "alice",
            Expect::Found,
        ),
        (
            format!("{cs}ListCustomerChanges"),
            json!({"customer_id": customer_id}),
            "alice",
            Expect::Found,
        ),
        (
            format!("{cs}ListReclaimCandidates"),
            json!({"within_days": 120}),
            "boss",
            Expect::Shows,
        ),
        (
            format!("{cs}GetContact"),
            json!({"id": contact_id}),
            "alice",
            Expect::Shows,
        ),
        (
            format!("{cs}ListContacts"),
            json!({"customer_id": customer_id}),
            "alice",
            Expect::Shows,
        ),
        (
            format!("{cs}GetFollowUp"),
            json!({"id": follow_up_id}),
            "alice",
            Expect::Shows,
        ),
        (
            format!("{cs}ListFollowUps"),
            json!({"customer_id": customer_id}),
            "alice",
            Expect::Shows,
        ),
        (
            format!("{cs}ListReminders"),
            reminders("REMINDER_KIND_TODAY", true),
            "boss",
            Expect::Shows,
        ),
        (
            format!("{cs}ListReminders"),
            reminders("REMINDER_KIND_TODAY", false),
            "alice",
            Expect::Shows,
        ),
        (
            format!("{cs}ListReminders"),
            reminders("REMINDER_KIND_BIRTHDAYS_THIS_WEEK", true),
            "boss",
            Expect::Shows,
        ),
        (format!("{cs}ListSavedFilters"), json!({}), "alice", Expect::Shows),
        (format!("{cs}ExportCustomers"), json!({}), "boss", Expect::Shows),
        (
            format!("{cs}GetImportJob"),
            json!({"request_id": "leaky-import"}),
            "boss",
            Expect::Found,
        ),
        (format!("{ss}GetLead"), json!({"id": lead_id}), "alice", Expect::Shows),
        (format!("{ss}ListLeads"), json!({}), "boss", Expect::Shows),
        (
            format!("{ss}ListLeadFollowUps"),
            json!({"lead_id": lead_id}),
            "alice",
            Expect::Found,
        ),
        (
            format!("{ss}ListLeadChanges"),
            json!({"lead_id": lead_id}),
            "alice",
            Expect::Found,
        ),
        (format!("{ss}ExportLeads"), json!({}), "boss", Expect::Shows),
        (
            format!("{ss}GetOpportunity"),
            json!({"id": opportunity_id}),
            "alice",
            Expect::Shows,
        ),
        (format!("{ss}ListOpportunities"), json!({}), "boss", Expect::Shows),
        (
            format!("{ss}ListOpportunityChanges"),
            json!({"opportunity_id": opportunity_id}),
            "alice",
            Expect::Found,
        ),
        (
            format!("{ss}ListStageHistory"),
            json!({"opportunity_id": opportunity_id}),
            "alice",
            Expect::Found,
        ),
        (
            format!("{ss}ListActivities"),
            json!({"opportunity_id": opportunity_id}),
            "alice",
            Expect::Shows,
        ),
        (format!("{ss}ListQuotas"), json!({}), "boss", Expect::Shows),
        (format!("{ss}GetFunnel"), json!({}), "boss", Expect::Shows),
        (
            format!("{ss}GetForecast"),
            json!({"period": "FORECAST_PERIOD_MONTH", "subject_id": "alice"}),
            "alice",
            Expect::Shows,
        ),
        (
            format!("{ss}GetOpportunityAnalysis"),
            json!({"group_by": "ANALYSIS_GROUPING_SALESPERSON", "period": period}),
            "boss",
            Expect::Shows,
        ),
        (
            format!("{ss}GetLeadConversion"),
            json!({"group_by": "LEAD_GROUPING_SALESPERSON", "period": period}),
            "boss",
            Expect::ShowsText("alice"),
        ),
        (
            format!("{ss}GetProjectAnalysis"),
            json!({"group_by": "ANALYSIS_GROUPING_SALESPERSON", "period": period}),
            "boss",
            Expect::Shows,
        ),
        (format!("{ss}ListForecastSnapshots"), json!({}), "boss", Expect::Shows),
        (
            format!("{ss}GetProject"),
            json!({"id": project_id}),
            "alice",
            Expect::Shows,
        ),
        (format!("{ss}ListProjects"), json!({}), "boss", Expect::Shows),
        (
            format!("{ss}ListMaintenanceRecords"),
            json!({"project_id": project_id}),
            "alice",
            Expect::Found,
        ),
        (
            format!("{ss}ListProjectDocuments"),
            json!({"project_id": project_id}),
            "alice",
            Expect::Shows,
        ),
        (
            format!("{ss}DownloadProjectDocument"),
            json!({"id": document_id}),
            "alice",
            Expect::Shows,
        ),
    ];

    // A warehouse keeper-a keeps, with stock, a document and a reservation; keeper-b keeps
    // another.
    let ws = "/crm.warehouse.v1.WarehouseService/";
    let stock_manager = system.identity.token("stock-manager", "warehouse_manager");
    let product = call(
        &pool,
        &warehouse,
        &format!("{ws}CreateProduct"),
        &stock_manager,
        json!({"product": {"code": "SCOPE-1", "name": "Scope lamp", "unit": "pcs", "standardCost": {"currencyCode": "CNY", "amount": "1"}}}),
    )
    .await;
    let product_id = product["product"]["id"].as_str().expect("id").to_string();
    let kept = call(
        &pool,
        &warehouse,
        &format!("{ws}CreateWarehouse"),
        &stock_manager,
        json!({"warehouse": {"code": "LEAKY", "name": "Leaky Warehouse", "keeperIds": ["keeper-a"]}}),
    )
    .await;
    let kept_id = kept["warehouse"]["id"].as_str().expect("id").to_string();
    call(
        &pool,
        &warehouse,
        &format!("{ws}CreateWarehouse"),
        &stock_manager,
        json!({"warehouse": {"code": "OTHER", "name": "Other warehouse", "keeperIds": ["keeper-b"]}}),
    )
    .await;
    let receipt = call(
        &pool,
        &warehouse,
        &format!("{ws}CreateStockDocument"),
        &keeper,
        json!({"document": {"kind": "DOCUMENT_KIND_OPENING", "warehouseId": kept_id, "reference": "Leaky Receipt",
            "lines": [{"productId": product_id, "quantity": "987654.32"}]}, "post": true}),
    )
    .await;
    let receipt_id = receipt["document"]["id"].as_str().expect("id").to_string();
    call(
        &pool,
        &warehouse,
        &format!("{ws}ReserveStock"),
        &keeper,
        json!({"warehouseId": kept_id, "productId": product_id, "quantity": "555444.33"}),
    )
    .await;
    call(
        &pool,
        &warehouse,
        &format!("{ws}CreateStockDocument"),
        &keeper,
        json!({"document": {"kind": "DOCUMENT_KIND_LOAN_OUT", "warehouseId": kept_id, "counterpartyId": "Leaky Borrower",
            "counterpartyKind": "COUNTERPARTY_KIND_CUSTOMER", "lines": [{"productId": product_id, "quantity": "1"}]}, "post": true}),
    )
    .await;
    let serial_product = call(
        &pool,
        &warehouse,
        &format!("{ws}CreateProduct"),
        &stock_manager,
        json!({"product": {"code": "SCOPE-SN", "name": "Scope phone", "unit": "pcs", "tracking": "TRACKING_SERIAL"}}),
    )
    .await;
    let serial_product_id = serial_product["product"]["id"].as_str().expect("id").to_string();
    let lot_product = call(
        &pool,
        &warehouse,
        &format!("{ws}CreateProduct"),
        &stock_manager,
        json!({"product": {"code": "SCOPE-LOT", "name": "Scope milk", "unit": "pcs", "tracking": "TRACKING_LOT"}}),
    )
    .await;
    let lot_product_id = lot_product["product"]["id"].as_str().expect("id").to_string();
    call(
        &pool,
        &warehouse,
        &format!("{ws}CreateStockDocument"),
        &keeper,
        json!({"document": {"kind": "DOCUMENT_KIND_OPENING", "warehouseId": kept_id, "lines": [
            {"productId": serial_product_id, "quantity": "1", "serialNumbers": ["LEAKY-SN-1"]},
            {"productId": lot_product_id, "quantity": "777666.55", "lot": "Leaky Lot"}]}, "post": true}),
    )
    .await;
    let count = call(
        &pool,
        &warehouse,
        &format!("{ws}CreateStocktake"),
        &keeper,
        json!({"warehouseId": kept_id, "remark": "Leaky Receipt count"}),
    )
    .await;
    let count_id = count["stocktake"]["id"].as_str().expect("id").to_string();
    let warehouse_rows = vec![
        (
            format!("{ws}GetStocktake"),
            json!({"id": count_id}),
            "keeper",
            Expect::Shows,
        ),
        (format!("{ws}ListStocktakes"), json!({}), "keeper", Expect::Shows),
        (format!("{ws}ListLoans"), json!({}), "keeper", Expect::Shows),
        (
            format!("{ws}GetWarehouse"),
            json!({"id": kept_id}),
            "keeper",
            Expect::Shows,
        ),
        (format!("{ws}ListWarehouses"), json!({}), "keeper", Expect::Shows),
        (
            format!("{ws}GetStockDocument"),
            json!({"id": receipt_id}),
            "keeper",
            Expect::Shows,
        ),
        (format!("{ws}ListStockDocuments"), json!({}), "keeper", Expect::Shows),
        (format!("{ws}ListReservations"), json!({}), "keeper", Expect::Shows),
        (
            format!("{ws}GetStockLevel"),
            json!({"warehouse_id": kept_id, "product_id": product_id}),
            "keeper",
            Expect::Shows,
        ),
        (format!("{ws}ListStockLevels"), json!({}), "keeper", Expect::Shows),
        (format!("{ws}ListLedgerEntries"), json!({}), "keeper", Expect::Shows),
        (format!("{ws}GetStockValue"), json!({}), "keeper", Expect::Shows),
        (
            format!("{ws}GetSerialNumber"),
            json!({"product_id": serial_product_id, "serial_number": "LEAKY-SN-1"}),
            "keeper",
            Expect::Shows,
        ),
        (format!("{ws}ListSerialNumbers"), json!({}), "keeper", Expect::Shows),
        (format!("{ws}ListLots"), json!({}), "keeper", Expect::Shows),
        (format!("{ws}ListStockMovement"), json!({}), "keeper", Expect::Shows),
        (format!("{ws}CompareWarehouses"), json!({}), "keeper", Expect::Shows),
        (
            format!("{ws}ExportStockReport"),
            json!({"report": "STOCK_REPORT_MOVEMENT"}),
            "keeper",
            Expect::Shows,
        ),
    ];
    matrix.extend(warehouse_rows);

    // Every read method of the contracts is in the matrix or named as shared.
    for service in pool.services().filter(|s| s.full_name().starts_with("crm.")) {
        for m in service.methods().filter(|m| is_read(m.name())) {
            let path = format!("/{}/{}", service.full_name(), m.name());
            if crm_gateway::is_internal(&path) {
                continue;
            }
            assert!(
                SHARED.iter().any(|(p, _)| *p == path) || matrix.iter().any(|(p, ..)| *p == path),
                "{path} reads records: add it to the scope matrix"
            );
        }
    }

    let mut calls = 0;
    for (path, request, who, expect) in &matrix {
        let method = method(&pool, path);
        let url = if path.starts_with(cs) {
            &customers
        } else if path.starts_with(ws) {
            &warehouse
        } else {
            &sales
        };
        let insider = match *who {
            "alice" => &alice,
            "keeper" => &keeper,
            _ => &boss,
        };
        // The warehouse's outsider keeps another warehouse.
        let outsider = if path.starts_with(ws) { &other_keeper } else { &outsider };

        // The insider sees the record, so the row can fail.
        let answer = grpc(url, &method, insider, request)
            .await
            .unwrap_or_else(|s| panic!("{path} {request} as {who}: {s:?}"));
        let all: Vec<u8> = answer.iter().flat_map(|b| b.chunk().to_vec()).collect();
        assert!(shows(&all, *expect), "{path} {request}: {who} sees nothing of alice's");
        // The outsider does not, over gRPC...
        match grpc(url, &method, outsider, request).await {
            Ok(answer) => {
                let all: Vec<u8> = answer.iter().flat_map(|b| b.chunk().to_vec()).collect();
                assert_eq!(leaked(&all, *expect), Vec::<&str>::new(), "gRPC {path} {request} leaks");
                assert!(
                    !matches!(expect, Expect::Found),
                    "gRPC {path} {request}: a record out of scope must be NOT_FOUND"
                );
            }
            Err(status) => assert_eq!(status.code(), Code::NotFound, "gRPC {path} {request}: {status:?}"),
        }
        calls += 1;
        // ...nor through any REST route of the method.
        for route in routes.all().filter(|r| r.grpc_path == *path) {
            let theirs = rest(&system, route, insider, request).await;
            assert_eq!(theirs.status, 200, "REST {path} {request} as {who}: {theirs:?}");
            assert!(shows(&theirs.body, *expect), "REST {path}: {who} sees nothing");
            let reply = rest(&system, route, outsider, request).await;
            match reply.status {
                200 if !matches!(expect, Expect::Found) => assert_eq!(
                    leaked(&reply.body, *expect),
                    Vec::<&str>::new(),
                    "REST {path} {request} leaks"
                ),
                404 => {}
                other => panic!("REST {path} {request}: {other} {reply:?}"),
            }
            calls += 1;
        }
    }
    println!(
        "scope matrix: {} read requests, {calls} calls over gRPC and REST, {} shared reads",
        matrix.len(),
        SHARED.len()
    );
}
