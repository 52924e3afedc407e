//! Web-form capture (public, by form key), the assignment rules (round robin, by region,
//! capacity, never a leaver), and the lead conversion report.

use std::time::{Duration, Instant};

use crm_proto::identity as ipb;
use crm_proto::sales as pb;
use crm_proto::sales::sales_service_client::SalesServiceClient;
use tonic::Code;

use crate::helpers::*;

fn capture(key: &str, company: &str, province: &str) -> pb::CaptureLeadRequest {
    pb::CaptureLeadRequest {
        form_key: key.into(),
        company_name: company.into(),
        contact_name: "Visitor".into(),
        email: "visitor@example.com".into(),
        province: province.into(),
        message: "Please call me".into(),
        ..Default::default()
    }
}

async fn owner_of(boss: &mut Sales, company: &str) -> String {
    let found = boss
        .list_leads(pb::ListLeadsRequest {
            filter: format!("company_name = \"{company}\""),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .leads;
    if let Some(l) = found.first() {
        return l.owner_id.clone();
    }
    let pooled = boss
        .list_leads(pb::ListLeadsRequest {
            filter: format!("company_name = \"{company}\""),
            pool: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .leads;
    assert_eq!(pooled.len(), 1, "{company} was captured");
    String::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_forms_capture_without_sign_in_and_the_rules_hand_leads_out() {
    let app = spawn().await;
    let mut boss = app.sales_as(MANAGER).await;
    let form = boss
        .create_web_form(pb::CreateWebFormRequest {
            web_form: Some(pb::WebForm {
                name: "Contact us".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .web_form
        .unwrap();
    assert!(form.active && form.key.len() >= 32);
    // A salesperson may not manage forms.
    let mut alice = app.sales_as("alice").await;
    assert_eq!(
        alice
            .list_web_forms(pb::ListWebFormsRequest {})
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    let mut public = SalesServiceClient::connect(app.sales.endpoint()).await.unwrap();
    assert_field(
        public.capture_lead(capture("wrong-key", "Nobody Ltd", "")).await,
        Code::InvalidArgument,
        "form_key",
    );
    assert_field(
        public.capture_lead(capture(&form.key, "", "")).await,
        Code::InvalidArgument,
        "company_name",
    );
    // Without rules the lead waits in the pool.
    assert!(
        public
            .capture_lead(capture(&form.key, "Pooled Visitor Ltd", ""))
            .await
            .unwrap()
            .into_inner()
            .accepted
    );
    assert_eq!(owner_of(&mut boss, "Pooled Visitor Ltd").await, "");

    // Round robin between alice and bob.
    let rules = |mode: pb::AssignmentMode, assignees: Vec<pb::Assignee>| pb::UpdateAssignmentRulesRequest {
        rules: Some(pb::AssignmentRules {
            enabled: true,
            mode: mode as i32,
            assignees,
        }),
    };
    let assignee = |id: &str, provinces: &[&str], capacity: i32| pb::Assignee {
        employee_id: id.into(),
        provinces: provinces.iter().map(|p| (*p).to_string()).collect(),
        capacity,
        sources: Vec::new(),
    };
    boss.update_assignment_rules(rules(
        pb::AssignmentMode::RoundRobin,
        vec![assignee("alice", &[], 0), assignee("bob", &[], 0)],
    ))
    .await
    .unwrap();
    for company in ["RR One", "RR Two", "RR Three"] {
        public.capture_lead(capture(&form.key, company, "")).await.unwrap();
    }
    assert_eq!(owner_of(&mut boss, "RR One").await, "alice");
    assert_eq!(owner_of(&mut boss, "RR Two").await, "bob");
    assert_eq!(owner_of(&mut boss, "RR Three").await, "alice");
    // A deactivated employee cannot be an assignee.
    assert_field(
        boss.update_assignment_rules(rules(pb::AssignmentMode::RoundRobin, vec![assignee("ghost", &[], 0)]))
            .await,
        Code::InvalidArgument,
        "rules.assignees[0].employee_id",
    );

    // By region, with capacity: alice covers 广东 but already holds 2 open leads (capacity 2).
    boss.update_assignment_rules(rules(
        pb::AssignmentMode::ByRegion,
        vec![assignee("alice", &["广东"], 2), assignee("bob", &["浙江", "广东"], 0)],
    ))
    .await
    .unwrap();
    public
        .capture_lead(capture(&form.key, "Region East", "浙江"))
        .await
        .unwrap();
    public
        .capture_lead(capture(&form.key, "Region South", "广东"))
        .await
        .unwrap();
    public
        .capture_lead(capture(&form.key, "Region North", "北京"))
        .await
        .unwrap();
    assert_eq!(owner_of(&mut boss, "Region East").await, "bob");
    assert_eq!(owner_of(&mut boss, "Region South").await, "bob", "alice is at capacity");
    assert_eq!(owner_of(&mut boss, "Region North").await, "", "nobody covers 北京");

    // A leaver drops out of the rules as soon as identity's event arrives.
    let mut admin = app.identity.client(&app.identity.token("test-admin", "admin")).await;
    admin
        .deactivate_employee(ipb::DeactivateEmployeeRequest {
            id: "bob".into(),
            successor_id: "alice".into(),
            dry_run: false,
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = boss
            .get_assignment_rules(pb::GetAssignmentRulesRequest {})
            .await
            .unwrap()
            .into_inner()
            .rules
            .unwrap();
        if now.assignees.iter().all(|a| a.employee_id != "bob") {
            break;
        }
        assert!(Instant::now() < deadline, "bob left the rules");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let forms = boss
        .list_web_forms(pb::ListWebFormsRequest {})
        .await
        .unwrap()
        .into_inner()
        .web_forms;
    assert_eq!(forms[0].captured, 7);
    // A switched-off form captures nothing.
    boss.set_web_form_active(pb::SetWebFormActiveRequest {
        id: form.id.clone(),
        active: false,
    })
    .await
    .unwrap();
    assert_field(
        public.capture_lead(capture(&form.key, "Too Late Ltd", "")).await,
        Code::InvalidArgument,
        "form_key",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_conversion_per_salesperson_and_source_with_empty_rates() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let mut bob = app.sales_as("bob").await;
    let a = create_lead(&mut alice, lead("Conv A Ltd"), "").await;
    let b = create_lead(&mut alice, lead("Conv B Ltd"), "").await;
    create_lead(&mut bob, lead("Conv C Ltd"), "").await;
    alice
        .set_lead_status(pb::SetLeadStatusRequest {
            id: a.id.clone(),
            status: pb::LeadStatus::Qualified as i32,
            reason: String::new(),
        })
        .await
        .unwrap();
    alice
        .convert_lead(pb::ConvertLeadRequest {
            id: a.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    alice
        .set_lead_status(pb::SetLeadStatusRequest {
            id: b.id.clone(),
            status: pb::LeadStatus::Disqualified as i32,
            reason: "no budget".into(),
        })
        .await
        .unwrap();

    let mut boss = app.sales_as(MANAGER).await;
    let by_person = boss
        .get_lead_conversion(pb::GetLeadConversionRequest {
            group_by: pb::LeadGrouping::Salesperson as i32,
            period: None,
        })
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<(&str, i64, i64, i64, &str)> = by_person
        .rows
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.leads,
                r.converted,
                r.disqualified,
                r.conversion_percent.as_str(),
            )
        })
        .collect();
    assert_eq!(rows, [("alice", 2, 1, 1, "50"), ("bob", 1, 0, 0, "0")]);
    let total = by_person.total.unwrap();
    assert_eq!(
        (total.leads, total.converted, total.conversion_percent.as_str()),
        (3, 1, "33.33")
    );
    let by_source = boss
        .get_lead_conversion(pb::GetLeadConversionRequest {
            group_by: pb::LeadGrouping::Source as i32,
            period: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_source.rows.len(), 1);
    assert_eq!(by_source.rows[0].key, "LEAD_SOURCE_REFERRAL");
    // Bob sees his own only.
    let own = bob
        .get_lead_conversion(pb::GetLeadConversionRequest {
            group_by: pb::LeadGrouping::Salesperson as i32,
            period: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.rows.len(), 1);
    // No leads in the period: no rows and an empty rate, not a division by zero.
    let empty = boss
        .get_lead_conversion(pb::GetLeadConversionRequest {
            group_by: pb::LeadGrouping::Salesperson as i32,
            period: Some(pb::DateRange {
                from_date: "2001-01-01".into(),
                to_date: "2001-01-31".into(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(empty.rows.is_empty());
    assert_eq!(empty.total.unwrap().conversion_percent, "");
}
