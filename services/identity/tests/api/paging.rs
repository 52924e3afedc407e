//! Paging employees: login order, no duplicates, substring queries, filters.

use std::collections::BTreeSet;

use crm_proto::identity as pb;
use tonic::Code;

use crate::helpers::{Client, PASSWORD, assert_field, logins, spawn};

async fn list_all(client: &mut Client, query: &str, filter: &str, page_size: i32) -> Vec<Vec<pb::Employee>> {
    let mut pages = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_employees(pb::ListEmployeesRequest {
                filter: filter.into(),
                query: query.into(),
                page_size,
                page_token: page_token.clone(),
            })
            .await
            .expect("list employees")
            .into_inner();
        pages.push(page.employees);
        if page.next_page_token.is_empty() {
            return pages;
        }
        assert!(pages.len() < 20, "paging does not end");
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn employees_page_in_login_order_without_duplicates_and_query_matches_substrings() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let dept = admin.employee.department_id.clone();
    // Created out of order; display names differ from logins.
    let names = [
        ("pagee", "Erin Echo"),
        ("pagea", "Alma Alpha"),
        ("pageg", "Gus Golf"),
        ("pagec", "Cleo Charlie"),
        ("pageb", "Bo Bravo"),
        ("pagef", "Fay Foxtrot"),
        ("paged", "Dan Delta"),
    ];
    for (login, display_name) in names {
        admin
            .client
            .create_employee(pb::CreateEmployeeRequest {
                employee: Some(pb::Employee {
                    login: login.into(),
                    display_name: display_name.into(),
                    department_id: dept.clone(),
                    ..Default::default()
                }),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("create {login}: {s:?}"));
    }
    let mut expected: Vec<String> = names.iter().map(|(l, _)| l.to_string()).collect();
    expected.push("admin".into());
    expected.sort();

    let pages = list_all(&mut admin.client, "", "", 3).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 2]);
    assert_eq!(logins(&pages), expected, "every employee once, in login order");
    let ids: BTreeSet<String> = pages.iter().flatten().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), expected.len(), "no duplicates");

    // Substrings of the login or the display name, without regard to case.
    let page_logins: Vec<String> = expected.iter().filter(|l| l.starts_with("page")).cloned().collect();
    assert_eq!(logins(&list_all(&mut admin.client, "PAGE", "", 3).await), page_logins);
    assert_eq!(logins(&list_all(&mut admin.client, "geb", "", 3).await), ["pageb"]);
    assert_eq!(logins(&list_all(&mut admin.client, "charlie", "", 3).await), ["pagec"]);
    assert_eq!(
        logins(&list_all(&mut admin.client, "a", "", 2).await),
        expected,
        "every login holds an a"
    );
    // LIKE's wildcards are plain characters in a query.
    assert!(logins(&list_all(&mut admin.client, "%", "", 3).await).is_empty());
    assert!(logins(&list_all(&mut admin.client, "_", "", 3).await).is_empty());

    // Filters.
    assert_eq!(
        logins(&list_all(&mut admin.client, "", r#"login = "pagec""#, 3).await),
        ["pagec"]
    );
    assert_eq!(
        logins(&list_all(&mut admin.client, "page", r#"status = "active""#, 3).await),
        page_logins
    );

    // A page token belongs to its query.
    let first = admin
        .client
        .list_employees(pb::ListEmployeesRequest {
            page_size: 3,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    assert_field(
        admin
            .client
            .list_employees(pb::ListEmployeesRequest {
                page_size: 3,
                query: "page".into(),
                page_token: first.next_page_token,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "page_token",
        "INVALID_PAGE_TOKEN",
    );
}
