//! Bad input: each refusal names the field and its rule, and changes nothing.

use crm_proto::warehouse as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn bad_lines_are_named_and_change_nothing() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "BAD-1", "1").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    post(&mut w, pb::DocumentKind::Opening, &wh.id, vec![line(&p.id, "10")]).await;
    let before = audit_clean(&mut w).await;

    let out = |lines| posted(pb::DocumentKind::OtherOutbound, &wh.id, lines);
    let first = "document.lines[0]";
    assert_field_reason(
        w.create_stock_document(out(vec![line("no-such-product", "1")])).await,
        Code::InvalidArgument,
        &format!("{first}.product_id"),
        "UNKNOWN_PRODUCT",
    );
    assert_field_reason(
        w.create_stock_document(out(vec![line(&p.id, "-2")])).await,
        Code::InvalidArgument,
        &format!("{first}.quantity"),
        "NEGATIVE",
    );
    assert_field_reason(
        w.create_stock_document(out(vec![line(&p.id, "0")])).await,
        Code::InvalidArgument,
        &format!("{first}.quantity"),
        "NOT_POSITIVE",
    );
    assert_field_reason(
        w.create_stock_document(out(vec![line(&p.id, "1.00001")])).await,
        Code::InvalidArgument,
        &format!("{first}.quantity"),
        "TOO_PRECISE",
    );
    assert_field_reason(
        w.create_stock_document(out(vec![line(&p.id, "1000000001")])).await,
        Code::InvalidArgument,
        &format!("{first}.quantity"),
        "OUT_OF_RANGE",
    );
    assert_field_reason(
        w.create_stock_document(out(vec![line(&p.id, "1e3")])).await,
        Code::InvalidArgument,
        &format!("{first}.quantity"),
        "MALFORMED",
    );
    let mut pallet = line(&p.id, "1");
    pallet.unit = "pallet".into();
    let status = assert_field_reason(
        w.create_stock_document(out(vec![pallet])).await,
        Code::InvalidArgument,
        &format!("{first}.unit"),
        "UNKNOWN_UNIT",
    );
    assert!(status.message().contains("pcs, box"), "{status:?}");
    // A quantity of boxes that is no whole number of pieces' 4 decimals.
    let mut sliver = line(&p.id, "0.00001");
    sliver.unit = "box".into();
    assert_field(
        w.create_stock_document(out(vec![sliver])).await,
        Code::InvalidArgument,
        &format!("{first}.quantity"),
    );
    // Costs belong to inbound lines only.
    assert_field_reason(
        w.create_stock_document(out(vec![costed(&p.id, "1", "3")])).await,
        Code::InvalidArgument,
        &format!("{first}.unit_cost"),
        "NOT_ALLOWED",
    );
    assert_field_reason(
        w.create_stock_document(posted(
            pb::DocumentKind::Opening,
            &wh.id,
            vec![costed(&p.id, "1", "-3")],
        ))
        .await,
        Code::InvalidArgument,
        &format!("{first}.unit_cost.amount"),
        "NEGATIVE",
    );
    // Every bad line is reported at once, by its index.
    let status = assert_field(
        w.create_stock_document(out(vec![line(&p.id, "1"), line(&p.id, "x"), line("", "1")]))
            .await,
        Code::InvalidArgument,
        "document.lines[1].quantity",
    );
    assert_field(
        Err::<(), _>(status),
        Code::InvalidArgument,
        "document.lines[2].product_id",
    );
    assert_field_reason(
        w.create_stock_document(out(vec![])).await,
        Code::InvalidArgument,
        "document.lines",
        "REQUIRED",
    );
    let mut no_kind = out(vec![line(&p.id, "1")]);
    no_kind.document.as_mut().expect("doc").kind = 0;
    assert_field_reason(
        w.create_stock_document(no_kind).await,
        Code::InvalidArgument,
        "document.kind",
        "REQUIRED",
    );
    let mut odd_kind = out(vec![line(&p.id, "1")]);
    odd_kind.document.as_mut().expect("doc").kind = 99;
    assert_field_reason(
        w.create_stock_document(odd_kind).await,
        Code::InvalidArgument,
        "document.kind",
        "UNKNOWN_ENUM_VALUE",
    );
    // A transfer to nowhere, or to itself.
    let mut nowhere = posted(pb::DocumentKind::Transfer, &wh.id, vec![line(&p.id, "1")]);
    assert_field_reason(
        w.create_stock_document(nowhere.clone()).await,
        Code::InvalidArgument,
        "document.to_warehouse_id",
        "REQUIRED",
    );
    nowhere.document.as_mut().expect("doc").to_warehouse_id = wh.id.clone();
    assert_field_reason(
        w.create_stock_document(nowhere.clone()).await,
        Code::InvalidArgument,
        "document.to_warehouse_id",
        "NOT_ALLOWED",
    );
    nowhere.document.as_mut().expect("doc").to_warehouse_id = "no-such-warehouse".into();
    assert_field_reason(
        w.create_stock_document(nowhere).await,
        Code::InvalidArgument,
        "document.to_warehouse_id",
        "UNKNOWN_WAREHOUSE",
    );
    // An unknown warehouse is not found.
    assert_eq!(
        w.create_stock_document(posted(
            pb::DocumentKind::OtherOutbound,
            "no-such-warehouse",
            vec![line(&p.id, "1")]
        ))
        .await
        .expect_err("unknown warehouse")
        .code(),
        Code::NotFound
    );
    // More than there is, on one of several lines: the whole document is refused.
    let status = assert_reason(
        w.create_stock_document(out(vec![line(&p.id, "4"), line(&p.id, "7")]))
            .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_STOCK",
    );
    use tonic_types::StatusExt;
    let info = status.get_details_error_info().expect("info");
    assert_eq!(info.metadata["field"], "document.lines[1].quantity");
    assert_eq!(
        (info.metadata["on_hand"].as_str(), info.metadata["requested"].as_str()),
        ("6", "7")
    );

    let after = audit_clean(&mut w).await;
    assert_eq!(after.ledger_lines, before.ledger_lines, "nothing was posted");
    assert_eq!(level(&mut w, &wh.id, &p.id).await.on_hand, "10");
    let documents = w
        .list_stock_documents(pb::ListStockDocumentsRequest::default())
        .await
        .expect("documents")
        .into_inner()
        .documents;
    assert_eq!(documents.len(), 1, "no refused document was kept");
}

#[tokio::test]
async fn what_people_type_is_read_and_a_negative_stock_warehouse_allows_it() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "TYPE-1", "2").await;
    let wh = warehouse(&mut w, "SHOP", &[]).await;
    // Full-width digits from an input method.
    post(&mut w, pb::DocumentKind::Opening, &wh.id, vec![line(&p.id, "１２．５")]).await;
    assert_eq!(level(&mut w, &wh.id, &p.id).await.on_hand, "12.5");
    // A shop that ships before it books receipts may go below zero, at the last cost.
    w.update_warehouse(pb::UpdateWarehouseRequest {
        warehouse: Some(pb::Warehouse {
            id: wh.id.clone(),
            allow_negative_stock: true,
            etag: wh.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["allow_negative_stock".into()],
        }),
    })
    .await
    .expect("allow negative");
    let out = post(
        &mut w,
        pb::DocumentKind::OtherOutbound,
        &wh.id,
        vec![line(&p.id, "14.5")],
    )
    .await;
    assert_eq!(
        amt(out.lines[0].value.as_ref()),
        "29",
        "12.5 at their value, 2 more at 2.00"
    );
    let l = level(&mut w, &wh.id, &p.id).await;
    assert_eq!((l.on_hand.as_str(), amt(l.value.as_ref()).as_str()), ("-2", "-4"));
    // Reservations never reach into negative stock.
    assert_reason(
        w.reserve_stock(pb::ReserveStockRequest {
            warehouse_id: wh.id.clone(),
            product_id: p.id.clone(),
            quantity: "1".into(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_STOCK",
    );
    // Stock arriving fills the hole at its own cost.
    post(
        &mut w,
        pb::DocumentKind::PurchaseReceipt,
        &wh.id,
        vec![costed(&p.id, "4", "3")],
    )
    .await;
    let l = level(&mut w, &wh.id, &p.id).await;
    assert_eq!((l.on_hand.as_str(), amt(l.value.as_ref()).as_str()), ("2", "8"));
    audit_clean(&mut w).await;
}
