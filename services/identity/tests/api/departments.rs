//! The department tree: cycles refused, subtrees moved, departments in use kept.

use std::collections::BTreeSet;

use crm_proto::identity as pb;
use tonic::Code;

use crate::helpers::{assert_field, assert_reason, create_department, department, departments, mask, spawn};

#[tokio::test]
async fn department_tree_refuses_cycles_moves_subtrees_and_keeps_nonempty_departments() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let a = create_department(&mut admin.client, "A", "").await;
    let b = create_department(&mut admin.client, "B", &a.id).await;
    let c = create_department(&mut admin.client, "C", &b.id).await;
    assert_eq!(a.path, format!("/{}/", a.id));
    assert_eq!(b.path, format!("/{}/{}/", a.id, b.id));
    assert_eq!(c.path, format!("/{}/{}/{}/", a.id, b.id, c.id));

    let move_under = |d: &pb::Department, parent: &str| pb::UpdateDepartmentRequest {
        department: Some(pb::Department {
            id: d.id.clone(),
            parent_id: parent.into(),
            etag: d.etag.clone(),
            ..Default::default()
        }),
        update_mask: mask(&["parent_id"]),
    };
    for parent in [&c.id, &b.id, &a.id] {
        assert_field(
            admin.client.update_department(move_under(&a, parent)).await,
            Code::InvalidArgument,
            "department.parent_id",
            "CYCLE",
        );
    }
    assert_field(
        admin
            .client
            .update_department(move_under(&a, "no-such-department"))
            .await,
        Code::InvalidArgument,
        "department.parent_id",
        "UNKNOWN_DEPARTMENT",
    );
    assert_eq!(
        department(&mut admin.client, &a.id).await,
        a,
        "refused moves change nothing"
    );

    // B (with C under it) to the top level.
    let moved = admin
        .client
        .update_department(move_under(&b, ""))
        .await
        .expect("move B to the top")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(moved.parent_id, "");
    assert_eq!(moved.path, format!("/{}/", b.id));
    let c_now = department(&mut admin.client, &c.id).await;
    assert!(
        c_now.path.starts_with(&format!("/{}/", b.id)),
        "C's path follows B: {}",
        c_now.path
    );
    assert_eq!(c_now.path, format!("/{}/{}/", b.id, c.id));
    assert_eq!(c_now.parent_id, b.id);
    assert_eq!(department(&mut admin.client, &a.id).await.path, a.path);

    // And back under A: the subtree follows again.
    let moved_back = admin
        .client
        .update_department(move_under(&moved, &a.id))
        .await
        .expect("move B under A")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(moved_back.path, b.path);
    assert_eq!(department(&mut admin.client, &c.id).await.path, c.path);

    // Sibling names are unique.
    assert_reason(
        admin
            .client
            .create_department(pb::CreateDepartmentRequest {
                department: Some(pb::Department {
                    name: "B".into(),
                    parent_id: a.id.clone(),
                    ..Default::default()
                }),
            })
            .await,
        Code::AlreadyExists,
        "DEPARTMENT_NAME_TAKEN",
    );

    // Departments with sub-departments or employees stay.
    let delete = |id: &str| pb::DeleteDepartmentRequest { id: id.into() };
    assert_reason(
        admin.client.delete_department(delete(&b.id)).await,
        Code::FailedPrecondition,
        "DEPARTMENT_IN_USE",
    );
    let company = admin.employee.department_id.clone();
    assert_eq!(department(&mut admin.client, &company).await.employee_count, 1);
    assert_reason(
        admin.client.delete_department(delete(&company)).await,
        Code::FailedPrecondition,
        "DEPARTMENT_IN_USE",
    );
    // Leaves go, then their parents.
    admin
        .client
        .delete_department(delete(&c.id))
        .await
        .expect("delete the empty leaf C");
    admin
        .client
        .delete_department(delete(&b.id))
        .await
        .expect("delete B once C is gone");
    assert_reason(
        admin.client.delete_department(delete(&b.id)).await,
        Code::NotFound,
        "NOT_FOUND",
    );
    let left: BTreeSet<String> = departments(&mut admin.client).await.into_iter().map(|d| d.id).collect();
    assert_eq!(left, BTreeSet::from([company, a.id.clone()]));
}
