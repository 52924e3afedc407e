//! Custom roles grant their permissions and scopes; held and built-in roles are kept.

use crm_proto::identity as pb;
use tonic::Code;

use crate::helpers::{
    PASSWORD, assert_reason, create_department, create_employee, current, get_employee, mask, role, spawn, verify_with,
};

#[tokio::test]
async fn custom_roles_grant_their_permissions_and_scopes_and_held_or_built_in_roles_are_kept() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let dept = create_department(&mut admin.client, "Service desk", "").await;
    let reader = admin
        .client
        .create_role(pb::CreateRoleRequest {
            role: Some(pb::Role {
                name: "dept_reader".into(),
                description: "Reads the department's customers".into(),
                permissions: vec!["customers.*.read".into()],
                scopes: vec![pb::ServiceScope {
                    service: "customers".into(),
                    scope: pb::DataScope::Department as i32,
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("create role")
        .into_inner()
        .role
        .expect("role");
    assert!(!reader.built_in);
    assert_eq!(reader.permissions, ["customers.*.read"]);

    let rita = create_employee(&mut admin.client, "rita", &dept.id, &[reader.id.as_str()]).await;
    assert_eq!(rita.role_ids, [reader.id.as_str()]);
    let tokens = app.tokens("rita", PASSWORD).await;
    let me = current(&mut app.client(&tokens.access_token))
        .await
        .expect("rita reads herself");
    assert_eq!(me.permissions, ["customers.*.read"]);
    assert_eq!(
        me.scopes,
        [pb::ServiceScope {
            service: "customers".into(),
            scope: pb::DataScope::Department as i32,
        }]
    );
    let claims = verify_with(&app.key_set().await, &tokens.access_token).expect("verifies");
    assert_eq!(claims.perms, ["customers.*.read"]);
    assert_eq!(claims.roles, ["dept_reader"]);
    assert_eq!(claims.dept, dept.id);
    assert_eq!(claims.dpath, dept.path);
    assert_eq!(claims.scopes.get("customers").map(String::as_str), Some("department"));
    // Without the directory permissions, rita cannot list colleagues.
    assert_reason(
        app.client(&tokens.access_token)
            .list_employees(pb::ListEmployeesRequest::default())
            .await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );

    // A held role stays.
    assert_eq!(role(&mut admin.client, &reader.id).await.employee_count, 1);
    assert_reason(
        admin
            .client
            .delete_role(pb::DeleteRoleRequest { id: reader.id.clone() })
            .await,
        Code::FailedPrecondition,
        "ROLE_IN_USE",
    );

    // Built-in roles are fixed.
    let salesperson = role(&mut admin.client, "salesperson").await;
    assert!(salesperson.built_in);
    assert_reason(
        admin
            .client
            .update_role(pb::UpdateRoleRequest {
                role: Some(pb::Role {
                    id: "salesperson".into(),
                    description: "Can do anything".into(),
                    etag: salesperson.etag.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
            })
            .await,
        Code::FailedPrecondition,
        "BUILT_IN_ROLE",
    );
    for id in ["admin", "salesperson"] {
        assert_reason(
            admin.client.delete_role(pb::DeleteRoleRequest { id: id.into() }).await,
            Code::FailedPrecondition,
            "BUILT_IN_ROLE",
        );
    }
    assert_eq!(role(&mut admin.client, "salesperson").await, salesperson);

    // Once nobody holds it, the custom role can go.
    let rita = get_employee(&mut admin.client, &rita.id).await;
    admin
        .client
        .update_employee(pb::UpdateEmployeeRequest {
            employee: Some(pb::Employee {
                id: rita.id.clone(),
                role_ids: vec![],
                etag: rita.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["role_ids"]),
        })
        .await
        .expect("take the role away");
    admin
        .client
        .delete_role(pb::DeleteRoleRequest { id: reader.id.clone() })
        .await
        .expect("delete the unused role");
    let me = current(&mut app.client(&app.tokens("rita", PASSWORD).await.access_token))
        .await
        .expect("rita still reads herself");
    assert!(me.permissions.is_empty(), "{:?}", me.permissions);
}
