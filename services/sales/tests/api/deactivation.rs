//! A deactivated employee: their unexpired token is refused by sales within a revocation poll,
//! and no lead is created for, claimed by, assigned or imported to them afterwards, even while
//! sales still accepts their token.

use std::time::{Duration, Instant};

use crm_proto::identity as ipb;
use crm_proto::sales as pb;
use tonic::{Code, Status};

use crate::helpers::*;

async fn deactivate_alice(app: &TestApp) -> Instant {
    app.identity
        .client(&app.identity.token("test-admin", "admin"))
        .await
        .deactivate_employee(ipb::DeactivateEmployeeRequest {
            id: "alice".into(),
            successor_id: "bob".into(),
            dry_run: false,
        })
        .await
        .expect("deactivate");
    Instant::now()
}

fn assert_deactivated<T: std::fmt::Debug>(result: Result<T, Status>) {
    let status = assert_reason(result, Code::Unauthenticated, "ACCOUNT_DEACTIVATED");
    assert_eq!(status.message(), "the account is deactivated");
}

fn new_lead(company: &str, owner: &str) -> pb::CreateLeadRequest {
    pb::CreateLeadRequest {
        lead: Some(lead(company)),
        owner_id: owner.into(),
        request_id: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leavers_token_is_refused_within_a_poll_writes_included() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    create_lead(&mut alice, lead("Before Leaving Ltd"), "").await;
    let deactivated = deactivate_alice(&app).await;
    let refused = loop {
        if let Err(status) = alice.list_leads(pb::ListLeadsRequest::default()).await {
            assert_deactivated::<()>(Err(status));
            break deactivated.elapsed();
        }
        assert!(
            deactivated.elapsed() < Duration::from_secs(30),
            "still accepted after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    println!(
        "sales refused the leaver's token {:.3} s after DeactivateEmployee returned",
        refused.as_secs_f64()
    );
    assert_deactivated(alice.create_lead(new_lead("After Leaving Ltd", "")).await);
    app.sales_as("bob")
        .await
        .list_leads(pb::ListLeadsRequest::default())
        .await
        .expect("everyone else's token still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_lead_goes_to_a_leaver_even_while_their_token_is_still_accepted() {
    // Sales polls revocations once an hour here: the leaver's token stays accepted, as in the
    // seconds before a poll, and the writes themselves must refuse.
    let app = spawn_polling(Duration::from_secs(3600)).await;
    let mut alice = app.sales_as("alice").await;
    let mut bob = app.sales_as("bob").await;
    let mut boss = app.sales_as(MANAGER).await;
    let hers = create_lead(&mut alice, lead("Alice Lead Ltd"), "").await;
    let pooled = create_lead(&mut boss, lead("Pool Lead Ltd"), "pool").await;
    let bobs = create_lead(&mut bob, lead("Bob Lead Ltd"), "").await;

    deactivate_alice(&app).await;
    // The handover has been applied once her lead is Bob's.
    let deadline = Instant::now() + Duration::from_secs(30);
    while bob.get_lead(pb::GetLeadRequest { id: hers.id.clone() }).await.is_err() {
        assert!(Instant::now() < deadline, "the handover reached sales");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    alice
        .list_leads(pb::ListLeadsRequest::default())
        .await
        .expect("the token is still accepted here (no poll yet)");

    // Her own writes.
    assert_deactivated(alice.create_lead(new_lead("Late Lead Ltd", "")).await);
    assert_deactivated(alice.claim_lead(pb::ClaimLeadRequest { id: pooled.id.clone() }).await);
    assert_deactivated(
        crate::transfer::import(
            &mut alice,
            pb::ImportLeadsOptions::default(),
            "company_name,contact_name,mobile\nLate Import Ltd,Li Lei,13800002222\n",
            64,
        )
        .await,
    );
    // Given to her by others.
    assert_field(
        boss.assign_lead(pb::AssignLeadRequest {
            id: bobs.id.clone(),
            owner_id: "alice".into(),
        })
        .await,
        Code::InvalidArgument,
        "owner_id",
    );
    assert_field(
        boss.create_lead(new_lead("For Alice Ltd", "alice")).await,
        Code::InvalidArgument,
        "owner_id",
    );

    let db = crm_kit::db::Db::connect(&app.sales_database_url, 1).await.unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM leads WHERE owner_id = 'alice' AND deleted_at IS NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "nothing is left with the leaver");
}
