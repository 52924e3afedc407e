//! Access control: every method needs a verified token and its permission, and every read,
//! list, search and export is cut to the caller's data scope.

use crm_proto::customers as pb;
use tonic::Code;
use tonic::codegen::http::uri::PathAndQuery;
use tonic_types::StatusExt;

use crate::helpers::{Client, company, create, list_all, spawn};

/// Calls `path` with an empty message (enough to reach the auth layer, which answers before any
/// handler), with `token` when given.
async fn call_raw(endpoint: &str, path: &'static str, token: Option<&str>) -> tonic::Status {
    let channel = tonic::transport::Channel::from_shared(endpoint.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(());
    if let Some(t) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    let codec: tonic_prost::ProstCodec<(), ()> = tonic_prost::ProstCodec::default();
    match grpc.unary(request, PathAndQuery::from_static(path), codec).await {
        Ok(_) => tonic::Status::ok(""),
        Err(s) => s,
    }
}

fn customers_methods() -> Vec<&'static crm_proto::MethodAccess> {
    let methods: Vec<_> = crm_proto::METHOD_ACCESS
        .iter()
        .filter(|m| m.path.starts_with("/crm.customers.v1."))
        .collect();
    assert!(methods.len() >= 40, "every customers method is in the access table");
    methods
}

#[tokio::test]
async fn every_method_needs_a_valid_token_and_its_permission() {
    let app = spawn().await;
    let endpoint = app.server.endpoint();
    let finance = app.identity.token("fin", "finance");
    let finance_perms: Vec<&str> = crm_identity::roles::built_in("finance").unwrap().permissions.to_vec();
    let mut denied = 0;
    for m in customers_methods() {
        assert!(!m.public, "{} is not public", m.path);
        // No token, a malformed one, and one signed by a key nobody published.
        for token in [None, Some("not-a-token"), Some(forged_token().as_str())] {
            let status = call_raw(&endpoint, m.path, token).await;
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "{} with {token:?}: {status:?}",
                m.path
            );
        }
        // Finance reads customers but changes nothing.
        let status = call_raw(&endpoint, m.path, Some(&finance)).await;
        let granted = finance_perms
            .iter()
            .any(|g| crm_kit::auth::permission_matches(g, m.permission));
        if granted {
            assert!(
                !matches!(status.code(), Code::Unauthenticated | Code::PermissionDenied),
                "{} is granted to finance: {status:?}",
                m.path
            );
        } else {
            denied += 1;
            assert_eq!(status.code(), Code::PermissionDenied, "{}: {status:?}", m.path);
            let info = status.get_details_error_info().expect("ErrorInfo");
            assert_eq!(info.metadata.get("permission").map(String::as_str), Some(m.permission));
        }
    }
    assert!(denied >= 20, "finance is refused every write ({denied})");
}

/// A well-formed token signed with a key identity never published.
fn forged_token() -> String {
    let key = crm_kit::auth::token::generate_key();
    let now = crm_kit::time::now_seconds();
    let claims = crm_kit::auth::token::Claims {
        iss: crm_kit::auth::ISSUER.into(),
        aud: vec![crm_kit::auth::AUDIENCE.into()],
        sub: "mallory".into(),
        iat: now,
        nbf: now,
        exp: now + 600,
        jti: "x".into(),
        name: "Mallory".into(),
        dept: String::new(),
        dpath: String::new(),
        roles: vec!["admin".into()],
        perms: vec!["*".into()],
        scopes: [("*".to_string(), "all".to_string())].into(),
    };
    crm_kit::auth::token::sign(&claims, "made-up-key", &key)
}

/// The names a search finds (ranked: no `order_by`), sorted.
async fn names(client: &mut Client, query: &str) -> Vec<String> {
    let mut names: Vec<String> = list_all(client, "", query, "", 50)
        .await
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

async fn exported(client: &mut Client) -> String {
    let mut stream = client
        .export_customers(pb::ExportCustomersRequest::default())
        .await
        .expect("export")
        .into_inner();
    let mut csv = Vec::new();
    while let Some(chunk) = stream.message().await.expect("chunk") {
        csv.extend(chunk.csv_chunk);
    }
    String::from_utf8(csv).unwrap()
}

#[tokio::test]
async fn each_caller_sees_their_scope_and_nothing_more() {
    let app = spawn().await;
    let sales = &app.identity.department_path;
    let east = format!("{sales}east/");
    let id = &app.identity;
    let as_token = |employee: &str, role: &str, path: &str| id.token_in(employee, role, "d", path);

    let mut alice = app.sales("alice").await;
    let mut bob = app.sales("bob").await;
    let mut erin = app.client_with(&as_token("erin", "salesperson", &east)).await;
    let mut olga = app.client_with(&as_token("olga", "salesperson", "/other/")).await;
    let a = create(&mut alice, company("Scope Alpha Ltd")).await;
    let b = create(&mut bob, company("Scope Bravo Ltd")).await;
    let e = create(&mut erin, company("Scope East Ltd")).await;
    let o = create(&mut olga, company("Scope Other Ltd")).await;

    // A salesperson: their own customer only; another's is NOT_FOUND, as if it did not exist.
    assert_eq!(names(&mut alice, "Scope").await, ["Scope Alpha Ltd"]);
    // Another department's salesperson finds only their own, ranked search included.
    assert_eq!(names(&mut olga, "Scope").await, ["Scope Other Ltd"]);
    for other in [&b, &e, &o] {
        let status = alice
            .get_customer(pb::GetCustomerRequest { id: other.id.clone() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        let status = alice
            .list_owner_changes(pb::ListOwnerChangesRequest {
                customer_id: other.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::NotFound,
            "history of another's customer: {status:?}"
        );
    }
    let csv = exported(&mut alice).await;
    assert!(csv.contains("Scope Alpha Ltd") && !csv.contains("Scope Bravo Ltd") && !csv.contains("Scope East Ltd"));
    // Collaborators count as own.
    alice
        .share_customer(pb::ShareCustomerRequest {
            id: a.id.clone(),
            collaborator_ids: vec!["bob".into()],
        })
        .await
        .expect("share with bob");
    assert_eq!(names(&mut bob, "Scope").await, ["Scope Alpha Ltd", "Scope Bravo Ltd"]);

    // The Sales manager: the department and the one below it, not another branch.
    let mut boss = app.manager().await;
    assert_eq!(
        names(&mut boss, "Scope").await,
        ["Scope Alpha Ltd", "Scope Bravo Ltd", "Scope East Ltd"]
    );
    let status = boss
        .get_customer(pb::GetCustomerRequest { id: o.id.clone() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let csv = exported(&mut boss).await;
    assert!(csv.contains("Scope East Ltd") && !csv.contains("Scope Other Ltd"));
    // A manager of the East sub-department: East only.
    let mut eve = app.client_with(&as_token("eve", "sales_manager", &east)).await;
    assert_eq!(names(&mut eve, "Scope").await, ["Scope East Ltd"]);

    // Finance sees every customer.
    let mut fin = app.client_with(&as_token("fin", "finance", "/finance/")).await;
    assert_eq!(names(&mut fin, "Scope").await.len(), 4);

    // Duplicate checks name the owner of an out-of-scope match, never its contents.
    let dup = bob
        .check_duplicates(pb::CheckDuplicatesRequest {
            name: "Scope Other Ltd".into(),
            ..Default::default()
        })
        .await
        .expect("check")
        .into_inner();
    // (A match carries the id, the name that matched and the owner: no record contents.)
    let m = dup.exact_matches.first().expect("the exact match is reported");
    assert_eq!((m.customer_id.as_str(), m.owner_id.as_str()), (o.id.as_str(), "olga"));
    let status = bob
        .get_customer(pb::GetCustomerRequest {
            id: m.customer_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "the match itself stays out of reach");
}

#[tokio::test]
async fn only_managers_hand_customers_out_and_only_to_real_colleagues() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let a = create(&mut alice, company("Handing Out Ltd")).await;
    // A salesperson cannot assign.
    let status = alice
        .assign_customer(pb::AssignCustomerRequest {
            id: a.id.clone(),
            owner_id: "bob".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    // A manager cannot give a customer to someone identity does not know.
    let mut boss = app.manager().await;
    let status = boss
        .assign_customer(pb::AssignCustomerRequest {
            id: a.id.clone(),
            owner_id: "nobody".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    crate::helpers::assert_field(Err::<(), _>(status), Code::InvalidArgument, "owner_id");
    // To a colleague in the department: done, and the customer follows them into bob's scope.
    boss.assign_customer(pb::AssignCustomerRequest {
        id: a.id.clone(),
        owner_id: "bob".into(),
        ..Default::default()
    })
    .await
    .expect("assign to bob");
    let mut bob = app.sales("bob").await;
    assert_eq!(names(&mut bob, "Handing").await, ["Handing Out Ltd"]);
    assert!(names(&mut alice, "Handing").await.is_empty());
}
