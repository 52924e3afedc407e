//! Moving-average valuation against figures worked out by hand, and stock value as of a past
//! time, which later postings never change.

use crm_proto::warehouse as pb;

use crate::helpers::*;

async fn value_as_of(w: &mut Warehouse, at: Option<prost_types::Timestamp>) -> String {
    w.get_stock_value(pb::GetStockValueRequest {
        as_of: at,
        warehouse_id: String::new(),
    })
    .await
    .expect("stock value")
    .into_inner()
    .total
    .as_ref()
    .map(|m| amt(Some(m)))
    .expect("total")
}

fn now() -> prost_types::Timestamp {
    crm_kit::time::to_proto(crm_kit::time::now_micros())
}

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

#[tokio::test]
async fn moving_average_follows_the_hand_computed_fixture() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let p = product(&mut w, "AVG-1", "4").await;
    let wh = warehouse(&mut w, "MAIN", &[]).await;
    let (wid, pid) = (wh.id.clone(), p.id.clone());
    let check = |l: &pb::StockLevel, on_hand: &str, value: &str, avg: &str| {
        assert_eq!(l.on_hand, on_hand, "{l:?}");
        assert_eq!(amt(l.value.as_ref()), value, "{l:?}");
        assert_eq!(amt(l.average_cost.as_ref()), avg, "{l:?}");
    };

    // 10 at 5.00: 50.00.
    post(&mut w, pb::DocumentKind::Opening, &wid, vec![costed(&pid, "10", "5")]).await;
    check(&level(&mut w, &wid, &pid).await, "10", "50", "5");
    // 10 more at 8.00: 20 worth 130.00, 6.50 each.
    post(
        &mut w,
        pb::DocumentKind::PurchaseReceipt,
        &wid,
        vec![costed(&pid, "10", "8")],
    )
    .await;
    check(&level(&mut w, &wid, &pid).await, "20", "130", "6.5");
    // 3 out carry 19.50.
    let out = post(&mut w, pb::DocumentKind::OtherOutbound, &wid, vec![line(&pid, "3")]).await;
    assert_eq!(amt(out.lines[0].value.as_ref()), "19.5");
    assert_eq!(amt(out.lines[0].unit_cost.as_ref()), "6.5");
    check(&level(&mut w, &wid, &pid).await, "17", "110.5", "6.5");
    settle().await;
    let after_three = now();
    settle().await;
    // The last 17 take the whole remaining value.
    let out = post(&mut w, pb::DocumentKind::MaterialIssue, &wid, vec![line(&pid, "17")]).await;
    assert_eq!(amt(out.lines[0].value.as_ref()), "110.5");
    let empty = level(&mut w, &wid, &pid).await;
    assert_eq!((empty.on_hand.as_str(), amt(empty.value.as_ref()).as_str()), ("0", "0"));
    // An inbound at a new price after the outbound: the average starts again from it.
    post(
        &mut w,
        pb::DocumentKind::PurchaseReceipt,
        &wid,
        vec![costed(&pid, "5", "9")],
    )
    .await;
    check(&level(&mut w, &wid, &pid).await, "5", "45", "9");
    // One box of 12 at 60.00 a box: 17 pieces worth 105.00, 105/17 = 6.17647... each.
    let mut boxed = costed(&pid, "1", "60");
    boxed.unit = "box".into();
    let inbound = post(&mut w, pb::DocumentKind::PurchaseReceipt, &wid, vec![boxed]).await;
    assert_eq!(inbound.lines[0].stock_quantity, "12");
    assert_eq!(amt(inbound.lines[0].value.as_ref()), "60");
    check(&level(&mut w, &wid, &pid).await, "17", "105", "6.1765");
    // One piece out carries 105/17 rounded to 4 places: 6.1765; 98.8235 stays.
    let out = post(&mut w, pb::DocumentKind::OtherOutbound, &wid, vec![line(&pid, "1")]).await;
    assert_eq!(amt(out.lines[0].value.as_ref()), "6.1765");
    check(&level(&mut w, &wid, &pid).await, "16", "98.8235", "6.1765");
    // A customer return without a cost comes back at the current average.
    post(&mut w, pb::DocumentKind::CustomerReturn, &wid, vec![line(&pid, "1")]).await;
    check(&level(&mut w, &wid, &pid).await, "17", "105", "6.1765");
    // An inbound without a cost takes the standard cost (4.00).
    post(&mut w, pb::DocumentKind::OtherInbound, &wid, vec![line(&pid, "3")]).await;
    check(&level(&mut w, &wid, &pid).await, "20", "117", "5.85");

    // The value as of after the first outbound is what it was then, whatever came later.
    assert_eq!(value_as_of(&mut w, Some(after_three)).await, "110.5");
    assert_eq!(value_as_of(&mut w, None).await, "117");
    post(&mut w, pb::DocumentKind::OtherOutbound, &wid, vec![line(&pid, "20")]).await;
    assert_eq!(value_as_of(&mut w, Some(after_three)).await, "110.5");
    assert_eq!(value_as_of(&mut w, None).await, "0");
    // Before anything was posted there was nothing.
    assert_eq!(
        value_as_of(&mut w, Some(prost_types::Timestamp { seconds: 1, nanos: 0 })).await,
        "0"
    );
    audit_clean(&mut w).await;
}

#[tokio::test]
async fn value_as_of_a_past_day_comes_from_the_closed_days_and_stays() {
    const DAY: i64 = 86_400_000_000;
    let app = spawn().await;
    let mut w = app.manager().await;
    let a = warehouse(&mut w, "A", &[]).await;
    let b = warehouse(&mut w, "B", &[]).await;
    let p = product(&mut w, "DAYS-1", "1").await;
    post(&mut w, pb::DocumentKind::Opening, &a.id, vec![costed(&p.id, "10", "3")]).await;
    post(&mut w, pb::DocumentKind::Opening, &b.id, vec![costed(&p.id, "4", "5")]).await;
    post(&mut w, pb::DocumentKind::Delivery, &a.id, vec![line(&p.id, "2")]).await;
    // Those lines were posted ten, six and three days ago.
    let db = &app.warehouse.db.pool;
    let lines: Vec<(String, i64)> = sqlx::query_as("SELECT id, posted_at FROM ledger ORDER BY posted_at, balance_seq")
        .fetch_all(db)
        .await
        .expect("lines");
    for ((id, _), days) in lines.iter().zip([10, 6, 3]) {
        sqlx::query("UPDATE ledger SET posted_at = posted_at - $1 WHERE id = $2")
            .bind(days * DAY)
            .bind(id)
            .execute(db)
            .await
            .expect("age");
    }
    let now = crm_kit::time::now_micros();
    let at = |days_ago: i64| Some(crm_kit::time::to_proto(now - days_ago * DAY));
    let expected = [(11, "0"), (8, "30"), (5, "50"), (2, "44"), (0, "44")];
    for (days_ago, want) in expected {
        assert_eq!(value_as_of(&mut w, at(days_ago)).await, want, "{days_ago} days ago");
    }
    let summed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM value_days")
        .fetch_one(db)
        .await
        .expect("days");
    assert_eq!(summed, 3, "the three days with lines are summed once");
    // Postings now change neither the past days nor what they show.
    post(&mut w, pb::DocumentKind::Delivery, &b.id, vec![line(&p.id, "4")]).await;
    for (days_ago, want) in expected.iter().take(4) {
        assert_eq!(
            value_as_of(&mut w, at(*days_ago)).await,
            *want,
            "{days_ago} days ago, after"
        );
    }
    assert_eq!(value_as_of(&mut w, None).await, "24");
}
