//! Authorization: every protected method needs a token, and a salesperson lacks an
//! administrator's permissions.

use std::collections::BTreeSet;

use crm_proto::identity as pb;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, assert_reason, create_employee, current, employee, mask, spawn};

/// A codec for calling any method with an empty (all-default) request. A response is not
/// decoded: every call made with it is expected to fail.
#[derive(Debug, Clone, Copy, Default)]
struct EmptyCodec;

impl tonic::codec::Codec for EmptyCodec {
    type Encode = ();
    type Decode = ();
    type Encoder = EmptyCodec;
    type Decoder = EmptyCodec;
    fn encoder(&mut self) -> EmptyCodec {
        EmptyCodec
    }
    fn decoder(&mut self) -> EmptyCodec {
        EmptyCodec
    }
}

impl tonic::codec::Encoder for EmptyCodec {
    type Item = ();
    type Error = Status;
    fn encode(&mut self, _item: (), _dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Status> {
        Ok(())
    }
}

impl tonic::codec::Decoder for EmptyCodec {
    type Item = ();
    type Error = Status;
    fn decode(&mut self, _src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<()>, Status> {
        Ok(Some(()))
    }
}

/// Calls `path` with an empty request and an optional `authorization` header.
async fn call_empty(channel: &Channel, path: &'static str, authorization: Option<&str>) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("not ready: {e}")))?;
    let mut request = tonic::Request::new(());
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().expect("ascii header"));
    }
    grpc.unary(
        request,
        tonic::codegen::http::uri::PathAndQuery::from_static(path),
        EmptyCodec,
    )
    .await
    .map(|_: tonic::Response<()>| ())
}

#[tokio::test]
async fn every_protected_method_needs_a_token_and_a_salesperson_lacks_admin_permissions() {
    let app = spawn().await;
    let methods: Vec<&crm_proto::MethodAccess> = crm_proto::METHOD_ACCESS
        .iter()
        .filter(|m| m.path.starts_with("/crm.identity.v1."))
        .collect();
    let public: BTreeSet<&str> = methods.iter().filter(|m| m.public).map(|m| m.path).collect();
    assert_eq!(
        public,
        BTreeSet::from([
            "/crm.identity.v1.IdentityService/GetKeySet",
            "/crm.identity.v1.IdentityService/IssueServiceToken",
            "/crm.identity.v1.IdentityService/ListRevocations",
            "/crm.identity.v1.IdentityService/RefreshToken",
            "/crm.identity.v1.IdentityService/SignIn",
            "/crm.identity.v1.IdentityService/SignOut",
        ]),
        "only sign-in, refresh, sign-out, the key set, the revocations and service tokens (against the service secret) are public"
    );
    let protected: Vec<&str> = methods.iter().filter(|m| !m.public).map(|m| m.path).collect();
    assert!(protected.len() >= 18, "{protected:?}");
    for path in protected.iter().copied() {
        for header in [None, Some("Bearer not-a-token"), Some("Bearer ")] {
            let status = call_empty(&app.channel, path, header)
                .await
                .expect_err("a protected method refuses");
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "{path} with {header:?}: {status:?}"
            );
        }
    }
    // The same harness reaches a public method's handler without a token: an empty sign-in is
    // refused for its missing fields, not for the missing token.
    let status = call_empty(&app.channel, "/crm.identity.v1.IdentityService/SignIn", None)
        .await
        .expect_err("an empty sign-in is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    // A salesperson.
    let mut admin = app.admin().await;
    let admin_id = admin.employee.id.clone();
    let sam = create_employee(
        &mut admin.client,
        "sam",
        &admin.employee.department_id,
        &["salesperson"],
    )
    .await;
    let sam_tokens = app.tokens("sam", PASSWORD).await;
    let mut as_sam = app.client(&sam_tokens.access_token);

    let permission_of = |path: &str| {
        crm_proto::method_access(path)
            .map(|m| m.permission)
            .expect("method in the table")
    };
    let denied = |result: Result<(), Status>, method: &str, permission: &str| {
        let path = format!("/crm.identity.v1.IdentityService/{method}");
        assert_eq!(
            permission_of(&path),
            permission,
            "{method}'s permission in the contract"
        );
        let status = assert_reason(result, Code::PermissionDenied, "PERMISSION_DENIED");
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(
            info.metadata.get("permission").map(String::as_str),
            Some(permission),
            "{method}: {status:?}"
        );
    };
    denied(
        as_sam
            .create_employee(pb::CreateEmployeeRequest {
                employee: Some(employee("sams-friend", &admin.employee.department_id, &["admin"])),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "CreateEmployee",
        "identity.employee.create",
    );
    denied(
        as_sam
            .create_role(pb::CreateRoleRequest {
                role: Some(pb::Role {
                    name: "everything".into(),
                    permissions: vec!["*".into()],
                    ..Default::default()
                }),
            })
            .await
            .map(drop),
        "CreateRole",
        "identity.role.manage",
    );
    denied(
        as_sam
            .rotate_signing_key(pb::RotateSigningKeyRequest {})
            .await
            .map(drop),
        "RotateSigningKey",
        "identity.key.rotate",
    );
    denied(
        as_sam
            .reset_password(pb::ResetPasswordRequest {
                id: admin_id.clone(),
                new_password: "taken-over-password".into(),
            })
            .await
            .map(drop),
        "ResetPassword",
        "identity.employee.reset_password",
    );
    denied(
        as_sam
            .update_employee(pb::UpdateEmployeeRequest {
                employee: Some(pb::Employee {
                    id: sam.id.clone(),
                    role_ids: vec!["admin".into()],
                    etag: sam.etag.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["role_ids"]),
            })
            .await
            .map(drop),
        "UpdateEmployee",
        "identity.employee.update",
    );
    denied(
        as_sam
            .deactivate_employee(pb::DeactivateEmployeeRequest {
                id: admin_id.clone(),
                successor_id: sam.id.clone(),
                dry_run: false,
            })
            .await
            .map(drop),
        "DeactivateEmployee",
        "identity.employee.deactivate",
    );
    // None of it happened.
    app.sign_in("admin", ADMIN_PASSWORD)
        .await
        .expect("the admin's password is unchanged");
    let me = current(&mut as_sam).await.expect("a salesperson reads themself");
    assert_eq!(
        me.employee.as_ref().map(|e| e.role_ids.clone()),
        Some(vec!["salesperson".to_string()])
    );
    assert!(!me.permissions.iter().any(|p| p == "*"), "{:?}", me.permissions);
    assert!(
        me.permissions.iter().any(|p| p == "identity.employee.read"),
        "{:?}",
        me.permissions
    );

    // Reading the directory is a salesperson's.
    let listed = as_sam
        .list_employees(pb::ListEmployeesRequest::default())
        .await
        .expect("a salesperson lists employees")
        .into_inner();
    let logins: BTreeSet<String> = listed.employees.into_iter().map(|e| e.login).collect();
    assert_eq!(logins, BTreeSet::from(["admin".to_string(), "sam".to_string()]));
}
