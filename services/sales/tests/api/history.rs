//! Field history of leads and opportunities: every change is recorded with who, when and
//! which fields went from what to what, read newest first in pages, scoped like the record.

use crm_proto::sales as pb;
use tonic::Code;

use crate::helpers::*;
use crate::opportunities::{customer, opportunity};

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_string()).collect(),
    })
}

/// A change as (action, [(field, old, new)]).
type Summary = (String, Vec<(String, String, String)>);

/// Each change, newest first.
fn summary(changes: &[crm_proto::common::RecordChange]) -> Vec<Summary> {
    changes
        .iter()
        .map(|c| {
            (
                c.action.clone(),
                c.fields
                    .iter()
                    .map(|f| (f.field.clone(), f.old_value.clone(), f.new_value.clone()))
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leads_changes_are_kept_field_by_field_and_scoped_like_the_lead() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let l = create_lead(&mut alice, lead("History Trading"), "alice").await;
    let updated = alice
        .update_lead(pb::UpdateLeadRequest {
            lead: Some(pb::Lead {
                id: l.id.clone(),
                etag: l.etag.clone(),
                company_name: "History Trading Co".into(),
                city: "Hangzhou".into(),
                contact_name: "ignored: not in the mask".into(),
                ..Default::default()
            }),
            update_mask: mask(&["company_name", "city"]),
        })
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    let mut boss = app.sales_as(MANAGER).await;
    boss.assign_lead(pb::AssignLeadRequest {
        id: l.id.clone(),
        owner_id: "bob".into(),
    })
    .await
    .unwrap();
    assert_ne!(updated.etag, l.etag);

    let page = boss
        .list_lead_changes(pb::ListLeadChangesRequest {
            lead_id: l.id.clone(),
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summary(&page.changes),
        vec![
            (
                "assign".to_string(),
                vec![("owner_id".to_string(), "alice".to_string(), "bob".to_string())]
            ),
            (
                "update".to_string(),
                vec![
                    (
                        "company_name".to_string(),
                        "History Trading".to_string(),
                        "History Trading Co".to_string()
                    ),
                    ("city".to_string(), String::new(), "Hangzhou".to_string()),
                ]
            ),
            ("create".to_string(), vec![]),
        ]
    );
    assert_eq!(page.changes[0].changed_by, "boss");
    assert_eq!(page.changes[1].changed_by, "alice");
    assert!(
        page.changes
            .iter()
            .all(|c| c.record_id == l.id && c.change_time.is_some())
    );
    assert!(page.next_page_token.is_empty());

    // Pages of one, newest first, and the token is bound to the lead.
    let first = boss
        .list_lead_changes(pb::ListLeadChangesRequest {
            lead_id: l.id.clone(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.changes[0].action, "assign");
    let second = boss
        .list_lead_changes(pb::ListLeadChangesRequest {
            lead_id: l.id.clone(),
            page_size: 1,
            page_token: first.next_page_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.changes[0].action, "update");
    let other = create_lead(&mut boss, lead("Other Lead"), MANAGER).await;
    assert_field(
        boss.list_lead_changes(pb::ListLeadChangesRequest {
            lead_id: other.id.clone(),
            page_size: 1,
            page_token: first.next_page_token,
        })
        .await,
        Code::InvalidArgument,
        "page_token",
    );

    // Alice no longer owns it: its history is as invisible to her as the lead.
    let status = alice
        .list_lead_changes(pb::ListLeadChangesRequest {
            lead_id: l.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("not hers any more");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opportunitys_changes_show_amounts_as_decimals_and_status_moves() {
    let app = spawn().await;
    let customer_id = customer(&app, "alice", "History Opportunity Ltd").await;
    let mut alice = app.sales_as("alice").await;
    let o = opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "Rollout".into(),
            expected_amount: cny("1000.50"),
            ..Default::default()
        },
    )
    .await;
    let o = alice
        .update_opportunity(pb::UpdateOpportunityRequest {
            opportunity: Some(pb::Opportunity {
                id: o.id.clone(),
                etag: o.etag.clone(),
                expected_amount: cny("2500"),
                ..Default::default()
            }),
            update_mask: mask(&["expected_amount"]),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    alice
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: o.id.clone(),
            status: pb::OpportunityStatus::Lost as i32,
            reason: "price".into(),
        })
        .await
        .unwrap();
    let changes = alice
        .list_opportunity_changes(pb::ListOpportunityChangesRequest {
            opportunity_id: o.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    let changes = summary(&changes);
    assert_eq!(
        changes.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        ["status", "update", "create"]
    );
    assert_eq!(
        changes[1].1,
        vec![(
            "expected_amount".to_string(),
            "1000.50".to_string(),
            "2500.00".to_string()
        )]
    );
    let status_fields: Vec<&str> = changes[0].1.iter().map(|(f, _, _)| f.as_str()).collect();
    for field in ["status", "lost_reason", "probability", "forecast_category"] {
        assert!(status_fields.contains(&field), "{field} in {status_fields:?}");
    }
    let status = changes[0].1.iter().find(|(f, _, _)| f == "status").unwrap();
    assert_eq!((status.1.as_str(), status.2.as_str()), ("open", "lost"));
}
