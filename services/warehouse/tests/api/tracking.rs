//! Serial and lot numbers: a serial is in at most one place, never ships from where it is not,
//! and a lot's shelves never go below zero; every refusal changes nothing.

use crm_proto::warehouse as pb;
use tonic::Code;

use crate::helpers::*;

/// A product tracked by `tracking`.
async fn tracked(w: &mut Warehouse, code: &str, tracking: pb::Tracking) -> pb::Product {
    let p = product(w, code, "10").await;
    w.update_product(pb::UpdateProductRequest {
        product: Some(pb::Product {
            id: p.id.clone(),
            tracking: tracking as i32,
            etag: p.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["tracking".into()],
        }),
    })
    .await
    .expect("track the product")
    .into_inner()
    .product
    .expect("product")
}

fn serials(product_id: &str, numbers: &[&str]) -> pb::StockDocumentLine {
    pb::StockDocumentLine {
        serial_numbers: numbers.iter().map(|s| (*s).to_string()).collect(),
        ..line(product_id, &numbers.len().to_string())
    }
}

fn lot(product_id: &str, quantity: &str, lot: &str) -> pb::StockDocumentLine {
    pb::StockDocumentLine {
        lot: lot.into(),
        ..line(product_id, quantity)
    }
}

async fn serial(w: &mut Warehouse, product_id: &str, number: &str) -> pb::SerialNumber {
    w.get_serial_number(pb::GetSerialNumberRequest {
        product_id: product_id.into(),
        serial_number: number.into(),
    })
    .await
    .expect("serial")
    .into_inner()
    .serial_number
    .expect("serial")
}

fn meta(status: &tonic::Status, key: &str) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .and_then(|i| i.metadata.get(key).cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_serial_is_in_one_place_and_ships_only_from_there() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = tracked(&mut w, "PHONE-1", pb::Tracking::Serial).await;
    let a = warehouse(&mut w, "A", &[]).await;
    let b = warehouse(&mut w, "B", &[]).await;

    // Received as typed on a full-width keyboard: kept in the plain form.
    let doc = post(
        &mut w,
        pb::DocumentKind::PurchaseReceipt,
        &a.id,
        vec![serials(&p.id, &["ＳＮ-001", "SN-002", "SN-003"])],
    )
    .await;
    assert_eq!(doc.lines[0].serial_numbers, vec!["SN-001", "SN-002", "SN-003"]);
    let s = serial(&mut w, &p.id, "sn-001").await;
    assert_eq!(
        (s.state(), s.warehouse_id.as_str()),
        (pb::SerialState::Stock, a.id.as_str())
    );

    // The same serial into another warehouse: refused, nothing changed.
    let status = assert_reason(
        w.create_stock_document(posted(
            pb::DocumentKind::OtherInbound,
            &b.id,
            vec![serials(&p.id, &["SN-004", "sn-002"])],
        ))
        .await,
        Code::FailedPrecondition,
        "SERIAL_IN_STOCK",
    );
    assert_eq!(meta(&status, "field"), "document.lines[0].serial_numbers[1]");
    assert_eq!(meta(&status, "warehouse_id"), a.id);
    assert!(
        status.message().contains("in stock at warehouse"),
        "{}",
        status.message()
    );
    assert_eq!(level(&mut w, &b.id, &p.id).await.on_hand, "0");
    let none = w
        .get_serial_number(pb::GetSerialNumberRequest {
            product_id: p.id.clone(),
            serial_number: "SN-004".into(),
        })
        .await;
    assert_eq!(none.expect_err("SN-004 never came in").code(), Code::NotFound);

    // Shipped once; shipping it again is refused and changes nothing.
    let shipped = post(
        &mut w,
        pb::DocumentKind::Delivery,
        &a.id,
        vec![serials(&p.id, &["SN-001"])],
    )
    .await;
    assert_eq!(serial(&mut w, &p.id, "SN-001").await.state(), pb::SerialState::Gone);
    let status = assert_reason(
        w.create_stock_document(posted(
            pb::DocumentKind::Delivery,
            &a.id,
            vec![serials(&p.id, &["SN-002", "SN-001"])],
        ))
        .await,
        Code::FailedPrecondition,
        "SERIAL_NOT_IN_STOCK",
    );
    assert_eq!(meta(&status, "field"), "document.lines[0].serial_numbers[1]");
    assert_eq!(meta(&status, "state"), "gone");
    assert!(status.message().contains(&shipped.id), "{}", status.message());
    assert_eq!(level(&mut w, &a.id, &p.id).await.on_hand, "2");
    assert_eq!(serial(&mut w, &p.id, "SN-002").await.state(), pb::SerialState::Stock);
    // A serial that never came in, and one in another warehouse.
    let status = assert_reason(
        w.create_stock_document(posted(
            pb::DocumentKind::Delivery,
            &a.id,
            vec![serials(&p.id, &["SN-999"])],
        ))
        .await,
        Code::FailedPrecondition,
        "SERIAL_NOT_IN_STOCK",
    );
    assert!(status.message().contains("never came in"), "{}", status.message());

    // Transferred through transit: on its way, then on B's shelves.
    let transfer = w
        .create_stock_document(pb::CreateStockDocumentRequest {
            document: Some(pb::StockDocument {
                kind: pb::DocumentKind::Transfer as i32,
                warehouse_id: a.id.clone(),
                to_warehouse_id: b.id.clone(),
                in_transit: true,
                lines: vec![serials(&p.id, &["SN-002"])],
                ..Default::default()
            }),
            post: true,
            request_id: String::new(),
        })
        .await
        .expect("transfer")
        .into_inner()
        .document
        .expect("doc");
    let s = serial(&mut w, &p.id, "SN-002").await;
    assert_eq!(
        (s.state(), s.warehouse_id.as_str()),
        (pb::SerialState::Transit, b.id.as_str())
    );
    assert_reason(
        w.create_stock_document(posted(
            pb::DocumentKind::Delivery,
            &a.id,
            vec![serials(&p.id, &["SN-002"])],
        ))
        .await,
        Code::FailedPrecondition,
        "SERIAL_NOT_IN_STOCK",
    );
    w.receive_transfer(pb::ReceiveTransferRequest {
        id: transfer.id.clone(),
        request_id: String::new(),
    })
    .await
    .expect("receive");
    let s = serial(&mut w, &p.id, "SN-002").await;
    assert_eq!(
        (s.state(), s.warehouse_id.as_str()),
        (pb::SerialState::Stock, b.id.as_str())
    );

    // The customer returns SN-001: it comes back; its history tells every move.
    post(
        &mut w,
        pb::DocumentKind::CustomerReturn,
        &a.id,
        vec![serials(&p.id, &["SN-001"])],
    )
    .await;
    let s = serial(&mut w, &p.id, "SN-001").await;
    assert_eq!(s.state(), pb::SerialState::Stock);
    let kinds: Vec<&str> = s.moves.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, vec!["purchase_receipt", "delivery", "customer_return"]);
    assert_eq!(s.moves[1].document_id, shipped.id);
    let moves: Vec<pb::SerialState> = serial(&mut w, &p.id, "SN-002")
        .await
        .moves
        .iter()
        .map(|m| m.state())
        .collect();
    assert_eq!(
        moves,
        vec![pb::SerialState::Stock, pb::SerialState::Transit, pb::SerialState::Stock]
    );

    let listed = w
        .list_serial_numbers(pb::ListSerialNumbersRequest {
            filter: format!("product_id = \"{}\" AND state = \"stock\"", p.id),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .serial_numbers;
    let numbers: Vec<&str> = listed.iter().map(|s| s.serial_number.as_str()).collect();
    assert_eq!(numbers, vec!["SN-001", "SN-002", "SN-003"]);
    audit_clean(&mut w).await;
}

#[tokio::test]
async fn serial_lines_name_one_distinct_number_per_unit() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = tracked(&mut w, "PHONE-2", pb::Tracking::Serial).await;
    let plain = product(&mut w, "PLAIN-2", "1").await;
    let a = warehouse(&mut w, "A", &[]).await;
    let status = assert_field_reason(
        w.create_stock_document(posted(
            pb::DocumentKind::Opening,
            &a.id,
            vec![
                pb::StockDocumentLine {
                    serial_numbers: vec!["X1".into()],
                    ..line(&p.id, "2")
                },
                line(&p.id, "1"),
                serials(&p.id, &["X2", "x1"]),
                serials(&plain.id, &["Y1"]),
                lot(&p.id, "1", "L1"),
            ],
        ))
        .await,
        Code::InvalidArgument,
        "document.lines[0].serial_numbers",
        "SERIAL_COUNT_MISMATCH",
    );
    for (field, reason) in [
        ("document.lines[1].serial_numbers", "REQUIRED"),
        ("document.lines[2].serial_numbers[1]", "DUPLICATE"),
        ("document.lines[3].serial_numbers", "NOT_ALLOWED"),
        ("document.lines[4].lot", "NOT_ALLOWED"),
        ("document.lines[4].serial_numbers", "REQUIRED"),
    ] {
        assert_field_reason(Err::<(), _>(status.clone()), Code::InvalidArgument, field, reason);
    }
    assert_eq!(level(&mut w, &a.id, &p.id).await.on_hand, "0");

    // Once it moved, its tracking stays.
    post(&mut w, pb::DocumentKind::Opening, &a.id, vec![serials(&p.id, &["Z1"])]).await;
    let now = w
        .get_product(pb::GetProductRequest { id: p.id.clone() })
        .await
        .expect("get")
        .into_inner()
        .product
        .expect("product");
    assert_field_reason(
        w.update_product(pb::UpdateProductRequest {
            product: Some(pb::Product {
                id: p.id.clone(),
                tracking: pb::Tracking::None as i32,
                etag: now.etag,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["tracking".into()],
            }),
        })
        .await,
        Code::InvalidArgument,
        "product.tracking",
        "PRODUCT_HAS_MOVED",
    );
    // A sheet of totals does not count it.
    assert_field_reason(
        w.create_stocktake(pb::CreateStocktakeRequest {
            warehouse_id: a.id.clone(),
            product_ids: vec![p.id.clone()],
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "product_ids[0]",
        "NOT_ALLOWED",
    );
}

#[tokio::test]
async fn racing_shipments_of_one_serial_ship_it_once() {
    let app = spawn().await;
    let w = app.manager().await;
    let mut m = w.clone();
    let p = tracked(&mut m, "PHONE-3", pb::Tracking::Serial).await;
    let a = warehouse(&mut m, "A", &[]).await;
    post(
        &mut m,
        pb::DocumentKind::Opening,
        &a.id,
        vec![serials(&p.id, &["R1", "R2", "R3"])],
    )
    .await;
    let mut calls = Vec::new();
    for _ in 0..20 {
        let mut c = w.clone();
        let req = posted(pb::DocumentKind::Delivery, &a.id, vec![serials(&p.id, &["R2"])]);
        calls.push(tokio::spawn(async move { c.create_stock_document(req).await }));
    }
    let mut won = 0;
    for call in calls {
        match call.await.expect("join") {
            Ok(_) => won += 1,
            Err(s) => assert!(matches!(s.code(), Code::FailedPrecondition | Code::Aborted), "{s:?}"),
        }
    }
    assert_eq!(won, 1, "the serial left once");
    assert_eq!(level(&mut m, &a.id, &p.id).await.on_hand, "2");
    audit_clean(&mut m).await;
}

#[tokio::test]
async fn lent_serials_come_back_by_number() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = tracked(&mut w, "DEMO-1", pb::Tracking::Serial).await;
    let a = warehouse(&mut w, "A", &[]).await;
    post(
        &mut w,
        pb::DocumentKind::Opening,
        &a.id,
        vec![serials(&p.id, &["D1", "D2", "D3"])],
    )
    .await;
    let mut req = posted(pb::DocumentKind::LoanOut, &a.id, vec![serials(&p.id, &["D1", "D2"])]);
    {
        let d = req.document.as_mut().expect("doc");
        d.counterparty_id = "customer-1".into();
        d.counterparty_kind = pb::CounterpartyKind::Customer as i32;
    }
    w.create_stock_document(req).await.expect("lend");
    assert_eq!(serial(&mut w, &p.id, "D1").await.state(), pb::SerialState::Loan);
    let loan = w
        .list_loans(pb::ListLoansRequest::default())
        .await
        .expect("loans")
        .into_inner()
        .loans
        .remove(0);
    assert_eq!(loan.serial_numbers, vec!["D1", "D2"]);
    // D3 was never lent: it cannot come back on this loan.
    assert_reason(
        w.return_loan(pb::ReturnLoanRequest {
            id: loan.id.clone(),
            serial_numbers: vec!["D3".into()],
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "SERIAL_NOT_IN_STOCK",
    );
    let back = w
        .return_loan(pb::ReturnLoanRequest {
            id: loan.id.clone(),
            serial_numbers: vec!["D2".into()],
            ..Default::default()
        })
        .await
        .expect("return D2")
        .into_inner();
    assert_eq!(back.loan.expect("loan").serial_numbers, vec!["D1"]);
    assert_eq!(serial(&mut w, &p.id, "D2").await.state(), pb::SerialState::Stock);
    let sold = w
        .sell_loan(pb::SellLoanRequest {
            id: loan.id.clone(),
            reference: "SO-1".into(),
            ..Default::default()
        })
        .await
        .expect("sell the rest")
        .into_inner();
    assert_eq!(sold.document.expect("doc").lines[0].serial_numbers, vec!["D1"]);
    assert_eq!(serial(&mut w, &p.id, "D1").await.state(), pb::SerialState::Gone);
    assert_eq!(level(&mut w, &a.id, &p.id).await.on_hand, "2");
    audit_clean(&mut w).await;
}

#[tokio::test]
async fn lots_never_go_below_zero() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = tracked(&mut w, "MILK-1", pb::Tracking::Lot).await;
    let a = warehouse(&mut w, "A", &["keeper-a"]).await;
    let b = warehouse(&mut w, "B", &["keeper-b"]).await;
    post(
        &mut w,
        pb::DocumentKind::PurchaseReceipt,
        &a.id,
        vec![lot(&p.id, "10", "L-2026-01"), lot(&p.id, "5", "L-2026-02")],
    )
    .await;
    let status = assert_reason(
        w.create_stock_document(posted(
            pb::DocumentKind::Delivery,
            &a.id,
            vec![lot(&p.id, "7", "l-2026-02")],
        ))
        .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_LOT",
    );
    assert_eq!(meta(&status, "on_hand"), "5");
    assert_eq!(level(&mut w, &a.id, &p.id).await.on_hand, "15");
    assert_field_reason(
        w.create_stock_document(posted(pb::DocumentKind::Delivery, &a.id, vec![line(&p.id, "1")]))
            .await,
        Code::InvalidArgument,
        "document.lines[0].lot",
        "REQUIRED",
    );
    post(
        &mut w,
        pb::DocumentKind::Delivery,
        &a.id,
        vec![lot(&p.id, "3", "L-2026-02")],
    )
    .await;
    w.create_stock_document(pb::CreateStockDocumentRequest {
        document: Some(pb::StockDocument {
            kind: pb::DocumentKind::Transfer as i32,
            warehouse_id: a.id.clone(),
            to_warehouse_id: b.id.clone(),
            lines: vec![lot(&p.id, "4", "L-2026-01")],
            ..Default::default()
        }),
        post: true,
        request_id: String::new(),
    })
    .await
    .expect("transfer");
    let lots = w
        .list_lots(pb::ListLotsRequest {
            filter: format!("product_id = \"{}\" AND on_hand > 0", p.id),
            ..Default::default()
        })
        .await
        .expect("lots")
        .into_inner()
        .lots;
    let got: Vec<(String, &str, &str)> = lots
        .iter()
        .map(|l| {
            (
                if l.warehouse_id == a.id { "A" } else { "B" }.to_string(),
                l.lot.as_str(),
                l.on_hand.as_str(),
            )
        })
        .collect();
    let mut want = vec![
        ("A".to_string(), "L-2026-01", "6"),
        ("A".to_string(), "L-2026-02", "2"),
        ("B".to_string(), "L-2026-01", "4"),
    ];
    let mut got_sorted = got.clone();
    got_sorted.sort();
    want.sort();
    assert_eq!(got_sorted, want);
    // A keeper sees the lots of their own warehouse only.
    let mut keeper = app.keeper("keeper-b").await;
    let seen = keeper
        .list_lots(pb::ListLotsRequest::default())
        .await
        .expect("lots")
        .into_inner()
        .lots;
    assert!(seen.iter().all(|l| l.warehouse_id == b.id), "{seen:?}");
    assert_eq!(seen.len(), 1);
    audit_clean(&mut w).await;
}
