//! The metrics port of a running customers service, scraped during a small load: call counts
//! and the duration histogram move by exactly the calls made, the pool is reported, and the
//! lag of its follower of identity's feed rises while that feed is out of reach and falls back
//! to zero once it returns. Its own test binary: the metrics are the process's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_identity::testing::TestIdentity;
use crm_kit::testing::fresh_database;
use crm_proto::customers as pb;
use crm_proto::identity as id_pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP relay to `target` that can be cut: while blocked it closes every relayed connection
/// and every new one, as a partition between two services would.
struct Relay {
    addr: std::net::SocketAddr,
    blocked: watch::Sender<bool>,
}

impl Relay {
    async fn start(target: std::net::SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (blocked, watching) = watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if *watching.borrow() {
                    drop(client);
                    continue;
                }
                let mut cut = watching.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    tokio::select! {
                        _ = tokio::io::copy(&mut cr, &mut sw) => {}
                        _ = tokio::io::copy(&mut sr, &mut cw) => {}
                        _ = cut.wait_for(|b| *b) => {}
                    }
                });
            }
        });
        Relay { addr, blocked }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn block(&self, on: bool) {
        self.blocked.send_replace(on);
    }
}

/// One scrape of the metrics port: each sample line's series (name and labels) and value.
async fn scrape(addr: std::net::SocketAddr) -> BTreeMap<String, f64> {
    let mut stream = TcpStream::connect(addr).await.expect("metrics port");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    // The body may be chunked: keep only sample lines.
    body.lines()
        .filter(|l| !l.starts_with('#') && l.contains(' ') && l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse::<f64>().ok()?))
        })
        .collect()
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn value(samples: &BTreeMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.split('{').next() == Some(name)
                && labels.iter().all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| v)
        .sum()
}

/// Waits (up to `limit`) until `check` holds for a scrape; the last scrape otherwise.
async fn until(
    addr: std::net::SocketAddr,
    limit: Duration,
    what: &str,
    check: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let deadline = Instant::now() + limit;
    loop {
        let samples = scrape(addr).await;
        if check(&samples) {
            return samples;
        }
        if Instant::now() > deadline {
            let relevant: Vec<_> = samples.iter().filter(|(k, _)| k.starts_with("crm_")).collect();
            panic!("{what}: not within {limit:?}; last scrape: {relevant:#?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_port_shows_calls_pool_and_feed_lag_as_they_happen() {
    let identity = Arc::new(TestIdentity::start(&fresh_database("metrics_identity").await).await);
    let identity_addr: std::net::SocketAddr = identity.url().trim_start_matches("http://").parse().unwrap();
    let relay = Relay::start(identity_addr).await;
    let customers = crm_customers::testing::spawn_with(&relay.url(), None, |config| {
        config.service.metrics_sample_ms = 100;
    })
    .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = listener.local_addr().unwrap();
    let (_stop, stopping) = crm_kit::serve::Stopping::new();
    tokio::spawn(crm_kit::metrics::serve(listener, stopping));

    // A small load: creates, reads, and reads of customers that do not exist.
    let before = scrape(metrics).await;
    let create = [
        ("crm_service", "customers"),
        ("rpc_method", "CreateCustomer"),
        ("rpc_grpc_status_code", "0"),
    ];
    let missing = [
        ("crm_service", "customers"),
        ("rpc_method", "GetCustomer"),
        ("rpc_grpc_status_code", "5"),
    ];
    let token = identity.token("metrics-rep", "salesperson");
    let mut client = crm_customers::testing::client(&customers, &token).await;
    let (creates, misses) = (12, 5);
    let mut ids = Vec::new();
    for i in 0..creates {
        let created = client
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(pb::Customer {
                    kind: pb::CustomerKind::Company as i32,
                    name: format!("Metrics Instruments {i} Ltd"),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("created")
            .into_inner();
        ids.push(created.customer.expect("customer").id);
    }
    for id in &ids {
        client
            .get_customer(pb::GetCustomerRequest { id: id.clone() })
            .await
            .expect("read");
    }
    for _ in 0..misses {
        let status = client
            .get_customer(pb::GetCustomerRequest { id: crm_kit::new_id() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound);
    }
    let after = scrape(metrics).await;
    let count = "rpc_server_call_duration_seconds_count";
    assert_eq!(
        value(&after, count, &create) - value(&before, count, &create),
        f64::from(creates),
        "one count per create"
    );
    assert_eq!(
        value(&after, count, &missing) - value(&before, count, &missing),
        f64::from(misses),
        "NOT_FOUND counted under its code"
    );
    // The histogram: the +Inf bucket holds every call, buckets never fall, the sum is time.
    let buckets: Vec<(f64, f64)> = after
        .iter()
        .filter(|(series, _)| {
            series.starts_with("rpc_server_call_duration_seconds_bucket{")
                && create.iter().all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(series, v)| {
            let le = series.split("le=\"").nth(1).unwrap().split('"').next().unwrap();
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                },
                *v,
            )
        })
        .collect();
    assert_eq!(buckets.len(), 15, "14 bounds and +Inf: {buckets:?}");
    let mut sorted = buckets.clone();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(
        sorted.windows(2).all(|w| w[0].1 <= w[1].1),
        "cumulative buckets: {sorted:?}"
    );
    assert_eq!(sorted.last().unwrap().1, value(&after, count, &create));
    assert!(value(&after, "rpc_server_call_duration_seconds_sum", &create) > 0.0);
    assert_eq!(
        value(&after, "rpc_server_active_requests", &[("crm_service", "customers")]),
        0.0,
        "nothing in flight once the calls returned"
    );
    // The pool: its size as configured, and the writes' waits timed.
    assert_eq!(
        value(&after, "db_client_connection_max", &[("crm_service", "customers")]),
        8.0
    );
    assert!(
        value(
            &after,
            "db_client_connection_wait_time_seconds_count",
            &[("crm_service", "customers")]
        ) >= f64::from(creates)
    );
    assert!(
        value(
            &after,
            "db_client_connection_count",
            &[("crm_service", "customers"), ("db_client_connection_state", "idle")]
        ) >= 1.0
    );
    assert_eq!(
        value(
            &after,
            "crm_health_serving",
            &[("crm_service", "customers"), ("check", "")]
        ),
        1.0
    );

    // Caught up with identity's feed: nothing unacknowledged, no time behind.
    let lag = [("crm_service", "identity"), ("consumer", "customers")];
    let lag_time = [("crm_service", "customers"), ("feed", "identity")];
    let follower = [("crm_service", "customers"), ("check", "crm.events.follow.identity")];
    until(metrics, Duration::from_secs(30), "caught up at start", |s| {
        s.keys()
            .any(|k| k.starts_with("crm_events_consumer_lag{") && k.contains("consumer=\"customers\""))
            && value(s, "crm_events_consumer_lag", &lag) == 0.0
            && value(s, "crm_events_consumer_lag_time_seconds", &lag_time) == 0.0
    })
    .await;

    // The feed out of reach while identity keeps changing: the lag rises.
    relay.block(true);
    let head_before = value(
        &scrape(metrics).await,
        "crm_events_feed_head",
        &[("crm_service", "identity")],
    );
    let admin = identity.token("test-admin", "admin");
    let mut identity_client = identity.client(&admin).await;
    let department = |name: &str, parent_id: &str| id_pb::CreateDepartmentRequest {
        department: Some(id_pb::Department {
            name: name.into(),
            parent_id: parent_id.into(),
            ..Default::default()
        }),
    };
    let mut made = Vec::new();
    for (name, parent) in [("North", ""), ("South", "")] {
        let d = identity_client
            .create_department(department(name, parent))
            .await
            .expect("department")
            .into_inner()
            .department
            .expect("department");
        made.push(d.id);
    }
    let mut team = identity_client
        .create_department(department("Team", &made[0]))
        .await
        .expect("department")
        .into_inner()
        .department
        .expect("department");
    let moves = 4usize;
    for i in 0..moves {
        team = identity_client
            .update_department(id_pb::UpdateDepartmentRequest {
                department: Some(id_pb::Department {
                    parent_id: made[(i + 1) % 2].clone(),
                    ..team
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["parent_id".into()],
                }),
            })
            .await
            .expect("moved: a DepartmentMoved event")
            .into_inner()
            .department
            .expect("department");
    }
    let blocked = until(metrics, Duration::from_secs(30), "lag rises while blocked", |s| {
        value(s, "crm_events_feed_head", &[("crm_service", "identity")]) >= head_before + f64::from(moves as u32)
            && value(s, "crm_events_consumer_lag", &lag) >= f64::from(moves as u32)
            && value(s, "crm_events_consumer_lag_time_seconds", &lag_time) >= 1.0
    })
    .await;
    assert_eq!(
        value(&blocked, "crm_events_outbox_backlog", &[("crm_service", "identity")]),
        0.0,
        "identity published them"
    );
    until(metrics, Duration::from_secs(30), "the follower's health drops", |s| {
        value(s, "crm_health_serving", &follower) == 0.0
    })
    .await;

    // Back in reach: the follower catches up, acknowledges, and the lag is gone.
    relay.block(false);
    let recovered = until(
        metrics,
        Duration::from_secs(60),
        "lag falls once the feed returns",
        |s| {
            value(s, "crm_events_consumer_lag", &lag) == 0.0
                && value(s, "crm_events_consumer_lag_time_seconds", &lag_time) == 0.0
                && value(s, "crm_health_serving", &follower) == 1.0
        },
    )
    .await;
    assert!(
        value(
            &recovered,
            "crm_events_applied_total",
            &[("crm_service", "customers"), ("feed", "identity")]
        ) >= f64::from(moves as u32),
        "the moves were applied"
    );
    assert_eq!(
        value(
            &recovered,
            "crm_events_apply_errors_total",
            &[("crm_service", "customers")]
        ),
        0.0,
        "an unreachable feed is no apply error"
    );
}
