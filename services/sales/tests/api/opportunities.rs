//! Opportunities: amounts and weighted amount, stage moves and their history, activities in
//! order (frozen once complete, back-filling the opportunity), audit, won/lost/re-open.

use crm_proto::customers as cpb;
use crm_proto::sales as pb;
use tonic::Code;

use crate::helpers::*;

/// A customer of `owner`'s, for opportunities to be about.
pub async fn customer(app: &TestApp, owner: &str, name: &str) -> String {
    let mut c = app.customers_as(owner).await;
    c.create_customer(cpb::CreateCustomerRequest {
        customer: Some(cpb::Customer {
            kind: cpb::CustomerKind::Company as i32,
            name: name.into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .customer
    .unwrap()
    .id
}

pub async fn opportunity(client: &mut Sales, customer_id: &str, o: pb::Opportunity) -> pb::Opportunity {
    client
        .create_opportunity(pb::CreateOpportunityRequest {
            opportunity: Some(pb::Opportunity {
                customer_id: customer_id.into(),
                ..o
            }),
            request_id: String::new(),
        })
        .await
        .expect("create opportunity")
        .into_inner()
        .opportunity
        .unwrap()
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_string()).collect(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_stages_and_status() {
    let app = spawn().await;
    let pipeline = app.pipeline().await;
    let customer_id = customer(&app, "alice", "Amounts Ltd").await;
    let mut alice = app.sales_as("alice").await;
    let o = opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "Big deal".into(),
            expected_amount: cny("333.33"),
            expected_cost: cny("100"),
            planned_close_date: "2026-12-15".into(),
            ..Default::default()
        },
    )
    .await;
    // The first stage (10%) by default: 333.33 × 10% = 33.333 → 33.33; profit 233.33.
    assert_eq!(o.stage_id, pipeline.stages[0].id);
    assert_eq!(o.probability, 10);
    assert_eq!(o.opportunity_amount.as_ref().unwrap().amount, "33.33");
    assert_eq!(o.expected_profit.as_ref().unwrap().amount, "233.33");
    assert_eq!(o.status, pb::OpportunityStatus::Open as i32);

    // A customer the caller cannot see is refused by name.
    assert_field(
        alice
            .create_opportunity(pb::CreateOpportunityRequest {
                opportunity: Some(pb::Opportunity {
                    subject: "x".into(),
                    customer_id: "no-such".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "opportunity.customer_id",
    );
    // Another currency is refused until exchange rates exist.
    assert_field(
        alice
            .create_opportunity(pb::CreateOpportunityRequest {
                opportunity: Some(pb::Opportunity {
                    subject: "x".into(),
                    customer_id: customer_id.clone(),
                    expected_amount: Some(crm_proto::common::Money {
                        currency_code: "USD".into(),
                        amount: "5".into(),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "opportunity.expected_amount.currency_code",
    );

    // Moving the stage takes its probability (50%) and records the move.
    let moved = alice
        .update_opportunity(pb::UpdateOpportunityRequest {
            opportunity: Some(pb::Opportunity {
                id: o.id.clone(),
                stage_id: pipeline.stages[2].id.clone(),
                etag: o.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["stage_id"]),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(moved.probability, 50);
    assert_eq!(moved.opportunity_amount.as_ref().unwrap().amount, "166.67");
    let history = alice
        .list_stage_history(pb::ListStageHistoryRequest {
            opportunity_id: o.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .visits;
    let stages: Vec<&str> = history.iter().map(|v| v.stage_id.as_str()).collect();
    assert_eq!(stages, [pipeline.stages[0].id.as_str(), pipeline.stages[2].id.as_str()]);
    assert!(history[0].leave_time.is_some());
    assert!(history[1].leave_time.is_none());
    // The move is a completed activity too (the stage follows the completed activities), so a
    // later back-fill keeps it; while an activity is open a move is refused.
    let activities = alice
        .list_activities(pb::ListActivitiesRequest {
            opportunity_id: o.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .activities;
    assert_eq!(activities.len(), 1);
    assert!(activities[0].completed);
    assert_eq!(activities[0].stage_id, pipeline.stages[2].id);
    assert_eq!(activities[0].summary, format!("Moved to {}", pipeline.stages[2].name));
    let open = alice
        .create_activity(pb::CreateActivityRequest {
            activity: Some(pb::Activity {
                opportunity_id: o.id.clone(),
                method: pb::ActivityMethod::Phone as i32,
                summary: "call planned".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .activity
        .unwrap();
    let refused = alice
        .update_opportunity(pb::UpdateOpportunityRequest {
            opportunity: Some(pb::Opportunity {
                id: o.id.clone(),
                stage_id: pipeline.stages[3].id.clone(),
                etag: moved.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["stage_id"]),
        })
        .await;
    assert_reason(refused, Code::FailedPrecondition, "ACTIVITY_OPEN");
    alice
        .delete_activity(pb::DeleteActivityRequest { id: open.id.clone() })
        .await
        .unwrap();
    let still = alice
        .get_opportunity(pb::GetOpportunityRequest { id: o.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(
        (still.stage_id.as_str(), still.etag.as_str()),
        (pipeline.stages[2].id.as_str(), moved.etag.as_str())
    );
    // A stale etag and a server-owned field are refused.
    assert_eq!(
        alice
            .update_opportunity(pb::UpdateOpportunityRequest {
                opportunity: Some(pb::Opportunity {
                    id: o.id.clone(),
                    subject: "new".into(),
                    etag: o.etag.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["subject"]),
            })
            .await
            .unwrap_err()
            .code(),
        Code::Aborted
    );
    assert_field(
        alice
            .update_opportunity(pb::UpdateOpportunityRequest {
                opportunity: Some(pb::Opportunity {
                    id: o.id.clone(),
                    etag: moved.etag.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["status"]),
            })
            .await,
        Code::InvalidArgument,
        "update_mask.status",
    );

    // Lost needs a reason; won closes at 100%; re-open goes back to the stage's probability.
    assert_field(
        alice
            .set_opportunity_status(pb::SetOpportunityStatusRequest {
                id: o.id.clone(),
                status: pb::OpportunityStatus::Lost as i32,
                reason: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "reason",
    );
    let won = alice
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: o.id.clone(),
            status: pb::OpportunityStatus::Won as i32,
            reason: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!((won.status, won.probability), (pb::OpportunityStatus::Won as i32, 100));
    assert!(!won.actual_close_date.is_empty());
    assert_reason(
        alice
            .set_opportunity_status(pb::SetOpportunityStatusRequest {
                id: o.id.clone(),
                status: pb::OpportunityStatus::Lost as i32,
                reason: "price".into(),
            })
            .await,
        Code::FailedPrecondition,
        "STATUS_NOT_ALLOWED",
    );
    let reopened = alice
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: o.id.clone(),
            status: pb::OpportunityStatus::Open as i32,
            reason: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!((reopened.probability, reopened.actual_close_date.as_str()), (50, ""));

    // Audit is the manager's; un-audit works until it becomes a project or order.
    assert_eq!(
        alice
            .audit_opportunity(pb::AuditOpportunityRequest {
                id: o.id.clone(),
                audited: true,
            })
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let mut boss = app.sales_as(MANAGER).await;
    let audited = boss
        .audit_opportunity(pb::AuditOpportunityRequest {
            id: o.id.clone(),
            audited: true,
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert!(audited.audited);
    // Bob sees nothing of alice's.
    let mut bob = app.sales_as("bob").await;
    assert_eq!(
        bob.get_opportunity(pb::GetOpportunityRequest { id: o.id.clone() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities_complete_in_order_freeze_and_back_fill() {
    let app = spawn().await;
    let pipeline = app.pipeline().await;
    let customer_id = customer(&app, "alice", "Activities Ltd").await;
    let mut alice = app.sales_as("alice").await;
    let o = opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "Stepwise".into(),
            expected_amount: cny("1000"),
            ..Default::default()
        },
    )
    .await;
    let add = |stage: usize, amount: &str, probability: i32| pb::CreateActivityRequest {
        activity: Some(pb::Activity {
            opportunity_id: o.id.clone(),
            method: pb::ActivityMethod::Visit as i32,
            summary: format!("step to stage {stage}"),
            stage_id: pipeline.stages[stage].id.clone(),
            probability,
            expected_amount: cny(amount),
            expected_cost: cny("100"),
            planned_close_date: "2027-01-31".into(),
            ..Default::default()
        }),
    };
    let first = alice
        .create_activity(add(1, "1200", 0))
        .await
        .unwrap()
        .into_inner()
        .activity
        .unwrap();
    let second = alice
        .create_activity(add(3, "1500", 80))
        .await
        .unwrap()
        .into_inner()
        .activity
        .unwrap();
    assert_eq!((first.sequence, second.sequence), (1, 2));
    // The stage's probability when none is given.
    assert_eq!(first.probability, 25);

    // The second cannot complete before the first.
    assert_reason(
        alice
            .complete_activity(pb::CompleteActivityRequest { id: second.id.clone() })
            .await,
        Code::FailedPrecondition,
        "EARLIER_ACTIVITY_OPEN",
    );
    let done = alice
        .complete_activity(pb::CompleteActivityRequest { id: first.id.clone() })
        .await
        .unwrap()
        .into_inner();
    let back_filled = done.opportunity.unwrap();
    assert_eq!(back_filled.stage_id, pipeline.stages[1].id);
    assert_eq!(back_filled.probability, 25);
    assert_eq!(back_filled.expected_amount.unwrap().amount, "1200.00");
    assert_eq!(back_filled.expected_cost.unwrap().amount, "100.00");
    assert_eq!(back_filled.planned_close_date, "2027-01-31");

    // A completed activity is frozen.
    let frozen = alice
        .update_activity(pb::UpdateActivityRequest {
            activity: Some(pb::Activity {
                id: first.id.clone(),
                summary: "rewrite history".into(),
                etag: done.activity.unwrap().etag,
                ..Default::default()
            }),
            update_mask: mask(&["summary"]),
        })
        .await;
    assert_reason(frozen, Code::FailedPrecondition, "ACTIVITY_COMPLETED");

    let done = alice
        .complete_activity(pb::CompleteActivityRequest { id: second.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(
        (done.stage_id.as_str(), done.probability),
        (pipeline.stages[3].id.as_str(), 80)
    );
    assert_eq!(done.opportunity_amount.unwrap().amount, "1200.00");

    // Deleting the latest completed one back-fills from the one before.
    let after = alice
        .delete_activity(pb::DeleteActivityRequest { id: second.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(
        (after.stage_id.as_str(), after.probability),
        (pipeline.stages[1].id.as_str(), 25)
    );
    assert_eq!(after.expected_amount.unwrap().amount, "1200.00");
    let listed = alice
        .list_activities(pb::ListActivitiesRequest {
            opportunity_id: o.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .activities;
    assert_eq!(listed.len(), 1);
    // The stage history followed every back-fill.
    let visits = alice
        .list_stage_history(pb::ListStageHistoryRequest {
            opportunity_id: o.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .visits;
    let stages: Vec<&str> = visits.iter().map(|v| v.stage_id.as_str()).collect();
    assert_eq!(
        stages,
        [
            pipeline.stages[0].id.as_str(),
            pipeline.stages[1].id.as_str(),
            pipeline.stages[3].id.as_str(),
            pipeline.stages[1].id.as_str()
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_past_its_stage_limit_is_stuck_until_it_moves_or_closes() {
    let app = spawn().await;
    let pipeline = app.pipeline().await;
    // The first default stage allows 14 days.
    assert_eq!(pipeline.stages[0].time_limit_days, 14);
    let customer_id = customer(&app, "alice", "Slow Ltd").await;
    let mut alice = app.sales_as("alice").await;
    let o = opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "Slow deal".into(),
            expected_amount: cny("100"),
            ..Default::default()
        },
    )
    .await;
    assert!(!o.stuck);
    let get = |client: &mut Sales, id: String| {
        let mut client = client.clone();
        async move {
            client
                .get_opportunity(pb::GetOpportunityRequest { id })
                .await
                .unwrap()
                .into_inner()
                .opportunity
                .unwrap()
        }
    };
    // The deal entered its stage 13 days ago: within the limit. Then 15 days ago: stuck.
    let db = crm_kit::db::Db::connect(&app.sales_database_url, 1).await.unwrap();
    let day: i64 = 86_400_000_000;
    // A second deal in the same stage that stays fresh.
    let fresh = opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "Quick deal".into(),
            ..Default::default()
        },
    )
    .await;
    let stuck_list = |client: &mut Sales| {
        let mut client = client.clone();
        async move {
            client
                .list_opportunities(pb::ListOpportunitiesRequest {
                    stuck_only: true,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .opportunities
                .into_iter()
                .map(|o| o.id)
                .collect::<Vec<_>>()
        }
    };
    let stuck_in_first_stage = |client: &mut Sales| {
        let mut client = client.clone();
        async move {
            client
                .get_funnel(pb::GetFunnelRequest::default())
                .await
                .unwrap()
                .into_inner()
                .stages[0]
                .stuck_count
        }
    };
    for (days, stuck) in [(13, false), (15, true)] {
        sqlx::query("UPDATE opportunities SET stage_entered_at = $1 WHERE id = $2")
            .bind(crm_kit::time::now_micros() - days * day)
            .bind(&o.id)
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(
            get(&mut alice, o.id.clone()).await.stuck,
            stuck,
            "{days} days in the stage"
        );
        let expected: Vec<String> = if stuck { vec![o.id.clone()] } else { Vec::new() };
        assert_eq!(stuck_list(&mut alice).await, expected, "{days} days in the stage");
        assert_eq!(stuck_in_first_stage(&mut alice).await, i64::from(stuck));
    }
    assert!(!get(&mut alice, fresh.id.clone()).await.stuck);
    // The manager sees the team's stuck deals; another salesperson sees none of alice's.
    let mut boss = app.sales_as(MANAGER).await;
    assert_eq!(stuck_list(&mut boss).await, std::slice::from_ref(&o.id));
    assert!(stuck_list(&mut app.sales_as("bob").await).await.is_empty());
    // Moving on starts the clock of the next stage.
    let current = get(&mut alice, o.id.clone()).await;
    let moved = alice
        .update_opportunity(pb::UpdateOpportunityRequest {
            opportunity: Some(pb::Opportunity {
                id: o.id.clone(),
                stage_id: pipeline.stages[1].id.clone(),
                etag: current.etag,
                ..Default::default()
            }),
            update_mask: mask(&["stage_id"]),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert!(!moved.stuck);
    assert!(stuck_list(&mut alice).await.is_empty());
    // A closed deal is never stuck, however long ago its stage began.
    sqlx::query("UPDATE opportunities SET stage_entered_at = $1 WHERE id = $2")
        .bind(crm_kit::time::now_micros() - 400 * day)
        .bind(&o.id)
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(get(&mut alice, o.id.clone()).await.stuck);
    let lost = alice
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: o.id.clone(),
            status: pb::OpportunityStatus::Lost as i32,
            reason: "Went quiet".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert!(!lost.stuck);
}
