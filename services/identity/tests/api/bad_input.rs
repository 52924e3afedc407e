//! Bad input: every refusal names the field.

use crm_proto::identity as pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, assert_field, assert_reason, create_employee, employee, spawn};

#[tokio::test]
async fn bad_input_names_the_field() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let dept = admin.employee.department_id.clone();

    let create = |e: pb::Employee, password: &str| pb::CreateEmployeeRequest {
        employee: Some(e),
        password: password.into(),
        ..Default::default()
    };
    let valid = || employee("valid.login", &dept, &["salesperson"]);
    let cases: Vec<(pb::CreateEmployeeRequest, &str, &str)> = vec![
        (create(valid(), "short"), "password", "TOO_SHORT"),
        (
            create(
                pb::Employee {
                    login: "has spaces".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.login",
            "MALFORMED",
        ),
        (
            create(
                pb::Employee {
                    login: "ab".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.login",
            "TOO_SHORT",
        ),
        (
            create(
                pb::Employee {
                    email: "not-an-email".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.email",
            "MALFORMED",
        ),
        (
            create(
                pb::Employee {
                    department_id: "no-such-department".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.department_id",
            "UNKNOWN_DEPARTMENT",
        ),
        (
            create(
                pb::Employee {
                    role_ids: vec!["no_such_role".into()],
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.role_ids[0]",
            "UNKNOWN_ROLE",
        ),
        (
            create(
                pb::Employee {
                    display_name: "  ".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.display_name",
            "REQUIRED",
        ),
    ];
    for (request, field, reason) in cases {
        assert_field(
            admin.client.create_employee(request).await,
            Code::InvalidArgument,
            field,
            reason,
        );
    }
    let none = admin
        .client
        .list_employees(pb::ListEmployeesRequest {
            query: "valid".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(none.employees.is_empty(), "nothing was created: {:?}", none.employees);

    // Logins are unique without regard to case.
    let dora = create_employee(&mut admin.client, "Dora", &dept, &[]).await;
    assert_eq!(dora.login, "Dora");
    let taken = assert_reason(
        admin
            .client
            .create_employee(create(employee("dORA", &dept, &[]), PASSWORD))
            .await,
        Code::AlreadyExists,
        "LOGIN_TAKEN",
    );
    assert_eq!(
        taken
            .get_details_error_info()
            .and_then(|i| i.metadata.get("field").cloned())
            .as_deref(),
        Some("employee.login")
    );

    // Roles.
    let create_role = |name: &str, permissions: &[&str]| pb::CreateRoleRequest {
        role: Some(pb::Role {
            name: name.into(),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        }),
    };
    assert_field(
        admin
            .client
            .create_role(create_role("reader", &["nosuch.thing.read"]))
            .await,
        Code::InvalidArgument,
        "role.permissions[0]",
        "UNKNOWN_PERMISSION",
    );
    assert_field(
        admin
            .client
            .create_role(create_role("reader", &["customers.customer.read", "customers.read"]))
            .await,
        Code::InvalidArgument,
        "role.permissions[1]",
        "MALFORMED",
    );
    assert_field(
        admin
            .client
            .create_role(create_role("reader", &["Customers.*.READ"]))
            .await,
        Code::InvalidArgument,
        "role.permissions[0]",
        "MALFORMED",
    );
    assert_field(
        admin
            .client
            .create_role(create_role("admin", &["customers.*.read"]))
            .await,
        Code::InvalidArgument,
        "role.name",
        "BUILT_IN",
    );
    assert_field(
        admin
            .client
            .create_role(pb::CreateRoleRequest {
                role: Some(pb::Role {
                    name: "scoped".into(),
                    permissions: vec!["customers.*.read".into()],
                    scopes: vec![pb::ServiceScope {
                        service: "customers".into(),
                        scope: pb::DataScope::Unspecified as i32,
                    }],
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        "role.scopes[0].scope",
        "UNKNOWN_ENUM_VALUE",
    );

    // Passwords.
    assert_field(
        admin
            .client
            .change_password(pb::ChangePasswordRequest {
                old_password: "not-the-admin-password".into(),
                new_password: "a-brand-new-password".into(),
            })
            .await,
        Code::InvalidArgument,
        "old_password",
        "WRONG_PASSWORD",
    );
    assert_field(
        admin
            .client
            .change_password(pb::ChangePasswordRequest {
                old_password: ADMIN_PASSWORD.into(),
                new_password: "short".into(),
            })
            .await,
        Code::InvalidArgument,
        "new_password",
        "TOO_SHORT",
    );
    app.sign_in("admin", ADMIN_PASSWORD)
        .await
        .expect("the password did not change");

    // Listing.
    assert_field(
        admin
            .client
            .list_employees(pb::ListEmployeesRequest {
                page_token: "not-a-page-token".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "page_token",
        "INVALID_PAGE_TOKEN",
    );
    assert_field(
        admin
            .client
            .list_employees(pb::ListEmployeesRequest {
                filter: r#"colour = "red""#.into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "filter",
        "UNKNOWN_FIELD",
    );
    assert_field(
        admin
            .client
            .list_employees(pb::ListEmployeesRequest {
                page_size: -1,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "page_size",
        "OUT_OF_RANGE",
    );
}
