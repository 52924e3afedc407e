//! Mass assignment and optimistic concurrency: server-owned and unknown fields and stale etags
//! are refused.

use crm_proto::identity as pb;
use tonic::Code;

use crate::helpers::{
    PASSWORD, assert_field, assert_reason, create_department, create_employee, department, get_employee, mask, role,
    spawn,
};

#[tokio::test]
async fn updates_refuse_server_owned_and_unknown_fields_and_stale_etags() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let dept = admin.employee.department_id.clone();
    let eve = create_employee(&mut admin.client, "eve", &dept, &["salesperson"]).await;

    // Everything a mass assignment would like to set, next to a harmless field.
    let forged = pb::Employee {
        id: eve.id.clone(),
        login: "mallory".into(),
        display_name: "Changed".into(),
        status: pb::EmployeeStatus::Deactivated as i32,
        etag: eve.etag.clone(),
        audit: Some(crm_proto::common::AuditInfo {
            created_by: "someone-else".into(),
            ..Default::default()
        }),
        locked_until: Some(prost_types::Timestamp {
            seconds: 4_000_000_000,
            nanos: 0,
        }),
        ..Default::default()
    };
    let update = |paths: &[&str], e: &pb::Employee| pb::UpdateEmployeeRequest {
        employee: Some(e.clone()),
        update_mask: mask(paths),
    };
    for path in ["login", "status", "etag", "audit", "id", "locked_until"] {
        assert_field(
            admin
                .client
                .update_employee(update(&["display_name", path], &forged))
                .await,
            Code::InvalidArgument,
            &format!("update_mask.{path}"),
            "SERVER_OWNED",
        );
    }
    for path in ["password_hash", "no_such_field"] {
        assert_field(
            admin.client.update_employee(update(&[path], &forged)).await,
            Code::InvalidArgument,
            &format!("update_mask.{path}"),
            "UNKNOWN_FIELD",
        );
    }
    assert_field(
        admin.client.update_employee(update(&[], &forged)).await,
        Code::InvalidArgument,
        "update_mask",
        "REQUIRED",
    );
    let unchanged = get_employee(&mut admin.client, &eve.id).await;
    assert_eq!(unchanged, eve, "refused updates change nothing");
    app.sign_in("eve", PASSWORD).await.expect("eve still signs in as eve");

    // A good update moves the etag on; the old etag is then stale.
    let updated = admin
        .client
        .update_employee(update(&["display_name"], &forged))
        .await
        .expect("update display name")
        .into_inner()
        .employee
        .expect("employee");
    assert_eq!(updated.display_name, "Changed");
    assert_eq!(updated.login, "eve", "only the named field changed");
    assert_eq!(updated.status, pb::EmployeeStatus::Active as i32);
    assert_ne!(updated.etag, eve.etag);
    let mut stale = forged.clone();
    stale.display_name = "Lost update".into();
    assert_reason(
        admin.client.update_employee(update(&["display_name"], &stale)).await,
        Code::Aborted,
        "STALE_ETAG",
    );
    stale.etag = String::new();
    assert_field(
        admin.client.update_employee(update(&["display_name"], &stale)).await,
        Code::InvalidArgument,
        "employee.etag",
        "REQUIRED",
    );
    assert_eq!(get_employee(&mut admin.client, &eve.id).await, updated);

    // Roles: the name and the built-in flag are the server's.
    let auditor = admin
        .client
        .create_role(pb::CreateRoleRequest {
            role: Some(pb::Role {
                name: "auditor".into(),
                description: "Reads customers".into(),
                permissions: vec!["customers.*.read".into()],
                ..Default::default()
            }),
        })
        .await
        .expect("create role")
        .into_inner()
        .role
        .expect("role");
    let forged_role = pb::Role {
        id: auditor.id.clone(),
        name: "admin".into(),
        built_in: true,
        description: "Changed".into(),
        permissions: auditor.permissions.clone(),
        etag: auditor.etag.clone(),
        ..Default::default()
    };
    for path in ["name", "built_in", "employee_count", "audit", "etag"] {
        assert_field(
            admin
                .client
                .update_role(pb::UpdateRoleRequest {
                    role: Some(forged_role.clone()),
                    update_mask: mask(&["description", path]),
                })
                .await,
            Code::InvalidArgument,
            &format!("update_mask.{path}"),
            "SERVER_OWNED",
        );
    }
    assert_eq!(role(&mut admin.client, &auditor.id).await, auditor);
    let renamed = admin
        .client
        .update_role(pb::UpdateRoleRequest {
            role: Some(forged_role.clone()),
            update_mask: mask(&["description"]),
        })
        .await
        .expect("update description")
        .into_inner()
        .role
        .expect("role");
    assert_eq!(
        (renamed.name.as_str(), renamed.built_in, renamed.description.as_str()),
        ("auditor", false, "Changed")
    );
    assert_reason(
        admin
            .client
            .update_role(pb::UpdateRoleRequest {
                role: Some(forged_role),
                update_mask: mask(&["description"]),
            })
            .await,
        Code::Aborted,
        "STALE_ETAG",
    );

    // Departments: the path is the server's.
    let ops = create_department(&mut admin.client, "Operations", "").await;
    let forged_dept = pb::Department {
        id: ops.id.clone(),
        name: "Renamed".into(),
        path: format!("{}evil/", ops.path),
        etag: ops.etag.clone(),
        ..Default::default()
    };
    for path in ["path", "employee_count", "id"] {
        assert_field(
            admin
                .client
                .update_department(pb::UpdateDepartmentRequest {
                    department: Some(forged_dept.clone()),
                    update_mask: mask(&["name", path]),
                })
                .await,
            Code::InvalidArgument,
            &format!("update_mask.{path}"),
            "SERVER_OWNED",
        );
    }
    assert_eq!(department(&mut admin.client, &ops.id).await, ops);
    let renamed = admin
        .client
        .update_department(pb::UpdateDepartmentRequest {
            department: Some(forged_dept.clone()),
            update_mask: mask(&["name"]),
        })
        .await
        .expect("rename department")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(
        (renamed.name.as_str(), renamed.path.as_str()),
        ("Renamed", ops.path.as_str())
    );
    assert_reason(
        admin
            .client
            .update_department(pb::UpdateDepartmentRequest {
                department: Some(forged_dept),
                update_mask: mask(&["name"]),
            })
            .await,
        Code::Aborted,
        "STALE_ETAG",
    );
}
