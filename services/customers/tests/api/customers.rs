//! Customers: create, get, list, search, pages, update with etags, history, delete, merge,
//! idempotent retries.

use crm_proto::customers as pb;
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::{assert_reason, company, create, list_all, spawn};

#[tokio::test]
async fn create_get_and_the_primary_contact() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut c = company("深圳市华强电子有限公司");
    c.short_name = "华强电子".into();
    c.level_code = "A".into();
    c.region = Some(pb::Region {
        country: "CN".into(),
        province: "广东".into(),
        city: "Shenzhen".into(),
        district: "福田".into(),
    });
    c.credit_limit = Some(crm_proto::common::Money {
        currency_code: "CNY".into(),
        amount: "50000.5".into(),
    });
    c.tags = vec!["vip".into(), "电子".into()];
    c.primary_contact = Some(pb::Contact {
        name: "李娜".into(),
        mobile: "13912345678".into(),
        ..Default::default()
    });
    let created = create(&mut alice, c).await;
    assert_eq!(created.owner_id, "alice");
    assert_eq!(created.etag, "v1");
    assert_eq!(created.credit_limit.as_ref().unwrap().amount, "50000.50");
    let contact = created.primary_contact.as_ref().expect("primary contact");
    assert!(contact.is_primary);
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: created.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got, created);
    assert_eq!(
        alice
            .get_customer(pb::GetCustomerRequest { id: "nope".into() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn fuzzy_search_finds_substrings_of_names_contacts_and_phones() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut a = company("深圳市腾飞科技有限公司");
    a.phone = "0755-8888 1234".into();
    a.primary_contact = Some(pb::Contact {
        name: "王小明".into(),
        mobile: "13800138000".into(),
        ..Default::default()
    });
    let a = create(&mut alice, a).await;
    let b = create(&mut alice, company("Global Widgets Trading Co")).await;
    create(&mut alice, company("北京华为技术有限公司")).await;

    let search = |q: &'static str| {
        let mut client = alice.clone();
        async move {
            list_all(&mut client, "", q, "", 50)
                .await
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("腾飞").await, vec![a.id.clone()]);
    assert_eq!(search("飞科技").await, vec![a.id.clone()]);
    assert_eq!(search("小明").await, vec![a.id.clone()]);
    assert_eq!(search("0013800").await, vec![a.id.clone()]);
    assert_eq!(search("88881234").await, vec![a.id.clone()]);
    assert_eq!(search("widgets trad").await, vec![b.id.clone()]);
    assert_eq!(search("GLOBAL   WIDGETS").await, vec![b.id.clone()]);
    assert_eq!(search("ｗｉｄｇｅｔｓ").await, vec![b.id.clone()]);
    assert!(search("腾飞华为").await.is_empty());
    assert_eq!(search("技").await.len(), 2);
}

#[tokio::test]
async fn keyset_pages_cover_every_row_once_in_order_with_filters() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    for i in 0..23 {
        let mut c = company(&format!("Customer {i:02}"));
        c.level_code = if i % 2 == 0 { "A".into() } else { "B".into() };
        c.region = Some(pb::Region {
            city: if i % 3 == 0 { "Shenzhen".into() } else { "Madrid".into() },
            ..Default::default()
        });
        create(&mut alice, c).await;
    }
    let all = list_all(&mut alice, "", "", "name", 5).await;
    let names: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 23);
    let desc = list_all(&mut alice, "", "", "name desc", 4).await;
    assert_eq!(desc.first().unwrap().name, "Customer 22");
    let filtered = list_all(
        &mut alice,
        r#"level_code = "A" AND (region.city = "Shenzhen" OR name : "01")"#,
        "",
        "create_time",
        2,
    )
    .await;
    // Even numbers that are multiples of 3: 0, 6, 12, 18.
    let got: Vec<String> = filtered.iter().map(|c| c.name.clone()).collect();
    assert_eq!(got, ["Customer 00", "Customer 06", "Customer 12", "Customer 18"]);
    let negated = list_all(&mut alice, r#"NOT level_code = "A""#, "", "", 50).await;
    assert_eq!(negated.len(), 11);
}

#[tokio::test]
async fn update_needs_the_current_etag_and_keeps_field_history() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Etag Test Ltd")).await;
    let mut edit = c.clone();
    edit.remark = "met at the fair".into();
    edit.level_code = "B".into();
    let updated = alice
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(edit.clone()),
            update_mask: Some(FieldMask {
                paths: vec!["remark".into(), "level_code".into()],
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(updated.remark, "met at the fair");
    assert_eq!(updated.etag, "v2");
    // The same edit with the old etag is ABORTED and changes nothing.
    edit.remark = "stale write".into();
    let status = alice
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(edit),
            update_mask: Some(FieldMask {
                paths: vec!["remark".into()],
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got.remark, "met at the fair");

    let changes = alice
        .list_customer_changes(pb::ListCustomerChangesRequest {
            customer_id: c.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    assert_eq!(changes[0].action, "update");
    assert_eq!(changes[0].changed_by, "alice");
    let fields: Vec<(String, String, String)> = changes[0]
        .fields
        .iter()
        .map(|f| (f.field.clone(), f.old_value.clone(), f.new_value.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            ("level_code".into(), String::new(), "B".into()),
            ("remark".into(), String::new(), "met at the fair".into())
        ]
    );
    assert_eq!(changes.last().unwrap().action, "create");
}

#[tokio::test]
async fn mass_assignment_of_server_owned_fields_is_refused() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Owner Field Ltd")).await;
    let mut edit = c.clone();
    edit.owner_id = "mallory".into();
    let status = crate::helpers::assert_field(
        alice
            .update_customer(pb::UpdateCustomerRequest {
                customer: Some(edit),
                update_mask: Some(FieldMask {
                    paths: vec!["owner_id".into()],
                }),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "update_mask.owner_id",
    );
    assert!(status.message().contains("set by the server"));
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: c.id })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got.owner_id, "alice");
}

#[tokio::test]
async fn retried_create_with_request_id_returns_the_first_result() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let req = pb::CreateCustomerRequest {
        customer: Some(company("Retry Safe Ltd")),
        request_id: "req-1".into(),
        ..Default::default()
    };
    let first = alice.create_customer(req.clone()).await.unwrap().into_inner();
    let second = alice.create_customer(req).await.unwrap().into_inner();
    assert_eq!(first, second);
    let other = pb::CreateCustomerRequest {
        customer: Some(company("Another Ltd")),
        request_id: "req-1".into(),
        ..Default::default()
    };
    assert_reason(
        alice.create_customer(other).await,
        Code::AlreadyExists,
        "REQUEST_ID_REUSED",
    );
    assert_eq!(list_all(&mut alice, "", "", "", 50).await.len(), 1);
}

#[tokio::test]
async fn delete_is_soft_and_guarded() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Soon Deleted Ltd")).await;
    let deleted = alice
        .delete_customer(pb::DeleteCustomerRequest {
            id: c.id.clone(),
            etag: c.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(deleted.customer.unwrap().delete_time.is_some());
    assert_eq!(
        alice
            .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let with_deleted = alice
        .list_customers(pb::ListCustomersRequest {
            show_deleted: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(with_deleted.len(), 1);
    // The name is free again.
    create(&mut alice, company("Soon Deleted Ltd")).await;

    // A customer with a receivable balance stays.
    let kept = create(&mut alice, company("Owes Money Ltd")).await;
    crate::helpers::set_balance(&app.database_url, &kept.id, 1_000_000).await;
    assert_reason(
        alice
            .delete_customer(pb::DeleteCustomerRequest {
                id: kept.id.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "RECEIVABLE_BALANCE_NOT_ZERO",
    );
}

#[tokio::test]
async fn merge_dry_run_then_merge_keeps_both_histories() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut a = company("Merge Survivor Ltd");
    a.primary_contact = Some(pb::Contact {
        name: "Ana".into(),
        ..Default::default()
    });
    let a = create(&mut alice, a).await;
    let mut b = company("Merge Victim Ltd");
    b.primary_contact = Some(pb::Contact {
        name: "Beto".into(),
        ..Default::default()
    });
    let b = create(&mut alice, b).await;
    alice
        .create_follow_up(pb::CreateFollowUpRequest {
            follow_up: Some(pb::FollowUp {
                customer_id: b.id.clone(),
                method: pb::FollowUpMethod::Phone as i32,
                summary: "called".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let dry = alice
        .merge_customers(pb::MergeCustomersRequest {
            survivor_id: a.id.clone(),
            merged_id: b.id.clone(),
            dry_run: true,
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((dry.contacts_moved, dry.follow_ups_moved), (1, 1));
    assert!(
        alice
            .get_customer(pb::GetCustomerRequest { id: b.id.clone() })
            .await
            .is_ok(),
        "dry run changes nothing"
    );
    let merged = alice
        .merge_customers(pb::MergeCustomersRequest {
            survivor_id: a.id.clone(),
            merged_id: b.id.clone(),
            dry_run: false,
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!merged.dry_run);
    assert_eq!(
        alice
            .get_customer(pb::GetCustomerRequest { id: b.id.clone() })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let contacts = alice
        .list_contacts(pb::ListContactsRequest {
            customer_id: a.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts.iter().filter(|c| c.is_primary).count(), 1);
    assert_eq!(contacts.iter().find(|c| c.is_primary).unwrap().name, "Ana");
    let follow_ups = alice
        .list_follow_ups(pb::ListFollowUpsRequest {
            customer_id: a.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(follow_ups.follow_ups.len(), 1);
    assert_eq!(follow_ups.follow_ups[0].author_id, "alice");
    let changes = alice
        .list_customer_changes(pb::ListCustomerChangesRequest {
            customer_id: a.id.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    assert!(changes.iter().any(|c| c.action == "merge"));
    assert_eq!(
        changes.iter().filter(|c| c.action == "create").count(),
        2,
        "both creation records kept"
    );
    // The merged contact's name is searchable on the survivor.
    assert_eq!(list_all(&mut alice, "", "Beto", "", 10).await.len(), 1);
}

#[tokio::test]
async fn search_follows_renames_and_contact_changes() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Old Name Trading")).await;
    let mut edit = c.clone();
    edit.name = "新名字贸易有限公司".into();
    alice
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(edit),
            update_mask: Some(FieldMask {
                paths: vec!["name".into()],
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    assert!(list_all(&mut alice, "", "Old Name", "", 10).await.is_empty());
    assert_eq!(list_all(&mut alice, "", "名字贸易", "", 10).await.len(), 1);
    let contact = alice
        .create_contact(pb::CreateContactRequest {
            contact: Some(pb::Contact {
                customer_id: c.id.clone(),
                name: "Zhao Lei".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap();
    assert_eq!(list_all(&mut alice, "", "zhaolei", "", 10).await.len(), 1);
    alice
        .delete_contact(pb::DeleteContactRequest { id: contact.id })
        .await
        .unwrap();
    assert!(list_all(&mut alice, "", "zhao lei", "", 10).await.is_empty());
    // A deleted customer leaves search.
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    alice
        .delete_customer(pb::DeleteCustomerRequest {
            id: c.id,
            etag: got.etag,
        })
        .await
        .unwrap();
    assert!(list_all(&mut alice, "", "名字贸易", "", 10).await.is_empty());
}
