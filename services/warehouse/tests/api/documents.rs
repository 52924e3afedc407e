//! Stock documents: drafts, posting once, transfers through transit, the keepers' scope, the
//! events a posting publishes.

use crm_proto::warehouse as pb;
use sqlx::Row;

use crate::helpers::*;

fn draft(
    kind: pb::DocumentKind,
    warehouse_id: &str,
    lines: Vec<pb::StockDocumentLine>,
) -> pb::CreateStockDocumentRequest {
    pb::CreateStockDocumentRequest {
        post: false,
        ..posted(kind, warehouse_id, lines)
    }
}

async fn outbox_types(app: &TestApp) -> Vec<String> {
    let mut conn = app.warehouse.db.pool.acquire().await.expect("conn");
    sqlx::query("SELECT type FROM crm_outbox ORDER BY occurred_at, event_id")
        .fetch_all(&mut *conn)
        .await
        .expect("outbox")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
}

#[tokio::test]
async fn a_document_posts_once_however_often_it_is_sent() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "DOC-1", "3").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    let mut req = draft(
        pb::DocumentKind::Opening,
        &wh.id,
        vec![line(&p.id, "7"), line(&p.id, "3")],
    );
    req.request_id = "opening-1".into();
    let d = w
        .create_stock_document(req.clone())
        .await
        .expect("create")
        .into_inner()
        .document
        .expect("doc");
    assert_eq!(d.status, pb::DocumentStatus::Draft as i32);
    assert!(d.number.starts_with("WH-IN-"), "{}", d.number);
    // The same request again: the same draft, no second one.
    let again = w
        .create_stock_document(req)
        .await
        .expect("retry")
        .into_inner()
        .document
        .expect("doc");
    assert_eq!(again.id, d.id);
    assert_eq!(level(&mut w, &wh.id, &p.id).await.on_hand, "0", "a draft moves nothing");

    let post_it = |request_id: &str| pb::PostStockDocumentRequest {
        id: d.id.clone(),
        request_id: request_id.into(),
    };
    let first = w
        .post_stock_document(post_it("post-1"))
        .await
        .expect("post")
        .into_inner()
        .document
        .expect("doc");
    assert_eq!(first.status, pb::DocumentStatus::Posted as i32);
    assert_eq!(amt(first.lines[0].value.as_ref()), "21");
    // Retried with its request id, and posted again under another: nothing more moves.
    w.post_stock_document(post_it("post-1")).await.expect("retry");
    let second = w
        .post_stock_document(post_it("post-2"))
        .await
        .expect("again")
        .into_inner()
        .document
        .expect("doc");
    assert_eq!(second.status, pb::DocumentStatus::Posted as i32);
    assert_eq!(level(&mut w, &wh.id, &p.id).await.on_hand, "10");
    let audit = audit_clean(&mut w).await;
    assert_eq!(audit.ledger_lines, 2);
    // A posted document is never cancelled.
    assert_reason(
        w.cancel_stock_document(pb::CancelStockDocumentRequest {
            id: d.id.clone(),
            reason: "typo".into(),
        })
        .await,
        tonic::Code::FailedPrecondition,
        "DOCUMENT_STATUS_NOT_ALLOWED",
    );
    assert_eq!(outbox_types(&app).await, ["crm.warehouse.v1.GoodsReceived"]);
}

#[tokio::test]
async fn a_cancelled_draft_cannot_be_posted() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "DOC-2", "3").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    let d = w
        .create_stock_document(draft(pb::DocumentKind::OtherInbound, &wh.id, vec![line(&p.id, "1")]))
        .await
        .expect("create")
        .into_inner()
        .document
        .expect("doc");
    let cancelled = w
        .cancel_stock_document(pb::CancelStockDocumentRequest {
            id: d.id.clone(),
            reason: "entered twice".into(),
        })
        .await
        .expect("cancel")
        .into_inner()
        .document
        .expect("doc");
    assert_eq!(cancelled.status, pb::DocumentStatus::Cancelled as i32);
    let status = assert_reason(
        w.post_stock_document(pb::PostStockDocumentRequest {
            id: d.id.clone(),
            request_id: String::new(),
        })
        .await,
        tonic::Code::FailedPrecondition,
        "DOCUMENT_STATUS_NOT_ALLOWED",
    );
    assert!(status.message().contains("cancelled"), "{status:?}");
    assert_eq!(level(&mut w, &wh.id, &p.id).await.on_hand, "0");
    assert_eq!(audit_clean(&mut w).await.ledger_lines, 0);
}

#[tokio::test]
async fn a_transfer_conserves_stock_and_value_through_transit() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "TR-1", "1").await;
    let a = warehouse(&mut w, "A", &[]).await;
    let b = warehouse(&mut w, "B", &[]).await;
    post(&mut w, pb::DocumentKind::Opening, &a.id, vec![costed(&p.id, "10", "2")]).await;

    // Straight across: out of A, into B at A's cost.
    let mut direct = posted(pb::DocumentKind::Transfer, &a.id, vec![line(&p.id, "4")]);
    direct.document.as_mut().expect("doc").to_warehouse_id = b.id.clone();
    let d = w
        .create_stock_document(direct)
        .await
        .expect("transfer")
        .into_inner()
        .document
        .expect("doc");
    assert_eq!(d.status, pb::DocumentStatus::Posted as i32);
    assert!(d.number.starts_with("WH-TR-"));
    let (la, lb) = (level(&mut w, &a.id, &p.id).await, level(&mut w, &b.id, &p.id).await);
    assert_eq!((la.on_hand.as_str(), lb.on_hand.as_str()), ("6", "4"));
    assert_eq!(amt(lb.value.as_ref()), "8");

    // Through transit: it leaves A at once and reaches B when received.
    let mut travelling = posted(pb::DocumentKind::Transfer, &a.id, vec![line(&p.id, "5")]);
    {
        let doc = travelling.document.as_mut().expect("doc");
        doc.to_warehouse_id = b.id.clone();
        doc.in_transit = true;
    }
    let t = w
        .create_stock_document(travelling)
        .await
        .expect("transfer")
        .into_inner()
        .document
        .expect("doc");
    assert_eq!(t.status, pb::DocumentStatus::InTransit as i32);
    let (la, lb) = (level(&mut w, &a.id, &p.id).await, level(&mut w, &b.id, &p.id).await);
    assert_eq!(
        (la.on_hand.as_str(), lb.on_hand.as_str(), lb.in_transit.as_str()),
        ("1", "4", "5")
    );
    let audit = audit_clean(&mut w).await;
    assert_eq!(
        (audit.on_hand_quantity.as_str(), audit.in_transit_quantity.as_str()),
        ("5", "5"),
        "what is held plus what travels is what came in"
    );
    assert_eq!(audit.inbound_quantity, "10");
    let value = w
        .get_stock_value(pb::GetStockValueRequest::default())
        .await
        .expect("value")
        .into_inner();
    assert_eq!(amt(value.total.as_ref()), "20", "transit keeps its value");
    let at_b = value.warehouses.iter().find(|v| v.warehouse_id == b.id).expect("b");
    assert_eq!(amt(at_b.in_transit_value.as_ref()), "10");

    // B's keeper receives it (once).
    let received = w
        .receive_transfer(pb::ReceiveTransferRequest {
            id: t.id.clone(),
            request_id: "receive-1".into(),
        })
        .await
        .expect("receive")
        .into_inner()
        .document
        .expect("doc");
    assert_eq!(received.status, pb::DocumentStatus::Posted as i32);
    w.receive_transfer(pb::ReceiveTransferRequest {
        id: t.id.clone(),
        request_id: "receive-2".into(),
    })
    .await
    .expect("received already: nothing more");
    let lb = level(&mut w, &b.id, &p.id).await;
    assert_eq!((lb.on_hand.as_str(), lb.in_transit.as_str()), ("9", "0"));
    assert_eq!(amt(lb.value.as_ref()), "18");
    let audit = audit_clean(&mut w).await;
    assert_eq!(
        (audit.on_hand_quantity.as_str(), audit.in_transit_quantity.as_str()),
        ("10", "0")
    );
    let types = outbox_types(&app).await;
    assert_eq!(
        types.iter().filter(|t| t.ends_with("TransferPosted")).count(),
        3,
        "direct, left, arrived: {types:?}"
    );
}

#[tokio::test]
async fn keepers_act_only_on_their_warehouses() {
    let app = spawn().await;
    let mut m = app.manager().await;
    let p = product(&mut m, "KEEP-1", "1").await;
    let a = warehouse(&mut m, "A", &[KEEPERS[0]]).await;
    let b = warehouse(&mut m, "B", &[KEEPERS[1]]).await;
    assert_eq!(a.keeper_ids, [KEEPERS[0]]);
    post(&mut m, pb::DocumentKind::Opening, &b.id, vec![line(&p.id, "5")]).await;

    let mut ka = app.keeper(KEEPERS[0]).await;
    post(&mut ka, pb::DocumentKind::Opening, &a.id, vec![line(&p.id, "2")]).await;
    let seen = ka
        .list_warehouses(pb::ListWarehousesRequest::default())
        .await
        .expect("list")
        .into_inner()
        .warehouses;
    assert_eq!(seen.iter().map(|w| w.code.as_str()).collect::<Vec<_>>(), ["A"]);
    // B is not theirs: not found, whatever they try.
    assert_eq!(
        ka.create_stock_document(posted(pb::DocumentKind::OtherOutbound, &b.id, vec![line(&p.id, "1")]))
            .await
            .expect_err("not theirs")
            .code(),
        tonic::Code::NotFound
    );
    assert_eq!(
        ka.get_stock_level(pb::GetStockLevelRequest {
            warehouse_id: b.id.clone(),
            product_id: p.id.clone(),
        })
        .await
        .expect_err("not theirs")
        .code(),
        tonic::Code::NotFound
    );
    let docs = ka
        .list_stock_documents(pb::ListStockDocumentsRequest::default())
        .await
        .expect("documents")
        .into_inner()
        .documents;
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].warehouse_id, a.id);
    let levels = ka
        .list_stock_levels(pb::ListStockLevelsRequest::default())
        .await
        .expect("levels")
        .into_inner()
        .levels;
    assert_eq!(levels.len(), 1);
    let journal = ka
        .list_ledger_entries(pb::ListLedgerEntriesRequest::default())
        .await
        .expect("journal")
        .into_inner()
        .entries;
    assert!(journal.iter().all(|e| e.warehouse_id == a.id), "{journal:?}");
    let audit = audit_clean(&mut ka).await;
    assert_eq!(audit.on_hand_quantity, "2", "the audit counts their warehouse only");
    let value = ka
        .get_stock_value(pb::GetStockValueRequest::default())
        .await
        .expect("value")
        .into_inner();
    assert_eq!(value.warehouses.len(), 1);
    // Keepers do not set up warehouses.
    assert_eq!(
        ka.create_warehouse(pb::CreateWarehouseRequest {
            warehouse: Some(pb::Warehouse {
                code: "C".into(),
                name: "C".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("not a keeper's")
        .code(),
        tonic::Code::PermissionDenied
    );
}

#[tokio::test]
async fn falling_below_safety_stock_publishes_an_alert_once() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "SAFE-1", "1").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    post(&mut w, pb::DocumentKind::Opening, &wh.id, vec![line(&p.id, "10")]).await;
    let set = w
        .set_safety_stock(pb::SetSafetyStockRequest {
            warehouse_id: wh.id.clone(),
            product_id: p.id.clone(),
            minimum: "5".into(),
            maximum: "20".into(),
        })
        .await
        .expect("safety")
        .into_inner()
        .level
        .expect("level");
    assert_eq!((set.safety_minimum.as_str(), set.safety_maximum.as_str()), ("5", "20"));
    post(&mut w, pb::DocumentKind::OtherOutbound, &wh.id, vec![line(&p.id, "5")]).await;
    post(&mut w, pb::DocumentKind::OtherOutbound, &wh.id, vec![line(&p.id, "1")]).await;
    post(&mut w, pb::DocumentKind::OtherOutbound, &wh.id, vec![line(&p.id, "1")]).await;
    let alerts: Vec<String> = outbox_types(&app)
        .await
        .into_iter()
        .filter(|t| t.ends_with("StockBelowSafety"))
        .collect();
    assert_eq!(alerts.len(), 1, "one alert for the one crossing");
    let mut conn = app.warehouse.db.pool.acquire().await.expect("conn");
    let payload: Vec<u8> = sqlx::query_scalar("SELECT payload FROM crm_outbox WHERE type = $1")
        .bind("crm.warehouse.v1.StockBelowSafety")
        .fetch_one(&mut *conn)
        .await
        .expect("alert");
    let alert = <pb::StockBelowSafety as prost::Message>::decode(payload.as_slice()).expect("decode");
    assert_eq!((alert.available.as_str(), alert.to_maximum.as_str()), ("4", "16"));
    let below = w
        .list_stock_levels(pb::ListStockLevelsRequest {
            filter: "below_safety = true".into(),
            ..Default::default()
        })
        .await
        .expect("levels")
        .into_inner()
        .levels;
    assert_eq!(below.len(), 1);
}
