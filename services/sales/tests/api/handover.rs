//! A leaver's leads and open opportunities pass to the successor through identity's event feed,
//! keeping their stage and activities; closed deals stay where they were. The dry run counts.

use std::time::{Duration, Instant};

use crm_proto::identity as ipb;
use crm_proto::sales as pb;

use crate::helpers::*;
use crate::opportunities::{customer, opportunity};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_and_open_opportunities_follow_the_handover() {
    let app = spawn().await;
    let pipeline = app.pipeline().await;
    let customer_id = customer(&app, "alice", "Handover Sales Co").await;
    let mut alice = app.sales_as("alice").await;
    let l = create_lead(&mut alice, lead("Handover Lead Ltd"), "").await;
    let open = opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "open".into(),
            stage_id: pipeline.stages[2].id.clone(),
            ..Default::default()
        },
    )
    .await;
    alice
        .create_activity(pb::CreateActivityRequest {
            activity: Some(pb::Activity {
                opportunity_id: open.id.clone(),
                summary: "met".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let won = opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "won".into(),
            ..Default::default()
        },
    )
    .await;
    alice
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: won.id.clone(),
            status: pb::OpportunityStatus::Won as i32,
            reason: String::new(),
        })
        .await
        .unwrap();

    let mut admin = app.identity.client(&app.identity.token("test-admin", "admin")).await;
    let dry = admin
        .deactivate_employee(ipb::DeactivateEmployeeRequest {
            id: "alice".into(),
            successor_id: "bob".into(),
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner();
    let counts: Vec<(String, String, i64)> = dry
        .counts
        .iter()
        .map(|c| (c.service.clone(), c.kind.clone(), c.count))
        .collect();
    for expected in [
        ("customers", "customers", 1),
        ("sales", "leads", 1),
        ("sales", "open_opportunities", 1),
    ] {
        assert!(
            counts.contains(&(expected.0.into(), expected.1.into(), expected.2)),
            "{expected:?} in {counts:?}"
        );
    }
    admin
        .deactivate_employee(ipb::DeactivateEmployeeRequest {
            id: "alice".into(),
            successor_id: "bob".into(),
            dry_run: false,
        })
        .await
        .unwrap();

    let mut bob = app.sales_as("bob").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let moved = loop {
        if let Ok(o) = bob
            .get_opportunity(pb::GetOpportunityRequest { id: open.id.clone() })
            .await
        {
            break o.into_inner().opportunity.unwrap();
        }
        assert!(Instant::now() < deadline, "the open opportunity reached bob");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(moved.owner_id, "bob");
    assert_eq!(moved.stage_id, pipeline.stages[2].id, "the stage is kept");
    let activities = bob
        .list_activities(pb::ListActivitiesRequest {
            opportunity_id: open.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .activities;
    assert_eq!(activities.len(), 1, "the activities are kept");
    let lead_now = bob
        .get_lead(pb::GetLeadRequest { id: l.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    assert_eq!(lead_now.owner_id, "bob");
    // The won deal stays with its winner.
    let mut boss = app.sales_as(MANAGER).await;
    let won_now = boss
        .get_opportunity(pb::GetOpportunityRequest { id: won.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(won_now.owner_id, "alice");
    // One owner-history entry each, reason handover.
    let db = crm_kit::db::Db::connect(&app.sales_database_url, 1).await.unwrap();
    let entries: Vec<(String, String)> = sqlx::query_as(
        "SELECT record_type, record_id FROM owner_changes WHERE reason = 'handover' ORDER BY record_type",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        entries,
        [
            ("lead".to_string(), l.id.clone()),
            ("opportunity".to_string(), open.id.clone())
        ]
    );
}
