//! Phone numbers and names as people type them: full-width digits, brackets, country codes,
//! traditional characters, and names that differ only in region, industry word or legal form.

use crm_proto::customers as pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::*;

fn contact(name: &str, mobile: &str, phone: &str) -> pb::Contact {
    pb::Contact {
        name: name.into(),
        mobile: mobile.into(),
        phone: phone.into(),
        ..Default::default()
    }
}

fn individual(name: &str, mobile: &str) -> pb::Customer {
    pb::Customer {
        kind: pb::CustomerKind::Individual as i32,
        name: name.into(),
        mobile: mobile.into(),
        ..Default::default()
    }
}

async fn check(client: &mut Client, name: &str, phone: &str) -> pb::CheckDuplicatesResponse {
    client
        .check_duplicates(pb::CheckDuplicatesRequest {
            name: name.into(),
            phone: phone.into(),
            ..Default::default()
        })
        .await
        .expect("check duplicates")
        .into_inner()
}

#[tokio::test]
async fn phones_are_accepted_as_typed_and_kept_as_typed() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut c = company("深圳市腾飞科技有限公司");
    c.phone = "（0755）2666 8888".into();
    c.primary_contact = Some(contact("王小明", "１３６ ００１１ ２２３３", "0755-2666 8888 转 802"));
    let created = create(&mut alice, c).await;
    assert_eq!(created.phone, "（0755）2666 8888");
    assert_eq!(created.normalized_phone, "+8675526668888");
    let primary = created.primary_contact.expect("primary contact");
    assert_eq!(primary.mobile, "１３６ ００１１ ２２３３");
    assert_eq!(primary.normalized_mobile, "+8613600112233");
    assert_eq!(primary.normalized_phone, "+8675526668888;ext=802");

    // A Canadian mobile meets the rule the error message states: + and the country code.
    let added = alice
        .create_contact(pb::CreateContactRequest {
            contact: Some(pb::Contact {
                customer_id: created.id.clone(),
                ..contact("Jane Roe", "+1 (416) 555-0199", "+44 (0)20 7946 0958")
            }),
            ..Default::default()
        })
        .await
        .expect("a contact with foreign numbers")
        .into_inner()
        .contact
        .unwrap();
    assert_eq!(added.mobile, "+1 (416) 555-0199");
    assert_eq!(added.normalized_mobile, "+14165550199");
    assert_eq!(added.normalized_phone, "+442079460958");

    // Read back as typed, and the typed text survives an update of another field.
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: created.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(got.phone, "（0755）2666 8888");
    let updated = alice
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(pb::Customer {
                id: got.id.clone(),
                etag: got.etag.clone(),
                mobile: "+86 139-0013-9000".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["mobile".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(
        (updated.phone.as_str(), updated.mobile.as_str()),
        ("（0755）2666 8888", "+86 139-0013-9000")
    );
    assert_eq!(updated.normalized_mobile, "+8613900139000");

    // What is no number is refused, naming the field and the rule.
    let mut bad = company("Bad Phone Ltd");
    bad.primary_contact = Some(contact("X", "0755 2666 8888", ""));
    let status = assert_field(
        alice
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(bad),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "customer.primary_contact.mobile",
    );
    assert!(status.message().contains("not a mobile"), "{status:?}");
}

#[tokio::test]
async fn search_finds_a_phone_by_any_typed_fragment() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut c = company("深圳市腾飞科技有限公司");
    c.phone = "（0755）2666 8888".into();
    c.primary_contact = Some(contact("王小明", "１３６ ００１１ ２２３３", ""));
    create(&mut alice, c).await;
    let mut other = company("Nordwind Handel GmbH");
    other.phone = "+49 40 1234567".into();
    create(&mut alice, other).await;
    for (fragment, want) in [
        ("0755 2666", "深圳市腾飞科技有限公司"),
        ("２６６６ ８８８８", "深圳市腾飞科技有限公司"),
        ("+86 755 2666", "深圳市腾飞科技有限公司"),
        ("136 0011", "深圳市腾飞科技有限公司"),
        ("0011 2233", "深圳市腾飞科技有限公司"),
        ("+86 136", "深圳市腾飞科技有限公司"),
        ("040 123", "Nordwind Handel GmbH"),
        ("+49 40 1234", "Nordwind Handel GmbH"),
    ] {
        let found = list_all(&mut alice, "", fragment, "name", 50).await;
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, [want], "search {fragment}");
    }
}

#[tokio::test]
async fn duplicates_are_found_by_the_normalised_phone() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let first = create(&mut alice, individual("张伟", "１３６ ００１１ ２２３３")).await;
    let status = alice
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(individual("张小伟", "+86 136-0011-2233")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.reason, "DUPLICATE_CUSTOMER");
    assert_eq!(info.metadata["matched_on"], "mobile");
    assert_eq!(info.metadata["customer_id"], first.id);

    let mut c = company("深圳市腾飞科技有限公司");
    c.phone = "（0755）2666 8888".into();
    let firm = create(&mut alice, c).await;
    for (typed, id, kind) in [
        ("0086 13600112233", &first.id, pb::DuplicateMatchKind::Mobile),
        ("136.0011.2233", &first.id, pb::DuplicateMatchKind::Mobile),
        ("+86 755 2666 8888", &firm.id, pb::DuplicateMatchKind::Phone),
        ("0755-26668888", &firm.id, pb::DuplicateMatchKind::Phone),
    ] {
        let found = check(&mut alice, "", typed).await;
        let hits: Vec<(&str, i32)> = found
            .exact_matches
            .iter()
            .map(|m| (m.customer_id.as_str(), m.kind))
            .collect();
        assert_eq!(hits, [(id.as_str(), kind as i32)], "{typed}");
    }
}

#[tokio::test]
async fn a_name_in_traditional_characters_is_the_same_customer() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let huawei = create(&mut alice, company("华为技术有限公司")).await;

    let found = check(&mut alice, "華為技術有限公司", "").await;
    assert_eq!(found.exact_matches.len(), 1, "{found:?}");
    assert_eq!(found.exact_matches[0].customer_id, huawei.id);
    assert_eq!(found.exact_matches[0].kind, pb::DuplicateMatchKind::Name as i32);

    let status = alice
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(company("華為技術有限公司")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.reason, "DUPLICATE_CUSTOMER");
    assert_eq!(info.metadata["customer_id"], huawei.id);

    // A search in either script finds names in both.
    let hk = create(&mut alice, company("長江和記實業有限公司")).await;
    for (query, id) in [
        ("華為", &huawei.id),
        ("华为技术", &huawei.id),
        ("长江和记", &hk.id),
        ("和記實業", &hk.id),
    ] {
        let ids: Vec<String> = list_all(&mut alice, "", query, "name", 50)
            .await
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, std::slice::from_ref(id), "search {query}");
    }
}

#[tokio::test]
async fn close_names_are_weighed_by_their_core() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let baiyunshan = create(&mut alice, company("广州市白云山制药有限公司")).await;
    create(&mut alice, company("北京字节跳动科技有限公司")).await;
    create(&mut alice, company("Apple Inc.")).await;

    let found = check(&mut alice, "广州白云山医药集团", "").await;
    assert!(found.exact_matches.is_empty(), "{found:?}");
    let close: Vec<&str> = found.close_matches.iter().map(|m| m.customer_id.as_str()).collect();
    assert_eq!(close, [baiyunshan.id.as_str()], "{found:?}");
    assert!(found.close_matches[0].similarity >= 0.6);
    // Not refused: a close match is offered, the person decides.
    create(&mut alice, company("广州白云山医药集团")).await;

    for distinct in ["北京小米科技有限责任公司", "Applebee's Inc."] {
        let found = check(&mut alice, distinct, "").await;
        assert!(
            found.exact_matches.is_empty() && found.close_matches.is_empty(),
            "{distinct}: {found:?}"
        );
    }
}

#[tokio::test]
async fn keys_stored_under_the_old_rules_are_rebuilt_at_start() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut c = company("華為技術有限公司");
    c.primary_contact = Some(contact("李娜", "138 0013 8000", ""));
    let huawei = create(&mut alice, c).await;
    let person = create(&mut alice, individual("张伟", "13900139000")).await;

    // Put the rows back as the old rules stored them: an unfolded name key, numbers as bare
    // digits without their typed text, search text without folding, no gram rows.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    for sql in [
        "UPDATE customers SET name_key = '華為技術', search_text = '華為技術有限公司|李娜|13800138000' WHERE name = '華為技術有限公司'",
        "UPDATE customers SET mobile = '13900139000', mobile_typed = '' WHERE kind = 'individual'",
        "UPDATE contacts SET mobile = '13800138000', mobile_typed = ''",
        "DELETE FROM derived_keys",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    if !crm_kit::testing::on_postgres() {
        sqlx::query("DELETE FROM customer_grams").execute(&pool).await.unwrap();
    }
    pool.close().await;
    // Under the old keys the simplified spelling slips through.
    assert!(check(&mut alice, "华为技术有限公司", "").await.exact_matches.is_empty());

    let db = crm_kit::db::Db::connect(&app.database_url, 2).await.unwrap();
    let done = crm_customers::store::rekey::run(&db, crm_kit::phone::PhoneRegion::CN)
        .await
        .unwrap()
        .expect("a rebuild");
    assert_eq!(done.customers, 2);
    assert!(done.kept_old_key.is_empty());
    assert_eq!(
        crm_customers::store::rekey::run(&db, crm_kit::phone::PhoneRegion::CN)
            .await
            .unwrap(),
        None,
        "the second start has nothing to do"
    );
    db.pool.close().await;

    let found = check(&mut alice, "华为技术有限公司", "").await;
    assert_eq!(found.exact_matches.len(), 1, "{found:?}");
    assert_eq!(found.exact_matches[0].customer_id, huawei.id);
    let ids: Vec<String> = list_all(&mut alice, "", "华为", "name", 50)
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, std::slice::from_ref(&huawei.id));
    let got = alice
        .get_customer(pb::GetCustomerRequest { id: person.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(
        (got.mobile.as_str(), got.normalized_mobile.as_str()),
        ("13900139000", "+8613900139000")
    );
    let status = alice
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(individual("张小伟", "+86 139 0013 9000")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    let primary = alice
        .get_customer(pb::GetCustomerRequest { id: huawei.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .primary_contact
        .unwrap();
    assert_eq!(primary.normalized_mobile, "+8613800138000");
}
