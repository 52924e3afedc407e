//! A deactivated employee: their unexpired token is refused within a revocation poll, and
//! nothing is given to them afterwards, even while a verifier still accepts their token.

use std::time::{Duration, Instant};

use crm_proto::customers as pb;
use crm_proto::identity as identity_pb;
use tonic::{Code, Status};

use crate::handover::{Ledger, start_pair, start_pair_polling};
use crate::helpers::{Client, assert_field, assert_reason, company, create};

async fn deactivate_alice(pair: &crate::handover::Pair) -> Instant {
    pair.admin()
        .await
        .deactivate_employee(identity_pb::DeactivateEmployeeRequest {
            id: "alice".into(),
            successor_id: "bob".into(),
            dry_run: false,
        })
        .await
        .expect("deactivate");
    Instant::now()
}

fn create_for(name: &str, owner: &str, request_id: &str) -> pb::CreateCustomerRequest {
    pb::CreateCustomerRequest {
        customer: Some(company(name)),
        owner_id: owner.into(),
        request_id: request_id.into(),
    }
}

fn assert_deactivated<T: std::fmt::Debug>(result: Result<T, Status>) {
    let status = assert_reason(result, Code::Unauthenticated, "ACCOUNT_DEACTIVATED");
    assert_eq!(status.message(), "the account is deactivated");
}

fn assert_inactive<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) {
    let status = assert_field(result, Code::InvalidArgument, field);
    assert!(status.message().contains("deactivated"), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leavers_token_is_refused_within_a_poll_writes_included() {
    let pair = start_pair().await;
    let mut alice = pair.client("alice").await;
    let mut bob = pair.client("bob").await;
    create(&mut alice, company("Before Leaving Ltd")).await;
    let deactivated = deactivate_alice(&pair).await;
    let refused = loop {
        match alice.list_customers(pb::ListCustomersRequest::default()).await {
            Ok(_) => {}
            Err(status) => {
                assert_deactivated::<()>(Err(status));
                break deactivated.elapsed();
            }
        }
        assert!(
            deactivated.elapsed() < Duration::from_secs(30),
            "still accepted after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    println!(
        "customers refused the leaver's token {:.3} s after DeactivateEmployee returned",
        refused.as_secs_f64()
    );
    assert_deactivated(alice.create_customer(create_for("After Leaving Ltd", "", "")).await);
    bob.list_customers(pb::ListCustomersRequest::default())
        .await
        .expect("everyone else's token still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_given_to_a_leaver_even_while_their_token_is_still_accepted() {
    // Customers polls revocations once an hour here: the leaver's token stays accepted, as in
    // the seconds before a poll, and the writes themselves must refuse.
    let pair = start_pair_polling(Duration::from_secs(3600)).await;
    let ledger = Ledger::open(&pair.database_url).await;
    let mut alice = pair.client("alice").await;
    let mut bob = pair.client("bob").await;
    let mut boss = pair.client("boss").await;
    create(&mut alice, company("Alice Account Ltd")).await;
    let bobs = create(&mut bob, company("Bob Account Ltd")).await;
    let pooled = create(&mut bob, company("Pool Account Ltd")).await;
    bob.release_customer(pb::ReleaseCustomerRequest {
        id: pooled.id.clone(),
        note: "to the pool".into(),
        request_id: String::new(),
    })
    .await
    .expect("release");

    deactivate_alice(&pair).await;
    // The handover has been applied once Alice's customer is Bob's.
    ledger.wait_owned("alice", 0).await;
    ledger.wait_owned("bob", 2).await;
    alice
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .expect("the token is still accepted here (no poll yet)");

    // Her own writes: created for her (in one statement, and in a transaction with a request
    // id), claimed, imported.
    assert_deactivated(alice.create_customer(create_for("Late One Ltd", "", "")).await);
    assert_deactivated(alice.create_customer(create_for("Late Two Ltd", "", "late-2")).await);
    assert_deactivated(
        alice
            .claim_customer(pb::ClaimCustomerRequest {
                id: pooled.id.clone(),
                request_id: String::new(),
            })
            .await,
    );
    assert_deactivated(
        crate::import_export::import(
            &mut alice,
            pb::ImportOptions {
                column_mapping: [("name", "name"), ("kind", "kind")]
                    .into_iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
                ..Default::default()
            },
            "name,kind\nLate Import Ltd,company\n",
            64,
        )
        .await,
    );

    // Given to her by others: created for her, assigned, transferred, shared.
    assert_inactive(
        boss.create_customer(create_for("For Alice Ltd", "alice", "")).await,
        "owner_id",
    );
    assert_inactive(
        boss.assign_customer(pb::AssignCustomerRequest {
            id: bobs.id.clone(),
            owner_id: "alice".into(),
            note: String::new(),
            request_id: String::new(),
        })
        .await,
        "owner_id",
    );
    assert_inactive(
        boss.transfer_customer(pb::TransferCustomerRequest {
            id: bobs.id.clone(),
            to_owner_id: "alice".into(),
            note: "territory".into(),
            request_id: String::new(),
        })
        .await,
        "to_owner_id",
    );
    assert_inactive(
        bob.share_customer(pb::ShareCustomerRequest {
            id: bobs.id.clone(),
            collaborator_ids: vec!["carol".into(), "alice".into()],
        })
        .await,
        "collaborator_ids[1]",
    );
    assert_eq!(ledger.owned("alice").await, 0, "nothing is left with the leaver");
    let mut carol: Client = pair.client("carol").await;
    create(&mut carol, company("Carol Still Works Ltd")).await;
}
