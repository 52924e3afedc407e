//! A deactivated employee's unexpired access token is refused everywhere within seconds:
//! identity, customers and sales over gRPC, and the gateway (REST `/v1/me` and `/v1/customers`,
//! gRPC through it), writes included; nothing they wrote in those seconds stays theirs. Prints
//! how long after `DeactivateEmployee` returned each one first refused the token.

use std::time::{Duration, Instant};

use crm_e2e::{ADMIN_PASSWORD, Suite, channel, http, sign_in, with_token};
use crm_proto::customers as cpb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::identity as id;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use crm_proto::sales as spb;
use crm_proto::sales::sales_service_client::SalesServiceClient;

/// The most a verifier may take to refuse; the figure itself is printed, not asserted.
const BOUND: Duration = Duration::from_secs(30);

/// Whether a call was let through, or refused because the account is deactivated (anything
/// else fails the test).
fn refused_grpc<T>(what: &str, result: Result<T, tonic::Status>) -> bool {
    match result {
        Ok(_) => false,
        Err(s) if s.code() == tonic::Code::Unauthenticated => {
            assert_eq!(s.message(), "the account is deactivated", "{what}: {s:?}");
            true
        }
        Err(s) => panic!("{what}: {s:?}"),
    }
}

fn refused_http(what: &str, response: &str) -> bool {
    if response.starts_with("HTTP/1.1 2") {
        return false;
    }
    assert!(response.starts_with("HTTP/1.1 401"), "{what}: {response}");
    assert!(response.contains("ACCOUNT_DEACTIVATED"), "{what}: {response}");
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_employees_token_is_refused_everywhere_within_seconds() {
    let suite = Suite::start().await;
    let (identity_addr, customers_addr, sales_addr, gateway_addr) =
        (suite.identity, suite.customers, suite.sales, suite.gateway);

    let (admin_token, admin) = sign_in(identity_addr, "admin", ADMIN_PASSWORD).await;
    let mut identity_admin =
        IdentityServiceClient::with_interceptor(channel(identity_addr).await, with_token(&admin_token));
    for login in ["leaver", "heir"] {
        identity_admin
            .create_employee(id::CreateEmployeeRequest {
                employee: Some(id::Employee {
                    login: login.into(),
                    display_name: login.into(),
                    department_id: admin.department_id.clone(),
                    role_ids: vec!["salesperson".into()],
                    ..Default::default()
                }),
                password: "e2e-password-1".into(),
                employee_id: login.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let (token, _) = sign_in(identity_addr, "leaver", "e2e-password-1").await;
    let mut identity = IdentityServiceClient::with_interceptor(channel(identity_addr).await, with_token(&token));
    let mut customers = CustomersServiceClient::with_interceptor(channel(customers_addr).await, with_token(&token));
    let mut sales = SalesServiceClient::with_interceptor(channel(sales_addr).await, with_token(&token));
    let mut through_gateway = CustomersServiceClient::with_interceptor(channel(gateway_addr).await, with_token(&token));
    let get = |path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: crm\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
    };
    let post_customer = |n: usize| {
        let body = format!(r#"{{"customer":{{"kind":"CUSTOMER_KIND_COMPANY","name":"Leaver REST {n} Ltd"}}}}"#);
        format!(
            "POST /v1/customers HTTP/1.1\r\nHost: crm\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let create_customer = |n: usize, via: &str| cpb::CreateCustomerRequest {
        customer: Some(cpb::Customer {
            kind: cpb::CustomerKind::Company as i32,
            name: format!("Leaver {via} {n} Ltd"),
            ..Default::default()
        }),
        ..Default::default()
    };
    let create_lead = |n: usize| spb::CreateLeadRequest {
        lead: Some(spb::Lead {
            company_name: format!("Leaver Lead {n} Ltd"),
            contact_name: "Li Lei".into(),
            mobile: "13800001111".into(),
            source: spb::LeadSource::Referral as i32,
            ..Default::default()
        }),
        ..Default::default()
    };

    // Every probe works before (and so each verifier has the token in its cache).
    const PROBES: [&str; 9] = [
        "identity GetCurrentEmployee (gRPC)",
        "customers ListCustomers (gRPC)",
        "customers CreateCustomer (gRPC)",
        "sales ListLeads (gRPC)",
        "sales CreateLead (gRPC)",
        "gateway GET /v1/me (REST)",
        "gateway GET /v1/customers (REST)",
        "gateway POST /v1/customers (REST)",
        "gateway CreateCustomer (gRPC through the gateway)",
    ];
    let mut n = 0;
    let mut probe = async |i: usize, n: usize| -> bool {
        let what = PROBES[i];
        match i {
            0 => refused_grpc(
                what,
                identity.get_current_employee(id::GetCurrentEmployeeRequest {}).await,
            ),
            1 => refused_grpc(
                what,
                customers.list_customers(cpb::ListCustomersRequest::default()).await,
            ),
            2 => refused_grpc(what, customers.create_customer(create_customer(n, "gRPC")).await),
            3 => refused_grpc(what, sales.list_leads(spb::ListLeadsRequest::default()).await),
            4 => refused_grpc(what, sales.create_lead(create_lead(n)).await),
            5 => refused_http(what, &http(gateway_addr, &get("/v1/me")).await),
            6 => refused_http(what, &http(gateway_addr, &get("/v1/customers")).await),
            7 => refused_http(what, &http(gateway_addr, &post_customer(n)).await),
            _ => refused_grpc(
                what,
                through_gateway.create_customer(create_customer(n, "gateway")).await,
            ),
        }
    };
    for (i, what) in PROBES.iter().enumerate() {
        n += 1;
        assert!(!probe(i, n).await, "{what} works before the deactivation");
    }

    identity_admin
        .deactivate_employee(id::DeactivateEmployeeRequest {
            id: "leaver".into(),
            successor_id: "heir".into(),
            dry_run: false,
        })
        .await
        .unwrap();
    let deactivated = Instant::now();
    let mut refused: [Option<Duration>; PROBES.len()] = [None; PROBES.len()];
    while refused.iter().any(Option::is_none) {
        for (i, at) in refused.iter_mut().enumerate() {
            if at.is_none() {
                n += 1;
                if probe(i, n).await {
                    *at = Some(deactivated.elapsed());
                }
            }
        }
        assert!(
            deactivated.elapsed() < BOUND,
            "still accepted after {BOUND:?}: {:?}",
            PROBES
                .iter()
                .zip(&refused)
                .filter(|(_, r)| r.is_none())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("seconds from DeactivateEmployee returning to the first refusal of the leaver's token:");
    for (what, at) in PROBES.iter().zip(refused) {
        println!("  {:>6.3}  {what}", at.expect("refused").as_secs_f64());
    }
    // Once refused, refused for good.
    for (i, what) in PROBES.iter().enumerate() {
        n += 1;
        assert!(probe(i, n).await, "{what} stays refused");
    }

    // Whatever the leaver wrote in those seconds is the successor's, not left behind.
    let mut customers_admin =
        CustomersServiceClient::with_interceptor(channel(customers_addr).await, with_token(&admin_token));
    let mut sales_admin = SalesServiceClient::with_interceptor(channel(sales_addr).await, with_token(&admin_token));
    let left_customers = customers_admin
        .list_customers(cpb::ListCustomersRequest {
            filter: r#"owner_id = "leaver""#.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert!(left_customers.is_empty(), "{left_customers:?}");
    let left_leads = sales_admin
        .list_leads(spb::ListLeadsRequest {
            filter: r#"owner_id = "leaver""#.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .leads;
    assert!(left_leads.is_empty(), "{left_leads:?}");
    let heirs = customers_admin
        .list_customers(cpb::ListCustomersRequest {
            filter: r#"owner_id = "heir""#.into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert!(
        heirs.len() >= 3,
        "the leaver's customers went to the successor: {heirs:?}"
    );

    suite.stop().await;
}
