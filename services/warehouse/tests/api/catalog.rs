//! The catalog: unique codes and active names, exact units, categories, search.

use crm_proto::warehouse as pb;
use tonic::Code;

use crate::helpers::*;

fn new_product(code: &str, name: &str, spec: &str) -> pb::CreateProductRequest {
    pb::CreateProductRequest {
        product: Some(pb::Product {
            code: code.into(),
            name: name.into(),
            specification: spec.into(),
            unit: "pcs".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

#[tokio::test]
async fn codes_and_active_names_are_unique_however_they_are_typed() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let first = w
        .create_product(new_product("AB-100", "Desk lamp", "LED 9W"))
        .await
        .expect("create")
        .into_inner()
        .product
        .expect("product");
    // The same code in full-width letters and lower case.
    let status = assert_reason(
        w.create_product(new_product("ａｂ－１００", "Other", "")).await,
        Code::AlreadyExists,
        "DUPLICATE_PRODUCT_CODE",
    );
    use tonic_types::StatusExt;
    assert_eq!(
        status.get_details_error_info().expect("info").metadata["existing_product_id"],
        first.id
    );
    assert_eq!(
        status.get_details_resource_info().expect("resource").resource_name,
        first.id
    );
    // The same name and specification, differently spaced and cased.
    assert_reason(
        w.create_product(new_product("AB-101", "desk  LAMP", "led 9w")).await,
        Code::AlreadyExists,
        "DUPLICATE_PRODUCT",
    );
    // Another specification is another product.
    w.create_product(new_product("AB-102", "Desk lamp", "LED 12W"))
        .await
        .expect("other spec");
    // Once discontinued, its name is free for a successor.
    let discontinued = w
        .update_product(pb::UpdateProductRequest {
            product: Some(pb::Product {
                id: first.id.clone(),
                status: pb::ProductStatus::Discontinued as i32,
                etag: first.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["status".into()],
            }),
        })
        .await
        .expect("discontinue")
        .into_inner()
        .product
        .expect("product");
    assert_eq!(discontinued.status, pb::ProductStatus::Discontinued as i32);
    w.create_product(new_product("AB-200", "Desk lamp", "LED 9W"))
        .await
        .expect("successor");
    // A stale etag is refused.
    assert_eq!(
        w.update_product(pb::UpdateProductRequest {
            product: Some(pb::Product {
                id: first.id.clone(),
                name: "Renamed".into(),
                etag: first.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
        })
        .await
        .expect_err("stale")
        .code(),
        Code::Aborted
    );
}

#[tokio::test]
async fn bad_products_are_named() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let mut req = new_product("", "", "");
    {
        let p = req.product.as_mut().expect("product");
        p.unit = String::new();
        p.units = vec![
            pb::UnitConversion {
                name: "box".into(),
                factor: "0".into(),
            },
            pb::UnitConversion {
                name: "box".into(),
                factor: "12.00001".into(),
            },
        ];
        p.tax_rate = "130".into();
        p.sale_price = Some(money("-1"));
        p.tracking = 9;
    }
    let status = assert_field_reason(
        w.create_product(req).await,
        Code::InvalidArgument,
        "product.code",
        "REQUIRED",
    );
    for (field, reason) in [
        ("product.name", "REQUIRED"),
        ("product.unit", "REQUIRED"),
        ("product.units[0].factor", "NOT_POSITIVE"),
        ("product.units[1].name", "DUPLICATE"),
        ("product.units[1].factor", "TOO_PRECISE"),
        ("product.tax_rate", "OUT_OF_RANGE"),
        ("product.sale_price.amount", "NEGATIVE"),
        ("product.tracking", "UNKNOWN_ENUM_VALUE"),
    ] {
        assert_field_reason(Err::<(), _>(status.clone()), Code::InvalidArgument, field, reason);
    }
    assert_field_reason(
        w.create_product(pb::CreateProductRequest {
            product: Some(pb::Product {
                category_id: "no-such-category".into(),
                ..new_product("C-1", "Chair", "").product.expect("p")
            }),
            request_id: String::new(),
        })
        .await,
        Code::InvalidArgument,
        "product.category_id",
        "UNKNOWN_CATEGORY",
    );
}

#[tokio::test]
async fn search_ranks_the_exact_code_first_and_categories_hold_their_subtrees() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let category = |name: &str, parent: &str| pb::CreateCategoryRequest {
        name: name.into(),
        parent_id: parent.into(),
        request_id: String::new(),
    };
    let office = w
        .create_category(category("Office", ""))
        .await
        .expect("c")
        .into_inner()
        .category
        .expect("c");
    let lamps = w
        .create_category(category("Lamps", &office.id))
        .await
        .expect("c")
        .into_inner()
        .category
        .expect("c");
    assert_eq!((lamps.path_name.as_str(), lamps.depth), ("Office / Lamps", 1));
    assert_reason(
        w.create_category(category("lamps", &office.id)).await,
        Code::AlreadyExists,
        "DUPLICATE_CATEGORY",
    );
    for (code, name, spec, cat) in [
        ("LMP-1", "Reading lamp", "", lamps.id.as_str()),
        ("X-LMP", "Floor light", "", office.id.as_str()),
        ("Q-9", "台燈 lmp edition", "", ""),
        ("LMP", "Plain lamp", "", ""),
    ] {
        let mut req = new_product(code, name, spec);
        req.product.as_mut().expect("p").category_id = cat.into();
        w.create_product(req).await.expect("create");
    }
    let search = |query: &str, category_id: &str| pb::ListProductsRequest {
        query: query.into(),
        category_id: category_id.into(),
        ..Default::default()
    };
    let codes = |r: pb::ListProductsResponse| r.products.into_iter().map(|p| p.code).collect::<Vec<_>>();
    // The exact code, then codes starting with it, then the rest.
    let found = codes(w.list_products(search("lmp", "")).await.expect("search").into_inner());
    assert_eq!(found, ["LMP", "LMP-1", "Q-9", "X-LMP"]);
    // Traditional characters match simplified ones, full width matches plain.
    let found = codes(w.list_products(search("台灯", "")).await.expect("search").into_inner());
    assert_eq!(found, ["Q-9"]);
    let found = codes(
        w.list_products(search("ＬＭＰ－１", ""))
            .await
            .expect("search")
            .into_inner(),
    );
    assert_eq!(found, ["LMP-1"]);
    // A category holds the products of the categories below it.
    let found = codes(
        w.list_products(search("", &office.id))
            .await
            .expect("list")
            .into_inner(),
    );
    assert_eq!(found, ["LMP-1", "X-LMP"]);
    let found = codes(w.list_products(search("", &lamps.id)).await.expect("list").into_inner());
    assert_eq!(found, ["LMP-1"]);
    // Pages of a search go on where they stopped.
    let first = w
        .list_products(pb::ListProductsRequest {
            page_size: 2,
            ..search("lmp", "")
        })
        .await
        .expect("page")
        .into_inner();
    assert_eq!(first.products.len(), 2);
    let rest = w
        .list_products(pb::ListProductsRequest {
            page_token: first.next_page_token,
            ..search("lmp", "")
        })
        .await
        .expect("page")
        .into_inner();
    assert_eq!(codes(rest), ["Q-9", "X-LMP"]);
}

#[tokio::test]
async fn search_pages_go_through_every_tier_once_in_order() {
    let app = spawn().await;
    let mut w = app.manager().await;
    // The exact code, codes and names starting with "lamp", and names holding it elsewhere,
    // and products without it.
    let mut want: Vec<String> = Vec::new();
    w.create_product(new_product("LAMP", "Plain lamp", ""))
        .await
        .expect("exact");
    want.push("LAMP".into());
    let mut starting = Vec::new();
    let mut holding = Vec::new();
    for i in 0..9 {
        let code = format!("LAMP-{i}");
        w.create_product(new_product(&code, &format!("Item {i}"), ""))
            .await
            .expect("prefix");
        starting.push(code);
        let code = format!("B-{i}");
        w.create_product(new_product(&code, &format!("Lamp shade {i}"), ""))
            .await
            .expect("name prefix");
        starting.push(code);
        let code = format!("A-{i}");
        w.create_product(new_product(&code, &format!("Desk lamp {i}"), ""))
            .await
            .expect("holding");
        holding.push(code);
        let code = format!("C-{i}");
        w.create_product(new_product(&code, &format!("Chair {i}"), ""))
            .await
            .expect("other");
    }
    let key = |c: &String| c.to_lowercase().replace('-', "");
    starting.sort_by_key(key);
    holding.sort_by_key(key);
    want.extend(starting);
    want.extend(holding);
    let mut got = Vec::new();
    let mut token = String::new();
    loop {
        let page = w
            .list_products(pb::ListProductsRequest {
                query: "lamp".into(),
                page_size: 4,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        got.extend(page.products.into_iter().map(|p| p.code));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(got, want);
}
