//! Stock reports: slow-moving and dead stock by what left the shelves by sale or use, the
//! warehouses side by side, and each report as CSV, all within the caller's warehouses.

use crm_proto::warehouse as pb;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::helpers::*;

const DAY: i64 = 86_400_000_000;

async fn csv(w: &mut Warehouse, req: pb::ExportStockReportRequest) -> String {
    let mut stream = w.export_stock_report(req).await.expect("export").into_inner();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend(chunk.expect("chunk").csv_chunk);
    }
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test]
async fn slow_and_dead_stock_are_told_apart_by_what_left() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let a = warehouse(&mut w, "A", &["keeper-a"]).await;
    let b = warehouse(&mut w, "B", &["keeper-b"]).await;
    let moving = product(&mut w, "MOVING", "2").await;
    let slow = product(&mut w, "SLOW", "2").await;
    let dead = product(&mut w, "DEAD", "2").await;
    post(
        &mut w,
        pb::DocumentKind::Opening,
        &a.id,
        vec![line(&moving.id, "100"), line(&slow.id, "100"), line(&dead.id, "100")],
    )
    .await;
    post(&mut w, pb::DocumentKind::Opening, &b.id, vec![line(&dead.id, "5")]).await;
    post(
        &mut w,
        pb::DocumentKind::Delivery,
        &a.id,
        vec![line(&moving.id, "60"), line(&slow.id, "2")],
    )
    .await;
    // A transfer moves stock without selling it: DEAD stays dead.
    w.create_stock_document(pb::CreateStockDocumentRequest {
        document: Some(pb::StockDocument {
            kind: pb::DocumentKind::Transfer as i32,
            warehouse_id: a.id.clone(),
            to_warehouse_id: b.id.clone(),
            lines: vec![line(&dead.id, "10")],
            ..Default::default()
        }),
        post: true,
        request_id: String::new(),
    })
    .await
    .expect("transfer");
    // DEAD's stock came in 200 days ago.
    sqlx::query("UPDATE ledger SET posted_at = posted_at - $1 WHERE product_id = $2")
        .bind(200 * DAY)
        .bind(&dead.id)
        .execute(&app.warehouse.db.pool)
        .await
        .expect("age the ledger");

    let rows = w
        .list_stock_movement(pb::ListStockMovementRequest {
            filter: format!("warehouse_id = \"{}\"", a.id),
            ..Default::default()
        })
        .await
        .expect("movement")
        .into_inner()
        .rows;
    let class: Vec<(&str, pb::MovementClass, &str)> = rows
        .iter()
        .map(|r| (r.product_code.as_str(), r.class(), r.outbound_quantity.as_str()))
        .collect();
    for want in [
        ("MOVING", pb::MovementClass::Moving, "60"),
        ("SLOW", pb::MovementClass::Slow, "2"),
        ("DEAD", pb::MovementClass::Dead, "0"),
    ] {
        assert!(class.contains(&want), "{want:?} not in {class:?}");
    }
    let moving_row = rows.iter().find(|r| r.product_code == "MOVING").expect("moving");
    // 40 left at 60 per 90 days: 60 days of cover.
    assert_eq!(moving_row.days_of_cover, "60.0");
    let dead_row = rows.iter().find(|r| r.product_code == "DEAD").expect("dead");
    assert!(dead_row.idle_days >= 199, "{dead_row:?}");
    assert!(dead_row.last_outbound_time.is_none());
    let only_dead = w
        .list_stock_movement(pb::ListStockMovementRequest {
            filter: "class = \"dead\"".into(),
            ..Default::default()
        })
        .await
        .expect("dead")
        .into_inner()
        .rows;
    assert_eq!(only_dead.len(), 2, "DEAD in both warehouses: {only_dead:?}");

    // A keeper sees their warehouse's rows only.
    let mut keeper = app.keeper("keeper-b").await;
    let seen = keeper
        .list_stock_movement(pb::ListStockMovementRequest::default())
        .await
        .expect("keeper")
        .into_inner()
        .rows;
    assert!(
        !seen.is_empty() && seen.iter().all(|r| r.warehouse_id == b.id),
        "{seen:?}"
    );
    assert_field_reason(
        w.list_stock_movement(pb::ListStockMovementRequest {
            period_days: -1,
            slow_ratio: "2".into(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "slow_ratio",
        "OUT_OF_RANGE",
    );

    let out = csv(
        &mut w,
        pb::ExportStockReportRequest {
            report: pb::StockReport::Movement as i32,
            filter: "class = \"slow\"".into(),
            ..Default::default()
        },
    )
    .await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("warehouse_id,product_id,product_code"), "{out}");
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[1].contains("SLOW") && lines[1].ends_with(",slow"), "{out}");
}

#[tokio::test]
async fn warehouses_side_by_side_add_up() {
    let app = spawn().await;
    let mut w = app.manager().await;
    let a = warehouse(&mut w, "A", &["keeper-a"]).await;
    let b = warehouse(&mut w, "B", &["keeper-b"]).await;
    let p = product(&mut w, "CMP-1", "2").await;
    let q = product(&mut w, "CMP-2", "3").await;
    post(&mut w, pb::DocumentKind::Opening, &a.id, vec![line(&p.id, "10")]).await;
    post(
        &mut w,
        pb::DocumentKind::Opening,
        &b.id,
        vec![line(&p.id, "4"), line(&q.id, "1")],
    )
    .await;
    w.reserve_stock(pb::ReserveStockRequest {
        warehouse_id: a.id.clone(),
        product_id: p.id.clone(),
        quantity: "3".into(),
        ..Default::default()
    })
    .await
    .expect("reserve");
    let r = w
        .compare_warehouses(pb::CompareWarehousesRequest::default())
        .await
        .expect("compare")
        .into_inner();
    assert_eq!(r.warehouse_ids, vec![a.id.clone(), b.id.clone()]);
    let first = &r.products[0];
    assert_eq!(first.product_code, "CMP-1");
    let cells: Vec<(&str, &str)> = first
        .warehouses
        .iter()
        .map(|c| (c.on_hand.as_str(), c.available.as_str()))
        .collect();
    assert_eq!(cells, vec![("10", "7"), ("4", "4")]);
    assert_eq!(
        (first.total_on_hand.as_str(), first.total_available.as_str()),
        ("14", "11")
    );
    assert_eq!(amt(first.total_value.as_ref()), "28");
    assert_eq!(r.products[1].warehouses[0].on_hand, "0");

    // A keeper compares their own warehouse; naming another one is refused.
    let mut keeper = app.keeper("keeper-a").await;
    let own = keeper
        .compare_warehouses(pb::CompareWarehousesRequest::default())
        .await
        .expect("own")
        .into_inner();
    assert_eq!(own.warehouse_ids, vec![a.id.clone()]);
    assert_eq!(own.products.len(), 1, "CMP-2 is only in B: {own:?}");
    assert_field_reason(
        keeper
            .compare_warehouses(pb::CompareWarehousesRequest {
                warehouse_ids: vec![b.id.clone()],
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "warehouse_ids[0]",
        "UNKNOWN_WAREHOUSE",
    );
    let out = csv(
        &mut w,
        pb::ExportStockReportRequest {
            report: pb::StockReport::Comparison as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(out.lines().count(), 3, "{out}");
    let row: Vec<&str> = out.lines().nth(1).expect("row").split(',').collect();
    assert_eq!(row[1], "CMP-1", "{out}");
    let totals = &row[row.len() - 3..];
    assert_eq!(
        (
            totals[0],
            totals[1],
            totals[2].trim_end_matches('0').trim_end_matches('.')
        ),
        ("14", "11", "28"),
        "{out}"
    );
    for report in [
        pb::StockReport::Levels,
        pb::StockReport::Journal,
        pb::StockReport::Loans,
    ] {
        let out = csv(
            &mut w,
            pb::ExportStockReportRequest {
                report: report as i32,
                ..Default::default()
            },
        )
        .await;
        assert!(out.lines().count() >= 1, "{report:?}: {out}");
    }
    let levels = csv(
        &mut keeper,
        pb::ExportStockReportRequest {
            report: pb::StockReport::Levels as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(levels.lines().count(), 2, "the keeper's one balance: {levels}");
    assert_field_reason(
        w.export_stock_report(pb::ExportStockReportRequest::default()).await,
        Code::InvalidArgument,
        "report",
        "REQUIRED",
    );
}
