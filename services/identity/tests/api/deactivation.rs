//! Deactivation and password resets: the old tokens stop working at once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_kit::auth::token::Claims;
use crm_proto::identity as pb;
use tonic::Code;

use crate::helpers::{PASSWORD, assert_field, assert_reason, create_department, create_employee, get_employee, spawn};

#[tokio::test]
async fn deactivation_revokes_refresh_tokens_at_once_and_refuses_sign_in() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let admin_id = admin.employee.id.clone();
    let sales = create_department(&mut admin.client, "Sales", "").await;
    let sam = create_employee(&mut admin.client, "sam", &sales.id, &["salesperson"]).await;
    let sam_tokens = app.tokens("sam", PASSWORD).await;

    let deactivate = |successor: &str| pb::DeactivateEmployeeRequest {
        id: sam.id.clone(),
        successor_id: successor.into(),
        dry_run: false,
    };
    assert_field(
        admin.client.deactivate_employee(deactivate("")).await,
        Code::InvalidArgument,
        "successor_id",
        "REQUIRED",
    );
    assert_field(
        admin.client.deactivate_employee(deactivate(&sam.id)).await,
        Code::InvalidArgument,
        "successor_id",
        "SELF",
    );
    assert_field(
        admin.client.deactivate_employee(deactivate("no-such-employee")).await,
        Code::InvalidArgument,
        "successor_id",
        "UNKNOWN_EMPLOYEE",
    );
    assert_eq!(
        get_employee(&mut admin.client, &sam.id).await.status,
        pb::EmployeeStatus::Active as i32,
        "refused deactivations change nothing"
    );

    let done = admin
        .client
        .deactivate_employee(deactivate(&admin_id))
        .await
        .expect("deactivate")
        .into_inner()
        .employee
        .expect("employee");
    assert_eq!(done.status, pb::EmployeeStatus::Deactivated as i32);

    // The leaver's unexpired access token is refused at once here (identity's verifier reads
    // its own revocations), and listed for every other verifier.
    assert_reason(
        app.client(&sam_tokens.access_token)
            .get_current_employee(pb::GetCurrentEmployeeRequest {})
            .await,
        Code::Unauthenticated,
        "ACCOUNT_DEACTIVATED",
    );
    let revocations = app
        .anonymous()
        .list_revocations(pb::ListRevocationsRequest {})
        .await
        .expect("revocations")
        .into_inner()
        .revocations;
    assert_eq!(revocations.len(), 1, "{revocations:?}");
    assert_eq!(revocations[0].employee_id, sam.id);
    assert_eq!(revocations[0].reason, "deactivated");
    let issued_at = token_claims(&sam_tokens.access_token).iat;
    assert!(revocations[0].revoke_time.as_ref().expect("revoke time").seconds >= issued_at);
    // Everyone else's tokens still work.
    admin
        .client
        .get_current_employee(pb::GetCurrentEmployeeRequest {})
        .await
        .expect("the administrator's token works");

    assert_reason(
        app.anonymous()
            .refresh_token(pb::RefreshTokenRequest {
                refresh_token: sam_tokens.refresh_token.clone(),
            })
            .await,
        Code::Unauthenticated,
        "INVALID_REFRESH_TOKEN",
    );
    assert_reason(
        app.sign_in("sam", PASSWORD).await,
        Code::Unauthenticated,
        "ACCOUNT_DEACTIVATED",
    );
    // Once is enough; a deactivated employee succeeds nobody.
    assert_reason(
        admin.client.deactivate_employee(deactivate(&admin_id)).await,
        Code::FailedPrecondition,
        "NOT_ACTIVE",
    );
    assert_field(
        admin
            .client
            .deactivate_employee(pb::DeactivateEmployeeRequest {
                id: admin_id.clone(),
                successor_id: sam.id.clone(),
                dry_run: false,
            })
            .await,
        Code::InvalidArgument,
        "successor_id",
        "UNKNOWN_EMPLOYEE",
    );
}

#[tokio::test]
async fn a_password_reset_voids_the_old_tokens_and_the_new_sign_in_works() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let sales = create_department(&mut admin.client, "Sales", "").await;
    let sam = create_employee(&mut admin.client, "sam", &sales.id, &["salesperson"]).await;
    let old = app.tokens("sam", PASSWORD).await;
    let mut sam_client = app.client(&old.access_token);
    sam_client
        .get_current_employee(pb::GetCurrentEmployeeRequest {})
        .await
        .expect("works before the reset");
    admin
        .client
        .reset_password(pb::ResetPasswordRequest {
            id: sam.id.clone(),
            new_password: "a-new-password-2".into(),
        })
        .await
        .expect("reset");
    assert_reason(
        sam_client.get_current_employee(pb::GetCurrentEmployeeRequest {}).await,
        Code::Unauthenticated,
        "TOKEN_REVOKED",
    );
    // Signed in again (within the same second, too), the new token works.
    let new = app.tokens("sam", "a-new-password-2").await;
    assert!(token_claims(&new.access_token).iat > token_claims(&old.access_token).iat);
    app.client(&new.access_token)
        .get_current_employee(pb::GetCurrentEmployeeRequest {})
        .await
        .expect("the new sign-in's token works");
}

/// The claims of a token, unverified (the test's own).
fn token_claims(access_token: &str) -> Claims {
    let payload = access_token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims")
}
