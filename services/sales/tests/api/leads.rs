//! Leads: scope, the pool, assignment, status, bad input, and conversion through the customers
//! service (duplicate offered, never created twice; retries return the first result).

use crm_proto::customers as cpb;
use crm_proto::sales as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_are_scoped_pooled_claimed_and_assigned() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let mut bob = app.sales_as("bob").await;
    let mut boss = app.sales_as(MANAGER).await;

    let mine = create_lead(&mut alice, lead("Alice Prospect Ltd"), "").await;
    assert_eq!(mine.owner_id, "alice");
    assert_eq!(mine.status, pb::LeadStatus::New as i32);
    // Bob cannot see it; the manager can.
    let hidden = bob.get_lead(pb::GetLeadRequest { id: mine.id.clone() }).await;
    assert_eq!(hidden.unwrap_err().code(), Code::NotFound);
    boss.get_lead(pb::GetLeadRequest { id: mine.id.clone() })
        .await
        .expect("manager sees it");
    let listed = bob
        .list_leads(pb::ListLeadsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.leads.is_empty());

    // A pooled lead: anyone may see and claim it, once.
    let pooled = create_lead(&mut alice, lead("Pool Prospect Ltd"), "pool").await;
    assert_eq!(pooled.owner_id, "");
    let pool = bob
        .list_leads(pb::ListLeadsRequest {
            pool: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pool.leads.len(), 1);
    let claimed = bob
        .claim_lead(pb::ClaimLeadRequest { id: pooled.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    assert_eq!(claimed.owner_id, "bob");
    // Bob's now, so out of alice's sight.
    let taken = alice.claim_lead(pb::ClaimLeadRequest { id: pooled.id.clone() }).await;
    assert_eq!(taken.unwrap_err().code(), Code::NotFound);
    // Released, it is back in the pool.
    bob.release_lead(pb::ReleaseLeadRequest { id: pooled.id.clone() })
        .await
        .unwrap();
    let again = alice
        .claim_lead(pb::ClaimLeadRequest { id: pooled.id.clone() })
        .await
        .unwrap();
    assert_eq!(again.into_inner().lead.unwrap().owner_id, "alice");

    // Assigning needs the manager's permission; the manager may give it to bob.
    let denied = alice
        .assign_lead(pb::AssignLeadRequest {
            id: mine.id.clone(),
            owner_id: "bob".into(),
        })
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let assigned = boss
        .assign_lead(pb::AssignLeadRequest {
            id: mine.id.clone(),
            owner_id: "bob".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    assert_eq!(assigned.owner_id, "bob");
    assert_field(
        boss.assign_lead(pb::AssignLeadRequest {
            id: mine.id.clone(),
            owner_id: "nobody".into(),
        })
        .await,
        Code::InvalidArgument,
        "owner_id",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_leads_and_status_moves_are_refused_by_name() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let bad = alice
        .create_lead(pb::CreateLeadRequest {
            lead: Some(pb::Lead {
                company_name: " ".into(),
                email: "not-an-email".into(),
                mobile: "call me".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await;
    let status = assert_field(bad, Code::InvalidArgument, "lead.company_name");
    let fields: Vec<String> = tonic_types::StatusExt::get_details_bad_request(&status)
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert!(fields.contains(&"lead.email".to_string()), "{fields:?}");
    assert!(fields.contains(&"lead.mobile".to_string()), "{fields:?}");
    let listed = alice
        .list_leads(pb::ListLeadsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.leads.is_empty(), "a refused create stores nothing");

    let l = create_lead(&mut alice, lead("Status Ltd"), "").await;
    assert_field(
        alice
            .set_lead_status(pb::SetLeadStatusRequest {
                id: l.id.clone(),
                status: pb::LeadStatus::Disqualified as i32,
                reason: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "reason",
    );
    assert_field(
        alice
            .set_lead_status(pb::SetLeadStatusRequest {
                id: l.id.clone(),
                status: pb::LeadStatus::Converted as i32,
                reason: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "status",
    );
    // Converting an unqualified lead is refused.
    assert_reason(
        alice
            .convert_lead(pb::ConvertLeadRequest {
                id: l.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "LEAD_NOT_QUALIFIED",
    );
    // A filter naming an unknown field is refused by name.
    assert_field(
        alice
            .list_leads(pb::ListLeadsRequest {
                filter: "colour = \"red\"".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "filter",
    );
}

async fn qualified(client: &mut Sales, company: &str) -> pb::Lead {
    let l = create_lead(client, lead(company), "").await;
    client
        .set_lead_status(pb::SetLeadStatusRequest {
            id: l.id.clone(),
            status: pb::LeadStatus::Qualified as i32,
            reason: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap()
}

async fn customers_named(app: &TestApp, name: &str) -> Vec<cpb::Customer> {
    let mut boss = app.customers_as(MANAGER).await;
    boss.list_customers(cpb::ListCustomersRequest {
        query: name.into(),
        page_size: 50,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .customers
    .into_iter()
    .filter(|c| c.name == name)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversion_creates_customer_contact_and_opportunity_once() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let l = qualified(&mut alice, "Converted Trading Co").await;
    let convert = pb::ConvertLeadRequest {
        id: l.id.clone(),
        customer_id: String::new(),
        opportunity: Some(pb::Opportunity {
            subject: "First order".into(),
            expected_amount: cny("10000"),
            expected_cost: cny("6000"),
            ..Default::default()
        }),
        request_id: "convert-1".into(),
    };
    let first = alice.convert_lead(convert.clone()).await.expect("convert").into_inner();
    assert!(!first.customer_id.is_empty());
    assert!(!first.contact_id.is_empty());
    assert!(!first.existing_customer);
    let opportunity = first.opportunity.clone().expect("an opportunity");
    assert_eq!(opportunity.customer_id, first.customer_id);
    assert_eq!(opportunity.owner_id, "alice");
    assert_eq!(opportunity.lead_id, l.id);
    let lead_now = first.lead.clone().unwrap();
    assert_eq!(lead_now.status, pb::LeadStatus::Converted as i32);
    assert_eq!(lead_now.converted_customer_id, first.customer_id);
    assert_eq!(lead_now.converted_opportunity_id, opportunity.id);

    // The same request again: the same result, nothing new anywhere.
    let again = alice.convert_lead(convert.clone()).await.unwrap().into_inner();
    assert_eq!(again, first);
    // Another request id on a converted lead: what the conversion made.
    let other = alice
        .convert_lead(pb::ConvertLeadRequest {
            request_id: "convert-2".into(),
            ..convert.clone()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(other.customer_id, first.customer_id);
    assert_eq!(other.opportunity.map(|o| o.id), Some(opportunity.id.clone()));
    assert_eq!(customers_named(&app, "Converted Trading Co").await.len(), 1);
    let opportunities = alice
        .list_opportunities(pb::ListOpportunitiesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .opportunities;
    assert_eq!(opportunities.len(), 1);
    // The contact landed on the customer.
    let mut customers = app.customers_as("alice").await;
    let contacts = customers
        .list_contacts(cpb::ListContactsRequest {
            customer_id: first.customer_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].name, "Li Lei");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converting_a_lead_whose_company_exists_offers_it_and_never_duplicates() {
    let app = spawn().await;
    let mut alice_customers = app.customers_as("alice").await;
    let existing = alice_customers
        .create_customer(cpb::CreateCustomerRequest {
            customer: Some(cpb::Customer {
                kind: cpb::CustomerKind::Company as i32,
                name: "Existing Industries".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let mut alice = app.sales_as("alice").await;
    let l = qualified(&mut alice, "Existing Industries").await;
    let refused = alice
        .convert_lead(pb::ConvertLeadRequest {
            id: l.id.clone(),
            request_id: "c1".into(),
            ..Default::default()
        })
        .await;
    let status = assert_reason(refused, Code::AlreadyExists, "DUPLICATE_CUSTOMER");
    let info = tonic_types::StatusExt::get_details_error_info(&status).unwrap();
    assert_eq!(info.metadata.get("customer_id"), Some(&existing.id));
    assert_eq!(customers_named(&app, "Existing Industries").await.len(), 1);
    // The lead is untouched.
    let still = alice
        .get_lead(pb::GetLeadRequest { id: l.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    assert_eq!(still.status, pb::LeadStatus::Qualified as i32);

    // Converting onto the offered customer: its contact is added, no new customer.
    let onto = alice
        .convert_lead(pb::ConvertLeadRequest {
            id: l.id.clone(),
            customer_id: existing.id.clone(),
            request_id: "c2".into(),
            ..Default::default()
        })
        .await
        .expect("convert onto the existing customer")
        .into_inner();
    assert_eq!(onto.customer_id, existing.id);
    assert!(onto.existing_customer);
    assert!(onto.opportunity.is_none());
    assert_eq!(customers_named(&app, "Existing Industries").await.len(), 1);
    let retried = alice
        .convert_lead(pb::ConvertLeadRequest {
            id: l.id.clone(),
            customer_id: existing.id.clone(),
            request_id: "c2".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried, onto);
    // An unknown customer id is refused by name.
    let l2 = qualified(&mut alice, "Another Prospect").await;
    assert_field(
        alice
            .convert_lead(pb::ConvertLeadRequest {
                id: l2.id.clone(),
                customer_id: "no-such-customer".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "customer_id",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_move_a_new_lead_to_contacting_and_set_its_times() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let l = create_lead(&mut alice, lead("Follow Up Ltd"), "").await;
    assert_field(
        alice
            .create_lead_follow_up(pb::CreateLeadFollowUpRequest {
                follow_up: Some(pb::LeadFollowUp {
                    lead_id: l.id.clone(),
                    summary: String::new(),
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        "follow_up.summary",
    );
    let occur = prost_types::Timestamp {
        seconds: 1_790_000_000,
        nanos: 0,
    };
    let next = prost_types::Timestamp {
        seconds: 1_790_600_000,
        nanos: 0,
    };
    let done = alice
        .create_lead_follow_up(pb::CreateLeadFollowUpRequest {
            follow_up: Some(pb::LeadFollowUp {
                lead_id: l.id.clone(),
                method: pb::ActivityMethod::Phone as i32,
                occur_time: Some(occur),
                summary: "Called, interested".into(),
                next_contact_time: Some(next),
                next_plan: "Send brochure".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let after = done.lead.unwrap();
    assert_eq!(after.status, pb::LeadStatus::Contacting as i32);
    assert_eq!(after.last_follow_up_time, Some(occur));
    assert_eq!(after.next_follow_up_time, Some(next));
    assert_eq!(done.follow_up.unwrap().author_id, "alice");
    let listed = alice
        .list_lead_follow_ups(pb::ListLeadFollowUpsRequest { lead_id: l.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .follow_ups;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].next_plan, "Send brochure");
    // The leads due by a time: this one (next follow-up set), not one without a next follow-up.
    create_lead(&mut alice, lead("Not Followed Ltd"), "").await;
    let due = |before: &str| pb::ListLeadsRequest {
        filter: format!("next_follow_up_time < \"{before}\""),
        ..Default::default()
    };
    let listed = alice
        .list_leads(due("2026-12-31T00:00:00Z"))
        .await
        .unwrap()
        .into_inner()
        .leads;
    assert_eq!(
        listed.iter().map(|l| l.company_name.as_str()).collect::<Vec<_>>(),
        ["Follow Up Ltd"]
    );
    let listed = alice
        .list_leads(due("2026-09-01T00:00:00Z"))
        .await
        .unwrap()
        .into_inner()
        .leads;
    assert!(listed.is_empty(), "the follow-up is due later: {listed:?}");
    // Bob cannot add to alice's lead.
    let mut bob = app.sales_as("bob").await;
    let refused = bob
        .create_lead_follow_up(pb::CreateLeadFollowUpRequest {
            follow_up: Some(pb::LeadFollowUp {
                lead_id: l.id.clone(),
                method: pb::ActivityMethod::Email as i32,
                summary: "hi".into(),
                ..Default::default()
            }),
        })
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_phones_are_read_as_the_customers_service_reads_them() {
    let app = spawn().await;
    let mut alice = app.sales_as("alice").await;
    let typed = pb::Lead {
        mobile: "１３６ ００１１ ２２３３".into(),
        phone: "（0755）2666 8888".into(),
        ..lead("Typed Phones Ltd")
    };
    let l = create_lead(&mut alice, typed, "").await;
    assert_eq!(
        (l.mobile.as_str(), l.phone.as_str()),
        ("１３６ ００１１ ２２３３", "（0755）2666 8888")
    );
    // A landline is no mobile, here as in the customers service.
    let status = assert_field(
        alice
            .create_lead(pb::CreateLeadRequest {
                lead: Some(pb::Lead {
                    mobile: "010 6552 9988".into(),
                    ..lead("Landline Ltd")
                }),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "lead.mobile",
    );
    assert!(status.message().contains("not a mobile"), "{status:?}");

    alice
        .set_lead_status(pb::SetLeadStatusRequest {
            id: l.id.clone(),
            status: pb::LeadStatus::Qualified as i32,
            reason: String::new(),
        })
        .await
        .unwrap();
    let converted = alice
        .convert_lead(pb::ConvertLeadRequest {
            id: l.id.clone(),
            ..Default::default()
        })
        .await
        .expect("a lead with typed phones converts")
        .into_inner();
    let mut customers = app.customers_as("alice").await;
    let contacts = customers
        .list_contacts(cpb::ListContactsRequest {
            customer_id: converted.customer_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(contacts[0].mobile, "１３６ ００１１ ２２３３");
    assert_eq!(contacts[0].normalized_mobile, "+8613600112233");
}
