//! The suite as a user runs it: start, serve a customer flow, stop on a signal.

use std::time::Duration;

use crm_e2e::{ADMIN_PASSWORD, Suite, http};
use crm_proto::customers as pb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::identity as id;
use crm_proto::identity::identity_service_client::IdentityServiceClient;

#[tokio::test]
async fn the_suite_starts_serves_and_stops() {
    let suite = Suite::start().await;
    let names: Vec<&str> = suite.services.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["identity", "customers", "sales", "warehouse", "gateway"]);
    let (identity_addr, addr, gateway_addr) = (suite.identity, suite.customers, suite.gateway);

    // The first start created the administrator with the configured password.
    let mut identity = IdentityServiceClient::connect(format!("http://{identity_addr}"))
        .await
        .unwrap();
    let signed_in = identity
        .sign_in(id::SignInRequest {
            login: "admin".into(),
            password: ADMIN_PASSWORD.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let token = signed_in.tokens.unwrap().access_token;
    let admin = signed_in.employee.unwrap();
    let admin_id = admin.id;
    let signed_in_department = admin.department_id;
    let admin_bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let mut identity_admin = IdentityServiceClient::with_interceptor(
        tonic::transport::Channel::from_shared(format!("http://{identity_addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap(),
        move |mut req: tonic::Request<()>| {
            req.metadata_mut().insert("authorization", admin_bearer.clone());
            Ok(req)
        },
    );
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();

    // Customers verifies the token with identity's keys; without one it refuses the call.
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let refused = CustomersServiceClient::new(channel.clone())
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let mut client = CustomersServiceClient::with_interceptor(channel, move |mut req: tonic::Request<()>| {
        req.metadata_mut().insert("authorization", bearer.clone());
        Ok(req)
    });
    let created = client
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(pb::Customer {
                kind: pb::CustomerKind::Company as i32,
                name: "端到端测试有限公司".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    // The signed-in administrator owns what they create.
    assert_eq!(created.owner_id, admin_id);
    let found = client
        .list_customers(pb::ListCustomersRequest {
            query: "端到端".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(found.len(), 1);

    // The gateway reaches both services and serves the customer over REST with the same token.
    let ready = http(
        gateway_addr,
        "GET /readyz HTTP/1.1\r\nHost: crm\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let got = http(
        gateway_addr,
        &format!(
            "GET /v1/customers/{} HTTP/1.1\r\nHost: crm\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
            created.id
        ),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains("端到端测试有限公司"), "{got}");

    // Departure: a leaver's customer passes to the successor through identity's event feed,
    // driven over REST through the gateway.
    let department_id = signed_in_department.clone();
    for login in ["leaver", "heir"] {
        identity_admin
            .create_employee(id::CreateEmployeeRequest {
                employee: Some(id::Employee {
                    login: login.into(),
                    display_name: login.into(),
                    department_id: department_id.clone(),
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
    let book = client
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(pb::Customer {
                kind: pb::CustomerKind::Company as i32,
                name: "交接测试有限公司".into(),
                ..Default::default()
            }),
            owner_id: "leaver".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let deactivate = |dry_run: bool| {
        let body = format!(r#"{{"successorId":"heir","dryRun":{dry_run}}}"#);
        format!(
            "POST /v1/employees/leaver:deactivate HTTP/1.1\r\nHost: crm\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let dry = http(gateway_addr, &deactivate(true)).await;
    assert!(dry.starts_with("HTTP/1.1 200"), "{dry}");
    assert!(dry.contains(r#""kind":"customers","count":"1""#), "{dry}");
    let done = http(gateway_addr, &deactivate(false)).await;
    assert!(done.starts_with("HTTP/1.1 200"), "{done}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let owner = client
            .get_customer(pb::GetCustomerRequest { id: book.id.clone() })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap()
            .owner_id;
        if owner == "heir" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the customer passed to the successor (owner {owner})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for file in ["customers.db", "identity.db", "sales.db"] {
        assert!(suite.data_dir.join(file).exists(), "{file} under the data directory");
    }

    suite.stop().await;
}
