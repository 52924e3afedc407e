//! Projects: only from an audited, won opportunity, once; the approval then stands; actuals,
//! maintenance records in order and frozen, terminate and re-open, copy to a new opportunity,
//! and the project analysis against a hand-computed fixture.

use crm_proto::sales as pb;
use tonic::Code;

use crate::helpers::*;
use crate::opportunities::{customer, opportunity};

fn money(m: &Option<crm_proto::common::Money>) -> &str {
    m.as_ref().map_or("", |m| m.amount.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_won_audited_deal_becomes_a_project_with_records_actuals_and_a_copy() {
    let app = spawn().await;
    let customer_id = customer(&app, "alice", "Project Client Ltd").await;
    let mut alice = app.sales_as("alice").await;
    let mut boss = app.sales_as(MANAGER).await;
    let o = opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "Implementation".into(),
            expected_amount: cny("8000"),
            expected_cost: cny("5000"),
            ..Default::default()
        },
    )
    .await;
    let make = |request_id: &str| pb::CreateProjectRequest {
        opportunity_id: o.id.clone(),
        name: String::new(),
        request_id: request_id.into(),
    };
    // Not won, not audited: refused.
    assert_reason(
        alice.create_project(make("")).await,
        Code::FailedPrecondition,
        "NOT_AUDITED_AND_WON",
    );
    alice
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: o.id.clone(),
            status: pb::OpportunityStatus::Won as i32,
            reason: String::new(),
        })
        .await
        .unwrap();
    assert_reason(
        alice.create_project(make("")).await,
        Code::FailedPrecondition,
        "NOT_AUDITED_AND_WON",
    );
    boss.audit_opportunity(pb::AuditOpportunityRequest {
        id: o.id.clone(),
        audited: true,
    })
    .await
    .unwrap();
    let project = alice
        .create_project(make("p-1"))
        .await
        .unwrap()
        .into_inner()
        .project
        .unwrap();
    assert_eq!(project.name, "Implementation");
    assert_eq!((money(&project.expected_amount), project.probability), ("8000.00", 100));
    // The same request again is the same project; another request is refused.
    let again = alice
        .create_project(make("p-1"))
        .await
        .unwrap()
        .into_inner()
        .project
        .unwrap();
    assert_eq!(again.id, project.id);
    assert_reason(
        alice.create_project(make("p-2")).await,
        Code::AlreadyExists,
        "ALREADY_CONVERTED",
    );
    // The approval now stands.
    assert_reason(
        boss.audit_opportunity(pb::AuditOpportunityRequest {
            id: o.id.clone(),
            audited: false,
        })
        .await,
        Code::FailedPrecondition,
        "ALREADY_CONVERTED",
    );

    // Actuals.
    let updated = alice
        .update_project(pb::UpdateProjectRequest {
            project: Some(pb::Project {
                id: project.id.clone(),
                actual_cost: cny("6000"),
                actual_sales: cny("9000"),
                partners: vec!["Installer GmbH".into()],
                etag: project.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["actual_cost".into(), "actual_sales".into(), "partners".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .project
        .unwrap();
    assert_eq!(money(&updated.actual_profit), "3000.00");
    assert_eq!(updated.partners, ["Installer GmbH"]);

    // Maintenance records complete in order and freeze.
    let record = |summary: &str| pb::CreateMaintenanceRecordRequest {
        record: Some(pb::MaintenanceRecord {
            project_id: project.id.clone(),
            summary: summary.into(),
            method: pb::ActivityMethod::Visit as i32,
            ..Default::default()
        }),
    };
    let first = alice
        .create_maintenance_record(record("first visit"))
        .await
        .unwrap()
        .into_inner()
        .record
        .unwrap();
    let second = alice
        .create_maintenance_record(record("second visit"))
        .await
        .unwrap()
        .into_inner()
        .record
        .unwrap();
    assert_eq!((first.sequence, second.sequence), (1, 2));
    assert_reason(
        alice
            .complete_maintenance_record(pb::CompleteMaintenanceRecordRequest { id: second.id.clone() })
            .await,
        Code::FailedPrecondition,
        "EARLIER_RECORD_OPEN",
    );
    alice
        .complete_maintenance_record(pb::CompleteMaintenanceRecordRequest { id: first.id.clone() })
        .await
        .unwrap();
    assert_reason(
        alice
            .complete_maintenance_record(pb::CompleteMaintenanceRecordRequest { id: first.id.clone() })
            .await,
        Code::FailedPrecondition,
        "RECORD_COMPLETED",
    );

    // Terminated, nothing changes; re-opened, it does again.
    alice
        .set_project_status(pb::SetProjectStatusRequest {
            id: project.id.clone(),
            status: pb::ProjectStatus::Terminated as i32,
        })
        .await
        .unwrap();
    assert_reason(
        alice.create_maintenance_record(record("while terminated")).await,
        Code::FailedPrecondition,
        "PROJECT_TERMINATED",
    );
    alice
        .set_project_status(pb::SetProjectStatusRequest {
            id: project.id.clone(),
            status: pb::ProjectStatus::Open as i32,
        })
        .await
        .unwrap();
    alice.create_maintenance_record(record("after re-open")).await.unwrap();

    // More work: a new opportunity for the same customer.
    let copy = alice
        .copy_project_to_opportunity(pb::CopyProjectToOpportunityRequest {
            id: project.id.clone(),
            subject: "Phase 2".into(),
            request_id: "copy-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(
        (copy.customer_id.as_str(), copy.subject.as_str()),
        (customer_id.as_str(), "Phase 2")
    );
    assert_eq!(copy.status, pb::OpportunityStatus::Open as i32);
    let copy_again = alice
        .copy_project_to_opportunity(pb::CopyProjectToOpportunityRequest {
            id: project.id.clone(),
            subject: "Phase 2".into(),
            request_id: "copy-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(copy_again.id, copy.id);
    // Bob cannot see alice's project.
    let mut bob = app.sales_as("bob").await;
    assert_eq!(
        bob.get_project(pb::GetProjectRequest { id: project.id.clone() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );

    // Project analysis: expected 8000 / 5000 at 100 % (profit 3000, margin 37.5), actual
    // 9000 / 6000 (profit 3000, margin 33.33).
    let analysis = boss
        .get_project_analysis(pb::GetProjectAnalysisRequest {
            group_by: pb::AnalysisGrouping::Customer as i32,
            period: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(analysis.rows.len(), 1);
    let row = &analysis.rows[0];
    let expected = row.expected.as_ref().unwrap();
    assert_eq!(expected.key, customer_id);
    assert_eq!(
        [
            money(&expected.expected_sales),
            money(&expected.expected_cost),
            money(&expected.expected_profit)
        ],
        ["8000.00", "5000.00", "3000.00"]
    );
    assert_eq!(expected.expected_margin_percent, "37.5");
    assert_eq!(
        [
            money(&row.actual_sales),
            money(&row.actual_cost),
            money(&row.actual_profit)
        ],
        ["9000.00", "6000.00", "3000.00"]
    );
    assert_eq!(row.actual_margin_percent, "33.33");
}

/// A project of `owner`'s, made of a won opportunity `subject` (without amounts) that the
/// manager audited.
pub async fn won_project(app: &TestApp, owner: &str, subject: &str) -> pb::Project {
    let customer_id = customer(app, owner, &format!("{subject} Ltd")).await;
    let mut client = app.sales_as(owner).await;
    let mut boss = app.sales_as(MANAGER).await;
    let o = opportunity(
        &mut client,
        &customer_id,
        pb::Opportunity {
            subject: subject.into(),
            ..Default::default()
        },
    )
    .await;
    client
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: o.id.clone(),
            status: pb::OpportunityStatus::Won as i32,
            reason: String::new(),
        })
        .await
        .unwrap();
    boss.audit_opportunity(pb::AuditOpportunityRequest {
        id: o.id.clone(),
        audited: true,
    })
    .await
    .unwrap();
    client
        .create_project(pb::CreateProjectRequest {
            opportunity_id: o.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .project
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_without_actual_sales_has_an_empty_margin() {
    let app = spawn().await;
    let mut boss = app.sales_as(MANAGER).await;
    won_project(&app, "alice", "Free pilot").await;
    let analysis = boss
        .get_project_analysis(pb::GetProjectAnalysisRequest {
            group_by: pb::AnalysisGrouping::Salesperson as i32,
            period: None,
        })
        .await
        .unwrap()
        .into_inner();
    let total = analysis.total.unwrap();
    assert_eq!(total.actual_margin_percent, "");
    assert_eq!(total.expected.unwrap().expected_margin_percent, "");
}
