//! Departure and handover through the event feed: identity deactivates (or hands over for) an
//! employee, the customers service applies the event, and every customer moves exactly once
//! with one history entry; a dry run counts; employee and department moves re-place records.

use std::time::{Duration, Instant};

use crm_identity::testing::TestIdentity;
use crm_kit::testing::{TestServer, fresh_database};
use crm_proto::customers as pb;
use crm_proto::identity as identity_pb;

use crate::helpers::{Client, company, create};

/// Identity and customers wired both ways: customers follows identity's feed, identity asks
/// customers for handover counts.
pub struct Pair {
    pub identity: TestIdentity,
    pub customers: TestServer,
    pub database_url: String,
}

pub async fn start_pair() -> Pair {
    start_pair_polling(Duration::from_secs(1)).await
}

/// [`start_pair`] with customers polling identity's token revocations every `poll`.
pub async fn start_pair_polling(poll: Duration) -> Pair {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let customers_url = format!("http://{}", listener.local_addr().expect("addr"));
    let identity = TestIdentity::start_with_peers(&fresh_database("identity").await, vec![customers_url]).await;
    for id in ["alice", "bob", "carol", "boss"] {
        identity
            .employee(id, if id == "boss" { "sales_manager" } else { "salesperson" })
            .await;
    }
    let customers = crm_customers::testing::spawn_with(&identity.url(), Some(listener), |c| {
        c.service.revocation_poll_ms = u64::try_from(poll.as_millis()).unwrap_or(u64::MAX);
    })
    .await;
    Pair {
        identity,
        customers: customers.server,
        database_url: customers.database_url,
    }
}

impl Pair {
    pub async fn client(&self, employee: &str) -> Client {
        let role = if employee == "boss" {
            "sales_manager"
        } else {
            "salesperson"
        };
        let channel = tonic::transport::Channel::from_shared(self.customers.endpoint())
            .unwrap()
            .connect()
            .await
            .unwrap();
        pb::customers_service_client::CustomersServiceClient::with_interceptor(
            channel,
            crm_identity::testing::Bearer::new(&self.identity.token(employee, role)),
        )
    }

    pub async fn admin(
        &self,
    ) -> crm_proto::identity::identity_service_client::IdentityServiceClient<
        tonic::service::interceptor::InterceptedService<tonic::transport::Channel, crm_identity::testing::Bearer>,
    > {
        self.identity.client(&self.identity.token("test-admin", "admin")).await
    }
}

/// Owner and history figures of the customers database, read straight from it.
pub struct Ledger {
    pool: sqlx::AnyPool,
}

impl Ledger {
    pub async fn open(url: &str) -> Ledger {
        Ledger {
            pool: crm_kit::db::Db::connect(url, 2).await.expect("connect").pool,
        }
    }

    /// How many live customers `owner` has.
    pub async fn owned(&self, owner: &str) -> i64 {
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE owner_id = $1 AND deleted_at IS NULL")
            .bind(owner)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Handover history entries per customer, as (customer, count), for customers that have any.
    pub async fn handover_entries(&self) -> Vec<(String, i64)> {
        sqlx::query_as(
            "SELECT customer_id, CAST(COUNT(*) AS BIGINT) FROM owner_changes WHERE reason = 'handover' \
             GROUP BY customer_id ORDER BY customer_id",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// Waits until `owner` owns `n` customers.
    pub async fn wait_owned(&self, owner: &str, n: i64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let have = self.owned(owner).await;
            if have == n {
                return;
            }
            assert!(Instant::now() < deadline, "{owner} owns {have} customers, expected {n}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn department_paths(&self, owner: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT DISTINCT owner_department_path FROM customers WHERE owner_id = $1")
            .bind(owner)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn cursor(&self) -> i64 {
        sqlx::query_scalar("SELECT sequence FROM crm_event_cursors WHERE feed = 'identity'")
            .fetch_optional(&self.pool)
            .await
            .unwrap()
            .unwrap_or(0)
    }
}

/// Creates `n` customers owned by `owner`, each with a contact.
pub async fn customers_of(client: &mut Client, owner: &str, n: usize) -> Vec<pb::Customer> {
    let mut out = Vec::new();
    for i in 0..n {
        let c = company(&format!("{owner} client {}", &crm_kit::new_id()[24..]));
        let made = create(client, c).await;
        client
            .create_contact(pb::CreateContactRequest {
                contact: Some(pb::Contact {
                    customer_id: made.id.clone(),
                    name: format!("Buyer {i}"),
                    mobile: format!("1380000{i:04}"),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("contact");
        out.push(made);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leavers_customers_and_contacts_pass_to_the_successor_once() {
    let pair = start_pair().await;
    let ledger = Ledger::open(&pair.database_url).await;
    let mut alice = pair.client("alice").await;
    let made = customers_of(&mut alice, "alice", 4).await;
    let mut bob = pair.client("bob").await;
    customers_of(&mut bob, "bob", 1).await;
    let mut admin = pair.admin().await;

    // A dry run counts and changes nothing.
    let dry = admin
        .deactivate_employee(identity_pb::DeactivateEmployeeRequest {
            id: "alice".into(),
            successor_id: "bob".into(),
            dry_run: true,
        })
        .await
        .expect("dry run")
        .into_inner();
    let counts: Vec<(String, String, i64)> = dry
        .counts
        .iter()
        .map(|c| (c.service.clone(), c.kind.clone(), c.count))
        .collect();
    assert_eq!(
        counts,
        [
            ("customers".to_string(), "contacts".to_string(), 4),
            ("customers".to_string(), "customers".to_string(), 4)
        ]
    );
    assert!(dry.handover_id.is_empty());
    assert_eq!(
        dry.employee.unwrap().status,
        identity_pb::EmployeeStatus::Active as i32,
        "a dry run deactivates nobody"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ledger.owned("alice").await, 4);

    let done = admin
        .deactivate_employee(identity_pb::DeactivateEmployeeRequest {
            id: "alice".into(),
            successor_id: "bob".into(),
            dry_run: false,
        })
        .await
        .expect("deactivate")
        .into_inner();
    assert!(!done.handover_id.is_empty());
    ledger.wait_owned("bob", 5).await;
    assert_eq!(ledger.owned("alice").await, 0);
    let entries = ledger.handover_entries().await;
    assert_eq!(entries.len(), 4);
    assert!(entries.iter().all(|(_, n)| *n == 1), "{entries:?}");

    // The history names the reason and who asked; the contacts went along with their customer.
    let mut boss = pair.client("boss").await;
    let history = boss
        .list_owner_changes(pb::ListOwnerChangesRequest {
            customer_id: made[0].id.clone(),
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();
    let handovers: Vec<&pb::OwnerChange> = history
        .owner_changes
        .iter()
        .filter(|c| c.reason == pb::OwnerChangeReason::Handover as i32)
        .collect();
    assert_eq!(handovers.len(), 1, "{:?}", history.owner_changes);
    let last = handovers[0];
    assert_eq!(
        (last.from_owner_id.as_str(), last.to_owner_id.as_str()),
        ("alice", "bob")
    );
    assert_eq!(last.changed_by, "test-admin");
    let mut bob = pair.client("bob").await;
    let contacts = bob
        .list_contacts(pb::ListContactsRequest {
            customer_id: made[0].id.clone(),
        })
        .await
        .expect("bob sees the contacts of his new customer")
        .into_inner();
    assert_eq!(contacts.contacts.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_handover_moves_what_was_owned_then_and_a_rewind_moves_nothing_more() {
    let pair = start_pair().await;
    let ledger = Ledger::open(&pair.database_url).await;
    let mut carol = pair.client("carol").await;
    customers_of(&mut carol, "carol", 3).await;
    let mut admin = pair.admin().await;
    let handed = admin
        .hand_over_employee(identity_pb::HandOverEmployeeRequest {
            id: "carol".into(),
            successor_id: "bob".into(),
            dry_run: false,
        })
        .await
        .expect("hand over")
        .into_inner();
    assert_eq!(
        handed.counts.iter().find(|c| c.kind == "customers").map(|c| c.count),
        Some(3)
    );
    ledger.wait_owned("bob", 3).await;

    // Carol stays active and gets a new customer; re-reading the feed from the start must not
    // hand it over again.
    customers_of(&mut carol, "carol", 1).await;
    let head = ledger.cursor().await;
    assert!(head > 0);
    let db = crm_kit::db::Db::connect(&pair.database_url, 2).await.unwrap();
    crm_kit::events::subscriber::set_cursor(&db, "identity", 0)
        .await
        .unwrap();
    // Something new on the feed, so the follower has moved past the old events once it applies it.
    admin
        .hand_over_employee(identity_pb::HandOverEmployeeRequest {
            id: "boss".into(),
            successor_id: "bob".into(),
            dry_run: false,
        })
        .await
        .expect("a handover of nothing");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ledger.cursor().await <= head {
        assert!(Instant::now() < deadline, "the follower re-read the feed");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(ledger.owned("carol").await, 1, "the redelivered handover moved nothing");
    assert_eq!(ledger.owned("bob").await, 3);
    assert!(ledger.handover_entries().await.iter().all(|(_, n)| *n == 1));

    // A handover of a leaver, or to oneself, is refused naming the field.
    let refused = admin
        .hand_over_employee(identity_pb::HandOverEmployeeRequest {
            id: "carol".into(),
            successor_id: "carol".into(),
            dry_run: true,
        })
        .await;
    crate::helpers::assert_field(refused, tonic::Code::InvalidArgument, "successor_id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn employee_and_department_moves_re_place_the_customers() {
    let pair = start_pair().await;
    let ledger = Ledger::open(&pair.database_url).await;
    let mut alice = pair.client("alice").await;
    customers_of(&mut alice, "alice", 2).await;
    let mut admin = pair.admin().await;
    let east = admin
        .create_department(identity_pb::CreateDepartmentRequest {
            department: Some(identity_pb::Department {
                name: "East".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .department
        .unwrap();
    let alice_now = admin
        .get_employee(identity_pb::GetEmployeeRequest { id: "alice".into() })
        .await
        .unwrap()
        .into_inner()
        .employee
        .unwrap();
    admin
        .update_employee(identity_pb::UpdateEmployeeRequest {
            employee: Some(identity_pb::Employee {
                id: "alice".into(),
                department_id: east.id.clone(),
                etag: alice_now.etag,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["department_id".into()],
            }),
        })
        .await
        .expect("move alice");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ledger.department_paths("alice").await != [east.path.clone()] {
        assert!(Instant::now() < deadline, "alice's customers follow her to East");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // East moves under Sales: every path under it is rewritten.
    admin
        .update_department(identity_pb::UpdateDepartmentRequest {
            department: Some(identity_pb::Department {
                id: east.id.clone(),
                parent_id: pair.identity.department_id.clone(),
                etag: east.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["parent_id".into()],
            }),
        })
        .await
        .expect("move East");
    let expected = format!("{}{}/", pair.identity.department_path, east.id);
    let deadline = Instant::now() + Duration::from_secs(20);
    while ledger.department_paths("alice").await != [expected.clone()] {
        assert!(
            Instant::now() < deadline,
            "the department move reaches alice's customers"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
