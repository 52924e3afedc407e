//! The sales reports over a large book of opportunities, each with a baseline from the same
//! run: the report over gRPC (scope, grouping, weighted amounts rounded per deal, ratios) vs the
//! bare `GROUP BY` of the same table that gives its counts and sums, on the same database.
//!
//! - funnel: GetFunnel of the default pipeline (open deals per stage, stuck deals, how far the
//!   deals got) vs counts and sums of open deals per stage;
//! - analysis: GetOpportunityAnalysis by salesperson vs counts and sums per owner;
//! - forecast: GetForecast by month for the department vs counts and sums per close month and
//!   category.

use std::time::{Duration, Instant};

use crm_kit::db::Db;
use crm_kit::sql::SqlBuf;
use crm_kit::testing::fresh_database_at;
use crm_proto::sales as pb;
use crm_proto::sales::sales_service_client::SalesServiceClient;

use crate::{Args, Rng, identity};

const STATUSES: &[&str] = &[
    "open", "open", "open", "open", "open", "open", "won", "won", "lost", "lost",
];
const CATEGORIES: &[&str] = &["pipeline", "best_case", "commit", "omitted"];
/// Rounds of each report; the median is printed.
const ROUNDS: usize = 5;

/// Writes `n` opportunities of 50 salespeople across the pipeline's stages, each with its
/// stage visit (and so how far it got), straight into the sales database.
async fn seed(db: &Db, n: usize, department_path: &str) -> String {
    let stages: Vec<(String, String, i64, i64)> =
        sqlx::query_as("SELECT id, pipeline_id, position, probability FROM stages WHERE active = 1 ORDER BY position")
            .fetch_all(&db.pool)
            .await
            .expect("stages");
    let pipeline = stages[0].1.clone();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let now = crm_kit::time::now_micros();
    let day = crm_kit::time::DAY_MICROS;
    let per_statement = crm_kit::db::rows_per_statement_on(db.backend, 21);
    let mut tx = db.pool.begin().await.expect("begin");
    for start in (0..n).step_by(per_statement) {
        let end = (start + per_statement).min(n);
        let mut opportunities = SqlBuf::new(
            "INSERT INTO opportunities (id, subject, customer_id, owner_id, owner_department_path, pipeline_id, stage_id, \
             probability, currency, expected_amount, expected_cost, planned_close_date, forecast_category, status, \
             stage_entered_at, reached_position, closed_at, created_at, created_by, updated_at, updated_by) VALUES ",
        );
        let mut visits =
            SqlBuf::new("INSERT INTO stage_visits (id, opportunity_id, stage_id, entered_at, moved_by) VALUES ");
        for i in start..end {
            let (stage, _, position, probability) = &stages[(rng.next() % stages.len() as u64) as usize];
            let status = rng.pick(STATUSES);
            let created = now - (rng.next() % 400) as i64 * day;
            let entered = created + (rng.next() % 30) as i64 * day;
            let amount = (rng.next() % 1_000_000) as i64 * 100;
            let close = format!("2026-{:02}-{:02}", rng.next() % 12 + 1, rng.next() % 28 + 1);
            let sep = if i == start { "(" } else { ", (" };
            opportunities.push(sep).text(format!("o{i}"));
            for v in [
                format!("Deal {i}"),
                format!("c{}", i % 20_000),
                format!("rep{}", i % 50),
                department_path.to_string(),
                pipeline.clone(),
                stage.clone(),
            ] {
                opportunities.push(", ").text(v);
            }
            opportunities
                .push(", ")
                .int(if status == "won" { 100 } else { *probability });
            opportunities.push(", ").text("CNY");
            opportunities.push(", ").int(amount);
            opportunities.push(", ").int(amount * 6 / 10);
            opportunities.push(", ").text(close);
            opportunities.push(", ").text(rng.pick(CATEGORIES));
            opportunities.push(", ").text(status);
            opportunities.push(", ").int(entered);
            opportunities.push(", ").int(*position);
            opportunities
                .push(", ")
                .int(if status == "open" { 0 } else { entered + day });
            opportunities.push(", ").int(created);
            opportunities.push(", ").text("bench");
            opportunities.push(", ").int(created);
            opportunities.push(", ").text("bench").push(")");
            visits.push(sep).text(format!("v{i}"));
            visits.push(", ").text(format!("o{i}"));
            visits.push(", ").text(stage.clone());
            visits.push(", ").int(entered);
            visits.push(", ").text("bench").push(")");
        }
        opportunities
            .query()
            .execute(&mut *tx)
            .await
            .expect("insert opportunities");
        visits.query().execute(&mut *tx).await.expect("insert visits");
    }
    tx.commit().await.expect("commit");
    db.refresh_statistics(&["opportunities", "stage_visits"])
        .await
        .expect("statistics");
    pipeline
}

/// The median of `ROUNDS` timings of `f`.
async fn median<F, Fut>(mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        f().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[ROUNDS / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn bench_reports(args: &Args, backend: &str, admin: Option<&str>) {
    let n = if args.smoke { 20_000 } else { 1_000_000 };
    let (identity, token) = identity().await;
    let url = fresh_database_at(admin, "bench_reports").await.url;
    // Returns once the service has migrated and seeded its default pipeline.
    let sales = crm_sales::testing::spawn_with(&identity.url(), "http://127.0.0.1:50052", None, |c| {
        c.service.database_url = Some(url.clone());
        c.service.request_timeout_seconds = 300;
        c.forecast_snapshot_check_seconds = 0;
        c.follow_identity = false;
    })
    .await;
    let db = sales.db.clone();
    let sales = sales.server;
    let started = Instant::now();
    let pipeline = seed(&db, n, &identity.department_path).await;
    println!(
        "reports [{backend}] seeded {n} opportunities in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let channel = tonic::transport::Channel::from_shared(sales.endpoint())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let client = SalesServiceClient::with_interceptor(channel, crm_identity::testing::Bearer::new(token))
        .max_decoding_message_size(64 * 1024 * 1024);

    // Funnel.
    let service = median(|| {
        let mut client = client.clone();
        async move {
            let funnel = client
                .get_funnel(pb::GetFunnelRequest::default())
                .await
                .expect("funnel")
                .into_inner();
            let open: i64 = funnel.stages.iter().map(|s| s.count).sum();
            assert!(open > 0 && funnel.won_count > 0);
        }
    })
    .await;
    let raw = median(|| {
        let pool = db.pool.clone();
        let pipeline = pipeline.clone();
        async move {
            let rows: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT stage_id, CAST(COUNT(*) AS BIGINT), CAST(SUM(expected_amount) AS BIGINT) FROM opportunities \
                 WHERE status = 'open' AND pipeline_id = $1 GROUP BY stage_id",
            )
            .bind(pipeline)
            .fetch_all(&pool)
            .await
            .expect("raw funnel");
            assert!(!rows.is_empty());
        }
    })
    .await;
    println!(
        "reports [{backend}] funnel over {n} deals: GetFunnel {:.0} ms, raw GROUP BY stage {:.0} ms, ratio {:.2}",
        ms(service),
        ms(raw),
        ms(service) / ms(raw)
    );

    // Opportunity analysis by salesperson.
    let service = median(|| {
        let mut client = client.clone();
        async move {
            let analysis = client
                .get_opportunity_analysis(pb::GetOpportunityAnalysisRequest {
                    group_by: pb::AnalysisGrouping::Salesperson as i32,
                    ..Default::default()
                })
                .await
                .expect("analysis")
                .into_inner();
            assert_eq!(analysis.rows.len(), 50);
        }
    })
    .await;
    let raw = median(|| {
        let pool = db.pool.clone();
        async move {
            let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                "SELECT owner_id, CAST(COUNT(*) AS BIGINT), CAST(SUM(expected_cost) AS BIGINT), \
                 CAST(SUM(expected_amount) AS BIGINT) FROM opportunities GROUP BY owner_id",
            )
            .fetch_all(&pool)
            .await
            .expect("raw analysis");
            assert_eq!(rows.len(), 50);
        }
    })
    .await;
    println!(
        "reports [{backend}] analysis by salesperson over {n} deals: GetOpportunityAnalysis {:.0} ms, raw GROUP BY owner {:.0} ms, ratio {:.2}",
        ms(service),
        ms(raw),
        ms(service) / ms(raw)
    );

    // Forecast of the department by month.
    let department = identity.department_id.clone();
    let service = median(|| {
        let mut client = client.clone();
        let department = department.clone();
        async move {
            let forecast = client
                .get_forecast(pb::GetForecastRequest {
                    period: pb::ForecastPeriod::Month as i32,
                    subject_id: department,
                    department: true,
                    ..Default::default()
                })
                .await
                .expect("forecast")
                .into_inner();
            assert_eq!(forecast.totals.len(), 12);
        }
    })
    .await;
    let raw = median(|| {
        let pool = db.pool.clone();
        async move {
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT SUBSTR(planned_close_date, 1, 7), forecast_category, CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(expected_amount) AS BIGINT) FROM opportunities WHERE status IN ('open', 'won') GROUP BY 1, 2",
            )
            .fetch_all(&pool)
            .await
            .expect("raw forecast");
            assert!(!rows.is_empty());
        }
    })
    .await;
    println!(
        "reports [{backend}] forecast by month over {n} deals: GetForecast {:.0} ms, raw GROUP BY month, category {:.0} ms, ratio {:.2}",
        ms(service),
        ms(raw),
        ms(service) / ms(raw)
    );
    db.pool.close().await;
    sales.stop().await;
}
