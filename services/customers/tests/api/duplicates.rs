//! Duplicate prevention (防撞单): normalised names, tax ids, mobiles, and close matches.

use crm_proto::customers as pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{company, create, list_all, spawn};

#[tokio::test]
async fn chinese_legal_suffix_is_a_duplicate_with_the_owner_in_details() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut bob = app.sales("bob").await;
    let first = create(&mut alice, company("深圳市腾飞科技有限公司")).await;

    let status = bob
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(company("深圳市腾飞科技")),
            ..Default::default()
        })
        .await
        .expect_err("duplicate refused");
    assert_eq!(status.code(), Code::AlreadyExists);
    let info = status.get_details_error_info().expect("error info");
    assert_eq!(info.reason, "DUPLICATE_CUSTOMER");
    assert_eq!(info.metadata["customer_id"], first.id);
    assert_eq!(info.metadata["owner_id"], "alice");
    assert_eq!(info.metadata["in_pool"], "false");
    assert!(!info.metadata["owned_since"].is_empty());
    let resource = status.get_details_resource_info().expect("resource info");
    assert_eq!(resource.owner, "alice");
    assert!(status.message().contains("alice"), "{}", status.message());

    // Nothing was created by the refused call.
    let mut manager = app.manager().await;
    assert_eq!(list_all(&mut manager, "", "", "", 50).await.len(), 1);

    // A close, not equal, name is no duplicate but shows as a close match.
    let check = bob
        .check_duplicates(pb::CheckDuplicatesRequest {
            name: "深圳腾飞科技".into(),
            ..Default::default()
        })
        .await
        .expect("check")
        .into_inner();
    assert!(check.exact_matches.is_empty(), "{check:?}");
    let close = check.close_matches.first().expect("a close match");
    assert_eq!(close.customer_id, first.id);
    assert_eq!(close.owner_id, "alice");
    assert!(close.similarity >= 0.5 && close.similarity < 1.0, "{close:?}");
    assert_eq!(close.kind, pb::DuplicateMatchKind::SimilarName as i32);
}

#[tokio::test]
async fn full_width_latin_and_suffixes_are_duplicates() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    create(&mut alice, company("ＡＣＭＥ Co., Ltd.")).await;
    let status = alice
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(company("acme ltd")),
            ..Default::default()
        })
        .await
        .expect_err("duplicate");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(status.get_details_error_info().unwrap().metadata["matched_on"], "name");

    let check = alice
        .check_duplicates(pb::CheckDuplicatesRequest {
            name: "Acme GmbH".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(check.exact_matches.len(), 1);
    assert_eq!(check.exact_matches[0].kind, pb::DuplicateMatchKind::Name as i32);
}

#[tokio::test]
async fn pooled_duplicate_says_public_pool() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let c = create(&mut alice, company("Pool Target Inc.")).await;
    alice
        .release_customer(pb::ReleaseCustomerRequest {
            id: c.id.clone(),
            note: "not interested".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let status = alice
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(company("pool target")),
            ..Default::default()
        })
        .await
        .expect_err("duplicate");
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.metadata["in_pool"], "true");
    assert_eq!(status.get_details_resource_info().unwrap().owner, "public pool");
}

#[tokio::test]
async fn same_tax_id_and_same_individual_mobile_are_refused() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut a = company("Alpha Trading");
    a.tax_id = "91350100M000100Y43".into();
    create(&mut alice, a).await;
    let mut b = company("Completely Different Name");
    b.tax_id = "91350100m000100y43".into();
    let status = alice
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(b),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(
        status.get_details_error_info().unwrap().metadata["matched_on"],
        "tax_id"
    );

    let person = |name: &str| pb::Customer {
        kind: pb::CustomerKind::Individual as i32,
        name: name.into(),
        mobile: "138 0013 8000".into(),
        ..Default::default()
    };
    create(&mut alice, person("张伟")).await;
    let status = alice
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(person("张小伟")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.get_details_error_info().unwrap().metadata["matched_on"],
        "mobile"
    );
    // Two individuals may share a name.
    let mut other = person("张伟");
    other.mobile = "13900139000".into();
    create(&mut alice, other).await;

    let check = alice
        .check_duplicates(pb::CheckDuplicatesRequest {
            phone: "+86 138-0013-8000".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(check.exact_matches.len(), 1, "{check:?}");
}

#[tokio::test]
async fn concurrent_creates_of_one_company_make_one_customer() {
    let app = spawn().await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let mut client = app.sales(&format!("rep{i}")).await;
        tasks.push(tokio::spawn(async move {
            client
                .create_customer(pb::CreateCustomerRequest {
                    customer: Some(company("Race Condition Ltd")),
                    ..Default::default()
                })
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(s) => assert_eq!(s.code(), Code::AlreadyExists, "{s:?}"),
        }
    }
    assert_eq!(ok, 1);
    let mut manager = app.manager().await;
    assert_eq!(list_all(&mut manager, "", "", "", 50).await.len(), 1);
}
