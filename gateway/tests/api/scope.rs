//! Data scopes through the gateway: what a salesperson and a manager can reach by id, in lists,
//! in search and in exports, over REST and over gRPC-Web, never includes an out-of-scope row.

use crm_proto::customers as pb;
use crm_proto::identity as ipb;
use prost::Message as _;
use tonic::Code;

use crate::helpers::{System, create_company, start};

/// Names of the customers a REST list shows the holder of `token`.
async fn rest_names(system: &System, token: &str, query: &str) -> Vec<String> {
    let reply = system
        .http
        .get(&format!("/v1/customers?pageSize=100&query={query}"), Some(token))
        .await
        .expect(200);
    let mut names: Vec<String> = reply.json()["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

/// Names of the customers a gRPC-Web list shows the holder of `token`.
async fn grpc_web_names(system: &System, token: &str, query: &str) -> Vec<String> {
    let request = pb::ListCustomersRequest {
        page_size: 100,
        query: query.into(),
        ..Default::default()
    };
    let reply = system
        .http
        .grpc_web(
            "/crm.customers.v1.CustomersService/ListCustomers",
            Some(token),
            &request.encode_to_vec(),
        )
        .await;
    assert_eq!(reply.code, 0, "{reply:?}");
    let response = pb::ListCustomersResponse::decode(reply.messages[0].clone()).expect("response");
    let mut names: Vec<String> = response.customers.into_iter().map(|c| c.name).collect();
    names.sort();
    names
}

/// The names in a REST CSV export for the holder of `token`.
async fn exported_names(system: &System, token: &str) -> Vec<String> {
    let reply = system.http.get("/v1/customers:export", Some(token)).await.expect(200);
    assert!(reply.header("content-type").is_some_and(|c| c.starts_with("text/csv")));
    let text = String::from_utf8(reply.body.to_vec()).expect("utf-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let name_at = header.iter().position(|h| *h == "name").expect("a name column");
    let mut names: Vec<String> = lines
        .map(|l| l.split(',').nth(name_at).expect("name cell").to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn scopes_hold_through_rest_and_grpc_web() {
    let system = start().await;
    let admin = system.identity.token("test-admin", "admin");
    let mut identity = system.identity.client(&admin).await;
    let department = |name: &str, parent: &str| ipb::CreateDepartmentRequest {
        department: Some(ipb::Department {
            name: name.into(),
            parent_id: parent.into(),
            ..Default::default()
        }),
    };
    let east = identity
        .create_department(department("Sales East", &system.identity.department_id))
        .await
        .expect("sub-department")
        .into_inner()
        .department
        .expect("department");
    let finance = identity
        .create_department(department("Finance", ""))
        .await
        .expect("department")
        .into_inner()
        .department
        .expect("department");

    let alice = system.sales("alice");
    let bob = system.sales("bob");
    let ed = system.identity.token_in("ed", "salesperson", &east.id, &east.path);
    let fay = system
        .identity
        .token_in("fay", "salesperson", &finance.id, &finance.path);
    let manager = system.manager();
    let alices = create_company(&system.http, &alice, "Scope Alice Co").await;
    create_company(&system.http, &bob, "Scope Bob Co").await;
    create_company(&system.http, &ed, "Scope East Co").await;
    let fays = create_company(&system.http, &fay, "Scope Finance Co").await;

    // A salesperson asking for another salesperson's customer by id: NOT_FOUND, not FORBIDDEN.
    let alice_id = alices["id"].as_str().expect("id");
    let reply = system.http.get(&format!("/v1/customers/{alice_id}"), Some(&bob)).await;
    assert_eq!(reply.status, 404, "{reply:?}");
    assert_eq!(reply.json()["error"]["status"], "NOT_FOUND");
    let get = pb::GetCustomerRequest { id: alice_id.into() };
    let reply = system
        .http
        .grpc_web(
            "/crm.customers.v1.CustomersService/GetCustomer",
            Some(&bob),
            &get.encode_to_vec(),
        )
        .await;
    assert_eq!(reply.code, Code::NotFound as i32, "{reply:?}");
    // Its owner reads it.
    system
        .http
        .get(&format!("/v1/customers/{alice_id}"), Some(&alice))
        .await
        .expect(200);

    // Lists and search: the salesperson sees their own only.
    assert_eq!(rest_names(&system, &bob, "").await, ["Scope Bob Co"]);
    assert_eq!(rest_names(&system, &bob, "scope").await, ["Scope Bob Co"]);
    assert_eq!(grpc_web_names(&system, &bob, "").await, ["Scope Bob Co"]);
    assert_eq!(grpc_web_names(&system, &bob, "scope").await, ["Scope Bob Co"]);
    assert_eq!(exported_names(&system, &bob).await, ["Scope Bob Co"]);

    // The manager sees the Sales department tree (the sub-department too) and nothing more.
    let tree = ["Scope Alice Co", "Scope Bob Co", "Scope East Co"];
    assert_eq!(rest_names(&system, &manager, "").await, tree);
    assert_eq!(rest_names(&system, &manager, "scope").await, tree);
    assert_eq!(grpc_web_names(&system, &manager, "scope").await, tree);
    assert_eq!(exported_names(&system, &manager).await, tree);
    let fay_id = fays["id"].as_str().expect("id");
    system
        .http
        .get(&format!("/v1/customers/{fay_id}"), Some(&manager))
        .await
        .expect(404);
    let get = pb::GetCustomerRequest { id: fay_id.into() };
    let reply = system
        .http
        .grpc_web(
            "/crm.customers.v1.CustomersService/GetCustomer",
            Some(&manager),
            &get.encode_to_vec(),
        )
        .await;
    assert_eq!(reply.code, Code::NotFound as i32, "{reply:?}");
    // Plain gRPC through the gateway's port: the same answers.
    let channel = tonic::transport::Channel::from_shared(system.http_base())
        .expect("url")
        .connect()
        .await
        .expect("connect to the gateway");
    let mut through = pb::customers_service_client::CustomersServiceClient::with_interceptor(
        channel,
        crm_identity::testing::Bearer::new(&bob),
    );
    let status = through
        .get_customer(pb::GetCustomerRequest { id: alice_id.into() })
        .await
        .expect_err("out of scope");
    assert_eq!(status.code(), Code::NotFound);
    let listed = through
        .list_customers(pb::ListCustomersRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("list through the gateway")
        .into_inner()
        .customers;
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Scope Bob Co"]
    );

    // The history of an out-of-scope customer is out of reach too.
    system
        .http
        .get(&format!("/v1/customers/{fay_id}/changes"), Some(&manager))
        .await
        .expect(404);
}
