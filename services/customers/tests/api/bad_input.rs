//! Bad input: every refusal names the field and the rule, and changes nothing.

use crm_proto::customers as pb;
use prost_types::FieldMask;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::helpers::{assert_field, assert_reason, company, create, list_all, spawn};

#[tokio::test]
async fn create_customer_refuses_bad_fields_all_at_once_and_stores_nothing() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let cases: Vec<(pb::Customer, &str, &str)> = vec![
        (company(""), "customer.name", "REQUIRED"),
        (company("   "), "customer.name", "REQUIRED"),
        (company(&"长".repeat(201)), "customer.name", "TOO_LONG"),
        (
            pb::Customer {
                kind: 0,
                ..company("No Kind")
            },
            "customer.kind",
            "REQUIRED",
        ),
        (
            pb::Customer {
                kind: 42,
                ..company("Bad Kind")
            },
            "customer.kind",
            "UNKNOWN_ENUM_VALUE",
        ),
        (
            pb::Customer {
                status: 42,
                ..company("Bad Status")
            },
            "customer.status",
            "UNKNOWN_ENUM_VALUE",
        ),
        (
            pb::Customer {
                gender: 9,
                ..company("Bad Gender")
            },
            "customer.gender",
            "UNKNOWN_ENUM_VALUE",
        ),
        (
            pb::Customer {
                phone: "call me".into(),
                ..company("Bad Phone")
            },
            "customer.phone",
            "MALFORMED",
        ),
        (
            pb::Customer {
                mobile: "12345".into(),
                ..company("Bad Mobile")
            },
            "customer.mobile",
            "MALFORMED",
        ),
        (
            pb::Customer {
                email: "a@b".into(),
                ..company("Bad Email")
            },
            "customer.email",
            "MALFORMED",
        ),
        (
            pb::Customer {
                tax_id: "91350100M000100Y44".into(),
                ..company("Bad Check Char")
            },
            "customer.tax_id",
            "MALFORMED",
        ),
        (
            pb::Customer {
                tax_id: "!!".into(),
                ..company("Bad Tax")
            },
            "customer.tax_id",
            "MALFORMED",
        ),
        (
            pb::Customer {
                birthday: "2023-02-30".into(),
                ..company("Bad Date")
            },
            "customer.birthday",
            "MALFORMED",
        ),
        (
            pb::Customer {
                level_code: "Z".into(),
                ..company("Bad Level")
            },
            "customer.level_code",
            "UNKNOWN_CODE",
        ),
        (
            pb::Customer {
                industry_code: "mining".into(),
                ..company("Bad Industry")
            },
            "customer.industry_code",
            "UNKNOWN_CODE",
        ),
        (
            pb::Customer {
                category_id: "no-such-category".into(),
                ..company("Bad Category")
            },
            "customer.category_id",
            "UNKNOWN_CATEGORY",
        ),
        (
            pb::Customer {
                credit_limit: Some(crm_proto::common::Money {
                    currency_code: "CNY".into(),
                    amount: "1.23456".into(),
                }),
                ..company("Bad Money")
            },
            "customer.credit_limit",
            "MALFORMED",
        ),
        (
            pb::Customer {
                credit_limit: Some(crm_proto::common::Money {
                    currency_code: "XXQ".into(),
                    amount: "1".into(),
                }),
                ..company("Bad Currency")
            },
            "customer.credit_limit",
            "MALFORMED",
        ),
        (
            pb::Customer {
                credit_limit: Some(crm_proto::common::Money {
                    currency_code: "CNY".into(),
                    amount: "-5".into(),
                }),
                ..company("Negative")
            },
            "customer.credit_limit",
            "NEGATIVE",
        ),
        (
            pb::Customer {
                tags: vec!["".into()],
                ..company("Empty Tag")
            },
            "customer.tags[0]",
            "REQUIRED",
        ),
        (
            pb::Customer {
                custom_fields: [("bad key".to_string(), "v".to_string())].into(),
                ..company("Bad Custom")
            },
            "customer.custom_fields[bad key]",
            "MALFORMED",
        ),
    ];
    for (customer, field, reason) in cases {
        let status = assert_field(
            alice
                .create_customer(pb::CreateCustomerRequest {
                    customer: Some(customer.clone()),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
            field,
        );
        let bad = tonic_types::StatusExt::get_details_bad_request(&status).unwrap();
        let v = bad.field_violations.iter().find(|v| v.field == field).unwrap();
        assert_eq!(v.reason, reason, "{field}: {v:?}");
        assert!(!v.description.is_empty());
    }
    // Several problems are reported together.
    let status = alice
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(pb::Customer {
                email: "x".into(),
                phone: "y".into(),
                ..company("")
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let bad = tonic_types::StatusExt::get_details_bad_request(&status).unwrap();
    assert_eq!(bad.field_violations.len(), 3, "{bad:?}");
    assert!(
        list_all(&mut alice, "", "", "", 50).await.is_empty(),
        "nothing was stored"
    );
    assert_field(
        alice.create_customer(pb::CreateCustomerRequest::default()).await,
        Code::InvalidArgument,
        "customer",
    );
}

#[tokio::test]
async fn list_refuses_bad_tokens_filters_orders_and_sizes() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    for i in 0..3 {
        create(&mut alice, company(&format!("Listed {i}"))).await;
    }
    let list = |filter: &str, order_by: &str, page_token: &str, page_size: i32| pb::ListCustomersRequest {
        page_size,
        page_token: page_token.into(),
        filter: filter.into(),
        order_by: order_by.into(),
        query: String::new(),
        show_deleted: false,
    };
    assert_reason(
        alice.list_customers(list("colour = \"red\"", "", "", 0)).await,
        Code::InvalidArgument,
        "UNKNOWN_FIELD",
    );
    let status = assert_reason(
        alice.list_customers(list("name > \"a\"", "", "", 0)).await,
        Code::InvalidArgument,
        "TYPE_MISMATCH",
    );
    assert!(status.message().contains("name"), "{}", status.message());
    assert_reason(
        alice
            .list_customers(list("create_time > \"yesterday\"", "", "", 0))
            .await,
        Code::InvalidArgument,
        "INVALID_VALUE",
    );
    assert_reason(
        alice.list_customers(list("name = ", "", "", 0)).await,
        Code::InvalidArgument,
        "FILTER_SYNTAX",
    );
    assert_reason(
        alice.list_customers(list("(name = \"a\"", "", "", 0)).await,
        Code::InvalidArgument,
        "FILTER_SYNTAX",
    );
    assert_field(
        alice.list_customers(list("", "colour", "", 0)).await,
        Code::InvalidArgument,
        "order_by",
    );
    assert_field(
        alice.list_customers(list("", "name sideways", "", 0)).await,
        Code::InvalidArgument,
        "order_by",
    );
    assert_field(
        alice.list_customers(list("", "", "", -1)).await,
        Code::InvalidArgument,
        "page_size",
    );
    assert_field(
        alice.list_customers(list("", "", "garbage!!", 0)).await,
        Code::InvalidArgument,
        "page_token",
    );
    // A real token, edited, or used with another query, is refused.
    let page = alice
        .list_customers(list("", "name", "", 1))
        .await
        .unwrap()
        .into_inner();
    let mut token = page.next_page_token.clone();
    let last = token.pop().unwrap();
    token.push(if last == 'A' { 'B' } else { 'A' });
    assert_field(
        alice.list_customers(list("", "name", &token, 1)).await,
        Code::InvalidArgument,
        "page_token",
    );
    assert_field(
        alice
            .list_customers(list("", "create_time", &page.next_page_token, 1))
            .await,
        Code::InvalidArgument,
        "page_token",
    );
    // A page size over the maximum is coerced down.
    assert_eq!(
        alice
            .list_customers(list("", "", "", 100_000))
            .await
            .unwrap()
            .into_inner()
            .customers
            .len(),
        3
    );
}

#[tokio::test]
async fn updates_and_commands_refuse_bad_input_without_changing_anything() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Unchanged Ltd")).await;
    let update = |customer: pb::Customer, paths: &[&str]| pb::UpdateCustomerRequest {
        customer: Some(customer),
        update_mask: Some(FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }),
        request_id: String::new(),
    };
    assert_field(
        alice.update_customer(update(c.clone(), &[])).await,
        Code::InvalidArgument,
        "update_mask",
    );
    assert_field(
        alice.update_customer(update(c.clone(), &["colour"])).await,
        Code::InvalidArgument,
        "update_mask.colour",
    );
    // Mass assignment: server-owned fields are refused by name, with the rest of the mask.
    for owned in ["owner_id", "owned_since", "collaborator_ids", "etag", "audit"] {
        let status = assert_field(
            alice
                .update_customer(update(
                    pb::Customer {
                        owner_id: "mallory".into(),
                        remark: "changed".into(),
                        ..c.clone()
                    },
                    &["remark", owned],
                ))
                .await,
            Code::InvalidArgument,
            &format!("update_mask.{owned}"),
        );
        let bad = status.get_details_bad_request().unwrap();
        assert!(
            bad.field_violations.iter().any(|v| v.reason == "SERVER_OWNED"),
            "{owned}: {bad:?}"
        );
    }
    assert_field(
        alice
            .update_customer(update(
                pb::Customer {
                    etag: String::new(),
                    ..c.clone()
                },
                &["remark"],
            ))
            .await,
        Code::InvalidArgument,
        "customer.etag",
    );
    assert_field(
        alice
            .update_customer(update(
                pb::Customer {
                    name: String::new(),
                    ..c.clone()
                },
                &["name"],
            ))
            .await,
        Code::InvalidArgument,
        "customer.name",
    );
    assert_field(
        alice
            .update_customer(update(
                pb::Customer {
                    email: "@".into(),
                    ..c.clone()
                },
                &["email"],
            ))
            .await,
        Code::InvalidArgument,
        "customer.email",
    );
    assert_eq!(
        alice
            .update_customer(update(
                pb::Customer {
                    etag: "v9".into(),
                    remark: "x".into(),
                    ..c.clone()
                },
                &["remark"]
            ))
            .await
            .unwrap_err()
            .code(),
        Code::Aborted
    );
    let other = create(&mut alice, company("Taken Name Ltd")).await;
    let status = alice
        .update_customer(update(
            pb::Customer {
                name: "taken name".into(),
                ..c.clone()
            },
            &["name"],
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().contains(&other.id));
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: c.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got, c, "nothing changed");

    assert_field(
        alice.get_customer(pb::GetCustomerRequest { id: String::new() }).await,
        Code::InvalidArgument,
        "id",
    );
    assert_field(
        alice.check_duplicates(pb::CheckDuplicatesRequest::default()).await,
        Code::InvalidArgument,
        "name",
    );
    assert_field(
        alice
            .check_duplicates(pb::CheckDuplicatesRequest {
                email: "nope".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "email",
    );
    assert_field(
        alice
            .check_duplicates(pb::CheckDuplicatesRequest {
                name: "x".into(),
                max_close_matches: 99,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "max_close_matches",
    );
    assert_field(
        alice
            .release_customer(pb::ReleaseCustomerRequest {
                id: c.id.clone(),
                note: String::new(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "note",
    );
    assert_field(
        alice
            .transfer_customer(pb::TransferCustomerRequest {
                id: c.id.clone(),
                to_owner_id: "a b".into(),
                note: "x".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "to_owner_id",
    );
    assert_reason(
        alice
            .claim_customer(pb::ClaimCustomerRequest {
                id: c.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "NOT_IN_POOL",
    );
    assert_field(
        alice
            .share_customer(pb::ShareCustomerRequest {
                id: c.id.clone(),
                collaborator_ids: vec!["".into()],
            })
            .await,
        Code::InvalidArgument,
        "collaborator_ids[0]",
    );
    assert_field(
        alice
            .merge_customers(pb::MergeCustomersRequest {
                survivor_id: c.id.clone(),
                merged_id: c.id.clone(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "merged_id",
    );
    assert_field(
        alice
            .list_reclaim_candidates(pb::ListReclaimCandidatesRequest {
                within_days: 1000,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "within_days",
    );
    assert_field(
        alice
            .list_reminders(pb::ListRemindersRequest {
                kind: 0,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "kind",
    );
    assert_field(
        alice
            .list_reminders(pb::ListRemindersRequest {
                kind: 77,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "kind",
    );
    assert_field(
        alice
            .list_reminders(pb::ListRemindersRequest {
                kind: 4,
                days: -1,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "days",
    );
    assert_field(
        alice
            .create_follow_up(pb::CreateFollowUpRequest {
                follow_up: Some(pb::FollowUp {
                    customer_id: c.id.clone(),
                    method: 0,
                    summary: String::new(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "follow_up.method",
    );
    assert_field(
        alice
            .create_follow_up(pb::CreateFollowUpRequest {
                follow_up: Some(pb::FollowUp {
                    customer_id: c.id.clone(),
                    method: 1,
                    summary: String::new(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "follow_up.summary",
    );
    let mut manager = app.manager().await;
    assert_field(
        manager
            .update_pool_policy(pb::UpdatePoolPolicyRequest {
                policy: Some(pb::PoolPolicy {
                    total_owned_cap: -1,
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        "policy.total_owned_cap",
    );
    assert_field(
        manager
            .create_dictionary_entry(pb::CreateDictionaryEntryRequest {
                entry: Some(pb::DictionaryEntry {
                    dictionary: "level".into(),
                    code: "bad code!".into(),
                    display_name: "x".into(),
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        "entry.code",
    );
    assert_field(
        manager
            .create_category(pb::CreateCategoryRequest {
                category: Some(pb::Category {
                    name: String::new(),
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        "category.name",
    );
    let history = alice
        .list_customer_changes(pb::ListCustomerChangesRequest {
            customer_id: c.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    assert_eq!(history.len(), 1, "only the creation is recorded: {history:?}");
}

/// Mass assignment on the other editable resources: a mask naming a server-owned field is
/// refused by name (SERVER_OWNED), and nothing changes, even when the rest of the mask is fine.
#[tokio::test]
async fn contacts_categories_and_entries_refuse_server_owned_fields() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut manager = app.manager().await;
    let refused = |status: Status, field: &str| {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let bad = status.get_details_bad_request().expect("BadRequest");
        assert!(
            bad.field_violations
                .iter()
                .any(|v| v.field == format!("update_mask.{field}") && v.reason == "SERVER_OWNED"),
            "{field}: {bad:?}"
        );
    };
    let mask = |paths: &[&str]| {
        Some(FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        })
    };

    // Contacts: id, customer_id, audit and etag are the server's.
    let c = create(&mut alice, company("Contact Owner Ltd")).await;
    let other = create(&mut alice, company("Other Owner Ltd")).await;
    let contact = alice
        .create_contact(pb::CreateContactRequest {
            contact: Some(pb::Contact {
                customer_id: c.id.clone(),
                name: "Wang Fang".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap();
    for owned in ["customer_id", "id", "audit", "etag"] {
        let status = alice
            .update_contact(pb::UpdateContactRequest {
                contact: Some(pb::Contact {
                    customer_id: other.id.clone(),
                    title: "Moved".into(),
                    ..contact.clone()
                }),
                update_mask: mask(&["title", owned]),
            })
            .await
            .unwrap_err();
        refused(status, owned);
    }
    let after = alice
        .get_contact(pb::GetContactRequest { id: contact.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap();
    assert_eq!(after, contact, "a refused update changes nothing");

    // Categories: id, the counts and the etag are the server's.
    let category = manager
        .create_category(pb::CreateCategoryRequest {
            category: Some(pb::Category {
                name: "Retail".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .category
        .unwrap();
    for owned in ["id", "customer_count", "child_count", "etag"] {
        let status = manager
            .update_category(pb::UpdateCategoryRequest {
                category: Some(pb::Category {
                    name: "Renamed".into(),
                    customer_count: 99,
                    ..category.clone()
                }),
                update_mask: mask(&["name", owned]),
            })
            .await
            .unwrap_err();
        refused(status, owned);
    }
    let categories = manager
        .list_categories(pb::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories;
    assert_eq!(
        categories.iter().find(|x| x.id == category.id),
        Some(&category),
        "a refused update changes nothing"
    );

    // Dictionary entries: the dictionary and the code are the entry's identity.
    let entry = manager
        .create_dictionary_entry(pb::CreateDictionaryEntryRequest {
            entry: Some(pb::DictionaryEntry {
                dictionary: "industry".into(),
                code: "robotics".into(),
                display_name: "Robotics".into(),
                enabled: true,
                sort_order: 3,
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    for owned in ["code", "dictionary"] {
        let status = manager
            .update_dictionary_entry(pb::UpdateDictionaryEntryRequest {
                entry: Some(pb::DictionaryEntry {
                    display_name: "Robots".into(),
                    ..entry.clone()
                }),
                update_mask: mask(&["display_name", owned]),
            })
            .await
            .unwrap_err();
        refused(status, owned);
    }
    let entries = manager
        .list_dictionary_entries(pb::ListDictionaryEntriesRequest {
            dictionary: "industry".into(),
            include_disabled: true,
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(entries.iter().find(|e| e.code == "robotics"), Some(&entry));
}
