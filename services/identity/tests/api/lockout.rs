//! Sign-in failures and the lockout: wrong passwords and unknown logins look alike, five
//! failures lock, wrong old passwords count too.

use crm_proto::identity as pb;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{PASSWORD, assert_field, assert_reason, create_employee, get_employee, spawn};

fn ts_micros(ts: &prost_types::Timestamp) -> i64 {
    ts.seconds * 1_000_000 + i64::from(ts.nanos) / 1000
}

#[tokio::test]
async fn wrong_password_and_unknown_login_look_alike_and_five_failures_lock_until_reset() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let ann = create_employee(
        &mut admin.client,
        "ann",
        &admin.employee.department_id,
        &["salesperson"],
    )
    .await;

    let wrong = app
        .sign_in("ann", "not-her-password")
        .await
        .expect_err("wrong password");
    let unknown = app
        .sign_in("nobody-by-that-name", "not-her-password")
        .await
        .expect_err("unknown login");
    assert_eq!(wrong.code(), Code::Unauthenticated, "{wrong:?}");
    assert_eq!(unknown.code(), wrong.code());
    assert_eq!(unknown.message(), wrong.message());
    assert_eq!(
        unknown.get_details_error_info().map(|i| i.reason),
        wrong.get_details_error_info().map(|i| i.reason)
    );
    assert_reason::<()>(Err(wrong), Code::Unauthenticated, "INVALID_CREDENTIALS");

    // Failures two to four are plain refusals.
    for attempt in 2..5 {
        let status = assert_reason(
            app.sign_in("ann", &format!("wrong-{attempt}")).await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
        assert_eq!(status.message(), unknown.message());
    }
    // The fifth locks.
    let locked = assert_reason(
        app.sign_in("ann", "wrong-5").await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    let unlock_time = locked
        .get_details_error_info()
        .and_then(|i| i.metadata.get("unlock_time").cloned())
        .expect("unlock_time in the ErrorInfo metadata");
    let stored = get_employee(&mut admin.client, &ann.id).await;
    let until = stored.locked_until.as_ref().expect("the employee shows the lock");
    assert_eq!(unlock_time, crm_kit::time::format_rfc3339(ts_micros(until)));
    let minutes = (ts_micros(until) - crm_kit::time::now_micros()) / 60_000_000;
    assert!(
        (13..=15).contains(&minutes),
        "locked for about 15 minutes, not {minutes}"
    );

    // The right password is refused while locked, with the same unlock time.
    let right = assert_reason(
        app.sign_in("ann", PASSWORD).await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    assert_eq!(
        right
            .get_details_error_info()
            .and_then(|i| i.metadata.get("unlock_time").cloned()),
        Some(unlock_time)
    );

    // An administrator's reset unlocks (and replaces the password).
    admin
        .client
        .reset_password(pb::ResetPasswordRequest {
            id: ann.id.clone(),
            new_password: "a-fresh-password-2".into(),
        })
        .await
        .expect("reset password");
    assert!(get_employee(&mut admin.client, &ann.id).await.locked_until.is_none());
    let signed = app
        .sign_in("ANN", "a-fresh-password-2")
        .await
        .expect("unlocked, and logins ignore case");
    assert_eq!(signed.employee.map(|e| e.id), Some(ann.id.clone()));
    assert_reason(
        app.sign_in("ann", PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
}

#[tokio::test]
async fn a_lock_committed_while_the_right_password_is_checked_still_refuses_the_sign_in() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let ann = create_employee(&mut admin.client, "ann", &admin.employee.department_id, &[]).await;

    // Failed sign-ins running alongside lock the account after this sign-in has looked at the
    // lock and while it checks the password: here the lock is written by a transaction that
    // commits only once the sign-in is under way (and holds the row, or the SQLite write lock,
    // until then).
    let db = crm_kit::db::Db::connect(&app.database_url, 1)
        .await
        .expect("connect test database");
    let mut racing = db.begin_write().await.expect("begin");
    let until = crm_kit::time::now_micros() + 15 * 60 * 1_000_000;
    sqlx::query("UPDATE employees SET locked_until = $1, failed_sign_ins = 0 WHERE id = $2")
        .bind(until)
        .bind(&ann.id)
        .execute(&mut *racing)
        .await
        .expect("lock ann");
    let channel = app.channel.clone();
    let sign_in = tokio::spawn(async move {
        IdentityServiceClient::new(channel)
            .sign_in(pb::SignInRequest {
                login: "ann".into(),
                password: PASSWORD.into(),
            })
            .await
            .map(tonic::Response::into_inner)
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    racing.commit().await.expect("commit the lock");
    let status = assert_reason(
        sign_in.await.expect("sign-in task"),
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    assert_eq!(
        status
            .get_details_error_info()
            .and_then(|i| i.metadata.get("unlock_time").cloned()),
        Some(crm_kit::time::format_rfc3339(until))
    );
    db.pool.close().await;
}

#[tokio::test]
async fn wrong_old_passwords_count_towards_the_lockout() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let department = admin.employee.department_id.clone();
    create_employee(&mut admin.client, "guesser", &department, &["salesperson"]).await;
    let signed_in = app.sign_in("guesser", PASSWORD).await.expect("sign in");
    let mut guesser = app.client(&signed_in.tokens.unwrap().access_token);
    // A stolen access token must not let anyone guess the password without limit.
    for attempt in 1..5 {
        assert_field(
            guesser
                .change_password(pb::ChangePasswordRequest {
                    old_password: format!("guess-number-{attempt}"),
                    new_password: "a-brand-new-password".into(),
                })
                .await,
            Code::InvalidArgument,
            "old_password",
            "WRONG_PASSWORD",
        );
    }
    assert_reason(
        guesser
            .change_password(pb::ChangePasswordRequest {
                old_password: "guess-number-5".into(),
                new_password: "a-brand-new-password".into(),
            })
            .await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    // Locked now: the right old password is refused too, and so is signing in.
    assert_reason(
        guesser
            .change_password(pb::ChangePasswordRequest {
                old_password: PASSWORD.into(),
                new_password: "a-brand-new-password".into(),
            })
            .await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    assert_reason(
        app.sign_in("guesser", PASSWORD).await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
}
