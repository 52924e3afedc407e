//! Every report figure against a hand-computed fixture, including the empty figures of zero
//! divisions.
//!
//! Fixture (default pipeline, stages at 10/25/50/75/90 %):
//! - alice o1: sales 1000, cost 600, moved to Proposal (50 %), open, closes 2026-12-15 →
//!   weighted 500;
//! - alice o2: sales 2000, cost 1500, won (100 %), closes 2026-12-20 → weighted 2000;
//! - alice o3: sales 0, cost 0, lost;
//! - bob o4: sales 0, cost 0, open in the first stage (10 %).

use crm_proto::sales as pb;

use crate::helpers::*;
use crate::opportunities::{customer, opportunity};

fn money(m: &Option<crm_proto::common::Money>) -> &str {
    m.as_ref().map_or("", |m| m.amount.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funnel_forecast_and_analysis_match_the_hand_computed_fixture() {
    let app = spawn().await;
    let pipeline = app.pipeline().await;
    let alice_customer = customer(&app, "alice", "Fixture Alice Co").await;
    let bob_customer = customer(&app, "bob", "Fixture Bob Co").await;
    let mut alice = app.sales_as("alice").await;
    let mut bob = app.sales_as("bob").await;
    let mut boss = app.sales_as(MANAGER).await;

    let o1 = opportunity(
        &mut alice,
        &alice_customer,
        pb::Opportunity {
            subject: "o1".into(),
            expected_amount: cny("1000"),
            expected_cost: cny("600"),
            planned_close_date: "2026-12-15".into(),
            ..Default::default()
        },
    )
    .await;
    alice
        .update_opportunity(pb::UpdateOpportunityRequest {
            opportunity: Some(pb::Opportunity {
                id: o1.id.clone(),
                stage_id: pipeline.stages[2].id.clone(),
                etag: o1.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["stage_id".into()],
            }),
        })
        .await
        .unwrap();
    let o2 = opportunity(
        &mut alice,
        &alice_customer,
        pb::Opportunity {
            subject: "o2".into(),
            expected_amount: cny("2000"),
            expected_cost: cny("1500"),
            planned_close_date: "2026-12-20".into(),
            ..Default::default()
        },
    )
    .await;
    alice
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: o2.id.clone(),
            status: pb::OpportunityStatus::Won as i32,
            reason: String::new(),
        })
        .await
        .unwrap();
    let o3 = opportunity(
        &mut alice,
        &alice_customer,
        pb::Opportunity {
            subject: "o3".into(),
            ..Default::default()
        },
    )
    .await;
    alice
        .set_opportunity_status(pb::SetOpportunityStatusRequest {
            id: o3.id.clone(),
            status: pb::OpportunityStatus::Lost as i32,
            reason: "budget".into(),
        })
        .await
        .unwrap();
    opportunity(
        &mut bob,
        &bob_customer,
        pb::Opportunity {
            subject: "o4".into(),
            ..Default::default()
        },
    )
    .await;

    // Opportunity analysis by salesperson, as the manager (who sees both).
    let analysis = boss
        .get_opportunity_analysis(pb::GetOpportunityAnalysisRequest {
            group_by: pb::AnalysisGrouping::Salesperson as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let a = analysis.rows.iter().find(|r| r.key == "alice").expect("alice's row");
    assert_eq!(a.count, 3);
    assert_eq!(
        [
            money(&a.expected_cost),
            money(&a.expected_sales),
            money(&a.opportunity_amount),
            money(&a.expected_profit),
            money(&a.opportunity_profit)
        ],
        ["2100.00", "3000.00", "2500.00", "900.00", "400.00"]
    );
    assert_eq!(a.expected_margin_percent, "30");
    assert_eq!(a.opportunity_margin_percent, "16");
    assert_eq!((a.won_count, a.lost_count), (1, 1));
    assert_eq!(a.win_rate_percent, "50");
    assert_eq!(money(&a.average_deal_size), "2000.00");
    assert_eq!(a.average_cycle_days, "0");
    let b = analysis.rows.iter().find(|r| r.key == "bob").expect("bob's row");
    assert_eq!(b.count, 1);
    // Zero sales, zero weighted amount, nothing closed: every ratio is empty.
    assert_eq!(b.expected_margin_percent, "");
    assert_eq!(b.opportunity_margin_percent, "");
    assert_eq!(b.win_rate_percent, "");
    assert!(b.average_deal_size.is_none());
    assert_eq!(b.average_cycle_days, "");
    let total = analysis.total.unwrap();
    assert_eq!(total.count, 4);
    assert_eq!(money(&total.expected_sales), "3000.00");
    assert_eq!(total.expected_margin_percent, "30");

    // By customer, as alice (her own only).
    let by_customer = alice
        .get_opportunity_analysis(pb::GetOpportunityAnalysisRequest {
            group_by: pb::AnalysisGrouping::Customer as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_customer.rows.len(), 1);
    assert_eq!(by_customer.rows[0].key, alice_customer);
    // A stage filter: only o1 stands in Proposal.
    let in_proposal = boss
        .get_opportunity_analysis(pb::GetOpportunityAnalysisRequest {
            group_by: pb::AnalysisGrouping::Salesperson as i32,
            stage_id: pipeline.stages[2].id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(in_proposal.total.unwrap().count, 1);

    // The funnel.
    let funnel = boss
        .get_funnel(pb::GetFunnelRequest::default())
        .await
        .unwrap()
        .into_inner();
    let figures: Vec<(i64, &str, &str, &str)> = funnel
        .stages
        .iter()
        .map(|s| {
            (
                s.count,
                money(&s.expected_amount),
                money(&s.opportunity_amount),
                s.reached_percent.as_str(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            (1, "0.00", "0.00", "100"),
            (0, "0.00", "0.00", "50"),
            (1, "1000.00", "500.00", "50"),
            (0, "0.00", "0.00", "25"),
            (0, "0.00", "0.00", "25"),
        ]
    );
    assert_eq!(
        (funnel.won_count, money(&funnel.won_amount), funnel.lost_count),
        (1, "2000.00", 1)
    );
    // A period with nothing in it: every reached percentage is empty.
    let empty = boss
        .get_funnel(pb::GetFunnelRequest {
            period: Some(pb::DateRange {
                from_date: "2001-01-01".into(),
                to_date: "2001-12-31".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        empty
            .stages
            .iter()
            .all(|s| s.count == 0 && s.reached_percent.is_empty())
    );

    // The forecast against quota.
    boss.set_quota(pb::SetQuotaRequest {
        quota: Some(pb::Quota {
            period: "2026-12".into(),
            subject_id: "alice".into(),
            department: false,
            amount: cny("5000"),
        }),
    })
    .await
    .unwrap();
    assert_field(
        boss.set_quota(pb::SetQuotaRequest {
            quota: Some(pb::Quota {
                period: "2026-13".into(),
                subject_id: "alice".into(),
                department: false,
                amount: cny("1"),
            }),
        })
        .await,
        tonic::Code::InvalidArgument,
        "quota.period",
    );
    let monthly = alice
        .get_forecast(pb::GetForecastRequest {
            period: pb::ForecastPeriod::Month as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<(&str, i32, i64, &str, &str)> = monthly
        .rows
        .iter()
        .map(|r| {
            (
                r.period.as_str(),
                r.category,
                r.count,
                money(&r.expected_amount),
                money(&r.opportunity_amount),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("2026-12", pb::ForecastCategory::Closed as i32, 1, "2000.00", "2000.00"),
            ("2026-12", pb::ForecastCategory::Pipeline as i32, 1, "1000.00", "500.00"),
        ]
    );
    assert_eq!(monthly.totals.len(), 1);
    assert_eq!(money(&monthly.totals[0].opportunity_amount), "2500.00");
    assert_eq!(money(&monthly.totals[0].quota), "5000.00");
    assert_eq!(monthly.totals[0].attainment_percent, "50");
    let quarterly = alice
        .get_forecast(pb::GetForecastRequest {
            period: pb::ForecastPeriod::Quarter as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(quarterly.totals[0].period, "2026-Q4");
    // No quota for the quarter: no attainment rather than a division by zero.
    assert!(quarterly.totals[0].quota.is_none());
    assert_eq!(quarterly.totals[0].attainment_percent, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_snapshots_keep_how_the_forecast_stood() {
    let app = spawn().await;
    let alice_customer = customer(&app, "alice", "Snapshot Co").await;
    let mut alice = app.sales_as("alice").await;
    let mut boss = app.sales_as(MANAGER).await;
    opportunity(
        &mut alice,
        &alice_customer,
        pb::Opportunity {
            subject: "s1".into(),
            expected_amount: cny("1000"),
            planned_close_date: "2026-12-15".into(),
            ..Default::default()
        },
    )
    .await;
    // Only managers take snapshots on demand.
    assert_eq!(
        alice
            .take_forecast_snapshot(pb::TakeForecastSnapshotRequest {})
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
    let taken = boss
        .take_forecast_snapshot(pb::TakeForecastSnapshotRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(taken.rows, 1);
    let rows = alice
        .list_forecast_snapshots(pb::ListForecastSnapshotsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.week.as_str(), r.period.as_str()), (taken.week.as_str(), "2026-12"));
    assert_eq!(r.category, pb::ForecastCategory::Pipeline as i32);
    // First stage, 10 %: 1000 expected, 100 weighted.
    assert_eq!(
        (r.count, money(&r.expected_amount), money(&r.opportunity_amount)),
        (1, "1000.00", "100.00")
    );
    // Bob's view of the snapshot holds none of alice's deals.
    let mut bob = app.sales_as("bob").await;
    let none = bob
        .list_forecast_snapshots(pb::ListForecastSnapshotsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert!(none.is_empty());
}

/// The reports sum weighted amounts in the database: its expression gives, row for row, what
/// the service computes (half away from zero, to the minor unit), on this backend, for
/// currencies of 0, 2 and 3 decimals, negative amounts and every probability.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_weighs_amounts_exactly_as_the_service_does() {
    let db = crm_kit::testing::fresh_database("weighted").await;
    let db = crm_kit::db::Db::connect(&db.url, 1).await.unwrap();
    sqlx::query("CREATE TABLE w (amount BIGINT NOT NULL, probability BIGINT NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    // Amounts in storage units (4 places) around every rounding edge.
    let mut amounts = vec![
        0i64,
        1,
        49,
        50,
        51,
        99,
        100,
        150,
        250,
        5_000,
        12_345,
        99_999_999,
        123_456_789_012,
    ];
    amounts.extend((0..200).map(|i| i * 37 + 5));
    amounts.extend(amounts.clone().into_iter().map(|a| -a));
    let probabilities = [0i64, 1, 10, 25, 33, 50, 67, 75, 99, 100];
    for chunk in amounts.chunks(50) {
        let mut q = crm_kit::sql::SqlBuf::new("INSERT INTO w (amount, probability) VALUES ");
        let mut first = true;
        for a in chunk {
            for p in probabilities {
                q.push(if first { "(" } else { ", (" })
                    .int(*a)
                    .push(", ")
                    .int(p)
                    .push(")");
                first = false;
            }
        }
        q.query().execute(&db.pool).await.unwrap();
    }
    for currency in ["CNY", "JPY", "BHD"] {
        let expr = crm_sales::domain::weighted_sql("amount", "probability", currency);
        let rows: Vec<(i64, i64, i64)> =
            sqlx::query_as(&format!("SELECT amount, probability, CAST({expr} AS BIGINT) FROM w"))
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert_eq!(rows.len(), amounts.len() * probabilities.len());
        for (amount, probability, in_sql) in rows {
            assert_eq!(
                in_sql,
                crm_sales::domain::weighted(amount, probability, currency),
                "{currency}: {amount} × {probability} %"
            );
        }
    }
}

/// How far a deal got is kept with the deal as it moves, and worked out again when the
/// pipeline's stages are put in another order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_funnel_follows_moves_and_a_reordered_pipeline() {
    let app = spawn().await;
    let pipeline = app.pipeline().await;
    let customer_id = customer(&app, "alice", "Funnel Order Ltd").await;
    let mut alice = app.sales_as("alice").await;
    let stage = |i: usize| pipeline.stages[i].id.clone();
    opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "stays".into(),
            ..Default::default()
        },
    )
    .await;
    opportunity(
        &mut alice,
        &customer_id,
        pb::Opportunity {
            subject: "moves on".into(),
            stage_id: stage(2),
            ..Default::default()
        },
    )
    .await;
    let reached = |client: &mut Sales| {
        let mut client = client.clone();
        async move {
            client
                .get_funnel(pb::GetFunnelRequest::default())
                .await
                .unwrap()
                .into_inner()
                .stages
                .into_iter()
                .map(|s| (s.stage_id, s.count, s.reached_percent))
                .collect::<Vec<_>>()
        }
    };
    let row = |i: usize, count: i64, percent: &str| (stage(i), count, percent.to_string());
    assert_eq!(
        reached(&mut alice).await,
        [
            row(0, 1, "100"),
            row(1, 0, "50"),
            row(2, 1, "50"),
            row(3, 0, "0"),
            row(4, 0, "0")
        ]
    );
    // The third stage goes first. The deal made in it has stood only there (now the first
    // place); the other stood in the old first stage (now the second place); nobody reached
    // the old second stage (now third). Without working it out again, the moved deal would
    // still count as far as the third place.
    let mut boss = app.sales_as(MANAGER).await;
    let mut stages = pipeline.stages.clone();
    let third = stages.remove(2);
    stages.insert(0, third);
    boss.update_pipeline(pb::UpdatePipelineRequest {
        pipeline: Some(pb::Pipeline {
            id: pipeline.id.clone(),
            stages,
            etag: pipeline.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["stages".into()],
        }),
    })
    .await
    .unwrap();
    assert_eq!(
        reached(&mut alice).await,
        [
            row(2, 1, "100"),
            row(0, 1, "50"),
            row(1, 0, "0"),
            row(3, 0, "0"),
            row(4, 0, "0")
        ]
    );
}
