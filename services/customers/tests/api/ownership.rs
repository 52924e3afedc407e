//! Ownership and the public pool: claims, caps, cooldown, transfer, assign, locks, reclaim.

use std::collections::HashSet;

use crm_proto::customers as pb;
use tonic::Code;

use crate::helpers::{assert_reason, company, create, spawn};

async fn pooled(client: &mut crate::helpers::Client, name: &str) -> pb::Customer {
    let c = create(client, company(name)).await;
    client
        .release_customer(pb::ReleaseCustomerRequest {
            id: c.id,
            note: "to the pool".into(),
            ..Default::default()
        })
        .await
        .expect("release")
        .into_inner()
        .customer
        .unwrap()
}

#[tokio::test]
async fn twenty_concurrent_claims_have_exactly_one_winner_and_one_history_entry() {
    let app = spawn().await;
    let mut manager = app.manager().await;
    let c = pooled(&mut manager, "Contested Customer Co").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let mut client = app.sales(&format!("rep{i:02}")).await;
        let id = c.id.clone();
        tasks.push(tokio::spawn(async move {
            client
                .claim_customer(pb::ClaimCustomerRequest {
                    id,
                    request_id: String::new(),
                })
                .await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => winners.push(r.into_inner().customer.unwrap().owner_id),
            Err(s) => {
                assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    let got = manager
        .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got.owner_id, winners[0]);
    let history = manager
        .list_owner_changes(pb::ListOwnerChangesRequest {
            customer_id: c.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .owner_changes;
    let claims: Vec<_> = history
        .iter()
        .filter(|h| h.reason == pb::OwnerChangeReason::Claim as i32)
        .collect();
    assert_eq!(claims.len(), 1, "{history:?}");
    assert_eq!(claims[0].to_owner_id, winners[0]);
    assert_eq!(claims[0].from_owner_id, "");
}

#[tokio::test]
async fn claims_respect_caps_and_the_cooldown() {
    let app = spawn().await;
    let mut manager = app.manager().await;
    manager
        .update_pool_policy(pb::UpdatePoolPolicyRequest {
            policy: Some(pb::PoolPolicy {
                level_rules: vec![pb::LevelRule {
                    level_code: "A".into(),
                    owned_cap: 1,
                    no_follow_up_days: 0,
                    no_order_days: 0,
                }],
                total_owned_cap: 2,
                reclaim_cooldown_days: 30,
                lock_cap: 1,
                default_rule: Some(pb::LevelRule::default()),
            }),
        })
        .await
        .unwrap();
    let level_a = |name: &str| {
        let mut c = company(name);
        c.level_code = "A".into();
        c
    };
    let a1 = create(&mut manager, level_a("Level A One")).await;
    let a2 = create(&mut manager, level_a("Level A Two")).await;
    let b1 = create(&mut manager, company("Plain One")).await;
    let b2 = create(&mut manager, company("Plain Two")).await;
    for c in [&a1, &a2, &b1, &b2] {
        manager
            .release_customer(pb::ReleaseCustomerRequest {
                id: c.id.clone(),
                note: "pool".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut carol = app.sales("carol").await;
    carol
        .claim_customer(pb::ClaimCustomerRequest {
            id: a1.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_reason(
        carol
            .claim_customer(pb::ClaimCustomerRequest {
                id: a2.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "LEVEL_CAP_REACHED",
    );
    carol
        .claim_customer(pb::ClaimCustomerRequest {
            id: b1.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_reason(
        carol
            .claim_customer(pb::ClaimCustomerRequest {
                id: b2.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "CLAIM_CAP_REACHED",
    );

    // Release and try to re-claim at once: the cooldown refuses it; someone else may claim it.
    carol
        .release_customer(pb::ReleaseCustomerRequest {
            id: b1.id.clone(),
            note: "no budget".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_reason(
        carol
            .claim_customer(pb::ClaimCustomerRequest {
                id: b1.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "RECLAIM_COOLDOWN",
    );
    let mut dave = app.sales("dave").await;
    dave.claim_customer(pb::ClaimCustomerRequest {
        id: b1.id.clone(),
        ..Default::default()
    })
    .await
    .unwrap();

    // Locks: within the cap of one.
    carol
        .set_reclaim_lock(pb::SetReclaimLockRequest {
            id: a1.id.clone(),
            locked: true,
        })
        .await
        .unwrap();
    carol
        .claim_customer(pb::ClaimCustomerRequest {
            id: b2.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_reason(
        carol
            .set_reclaim_lock(pb::SetReclaimLockRequest {
                id: b2.id.clone(),
                locked: true,
            })
            .await,
        Code::FailedPrecondition,
        "LOCK_CAP_REACHED",
    );
}

#[tokio::test]
async fn transfer_assign_and_history_reasons() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Handover Target")).await;
    // Only managers assign; a salesperson transfers their own with a reason.
    let status = alice
        .assign_customer(pb::AssignCustomerRequest {
            id: c.id.clone(),
            owner_id: "bob".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    crate::helpers::assert_field(
        alice
            .transfer_customer(pb::TransferCustomerRequest {
                id: c.id.clone(),
                to_owner_id: "bob".into(),
                note: " ".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "note",
    );
    alice
        .transfer_customer(pb::TransferCustomerRequest {
            id: c.id.clone(),
            to_owner_id: "bob".into(),
            note: "moving region".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Alice no longer sees it: out of scope is NOT_FOUND.
    assert_eq!(
        alice
            .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let mut manager = app.manager().await;
    manager
        .assign_customer(pb::AssignCustomerRequest {
            id: c.id.clone(),
            owner_id: "carol".into(),
            note: "rebalance".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let history = manager
        .list_owner_changes(pb::ListOwnerChangesRequest {
            customer_id: c.id.clone(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let reasons: Vec<i32> = history.owner_changes.iter().map(|h| h.reason).collect();
    assert_eq!(
        reasons,
        [
            pb::OwnerChangeReason::Assign as i32,
            pb::OwnerChangeReason::Transfer as i32
        ]
    );
    assert_eq!(history.owner_changes[1].note, "moving region");
    assert_eq!(history.owner_changes[1].changed_by, "alice");
    let rest = manager
        .list_owner_changes(pb::ListOwnerChangesRequest {
            customer_id: c.id.clone(),
            page_size: 2,
            page_token: history.next_page_token,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.owner_changes.len(), 1);
    assert_eq!(rest.owner_changes[0].reason, pb::OwnerChangeReason::Create as i32);
}

#[tokio::test]
async fn reclaim_returns_neglected_customers_except_locked_ones() {
    let app = spawn().await;
    let mut manager = app.manager().await;
    manager
        .update_pool_policy(pb::UpdatePoolPolicyRequest {
            policy: Some(pb::PoolPolicy {
                level_rules: vec![pb::LevelRule {
                    level_code: "B".into(),
                    owned_cap: 0,
                    no_follow_up_days: 0,
                    no_order_days: 0,
                }],
                total_owned_cap: 0,
                reclaim_cooldown_days: 0,
                lock_cap: 5,
                default_rule: Some(pb::LevelRule {
                    level_code: String::new(),
                    owned_cap: 0,
                    no_follow_up_days: 3,
                    no_order_days: 0,
                }),
            }),
        })
        .await
        .unwrap();
    let mut alice = app.sales("alice").await;
    let neglected = create(&mut alice, company("Neglected Ltd")).await;
    let locked = create(&mut alice, company("Locked Ltd")).await;
    let mut b = company("Level B Ltd");
    b.level_code = "B".into();
    let exempt = create(&mut alice, b).await;
    alice
        .set_reclaim_lock(pb::SetReclaimLockRequest {
            id: locked.id.clone(),
            locked: true,
        })
        .await
        .unwrap();

    // Within 7 days the default rule (3 days without follow-up) will reclaim the unlocked one.
    let soon = alice
        .list_reclaim_candidates(pb::ListReclaimCandidatesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .candidates;
    let ids: HashSet<String> = soon.iter().map(|c| c.customer.clone().unwrap().id).collect();
    assert_eq!(ids, HashSet::from([neglected.id.clone()]));
    assert_eq!(soon[0].rule, "no_follow_up");

    // Nothing is due yet.
    let run = manager
        .run_reclaim(pb::RunReclaimRequest { dry_run: false })
        .await
        .unwrap()
        .into_inner();
    assert!(run.reclaimed.is_empty());
    assert_eq!(
        alice
            .run_reclaim(pb::RunReclaimRequest { dry_run: true })
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    // Age the ownership by four days directly in the database, then run the rules.
    crate::helpers::age_ownership(&app.database_url, 4).await;
    let run = manager
        .run_reclaim(pb::RunReclaimRequest { dry_run: false })
        .await
        .unwrap()
        .into_inner();
    let reclaimed: Vec<String> = run.reclaimed.iter().map(|c| c.customer.clone().unwrap().id).collect();
    assert_eq!(reclaimed, vec![neglected.id.clone()]);
    let got = manager
        .get_customer(pb::GetCustomerRequest {
            id: neglected.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got.owner_id, "");
    let history = manager
        .list_owner_changes(pb::ListOwnerChangesRequest {
            customer_id: neglected.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.owner_changes[0].reason, pb::OwnerChangeReason::Reclaim as i32);
    for id in [locked.id, exempt.id] {
        let c = manager
            .get_customer(pb::GetCustomerRequest { id })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        assert_eq!(c.owner_id, "alice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reclaim_works_under_the_policy_as_it_ships() {
    // The shipped policy: the default rule alone (90 days without a follow-up), no level rules.
    let app = spawn().await;
    let mut manager = app.manager().await;
    let policy = manager
        .get_pool_policy(pb::GetPoolPolicyRequest {})
        .await
        .unwrap()
        .into_inner()
        .policy
        .unwrap();
    assert!(policy.level_rules.is_empty(), "{policy:?}");
    assert_eq!(policy.default_rule.as_ref().unwrap().no_follow_up_days, 90);
    let mut alice = app.sales("alice").await;
    let neglected = create(&mut alice, company("Shipped Policy Ltd")).await;

    // Due within 120 days: listed as a candidate.
    let soon = alice
        .list_reclaim_candidates(pb::ListReclaimCandidatesRequest {
            within_days: 120,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .candidates;
    let ids: Vec<String> = soon.iter().map(|c| c.customer.clone().unwrap().id).collect();
    assert_eq!(ids, vec![neglected.id.clone()]);
    assert_eq!(soon[0].rule, "no_follow_up");

    // After 91 days without a follow-up the run reclaims it.
    crate::helpers::age_ownership(&app.database_url, 91).await;
    let run = manager
        .run_reclaim(pb::RunReclaimRequest { dry_run: false })
        .await
        .unwrap()
        .into_inner();
    let reclaimed: Vec<String> = run.reclaimed.iter().map(|c| c.customer.clone().unwrap().id).collect();
    assert_eq!(reclaimed, vec![neglected.id.clone()]);
}
