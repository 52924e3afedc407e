//! Price lists: what a customer pays on a day comes from a named list naming them, else a list
//! of their level, else the default sale price; validity dates decide which lists count.

use crm_proto::warehouse as pb;
use tonic::Code;

use crate::helpers::*;

fn price(product_id: &str, amount: &str) -> pb::Price {
    pb::Price {
        product_id: product_id.into(),
        price: Some(money(amount)),
        ..Default::default()
    }
}

fn list(name: &str, kind: pb::PriceListKind, from: &str, until: &str) -> pb::PriceList {
    pb::PriceList {
        name: name.into(),
        kind: kind as i32,
        valid_from: from.into(),
        valid_until: until.into(),
        ..Default::default()
    }
}

async fn create(w: &mut Warehouse, l: pb::PriceList, prices: Vec<pb::Price>) -> pb::PriceList {
    w.create_price_list(pb::CreatePriceListRequest {
        price_list: Some(l),
        prices,
        request_id: String::new(),
    })
    .await
    .expect("create price list")
    .into_inner()
    .price_list
    .expect("list")
}

/// (price, list name) a customer pays for `product_id` on `day`.
async fn pays(w: &mut Warehouse, customer: &str, level: &str, day: &str, product_id: &str) -> (String, String) {
    let p = w
        .get_customer_prices(pb::GetCustomerPricesRequest {
            customer_id: customer.into(),
            customer_level: level.into(),
            date: day.into(),
            product_ids: vec![product_id.into()],
        })
        .await
        .expect("prices")
        .into_inner()
        .prices
        .remove(0);
    (amt(p.price.as_ref()), p.price_list_name)
}

#[tokio::test]
async fn a_customer_pays_the_price_of_the_list_valid_that_day() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "PRICE-1", "50").await;
    let p = w
        .update_product(pb::UpdateProductRequest {
            product: Some(pb::Product {
                id: p.id.clone(),
                sale_price: Some(money("100")),
                etag: p.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["sale_price".into()],
            }),
        })
        .await
        .expect("sale price")
        .into_inner()
        .product
        .expect("product");

    let first_half = create(
        &mut w,
        pb::PriceList {
            customer_level: "A".into(),
            ..list(
                "Level A first half",
                pb::PriceListKind::Level,
                "2026-01-01",
                "2026-06-30",
            )
        },
        vec![price(&p.id, "90")],
    )
    .await;
    assert_eq!(first_half.price_count, 1);
    create(
        &mut w,
        pb::PriceList {
            customer_level: "A".into(),
            ..list("Level A from April", pb::PriceListKind::Level, "2026-04-01", "")
        },
        vec![price(&p.id, "85")],
    )
    .await;
    let named = create(
        &mut w,
        pb::PriceList {
            customer_ids: vec!["customer-1".into()],
            ..list("Big Co contract", pb::PriceListKind::Named, "2026-03-01", "")
        },
        vec![price(&p.id, "80")],
    )
    .await;

    let cases = [
        ("customer-2", "A", "2025-12-31", "100", ""),
        ("customer-2", "A", "2026-02-01", "90", "Level A first half"),
        ("customer-2", "A", "2026-05-01", "85", "Level A from April"),
        ("customer-2", "A", "2026-07-01", "85", "Level A from April"),
        ("customer-2", "B", "2026-05-01", "100", ""),
        ("customer-1", "A", "2026-02-15", "90", "Level A first half"),
        ("customer-1", "A", "2026-03-01", "80", "Big Co contract"),
        ("customer-1", "", "2027-01-01", "80", "Big Co contract"),
    ];
    for (customer, level, day, want, from) in cases {
        assert_eq!(
            pays(&mut w, customer, level, day, &p.id).await,
            (want.to_string(), from.to_string()),
            "{customer} of level {level} on {day}"
        );
    }

    // An inactive list prices nobody; a removed price falls back to the next list.
    w.update_price_list(pb::UpdatePriceListRequest {
        price_list: Some(pb::PriceList {
            id: named.id.clone(),
            status: pb::PriceListStatus::Inactive as i32,
            etag: named.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["status".into()],
        }),
    })
    .await
    .expect("deactivate");
    assert_eq!(pays(&mut w, "customer-1", "A", "2026-05-01", &p.id).await.0, "85");
    // The etag it had is stale now.
    assert_eq!(
        w.update_price_list(pb::UpdatePriceListRequest {
            price_list: Some(pb::PriceList {
                id: named.id.clone(),
                remark: "again".into(),
                etag: named.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["remark".into()],
            }),
        })
        .await
        .expect_err("stale")
        .code(),
        Code::Aborted
    );
    let listed = w
        .list_price_lists(pb::ListPriceListsRequest {
            filter: "kind = \"level\" AND customer_level = \"A\"".into(),
            ..Default::default()
        })
        .await
        .expect("lists")
        .into_inner()
        .price_lists;
    let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, vec!["Level A first half", "Level A from April"]);
    let from_april = listed[1].id.clone();
    w.set_prices(pb::SetPricesRequest {
        price_list_id: from_april.clone(),
        remove_product_ids: vec![p.id.clone()],
        ..Default::default()
    })
    .await
    .expect("remove");
    assert_eq!(pays(&mut w, "customer-2", "A", "2026-05-01", &p.id).await.0, "90");
    let prices = w
        .list_prices(pb::ListPricesRequest {
            price_list_id: first_half.id.clone(),
            ..Default::default()
        })
        .await
        .expect("prices")
        .into_inner()
        .prices;
    assert_eq!(
        (prices[0].product_code.as_str(), amt(prices[0].price.as_ref())),
        ("PRICE-1", "90".to_string())
    );
}

#[tokio::test]
async fn bad_price_lists_are_named_and_change_nothing() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "PRICE-2", "1").await;
    let status = assert_field_reason(
        w.create_price_list(pb::CreatePriceListRequest {
            price_list: Some(pb::PriceList {
                customer_ids: vec!["customer-1".into()],
                ..list("", pb::PriceListKind::Level, "2026-05-01", "2026-04-30")
            }),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "price_list.name",
        "REQUIRED",
    );
    for (field, reason) in [
        ("price_list.valid_until", "OUT_OF_RANGE"),
        ("price_list.customer_level", "REQUIRED"),
        ("price_list.customer_ids", "NOT_ALLOWED"),
    ] {
        assert_field_reason(Err::<(), _>(status.clone()), Code::InvalidArgument, field, reason);
    }
    assert_field_reason(
        w.create_price_list(pb::CreatePriceListRequest {
            price_list: Some(list("Dates", pb::PriceListKind::Named, "2026-13-01", "")),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "price_list.valid_from",
        "MALFORMED",
    );
    let status = assert_field_reason(
        w.create_price_list(pb::CreatePriceListRequest {
            price_list: Some(list("Prices", pb::PriceListKind::Named, "2026-01-01", "")),
            prices: vec![price("no-such-product", "1"), price(&p.id, "-1"), price(&p.id, "2")],
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "prices[0].product_id",
        "UNKNOWN_PRODUCT",
    );
    assert_field_reason(
        Err::<(), _>(status.clone()),
        Code::InvalidArgument,
        "prices[1].price.amount",
        "NEGATIVE",
    );
    assert_field_reason(
        Err::<(), _>(status),
        Code::InvalidArgument,
        "prices[2].product_id",
        "DUPLICATE",
    );
    // Nothing was kept of the refused lists.
    let lists = w
        .list_price_lists(pb::ListPriceListsRequest::default())
        .await
        .expect("lists")
        .into_inner()
        .price_lists;
    assert!(lists.is_empty(), "{lists:?}");
    create(
        &mut w,
        list("Ｗｉｄｅ list", pb::PriceListKind::Named, "2026-01-01", ""),
        vec![],
    )
    .await;
    let taken = w
        .create_price_list(pb::CreatePriceListRequest {
            price_list: Some(list("wide LIST", pb::PriceListKind::Named, "2026-01-01", "")),
            ..Default::default()
        })
        .await
        .expect_err("the name is taken");
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert_field_reason(
        w.get_customer_prices(pb::GetCustomerPricesRequest {
            date: "tomorrow".into(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "product_ids",
        "REQUIRED",
    );
    // A keeper reads prices but does not write them.
    let mut keeper = app.keeper("keeper-a").await;
    assert_eq!(
        keeper
            .create_price_list(pb::CreatePriceListRequest {
                price_list: Some(list("Keeper's", pb::PriceListKind::Named, "2026-01-01", "")),
                ..Default::default()
            })
            .await
            .expect_err("keepers do not price")
            .code(),
        Code::PermissionDenied
    );
}
