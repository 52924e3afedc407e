//! The outbox, the feed and the subscriber against real databases (SQLite, or PostgreSQL with
//! `CRM_TEST_POSTGRES_URL`): a producer database with an outbox served over gRPC, a consumer
//! database following it. The effect of each event is a row in `applied` (unique by event id),
//! so a doubled effect fails the insert and a lost one is missing.

// These tests set up and check the database directly.
#![allow(clippy::disallowed_methods)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_kit::db::{Backend, Db, Migration};
use crm_kit::events::{Event, Follow, Handler, Outbox};
use crm_kit::serve::{ServeSpec, Stopping};
use crm_kit::testing::{TestServer, fresh_database};
use crm_proto::identity::EmployeeMoved;
use sqlx::AnyConnection;

const APPLIED: Migration = Migration {
    version: 1,
    name: "applied",
    only_on: None,
    sql: "CREATE TABLE applied (event_id TEXT PRIMARY KEY, sequence BIGINT NOT NULL, employee_id TEXT NOT NULL)",
};

fn migrations() -> Vec<Migration> {
    let mut m = vec![APPLIED];
    m.extend(crm_kit::events::MIGRATIONS);
    m.push(crm_kit::events::retention::MIGRATION);
    m
}

async fn database(prefix: &str) -> Db {
    let url = fresh_database(prefix).await.url;
    let db = Db::connect(&url, 8).await.expect("connect");
    db.migrate(&migrations()).await.expect("migrate");
    db
}

/// Records each event's effect; refuses an event whose payload says `employee_id = "poison"`.
struct Record;

impl Handler for Record {
    fn apply<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        event: &'a Event,
    ) -> Pin<Box<dyn Future<Output = crm_kit::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            let e: EmployeeMoved = crm_kit::events::payload(event)?;
            if e.employee_id == "poison" {
                return Err(crm_kit::Error::precondition("POISON", &event.event_id, "refused"));
            }
            sqlx::query("INSERT INTO applied (event_id, sequence, employee_id) VALUES ($1, $2, $3)")
                .bind(&event.event_id)
                .bind(event.sequence)
                .bind(&e.employee_id)
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}

/// A producer: its database, outbox and feed server.
struct Producer {
    db: Db,
    server: Option<TestServer>,
    stop_sequencer: tokio::sync::watch::Sender<bool>,
}

impl Producer {
    async fn start(db: Db, addr: Option<std::net::SocketAddr>) -> Producer {
        let (stop_sequencer, stopping) = Stopping::new();
        let (outbox, _task) = Outbox::start(db.clone(), stopping);
        let feed_db = db.clone();
        let listener = match addr {
            Some(a) => {
                // The port was just freed by the previous server; it may take a moment.
                let mut tries = 0;
                loop {
                    match tokio::net::TcpListener::bind(a).await {
                        Ok(l) => break l,
                        Err(e) if tries < 50 => {
                            tries += 1;
                            let _ = e;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(e) => panic!("rebind {a}: {e}"),
                    }
                }
            }
            None => tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        };
        let server = TestServer::start_on(listener, move |listener, shutdown| async move {
            let (stop_tx, _) = Stopping::new();
            let spec = ServeSpec {
                name: "producer",
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
        Producer {
            db,
            server: Some(server),
            stop_sequencer,
        }
    }

    fn url(&self) -> String {
        self.server.as_ref().expect("running").endpoint()
    }

    async fn stop(&mut self) -> std::net::SocketAddr {
        let server = self.server.take().expect("running");
        let addr = server.addr;
        server.stop().await;
        let _ = self.stop_sequencer.send(true);
        addr
    }

    /// Commits one event for `employee_id`.
    async fn publish(&self, employee_id: &str) {
        let mut tx = self.db.begin_write().await.expect("begin");
        crm_kit::events::append(&mut tx, employee_id, &moved(employee_id))
            .await
            .expect("append");
        tx.commit().await.expect("commit");
    }
}

fn moved(employee_id: &str) -> EmployeeMoved {
    EmployeeMoved {
        employee_id: employee_id.into(),
        from_department_id: "d1".into(),
        to_department_id: "d2".into(),
        department_path: "/d2/".into(),
    }
}

fn follow_spec(url: &str) -> Follow {
    Follow {
        feed: "producer".into(),
        url: url.into(),
        types: Vec::new(),
        credentials: None,
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        lease_ttl: Duration::from_secs(2),
        health: None,
        consumer: String::new(),
        ack_interval: Duration::from_secs(5),
    }
}

/// A running follower and the trigger that stops it.
struct Follower {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Follower {
    fn start(db: &Db, follow: Follow) -> Follower {
        let (stop, stopping) = Stopping::new();
        let task = tokio::spawn(crm_kit::events::follow(db.clone(), follow, Arc::new(Record), stopping));
        Follower { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn applied(db: &Db) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT sequence, employee_id FROM applied ORDER BY sequence")
        .fetch_all(&db.pool)
        .await
        .expect("applied")
}

/// Waits until the consumer has applied `n` events.
async fn wait_for(db: &Db, n: usize) -> Vec<(i64, String)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = applied(db).await;
        if rows.len() >= n {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} events applied: {rows:?}",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_then_new_events_arrive_once_in_order_and_a_refused_one_is_kept_aside() {
    let producer = Producer::start(database("feed_producer").await, None).await;
    for i in 0..120 {
        producer.publish(&format!("e{i:03}")).await;
    }
    producer.publish("poison").await;
    let consumer = database("feed_consumer").await;
    let follower = Follower::start(&consumer, follow_spec(&producer.url()));
    let rows = wait_for(&consumer, 120).await;
    let names: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    let expected: Vec<String> = (0..120).map(|i| format!("e{i:03}")).collect();
    assert_eq!(names, expected, "the backlog, in order, each once");
    // Tail: new events arrive moments after they commit.
    let started = Instant::now();
    producer.publish("tail").await;
    let rows = wait_for(&consumer, 121).await;
    assert_eq!(rows.last().map(|r| r.1.as_str()), Some("tail"));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The refused event is recorded with its reason and passed.
    let refused: Vec<(String, String)> =
        sqlx::query_as("SELECT outcome, detail FROM crm_event_inbox WHERE outcome <> 'applied'")
            .fetch_all(&consumer.pool)
            .await
            .unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].1.contains("refused"), "{refused:?}");
    follower.stop().await;
    let cursor = crm_kit::events::subscriber::read_cursor(&consumer, "producer")
        .await
        .unwrap();
    assert_eq!(cursor, 122, "the cursor stands after the last event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewinding_the_cursor_redelivers_without_changing_anything() {
    let producer = Producer::start(database("rewind_producer").await, None).await;
    for i in 0..30 {
        producer.publish(&format!("e{i}")).await;
    }
    let consumer = database("rewind_consumer").await;
    let follower = Follower::start(&consumer, follow_spec(&producer.url()));
    wait_for(&consumer, 30).await;
    crm_kit::events::subscriber::set_cursor(&consumer, "producer", 0)
        .await
        .unwrap();
    // The follower notices the moved cursor, starts over from 0 and skips every event it has.
    producer.publish("after-rewind").await;
    let rows = wait_for(&consumer, 31).await;
    assert_eq!(rows.len(), 31, "nothing applied twice: {rows:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while crm_kit::events::subscriber::read_cursor(&consumer, "producer")
        .await
        .unwrap()
        < 31
    {
        assert!(Instant::now() < deadline, "the cursor came back to the head");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    follower.stop().await;
    assert_eq!(applied(&consumer).await.len(), 31);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_producer_down_the_consumer_retries_and_catches_up_when_it_returns() {
    let mut producer = Producer::start(database("down_producer").await, None).await;
    producer.publish("before").await;
    let consumer = database("down_consumer").await;
    let mut spec = follow_spec(&producer.url());
    let (reporter, mut healthy) = crm_kit::events::FeedHealth::new();
    spec.health = Some(reporter);
    let follower = Follower::start(&consumer, spec);
    wait_for(&consumer, 1).await;
    assert!(*healthy.borrow_and_update(), "following: healthy");
    let addr = producer.stop().await;
    // Committed while the producer's server is down.
    for i in 0..20 {
        producer.publish(&format!("while-down-{i}")).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        applied(&consumer).await.len(),
        1,
        "nothing arrives while the producer is down"
    );
    assert!(!*healthy.borrow_and_update(), "the feed is unreachable: unhealthy");
    let producer = Producer::start(producer.db.clone(), Some(addr)).await;
    let rows = wait_for(&consumer, 21).await;
    assert_eq!(rows.len(), 21);
    assert!(*healthy.borrow(), "following again: healthy");
    producer.publish("after").await;
    wait_for(&consumer, 22).await;
    follower.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_followers_of_one_feed_apply_each_event_once() {
    let producer = Producer::start(database("pair_producer").await, None).await;
    let consumer = database("pair_consumer").await;
    let a = Follower::start(&consumer, follow_spec(&producer.url()));
    let b = Follower::start(&consumer, follow_spec(&producer.url()));
    for i in 0..200 {
        producer.publish(&format!("e{i}")).await;
    }
    let rows = wait_for(&consumer, 200).await;
    assert_eq!(rows.len(), 200);
    // The leader stops; the other takes over once its lease runs out.
    a.stop().await;
    for i in 200..220 {
        producer.publish(&format!("e{i}")).await;
    }
    let rows = wait_for(&consumer, 220).await;
    assert_eq!(rows.len(), 220);
    b.stop().await;
    let holders: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM crm_leases")
        .fetch_one(&consumer.pool)
        .await
        .unwrap();
    assert_eq!(holders, 0, "a stopping follower gives its lease up");
}

/// Two writers: the one that started first commits last. Its event gets the higher sequence,
/// so a consumer that already read past the first commit still receives it. (SQLite has one
/// writer at a time, so there a later-started transaction cannot commit first.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_committing_late_is_not_skipped() {
    let producer_db = database("late_producer").await;
    if producer_db.backend == Backend::Sqlite {
        eprintln!("SKIPPED on SQLite (one writer at a time); runs on PostgreSQL");
        return;
    }
    let producer = Producer::start(producer_db.clone(), None).await;
    let consumer = database("late_consumer").await;
    let follower = Follower::start(&consumer, follow_spec(&producer.url()));

    let mut early = producer_db.begin_write().await.unwrap();
    crm_kit::events::append(&mut early, "early", &moved("early"))
        .await
        .unwrap();
    // The later writer commits first, and the consumer applies it.
    producer.publish("late").await;
    let rows = wait_for(&consumer, 1).await;
    assert_eq!(rows[0].1, "late");
    tokio::time::sleep(Duration::from_millis(300)).await;
    early.commit().await.unwrap();
    let rows = wait_for(&consumer, 2).await;
    assert_eq!(
        rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ["late", "early"],
        "the late commit is delivered after, not lost"
    );
    assert!(rows[1].0 > rows[0].0);
    follower.stop().await;
}

async fn feed_client(url: &str) -> crm_proto::events::event_feed_client::EventFeedClient<tonic::transport::Channel> {
    crm_proto::events::event_feed_client::EventFeedClient::connect(url.to_string())
        .await
        .expect("connect to the feed")
}

async fn outbox_sequences(db: &Db) -> Vec<i64> {
    sqlx::query_scalar("SELECT sequence FROM crm_outbox WHERE sequence IS NOT NULL ORDER BY sequence")
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

async fn acked(db: &Db, consumer: &str) -> Option<i64> {
    sqlx::query_scalar("SELECT acked_sequence FROM crm_feed_consumers WHERE consumer = $1")
        .bind(consumer)
        .fetch_optional(&db.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_keeps_what_a_consumer_has_not_applied_and_refuses_a_cursor_behind_it() {
    use crm_kit::events::retention;
    let producer = Producer::start(database("prune_producer").await, None).await;
    for i in 0..100 {
        producer.publish(&format!("e{i:03}")).await;
    }
    let consumer = database("prune_consumer").await;
    let mut spec = follow_spec(&producer.url());
    spec.consumer = "alpha".into();
    spec.ack_interval = Duration::from_millis(50);
    let follower = Follower::start(&consumer, spec);
    wait_for(&consumer, 100).await;
    // The follower acknowledges what it applied.
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked(&producer.db, "alpha").await != Some(100) {
        assert!(
            Instant::now() < deadline,
            "alpha acknowledged {:?}",
            acked(&producer.db, "alpha").await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another consumer has applied only the first 40.
    let mut client = feed_client(&producer.url()).await;
    client
        .acknowledge(crm_proto::events::AcknowledgeRequest {
            consumer: "beta".into(),
            sequence: 40,
        })
        .await
        .expect("acknowledge");
    let now = crm_kit::time::now_micros();
    let policy = |keep: Duration| retention::Retention {
        keep,
        consumer_expiry: Duration::from_secs(3600),
    };
    // Events younger than the retention stay, whoever has applied them.
    let kept = retention::prune(&producer.db, policy(Duration::from_secs(3600)), now)
        .await
        .unwrap();
    assert_eq!(kept.deleted, 0);
    assert_eq!(outbox_sequences(&producer.db).await.len(), 100);
    // Past the retention, only what every consumer applied goes.
    let pruned = retention::prune(&producer.db, policy(Duration::ZERO), now + 1)
        .await
        .unwrap();
    assert_eq!(
        pruned,
        retention::Pruned {
            through: 40,
            deleted: 40
        }
    );
    assert_eq!(outbox_sequences(&producer.db).await, (41..=100).collect::<Vec<i64>>());
    // A cursor behind the pruned range is refused with what to do, never given a gap.
    let refused = client
        .subscribe(crm_proto::events::SubscribeRequest {
            after_sequence: 10,
            types: Vec::new(),
            consumer: "gamma".into(),
        })
        .await
        .expect_err("a cursor behind the pruned range");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(refused.message().contains("pruned"), "{}", refused.message());
    let details = tonic_types::StatusExt::get_error_details(&refused);
    assert_eq!(details.error_info().map(|i| i.reason.as_str()), Some("FEED_PRUNED"));
    assert_eq!(
        acked(&producer.db, "gamma").await,
        None,
        "a refused subscription registers nothing"
    );
    // Beta catches up; then everything old goes.
    client
        .acknowledge(crm_proto::events::AcknowledgeRequest {
            consumer: "beta".into(),
            sequence: 100,
        })
        .await
        .expect("acknowledge");
    let pruned = retention::prune(&producer.db, policy(Duration::ZERO), now + 2)
        .await
        .unwrap();
    assert_eq!(
        pruned,
        retention::Pruned {
            through: 100,
            deleted: 60
        }
    );
    // The follower, at the head, keeps following: a new event arrives once.
    producer.publish("after pruning").await;
    let rows = wait_for(&consumer, 101).await;
    assert_eq!(rows.last().map(|r| r.1.as_str()), Some("after pruning"));
    follower.stop().await;
    // Acknowledgements are checked like any request.
    let bad = client
        .acknowledge(crm_proto::events::AcknowledgeRequest {
            consumer: String::new(),
            sequence: -1,
        })
        .await
        .expect_err("invalid");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_silent_for_longer_than_its_expiry_no_longer_holds_pruning_back() {
    use crm_kit::events::retention;
    let producer = Producer::start(database("prune_silent").await, None).await;
    for i in 0..30 {
        producer.publish(&format!("e{i:03}")).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while outbox_sequences(&producer.db).await.len() < 30 {
        assert!(Instant::now() < deadline, "the sequencer numbers the events");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    retention::acknowledge(&producer.db, "sleepy", 5).await.unwrap();
    let now = crm_kit::time::now_micros();
    let policy = retention::Retention {
        keep: Duration::ZERO,
        consumer_expiry: Duration::from_secs(3600),
    };
    // Within the expiry the silent consumer holds its events.
    let held = retention::prune(&producer.db, policy, now + 1).await.unwrap();
    assert_eq!(held, retention::Pruned { through: 5, deleted: 5 });
    // Two hours later, past its expiry of one hour, it no longer does.
    let gone = retention::prune(&producer.db, policy, now + 2 * 3_600_000_000)
        .await
        .unwrap();
    assert_eq!(
        gone,
        retention::Pruned {
            through: 30,
            deleted: 25
        }
    );
    assert!(outbox_sequences(&producer.db).await.is_empty());
    assert_eq!(retention::pruned_through(&producer.db).await.unwrap(), 30);
}
