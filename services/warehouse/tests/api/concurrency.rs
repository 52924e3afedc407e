//! The last units: many concurrent postings and reservations against little stock. Exactly what
//! is there leaves, on-hand never goes below zero, a refused posting leaves nothing behind, and
//! the ledger adds up to the balance.

use crm_proto::warehouse as pb;
use sqlx::Row;

use crate::helpers::*;

const CONTENDERS: usize = 1000;
const ON_HAND: &str = "100";

/// Runs `CONTENDERS` calls of `call` at once; returns how many succeeded and every refusal.
async fn contend<F, Fut, T>(w: &Warehouse, call: F) -> (usize, Vec<tonic::Status>)
where
    F: Fn(Warehouse, usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>> + Send + 'static,
    T: Send + 'static,
{
    let mut tasks = Vec::with_capacity(CONTENDERS);
    for i in 0..CONTENDERS {
        tasks.push(tokio::spawn(call(w.clone(), i)));
    }
    let mut ok = 0;
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(status) => refused.push(status),
        }
    }
    (ok, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_outbounds_take_exactly_the_hundred_on_hand() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "LAST-1", "2.50").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    post(&mut w, pb::DocumentKind::Opening, &wh.id, vec![line(&p.id, ON_HAND)]).await;

    let (product_id, warehouse_id) = (p.id.clone(), wh.id.clone());
    let (ok, refused) = contend(&w, move |mut w, i| {
        let (product_id, warehouse_id) = (product_id.clone(), warehouse_id.clone());
        async move {
            let mut req = posted(
                pb::DocumentKind::OtherOutbound,
                &warehouse_id,
                vec![line(&product_id, "1")],
            );
            req.request_id = format!("out-{i}");
            w.create_stock_document(req).await
        }
    })
    .await;
    assert_eq!(ok, 100, "exactly the units on hand leave");
    assert_eq!(refused.len(), CONTENDERS - 100);
    for status in refused {
        let status = assert_reason(
            Err::<(), _>(status),
            tonic::Code::FailedPrecondition,
            "INSUFFICIENT_STOCK",
        );
        use tonic_types::StatusExt;
        let info = status.get_details_error_info().expect("error info");
        assert_eq!(info.metadata["on_hand"], "0", "{status:?}");
        assert_eq!(info.metadata["requested"], "1");
        assert_eq!(info.metadata["product_id"], p.id);
        assert_eq!(info.metadata["warehouse_id"], wh.id);
    }

    let level = level(&mut w, &wh.id, &p.id).await;
    assert_eq!((level.on_hand.as_str(), level.available.as_str()), ("0", "0"));
    assert_eq!(amt(level.value.as_ref()), "0", "the value left with the units");
    let audit = audit_clean(&mut w).await;
    assert_eq!(audit.ledger_lines, 101, "the opening and one line per posted outbound");
    assert_eq!(
        (audit.inbound_quantity.as_str(), audit.outbound_quantity.as_str()),
        ("100", "100")
    );

    // Refused postings left nothing: no document, no ledger line; no balance ever went below zero.
    let mut conn = app.warehouse.db.pool.acquire().await.expect("conn");
    let documents: i64 = sqlx::query("SELECT COUNT(*) FROM documents")
        .fetch_one(&mut *conn)
        .await
        .expect("count")
        .get(0);
    assert_eq!(documents, 101);
    let below: i64 = sqlx::query("SELECT COUNT(*) FROM ledger WHERE quantity_after < 0")
        .fetch_one(&mut *conn)
        .await
        .expect("count")
        .get(0);
    assert_eq!(below, 0, "on hand never went below zero");
    // The ledger, replayed in the order each line changed the balance, steps down one at a time.
    let afters: Vec<i64> = sqlx::query_scalar(
        "SELECT quantity_after FROM ledger WHERE warehouse_id = $1 AND product_id = $2 ORDER BY balance_seq",
    )
    .bind(&wh.id)
    .bind(&p.id)
    .fetch_all(&mut *conn)
    .await
    .expect("ledger");
    let expected: Vec<i64> = (0..=100).rev().map(|n| n * 10_000).collect();
    assert_eq!(afters, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_reservations_hold_exactly_the_hundred_available() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "LAST-2", "1").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    post(&mut w, pb::DocumentKind::Opening, &wh.id, vec![line(&p.id, ON_HAND)]).await;

    let (product_id, warehouse_id) = (p.id.clone(), wh.id.clone());
    let (ok, refused) = contend(&w, move |mut w, i| {
        let (product_id, warehouse_id) = (product_id.clone(), warehouse_id.clone());
        async move {
            w.reserve_stock(pb::ReserveStockRequest {
                warehouse_id,
                product_id,
                quantity: "1".into(),
                reference: format!("notice-line-{i}"),
                request_id: format!("reserve-{i}"),
                ..Default::default()
            })
            .await
        }
    })
    .await;
    assert_eq!(ok, 100, "exactly the available units are reserved");
    for status in refused {
        assert_reason(
            Err::<(), _>(status),
            tonic::Code::FailedPrecondition,
            "INSUFFICIENT_STOCK",
        );
    }
    let l = level(&mut w, &wh.id, &p.id).await;
    assert_eq!(
        (l.on_hand.as_str(), l.reserved.as_str(), l.available.as_str()),
        ("100", "100", "0")
    );
    // Unreserved outbound is refused while everything is held; a delivery from a reservation ships.
    assert_reason(
        w.create_stock_document(posted(pb::DocumentKind::OtherOutbound, &wh.id, vec![line(&p.id, "1")]))
            .await,
        tonic::Code::FailedPrecondition,
        "INSUFFICIENT_STOCK",
    );
    let held = w
        .list_reservations(pb::ListReservationsRequest {
            page_size: 2,
            filter: "status = \"active\"".into(),
            ..Default::default()
        })
        .await
        .expect("reservations")
        .into_inner()
        .reservations;
    let mut delivery = line(&p.id, "1");
    delivery.reservation_id = held[0].id.clone();
    post(&mut w, pb::DocumentKind::Delivery, &wh.id, vec![delivery.clone()]).await;
    // The same reservation cannot ship twice.
    assert_reason(
        w.create_stock_document(posted(pb::DocumentKind::Delivery, &wh.id, vec![delivery]))
            .await,
        tonic::Code::FailedPrecondition,
        "RESERVATION_NOT_ENOUGH",
    );
    let released = w
        .release_reservation(pb::ReleaseReservationRequest {
            id: held[1].id.clone(),
            request_id: "release-1".into(),
        })
        .await
        .expect("release")
        .into_inner()
        .reservation
        .expect("reservation");
    assert_eq!(released.status, pb::ReservationStatus::Released as i32);
    let l = level(&mut w, &wh.id, &p.id).await;
    assert_eq!(
        (l.on_hand.as_str(), l.reserved.as_str(), l.available.as_str()),
        ("99", "98", "1")
    );
    audit_clean(&mut w).await;
}
