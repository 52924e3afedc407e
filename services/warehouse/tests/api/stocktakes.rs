//! Stocktakes: the count is of the goods as they were at the freeze; what moves while people
//! count is kept and explained, never counted twice or lost.

use crm_proto::warehouse as pb;
use tonic::Code;

use crate::helpers::*;

fn count(product_id: &str, counted: &str) -> pb::Count {
    pb::Count {
        product_id: product_id.into(),
        counted_quantity: counted.into(),
        unit: String::new(),
    }
}

#[tokio::test]
async fn a_count_adjusts_from_the_frozen_book_and_keeps_what_moved_meanwhile() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let lamp = product(&mut w, "ST-LAMP", "2").await;
    let desk = product(&mut w, "ST-DESK", "50").await;
    let chair = product(&mut w, "ST-CHAIR", "30").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    post(
        &mut w,
        pb::DocumentKind::Opening,
        &wh.id,
        vec![
            costed(&lamp.id, "10", "2"),
            costed(&desk.id, "5", "50"),
            costed(&chair.id, "8", "30"),
        ],
    )
    .await;

    let sheet = w
        .create_stocktake(pb::CreateStocktakeRequest {
            warehouse_id: wh.id.clone(),
            request_id: "count-1".into(),
            ..Default::default()
        })
        .await
        .expect("freeze")
        .into_inner()
        .stocktake
        .expect("stocktake");
    assert_eq!(sheet.status, pb::StocktakeStatus::Counting as i32);
    assert_eq!(sheet.lines.len(), 3, "every product with stock here");
    assert!(sheet.number.starts_with("WH-ST-"));
    // A product is on one open sheet per warehouse at most.
    assert_reason(
        w.create_stocktake(pb::CreateStocktakeRequest {
            warehouse_id: wh.id.clone(),
            product_ids: vec![lamp.id.clone()],
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ALREADY_COUNTING",
    );

    // While people count, 3 lamps are shipped and 2 desks arrive.
    post(
        &mut w,
        pb::DocumentKind::OtherOutbound,
        &wh.id,
        vec![line(&lamp.id, "3")],
    )
    .await;
    post(
        &mut w,
        pb::DocumentKind::PurchaseReceipt,
        &wh.id,
        vec![costed(&desk.id, "2", "50")],
    )
    .await;

    // They found 9 lamps and 5 desks (as at the freeze); the chairs are not counted yet.
    let mut boxed = count(&desk.id, "5");
    boxed.unit = "pcs".into();
    w.record_counts(pb::RecordCountsRequest {
        id: sheet.id.clone(),
        counts: vec![count(&lamp.id, "9"), boxed],
        request_id: "counts-1".into(),
    })
    .await
    .expect("counts");
    // A product not on the sheet, a negative count.
    let other = product(&mut w, "ST-OTHER", "1").await;
    let status = assert_field_reason(
        w.record_counts(pb::RecordCountsRequest {
            id: sheet.id.clone(),
            counts: vec![count(&other.id, "1"), count(&lamp.id, "-1")],
            request_id: String::new(),
        })
        .await,
        Code::InvalidArgument,
        "counts[1].counted_quantity",
        "NEGATIVE",
    );
    assert!(status.message().contains("counts[1]"));
    assert_field_reason(
        w.record_counts(pb::RecordCountsRequest {
            id: sheet.id.clone(),
            counts: vec![count(&other.id, "1")],
            request_id: String::new(),
        })
        .await,
        Code::InvalidArgument,
        "counts[0].product_id",
        "NOT_ON_SHEET",
    );

    let posted = w
        .post_stocktake(pb::PostStocktakeRequest {
            id: sheet.id.clone(),
            request_id: "post-count-1".into(),
        })
        .await
        .expect("post")
        .into_inner()
        .stocktake
        .expect("stocktake");
    assert_eq!(posted.status, pb::StocktakeStatus::Posted as i32);
    let listed = w
        .list_stocktakes(pb::ListStocktakesRequest {
            filter: "status = \"posted\"".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .stocktakes;
    assert_eq!((listed.len(), listed[0].counted_lines, listed[0].line_count), (1, 2, 3));
    let find = |id: &str| posted.lines.iter().find(|l| l.product_id == id).expect("line").clone();
    let l = find(&lamp.id);
    assert_eq!(
        (
            l.book_quantity.as_str(),
            l.counted_quantity.as_str(),
            l.moved_quantity.as_str(),
            l.adjustment.as_str(),
            l.on_hand_after.as_str()
        ),
        ("10", "9", "-3", "-1", "6"),
        "one lamp was missing at the freeze; the 3 shipped meanwhile stay shipped"
    );
    let d = find(&desk.id);
    assert_eq!(
        (
            d.adjustment.as_str(),
            d.moved_quantity.as_str(),
            d.on_hand_after.as_str()
        ),
        ("0", "2", "7"),
        "the desks that arrived while counting are kept"
    );
    let c = find(&chair.id);
    assert_eq!(
        (c.counted_quantity.as_str(), c.adjustment.as_str()),
        ("", ""),
        "not counted: not adjusted"
    );
    assert_eq!(level(&mut w, &wh.id, &lamp.id).await.on_hand, "6");
    assert_eq!(level(&mut w, &wh.id, &desk.id).await.on_hand, "7");
    assert_eq!(level(&mut w, &wh.id, &chair.id).await.on_hand, "8");
    // The adjustment is a document of its own, at the average cost.
    let adjustment = w
        .get_stock_document(pb::GetStockDocumentRequest {
            id: posted.document_id.clone(),
        })
        .await
        .expect("document")
        .into_inner()
        .document
        .expect("document");
    assert_eq!(adjustment.kind, pb::DocumentKind::Stocktake as i32);
    assert_eq!(adjustment.lines.len(), 1);
    assert_eq!(adjustment.lines[0].quantity, "-1");
    assert_eq!(amt(adjustment.lines[0].value.as_ref()), "2");
    // Posted again: nothing more; the sheet is closed for counts.
    w.post_stocktake(pb::PostStocktakeRequest {
        id: sheet.id.clone(),
        request_id: "post-count-2".into(),
    })
    .await
    .expect("posted already");
    assert_eq!(level(&mut w, &wh.id, &lamp.id).await.on_hand, "6");
    assert_reason(
        w.record_counts(pb::RecordCountsRequest {
            id: sheet.id.clone(),
            counts: vec![count(&lamp.id, "1")],
            request_id: String::new(),
        })
        .await,
        Code::FailedPrecondition,
        "STOCKTAKE_NOT_COUNTING",
    );
    // Adjustments are made by stocktakes only.
    assert_field_reason(
        w.create_stock_document(posted_kind(&wh.id, &lamp.id)).await,
        Code::InvalidArgument,
        "document.kind",
        "NOT_ALLOWED",
    );
    // The products are free for the next count.
    let next = w
        .create_stocktake(pb::CreateStocktakeRequest {
            warehouse_id: wh.id.clone(),
            product_ids: vec![lamp.id.clone()],
            ..Default::default()
        })
        .await
        .expect("next count")
        .into_inner()
        .stocktake
        .expect("stocktake");
    let cancelled = w
        .cancel_stocktake(pb::CancelStocktakeRequest { id: next.id.clone() })
        .await
        .expect("cancel")
        .into_inner()
        .stocktake
        .expect("stocktake");
    assert_eq!(cancelled.status, pb::StocktakeStatus::Cancelled as i32);
    let audit = audit_clean(&mut w).await;
    assert_eq!(audit.outbound_quantity, "4", "the shipment and the missing lamp");
}

fn posted_kind(warehouse_id: &str, product_id: &str) -> pb::CreateStockDocumentRequest {
    posted(pb::DocumentKind::Stocktake, warehouse_id, vec![line(product_id, "1")])
}
