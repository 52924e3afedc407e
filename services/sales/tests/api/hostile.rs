//! Hostile input: control characters in names and filter values, filter values that once
//! panicked the parser, and huge lists are INVALID_ARGUMENT naming the field, on SQLite and
//! PostgreSQL alike (PostgreSQL once answered INTERNAL for a NUL it cannot store).

use crm_proto::sales as pb;
use tonic::Code;

use crate::helpers::{MANAGER, assert_field, lead, spawn};

#[tokio::test]
async fn control_characters_in_lead_names_are_invalid_argument() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let create = |l: pb::Lead| pb::CreateLeadRequest {
        lead: Some(l),
        ..Default::default()
    };
    for (l, field) in [
        (lead("Nul\0 Trading"), "lead.company_name"),
        (
            pb::Lead {
                contact_name: "Li\0Lei".into(),
                ..lead("Contact Nul Ltd")
            },
            "lead.contact_name",
        ),
        (
            pb::Lead {
                title: "Boss\u{1b}[31m".into(),
                ..lead("Escape Ltd")
            },
            "lead.title",
        ),
        (
            pb::Lead {
                email: "a\0@b.example".into(),
                ..lead("Mail Nul Ltd")
            },
            "lead.email",
        ),
        (
            pb::Lead {
                remark: "note\0".into(),
                ..lead("Remark Nul Ltd")
            },
            "lead.remark",
        ),
    ] {
        let status = assert_field(alice.create_lead(create(l)).await, Code::InvalidArgument, field);
        assert!(status.message().contains("control characters"), "{field}: {status:?}");
    }
    // A remark keeps its line breaks.
    let kept = alice
        .create_lead(create(pb::Lead {
            remark: "first\nsecond\tthird".into(),
            ..lead("Lines Ltd")
        }))
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    assert_eq!(kept.remark, "first\nsecond\tthird");
}

#[tokio::test]
async fn bad_filter_values_are_invalid_argument_naming_the_filter() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    for filter in [r#"create_time > "2026-01-02T00:00:中""#, "company_name = \"a\0\""] {
        assert_field(
            alice
                .list_leads(pb::ListLeadsRequest {
                    filter: filter.into(),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
            "filter",
        );
    }
}

#[tokio::test]
async fn huge_assignee_lists_are_refused_by_their_count() {
    let app = spawn().await;
    let mut boss = app.sales_as(MANAGER).await;
    let assignees: Vec<pb::Assignee> = (0..200_000)
        .map(|i| pb::Assignee {
            employee_id: format!("e{i}"),
            ..Default::default()
        })
        .collect();
    let status = assert_field(
        boss.update_assignment_rules(pb::UpdateAssignmentRulesRequest {
            rules: Some(pb::AssignmentRules {
                enabled: true,
                mode: pb::AssignmentMode::RoundRobin as i32,
                assignees,
            }),
        })
        .await,
        Code::InvalidArgument,
        "rules.assignees",
    );
    assert!(status.message().contains("at most"), "{status:?}");
    let provinces: Vec<String> = (0..200_000).map(|i| format!("p{i}")).collect();
    assert_field(
        boss.update_assignment_rules(pb::UpdateAssignmentRulesRequest {
            rules: Some(pb::AssignmentRules {
                enabled: true,
                mode: pb::AssignmentMode::ByRegion as i32,
                assignees: vec![pb::Assignee {
                    employee_id: "alice".into(),
                    provinces,
                    ..Default::default()
                }],
            }),
        })
        .await,
        Code::InvalidArgument,
        "rules.assignees[0].provinces",
    );
}
