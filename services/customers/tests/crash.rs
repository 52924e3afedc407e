//! Crash drills with the real `crm-customers` binary: the process is killed (SIGKILL) between
//! identity's commit of a handover and its effect here, and aborted in the middle of applying a
//! batch of events (the `events.apply.after_event` failpoint: the second of three handovers has
//! been written inside the batch's transaction, which has not committed). After a restart every
//! customer of each leaver has moved exactly once, with exactly one handover entry in its
//! history.

// These tests set up and check the database directly.
#![allow(clippy::disallowed_methods)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crm_identity::testing::{Bearer, TestIdentity};
use crm_kit::testing::fresh_database;
use crm_proto::customers as pb;
use crm_proto::identity as identity_pb;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Client = pb::customers_service_client::CustomersServiceClient<InterceptedService<Channel, Bearer>>;

/// A `crm-customers` process; killed when dropped.
struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Drill {
    identity: TestIdentity,
    database_url: String,
    addr: std::net::SocketAddr,
}

impl Drill {
    async fn new() -> Drill {
        // A free port for the customers process, known before identity starts (identity asks it
        // for handover counts).
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let identity =
            TestIdentity::start_with_peers(&fresh_database("identity").await, vec![format!("http://{addr}")]).await;
        for id in ["alice", "bob", "carol", "dave", "erin"] {
            identity.employee(id, "salesperson").await;
        }
        Drill {
            identity,
            database_url: fresh_database("customers").await.url,
            addr,
        }
    }

    /// Starts the service, with `failpoint` armed when given, and waits until it answers.
    async fn start(&self, failpoint: Option<&str>) -> Process {
        let mut command = Command::new(env!("CARGO_BIN_EXE_crm-customers"));
        command
            .env("CRM_LISTEN", self.addr.to_string())
            .env("CRM_DATABASE_URL", &self.database_url)
            .env("CRM_IDENTITY_URL", self.identity.url())
            .env("CRM_RECLAIM_INTERVAL_SECONDS", "0")
            // A killed process's claim on the feed lapses after this; the restart waits it out.
            .env("CRM_EVENT_LEASE_SECONDS", "2")
            .env("CRM_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env_remove(crm_kit::failpoint::ENV)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(f) = failpoint {
            command.env(crm_kit::failpoint::ENV, f);
        }
        let child = command.spawn().expect("start crm-customers");
        let process = Process { child };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(channel) = Channel::from_shared(format!("http://{}", self.addr))
                .unwrap()
                .connect()
                .await
            {
                let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
                if health
                    .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
                    .await
                    .is_ok()
                {
                    return process;
                }
            }
            assert!(Instant::now() < deadline, "crm-customers did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn client(&self, employee: &str) -> Client {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        pb::customers_service_client::CustomersServiceClient::with_interceptor(
            channel,
            Bearer::new(&self.identity.token(employee, "salesperson")),
        )
    }

    async fn customers_of(&self, owner: &str, n: usize) {
        let mut client = self.client(owner).await;
        for i in 0..n {
            client
                .create_customer(pb::CreateCustomerRequest {
                    customer: Some(pb::Customer {
                        kind: pb::CustomerKind::Company as i32,
                        name: format!("{owner} account {i}"),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .expect("create");
        }
    }

    async fn admin(
        &self,
    ) -> identity_pb::identity_service_client::IdentityServiceClient<InterceptedService<Channel, Bearer>> {
        self.identity.client(&self.identity.token("test-admin", "admin")).await
    }

    async fn deactivate(&self, who: &str, successor: &str) {
        self.admin()
            .await
            .deactivate_employee(identity_pb::DeactivateEmployeeRequest {
                id: who.into(),
                successor_id: successor.into(),
                dry_run: false,
            })
            .await
            .expect("deactivate");
    }

    async fn hand_over(&self, who: &str, successor: &str) {
        self.admin()
            .await
            .hand_over_employee(identity_pb::HandOverEmployeeRequest {
                id: who.into(),
                successor_id: successor.into(),
                dry_run: false,
            })
            .await
            .expect("hand over");
    }

    async fn pool(&self) -> sqlx::AnyPool {
        crm_kit::db::Db::connect(&self.database_url, 2).await.unwrap().pool
    }
}

async fn owned(pool: &sqlx::AnyPool, owner: &str) -> i64 {
    sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE owner_id = $1 AND deleted_at IS NULL")
        .bind(owner)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn wait_owned(pool: &sqlx::AnyPool, owner: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let have = owned(pool, owner).await;
        if have == n {
            return;
        }
        assert!(Instant::now() < deadline, "{owner} owns {have}, expected {n}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// (customer, handover entries) for every customer that `from` handed over.
async fn handover_entries(pool: &sqlx::AnyPool, from: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT customer_id, CAST(COUNT(*) AS BIGINT) FROM owner_changes WHERE reason = 'handover' AND from_owner_id = $1 \
         GROUP BY customer_id",
    )
    .bind(from)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_the_producers_commit_and_the_effect_and_in_the_middle_of_a_batch() {
    let drill = Drill::new().await;

    // 1. Killed after identity committed the handover, before the effect here.
    let process = drill.start(None).await;
    drill.customers_of("alice", 30).await;
    drop(process); // SIGKILL
    drill.deactivate("alice", "bob").await;
    let pool = drill.pool().await;
    assert_eq!(
        owned(&pool, "alice").await,
        30,
        "nothing moves while the consumer is dead"
    );
    let process = drill.start(None).await;
    wait_owned(&pool, "bob", 30).await;
    assert_eq!(owned(&pool, "alice").await, 0);
    let entries = handover_entries(&pool, "alice").await;
    assert_eq!(entries.len(), 30);
    assert!(entries.iter().all(|(_, n)| *n == 1), "{entries:?}");

    // 2. Aborted in the middle of a batch: three handovers wait in the feed; the process dies
    //    after writing the second, before the batch commits.
    drill.customers_of("carol", 10).await;
    drill.customers_of("dave", 11).await;
    drill.customers_of("erin", 12).await;
    drop(process);
    drill.hand_over("carol", "bob").await;
    drill.deactivate("dave", "bob").await;
    drill.hand_over("erin", "bob").await;
    let mut crashing = drill.start(Some("events.apply.after_event:2")).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = crashing.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the failpoint never fired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!status.success(), "the process died at the failpoint: {status:?}");
    // The batch is all or nothing: even the first handover, already written, is undone.
    assert_eq!(owned(&pool, "carol").await, 10);
    assert_eq!(owned(&pool, "dave").await, 11);
    assert_eq!(owned(&pool, "erin").await, 12);
    drop(crashing);

    let _process = drill.start(None).await;
    wait_owned(&pool, "bob", 30 + 10 + 11 + 12).await;
    for (leaver, n) in [("alice", 30), ("carol", 10), ("dave", 11), ("erin", 12)] {
        assert_eq!(owned(&pool, leaver).await, 0, "{leaver}");
        let entries = handover_entries(&pool, leaver).await;
        assert_eq!(entries.len(), n, "{leaver}: one entry per customer");
        assert!(entries.iter().all(|(_, k)| *k == 1), "{leaver}: {entries:?}");
    }
    let refused: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM crm_event_inbox WHERE outcome <> 'applied'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(refused, 0);
}
