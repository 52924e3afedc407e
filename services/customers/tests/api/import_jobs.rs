//! Import jobs: progress while an import runs, cancelling it, who may see a job, and the bulk
//! event that announces imported customers to other services.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_kit::events::{Event, Follow, Handler};
use crm_kit::testing::fresh_database;
use crm_proto::customers as pb;
use sqlx::AnyConnection;
use tokio::sync::mpsc;
use tonic::Code;

use crate::helpers::{Client, list_all, spawn};
use crate::import_export::import;

/// `rows` CSV lines of distinct companies, numbered from `first`.
fn companies(first: usize, rows: usize) -> String {
    (first..first + rows)
        .map(|i| format!("Batch Company {i:06} Ltd,Contact {i},13{i:09}\n"))
        .collect()
}

/// An import fed from a channel: the test sends the file piece by piece while it runs.
struct SlowImport {
    chunks: mpsc::Sender<pb::ImportCustomersRequest>,
    call: tokio::task::JoinHandle<Result<pb::ImportCustomersResponse, tonic::Status>>,
}

impl SlowImport {
    async fn start(client: &Client, request_id: &str, declared_size: i64) -> SlowImport {
        let (chunks, rx) = mpsc::channel(4);
        chunks
            .send(pb::ImportCustomersRequest {
                part: Some(pb::import_customers_request::Part::Options(pb::ImportOptions {
                    request_id: request_id.into(),
                    declared: Some(crm_proto::common::UploadDeclaration {
                        size_bytes: Some(declared_size),
                        ..Default::default()
                    }),
                    ..Default::default()
                })),
            })
            .await
            .unwrap();
        let mut client = client.clone();
        let call = tokio::spawn(async move {
            client
                .import_customers(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
                .map(tonic::Response::into_inner)
        });
        SlowImport { chunks, call }
    }

    async fn send(&self, csv: &str) {
        self.chunks
            .send(pb::ImportCustomersRequest {
                part: Some(pb::import_customers_request::Part::CsvChunk(csv.as_bytes().to_vec())),
            })
            .await
            .unwrap();
    }
}

async fn job(client: &mut Client, request_id: &str) -> Result<pb::ImportJob, tonic::Status> {
    client
        .get_import_job(pb::GetImportJobRequest {
            request_id: request_id.into(),
        })
        .await
        .map(|r| r.into_inner().job.expect("job"))
}

/// Polls the job until `done` holds of it.
async fn wait_for(
    client: &mut Client,
    request_id: &str,
    what: &str,
    done: impl Fn(&pb::ImportJob) -> bool,
) -> pb::ImportJob {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(j) = job(client, request_id).await
            && done(&j)
        {
            return j;
        }
        assert!(Instant::now() < deadline, "{what}: {:?}", job(client, request_id).await);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_running_import_shows_its_progress_and_a_cancel_keeps_the_committed_batches() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let header = "name,contact.name,contact.mobile\n";
    let file_size = header.len() + companies(0, 5000).len();
    let import = SlowImport::start(&alice, "job-progress", i64::try_from(file_size).unwrap()).await;
    // Two whole batches of 1000 and half of a third, then the sender pauses.
    import.send(header).await;
    import.send(&companies(0, 2500)).await;
    let running = wait_for(
        &mut alice,
        "job-progress",
        "two batches written",
        |j: &pb::ImportJob| j.created == 2000,
    )
    .await;
    assert_eq!(running.state, pb::ImportJobState::Running as i32, "{running:?}");
    assert_eq!(running.rows_read, 2000, "{running:?}");
    assert_eq!(running.failed, 0, "{running:?}");
    assert_eq!(running.employee_id, "alice");
    assert!(
        running.bytes_received > 0 && running.bytes_received < running.bytes_declared,
        "{running:?}"
    );
    assert!(running.estimated_seconds_left.is_some(), "{running:?}");
    assert!(running.end_time.is_none(), "{running:?}");

    // More of the file arrives: the job moves on.
    import.send(&companies(2500, 2000)).await;
    wait_for(
        &mut alice,
        "job-progress",
        "the fourth batch written",
        |j: &pb::ImportJob| j.created == 4000,
    )
    .await;

    let cancelled = alice
        .cancel_import(pb::CancelImportRequest {
            request_id: "job-progress".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert!(cancelled.cancel_requested, "{cancelled:?}");
    let response = tokio::time::timeout(Duration::from_secs(30), import.call)
        .await
        .expect("the import stops after a cancel although its file has not ended")
        .unwrap()
        .unwrap();
    assert!(response.cancelled, "{response:?}");
    assert_eq!(response.created, 4000, "{response:?}");
    let ended = job(&mut alice, "job-progress").await.unwrap();
    assert_eq!(ended.state, pb::ImportJobState::Cancelled as i32, "{ended:?}");
    assert_eq!(ended.created, 4000, "{ended:?}");
    assert!(
        ended.end_time.is_some() && ended.estimated_seconds_left.is_none(),
        "{ended:?}"
    );
    // The committed batches stay; nothing of the rest of the file was written.
    let all = list_all(&mut alice, "", "", "name", 500).await;
    assert_eq!(all.len(), 4000);
    assert_eq!(all.last().unwrap().name, "Batch Company 003999 Ltd");
    drop(import.chunks);
}

#[tokio::test]
async fn a_finished_import_job_has_its_final_counts() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let csv = "name,kind\nDone Co Ltd,company\nDone Co Ltd,company\n,company\n";
    let options = pb::ImportOptions {
        request_id: "job-done".into(),
        ..Default::default()
    };
    let response = import(&mut alice, options, csv, 5).await.unwrap();
    assert!(!response.cancelled);
    let done = job(&mut alice, "job-done").await.unwrap();
    assert_eq!(done.state, pb::ImportJobState::Succeeded as i32, "{done:?}");
    assert_eq!(
        (done.rows_read, done.created, done.skipped, done.failed),
        (3, 1, 1, 1),
        "{done:?}"
    );
    assert!(done.end_time.is_some(), "{done:?}");
    // A cancel of an ended job changes nothing.
    let after = alice
        .cancel_import(pb::CancelImportRequest {
            request_id: "job-done".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(after.state, pb::ImportJobState::Succeeded as i32, "{after:?}");
    assert!(!after.cancel_requested);
}

#[tokio::test]
async fn only_the_importer_and_their_manager_see_or_cancel_a_job() {
    let app = spawn().await;
    let alice = app.sales("alice").await;
    let import = SlowImport::start(&alice, "job-private", 1_000_000).await;
    import.send("name,contact.name,contact.mobile\n").await;
    // A batch is handed over once a row after it shows it is not the last.
    import.send(&companies(0, 1500)).await;
    let mut alice = alice;
    wait_for(
        &mut alice,
        "job-private",
        "the first batch written",
        |j: &pb::ImportJob| j.created == 1000,
    )
    .await;

    let mut bob = app.sales("bob").await;
    let seen = job(&mut bob, "job-private").await.unwrap_err();
    assert_eq!(seen.code(), Code::NotFound, "{seen:?}");
    let cancel = bob
        .cancel_import(pb::CancelImportRequest {
            request_id: "job-private".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(cancel.code(), Code::NotFound, "{cancel:?}");
    assert!(!job(&mut alice, "job-private").await.unwrap().cancel_requested);
    // Another employee cannot take over the request_id either.
    let taken = import_with_id(&mut bob, "job-private").await.unwrap_err();
    assert_eq!(taken.code(), Code::FailedPrecondition, "{taken:?}");

    let mut boss = app.manager().await;
    assert_eq!(job(&mut boss, "job-private").await.unwrap().employee_id, "alice");
    boss.cancel_import(pb::CancelImportRequest {
        request_id: "job-private".into(),
    })
    .await
    .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(30), import.call)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(response.cancelled && response.created == 1000, "{response:?}");
    let missing = job(&mut alice, "no-such-job").await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

async fn import_with_id(client: &mut Client, request_id: &str) -> Result<pb::ImportCustomersResponse, tonic::Status> {
    let options = pb::ImportOptions {
        request_id: request_id.into(),
        ..Default::default()
    };
    import(client, options, "name\nSomeone Else Ltd\n", 100).await
}

/// A consumer standing in for another service: it records every customer it hears of.
struct Directory;

impl Handler for Directory {
    fn apply<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        event: &'a Event,
    ) -> Pin<Box<dyn Future<Output = crm_kit::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            let imported: pb::CustomersImported = crm_kit::events::payload(event)?;
            for c in imported.customers {
                sqlx::query("INSERT INTO known_customers (id, name, owner_id, request_id) VALUES ($1, $2, $3, $4)")
                    .bind(&c.customer_id)
                    .bind(&c.name)
                    .bind(&c.owner_id)
                    .bind(&imported.request_id)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn another_service_learns_of_imported_customers_one_event_per_batch() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let csv = format!("name,contact.name,contact.mobile\n{}", companies(0, 2500));
    let options = pb::ImportOptions {
        request_id: "job-events".into(),
        ..Default::default()
    };
    let response = import(&mut alice, options, &csv, 64 * 1024).await.unwrap();
    assert_eq!(response.created, 2500);

    let consumer = crm_kit::db::Db::connect(&fresh_database("consumer").await.url, 4)
        .await
        .unwrap();
    consumer.migrate(&crm_kit::events::MIGRATIONS).await.unwrap();
    sqlx::query("CREATE TABLE known_customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, owner_id TEXT NOT NULL, request_id TEXT NOT NULL)")
        .execute(&consumer.pool)
        .await
        .unwrap();
    let mut service = crm_customers::Config::for_suite(&std::env::temp_dir()).service;
    service.identity_url = app.identity.url();
    let mut follow: Follow = service.follow(
        "sales",
        "customers",
        &app.server.endpoint(),
        vec!["crm.customers.v1.CustomersImported".into()],
    );
    follow.min_backoff = Duration::from_millis(50);
    let (stop, stopping) = crm_kit::serve::Stopping::new();
    let follower = tokio::spawn(crm_kit::events::follow(
        consumer.clone(),
        follow,
        Arc::new(Directory),
        stopping,
    ));

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (known,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM known_customers")
            .fetch_one(&consumer.pool)
            .await
            .unwrap();
        if known == 2500 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the consumer knows {known} of 2500 imported customers"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    let _ = follower.await;

    let all = list_all(&mut alice, "", "", "name", 500).await;
    let first = &all[0];
    let (name, owner, request_id): (String, String, String) =
        sqlx::query_as("SELECT name, owner_id, request_id FROM known_customers WHERE id = $1")
            .bind(&first.id)
            .fetch_one(&consumer.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), owner.as_str(), request_id.as_str()),
        (first.name.as_str(), "alice", "job-events")
    );
    // One outbox row per batch of 1000, not one per customer.
    let producer = crm_kit::db::Db::connect(&app.database_url, 2).await.unwrap();
    let (events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM crm_outbox WHERE type = 'crm.customers.v1.CustomersImported'")
            .fetch_one(&producer.pool)
            .await
            .unwrap();
    assert_eq!(events, 3);
}
