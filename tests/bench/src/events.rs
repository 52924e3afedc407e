//! Benchmarks of events between services, each with a baseline from the same run:
//!
//! - latency: events committed at a steady rate (500/s) by a producer's outbox and applied by a
//!   follower of its feed in another database: commit-to-apply p50/p95 (target p95 < 200 ms).
//!   The apply instant is taken inside the consumer's transaction, one commit before it ends.
//!   Baseline: the same rate of plain rows committed on the producer's database and found by a
//!   reader polling the table every millisecond, the floor of any poll-based delivery.
//! - handover: an employee owning 100,000 customers is deactivated through identity; the time
//!   until the customers service has moved them all to the successor (with history and
//!   events). Baseline: the bare `UPDATE customers SET owner_id` of the same rows (target
//!   < 30 s on PostgreSQL).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crm_kit::db::{Db, Migration};
use crm_kit::events::{Event, Follow, Handler, Outbox};
use crm_kit::serve::{ServeSpec, Stopping};
use crm_kit::testing::{TestServer, fresh_database_at};
use crm_proto::identity as ipb;
use sqlx::AnyConnection;

use crate::{Args, ms, percentile};

const TABLES: Migration = Migration {
    version: 1,
    name: "bench",
    only_on: None,
    sql: "CREATE TABLE beats (id BIGINT PRIMARY KEY, committed_at BIGINT NOT NULL)",
};

async fn database(admin: Option<&str>, prefix: &str) -> Db {
    let url = fresh_database_at(admin, prefix).await.url;
    let db = Db::connect(&url, 8).await.expect("connect");
    let mut m = vec![TABLES];
    m.extend(crm_kit::events::MIGRATIONS);
    m.push(crm_kit::events::retention::MIGRATION);
    db.migrate(&m).await.expect("migrate");
    db
}

/// Records when each event (its payload's employee id is its index) was applied.
struct Stamp {
    started: Instant,
    applied: Arc<Mutex<Vec<Option<Duration>>>>,
}

impl Handler for Stamp {
    fn apply<'a>(
        &'a self,
        _conn: &'a mut AnyConnection,
        event: &'a Event,
    ) -> Pin<Box<dyn Future<Output = crm_kit::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            let e: ipb::EmployeeMoved = crm_kit::events::payload(event)?;
            if let Ok(i) = e.employee_id.parse::<usize>() {
                let mut applied = self.applied.lock().expect("lock");
                if let Some(slot) = applied.get_mut(i) {
                    *slot = Some(self.started.elapsed());
                }
            }
            Ok(())
        })
    }
}

/// Runs `n` paced commits (`rate` per second) of `commit(i)`, recording when each returned.
async fn paced<F, Fut>(n: usize, rate: u32, started: Instant, commit: F) -> Vec<Duration>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut at = Vec::with_capacity(n);
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..n {
        tick.tick().await;
        commit(i).await;
        at.push(started.elapsed());
    }
    at
}

fn latencies(committed: &[Duration], applied: &[Option<Duration>]) -> (Vec<Duration>, usize) {
    let mut out = Vec::new();
    let mut missing = 0;
    for (c, a) in committed.iter().zip(applied) {
        match a {
            Some(a) => out.push(a.saturating_sub(*c)),
            None => missing += 1,
        }
    }
    out.sort();
    (out, missing)
}

pub async fn bench_latency(args: &Args, backend: &str, admin: Option<&str>) {
    let n = if args.smoke { 500 } else { 10_000 };
    let rate = 500;
    let producer = database(admin, "bench_ev_producer").await;
    let consumer = database(admin, "bench_ev_consumer").await;
    let (stop_all, stopping) = Stopping::new();
    let (outbox, _sequencer) = Outbox::start(producer.clone(), stopping.clone());
    let feed_db = producer.clone();
    let server = TestServer::start(move |listener, shutdown| async move {
        let (stop_tx, _) = Stopping::new();
        let spec = ServeSpec {
            name: "bench-producer",
            grpc_services: vec![crm_kit::events::FEED_SERVICE],
            routes: tonic::service::Routes::new(outbox.feed()),
            db: Some(feed_db),
            health_checks: Vec::new(),
            auth: None,
            request_timeout: None,
            shutdown: crm_kit::serve::ShutdownTimings {
                drain_delay: Duration::ZERO,
                grace: Duration::from_millis(200),
            },
            limits: Default::default(),
            slow_call: std::time::Duration::from_secs(1),
        };
        crm_kit::serve::serve(listener, spec, shutdown, stop_tx)
            .await
            .expect("serve");
    })
    .await;
    let started = Instant::now();
    let applied = Arc::new(Mutex::new(vec![None; n]));
    let follow = Follow {
        feed: "bench".into(),
        url: server.endpoint(),
        types: Vec::new(),
        credentials: None,
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
        lease_ttl: Duration::from_secs(15),
        health: None,
        consumer: "bench".into(),
        ack_interval: Duration::from_secs(5),
    };
    let follower = tokio::spawn(crm_kit::events::follow(
        consumer.clone(),
        follow,
        Arc::new(Stamp {
            started,
            applied: applied.clone(),
        }),
        stopping.clone(),
    ));

    // Events.
    let committed = paced(n, rate, started, |i| {
        let producer = producer.clone();
        async move {
            let mut tx = producer.begin_write().await.expect("begin");
            crm_kit::events::append(
                &mut tx,
                &i.to_string(),
                &ipb::EmployeeMoved {
                    employee_id: i.to_string(),
                    from_department_id: "d1".into(),
                    to_department_id: "d2".into(),
                    department_path: "/d2/".into(),
                },
            )
            .await
            .expect("append");
            tx.commit().await.expect("commit");
        }
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while applied.lock().expect("lock").iter().any(Option::is_none) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (events, missing) = latencies(&committed, &applied.lock().expect("lock"));
    let _ = stop_all.send(true);
    let _ = follower.await;
    server.stop().await;

    // Baseline: plain rows found by a 1 ms poller.
    let seen = Arc::new(Mutex::new(vec![None; n]));
    let poller = {
        let db = producer.clone();
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut last: i64 = -1;
            let deadline = Instant::now() + Duration::from_secs(120);
            while last + 1 < n as i64 && Instant::now() < deadline {
                let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM beats WHERE id > $1 ORDER BY id")
                    .bind(last)
                    .fetch_all(&db.pool)
                    .await
                    .expect("poll");
                let now = started.elapsed();
                {
                    let mut stamps = seen.lock().expect("lock");
                    for (id,) in rows {
                        if let Some(slot) = stamps.get_mut(id as usize) {
                            *slot = Some(now);
                        }
                        last = last.max(id);
                    }
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let committed_raw = paced(n, rate, started, |i| {
        let db = producer.clone();
        async move {
            let mut tx = db.begin_write().await.expect("begin");
            sqlx::query("INSERT INTO beats (id, committed_at) VALUES ($1, $2)")
                .bind(i as i64)
                .bind(crm_kit::time::now_micros())
                .execute(&mut *tx)
                .await
                .expect("insert");
            tx.commit().await.expect("commit");
        }
    })
    .await;
    let _ = poller.await;
    let (raw, raw_missing) = latencies(&committed_raw, &seen.lock().expect("lock"));
    let p95 = percentile(&events, 0.95);
    let raw_p95 = percentile(&raw, 0.95);
    println!(
        "events [{backend}] commit-to-apply at {rate}/s, {n} events: p50 {} p95 {} max {} ({missing} missing; target p95 < 200 ms); \
         raw rows found by a 1 ms poller: p50 {} p95 {} ({raw_missing} missing); ratio p95 {:.1}x",
        ms(percentile(&events, 0.5)),
        ms(p95),
        ms(events.last().copied().unwrap_or_default()),
        ms(percentile(&raw, 0.5)),
        ms(raw_p95),
        p95.as_secs_f64() / raw_p95.as_secs_f64().max(1e-6),
    );
    producer.pool.close().await;
    consumer.pool.close().await;
}

pub async fn bench_handover(args: &Args, backend: &str, admin: Option<&str>) {
    let n = if args.smoke { 2_000 } else { 100_000 };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let customers_url = format!("http://{}", listener.local_addr().expect("addr"));
    let identity = crm_identity::testing::TestIdentity::start_with_peers(
        &fresh_database_at(admin, "bench_ho_identity").await,
        vec![customers_url],
    )
    .await;
    for id in ["leaver", "successor"] {
        identity.employee(id, "salesperson").await;
    }
    let db_url = fresh_database_at(admin, "bench_ho_customers").await.url;
    // Returns once the service has migrated: the leaver's book is loaded straight into its table.
    let customers = crm_customers::testing::spawn_with(&identity.url(), Some(listener), |c| {
        c.service.database_url = Some(db_url);
    })
    .await;
    let db = customers.db.clone();
    let customers = customers.server;
    let load = |owner: &'static str, tag: &'static str| {
        let db = db.clone();
        async move {
            let per = crm_kit::db::rows_per_statement_on(db.backend, 8);
            let now = crm_kit::time::now_micros();
            let mut i = 0;
            while i < n {
                let end = (i + per).min(n);
                let mut sql = String::from(
                    "INSERT INTO customers (id, kind, name, name_key, owner_id, owned_since, created_at, created_by, updated_at, updated_by) VALUES ",
                );
                for k in i..end {
                    let b = (k - i) * 8;
                    if k > i {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, 'company', ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8
                    ));
                }
                let mut q = sqlx::query(&sql);
                for k in i..end {
                    let name = format!("{tag} account {k:06}");
                    q = q
                        .bind(crm_kit::new_id())
                        .bind(name.clone())
                        .bind(name)
                        .bind(owner)
                        .bind(now)
                        .bind("bench")
                        .bind(now)
                        .bind("bench");
                }
                let mut tx = db.begin_write().await.expect("begin");
                q.execute(&mut *tx).await.expect("load");
                tx.commit().await.expect("commit");
                i = end;
            }
            db.refresh_statistics(&["customers"]).await.expect("analyze");
        }
    };
    load("leaver", "leaver").await;
    let owned = |owner: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE owner_id = $1 AND deleted_at IS NULL",
            )
            .bind(owner)
            .fetch_one(&db.pool)
            .await
            .expect("count")
        }
    };

    let admin_token = identity.token("test-admin", "admin");
    let mut client = identity.client(&admin_token).await;
    let t = Instant::now();
    let dry = client
        .deactivate_employee(ipb::DeactivateEmployeeRequest {
            id: "leaver".into(),
            successor_id: "successor".into(),
            dry_run: true,
        })
        .await
        .expect("dry run")
        .into_inner();
    let dry_time = t.elapsed();
    let counted = dry.counts.iter().find(|c| c.kind == "customers").map_or(0, |c| c.count);
    let t = Instant::now();
    client
        .deactivate_employee(ipb::DeactivateEmployeeRequest {
            id: "leaver".into(),
            successor_id: "successor".into(),
            dry_run: false,
        })
        .await
        .expect("deactivate");
    let deadline = Instant::now() + Duration::from_secs(300);
    while owned("successor").await < n as i64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let handover = t.elapsed();
    let moved = owned("successor").await;

    // Baseline: the bare update of as many rows.
    load("baseline", "baseline").await;
    let t = Instant::now();
    let mut tx = db.begin_write().await.expect("begin");
    sqlx::query("UPDATE customers SET owner_id = $1 WHERE owner_id = $2 AND deleted_at IS NULL")
        .bind("baseline-successor")
        .bind("baseline")
        .execute(&mut *tx)
        .await
        .expect("raw update");
    tx.commit().await.expect("commit");
    let raw = t.elapsed();
    println!(
        "handover [{backend}] {n} customers: dry run counted {counted} in {}; deactivate to all moved {} ({moved} moved, one history row and event each batch; target < 30 s on PostgreSQL); raw UPDATE {}; ratio {:.2}x",
        ms(dry_time),
        ms(handover),
        ms(raw),
        handover.as_secs_f64() / raw.as_secs_f64().max(1e-6),
    );
    customers.stop().await;
    db.pool.close().await;
}
