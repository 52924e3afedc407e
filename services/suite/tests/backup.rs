//! `crm backup` and `crm restore` on the real suite: a backup taken while customers are being
//! created holds exactly one point in time between the backup's start and end, and restores
//! into a suite that starts on it; what must be refused is refused.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crm_kit::testing::{Bearer, channel};
use crm_proto::customers as pb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::identity as id;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use crm_suite::backup::{self, DATABASES, Error};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

const ADMIN_PASSWORD: &str = "backup-admin-password";

type Customers = CustomersServiceClient<InterceptedService<Channel, Bearer>>;

/// A suite running on this runtime.
struct Suite {
    identity: SocketAddr,
    customers: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<crm_kit::Result<()>>,
}

fn config(data_dir: &Path) -> crm_suite::SuiteConfig {
    crm_suite::SuiteConfig::on_free_ports(data_dir.to_path_buf(), ADMIN_PASSWORD)
}

/// A fresh directory under the system's temporary folder.
fn temp_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("crm-backup-test-{what}-{}", crm_kit::new_id()))
}

impl Suite {
    /// Starts the suite on `data_dir` and returns once every part listens and every service
    /// has its database.
    async fn start(data_dir: &Path) -> Suite {
        let (started_tx, started_rx) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(crm_suite::run(
            config(data_dir),
            async move {
                let _ = stop_rx.await;
            },
            move |started| {
                let _ = started_tx.send(started.services.clone());
            },
        ));
        let services = started_rx.await.expect("the suite started");
        let find = |name: &str| services.iter().find(|(n, _)| *n == name).unwrap().1;
        // The services open their databases once their ports are taken, just after the start.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !DATABASES.iter().all(|name| data_dir.join(name).is_file()) {
            assert!(Instant::now() < deadline, "every service opened its database");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Suite {
            identity: find("identity"),
            customers: find("customers"),
            stop,
            task,
        }
    }

    /// Stops the suite as a signal would; it must stop cleanly.
    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the suite stops")
            .unwrap()
            .unwrap();
    }

    /// A customers client signed in as the administrator.
    async fn customers(&self) -> Customers {
        let token = IdentityServiceClient::new(channel(&format!("http://{}", self.identity)).await)
            .sign_in(id::SignInRequest {
                login: "admin".into(),
                password: ADMIN_PASSWORD.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .tokens
            .unwrap()
            .access_token;
        CustomersServiceClient::with_interceptor(
            channel(&format!("http://{}", self.customers)).await,
            Bearer::new(&token),
        )
    }
}

/// One create call of the write load.
#[derive(Debug)]
struct Attempt {
    name: String,
    started: Instant,
    returned: Instant,
    /// The customer's id, when the call succeeded.
    id: Option<String>,
}

/// Writers creating customers until `stop`, each call recorded.
struct Load {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    writers: Vec<JoinHandle<Vec<Attempt>>>,
}

impl Load {
    fn start(client: &Customers, writers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let writers = (0..writers)
            .map(|writer| {
                let (mut client, stop, acknowledged) = (client.clone(), stop.clone(), acknowledged.clone());
                tokio::spawn(async move {
                    let mut attempts = Vec::new();
                    for n in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let name = format!("备份测试 {writer}-{n} 有限公司");
                        let started = Instant::now();
                        let created = client
                            .create_customer(pb::CreateCustomerRequest {
                                customer: Some(pb::Customer {
                                    kind: pb::CustomerKind::Company as i32,
                                    name: name.clone(),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            })
                            .await;
                        let returned = Instant::now();
                        let id = created.ok().and_then(|r| r.into_inner().customer).map(|c| c.id);
                        if id.is_some() {
                            acknowledged.fetch_add(1, Ordering::SeqCst);
                        }
                        attempts.push(Attempt {
                            name,
                            started,
                            returned,
                            id,
                        });
                    }
                    attempts
                })
            })
            .collect();
        Load {
            stop,
            acknowledged,
            writers,
        }
    }

    /// Waits until `count` creates have been acknowledged in all.
    async fn wait_acknowledged(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.acknowledged.load(Ordering::SeqCst) < count {
            assert!(
                Instant::now() < deadline,
                "the load acknowledged {count} creates in time"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the writers; every call they made.
    async fn stop(self) -> Vec<Attempt> {
        self.stop.store(true, Ordering::SeqCst);
        let mut attempts = Vec::new();
        for writer in self.writers {
            attempts.extend(writer.await.unwrap());
        }
        attempts
    }
}

/// Every customer, as (id, name), listed page by page.
async fn all_customers(client: &mut Customers) -> Vec<(String, String)> {
    let mut customers = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_customers(pb::ListCustomersRequest {
                page_size: 500,
                page_token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        customers.extend(page.customers.into_iter().map(|c| (c.id, c.name)));
        if page.next_page_token.is_empty() {
            return customers;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_one_point_in_time() {
    let data_dir = temp_dir("data");
    let backup_dir = temp_dir("backup");
    let suite = Suite::start(&data_dir).await;
    let client = suite.customers().await;

    let load = Load::start(&client, 3);
    load.wait_acknowledged(200).await;
    let began = Instant::now();
    let taken = backup::backup(&data_dir, &backup_dir).await.unwrap();
    let finished = Instant::now();
    let acknowledged_at_finish = load.acknowledged.load(Ordering::SeqCst);
    // Writers went on while the backup ran and after it: some creates start after its end.
    load.wait_acknowledged(acknowledged_at_finish + 50).await;
    let attempts = load.stop().await;
    suite.stop().await;

    let names: Vec<&str> = taken.manifest.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, DATABASES, "every database of the suite is backed up");
    for file in &taken.manifest.files {
        assert_eq!(file.integrity_check, "ok", "{file:?}");
        assert_eq!(file.sha256.len(), 64, "{file:?}");
        assert_eq!(
            std::fs::metadata(backup_dir.join(&file.name)).unwrap().len(),
            file.bytes
        );
    }
    let manifest: backup::Manifest =
        serde_json::from_slice(&std::fs::read(backup_dir.join(backup::MANIFEST)).unwrap()).unwrap();
    assert_eq!(manifest, taken.manifest, "the manifest on disk is the one reported");
    let leftovers: Vec<_> = std::fs::read_dir(&backup_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left: {leftovers:?}");

    let restored = backup::restore(&data_dir, &backup_dir).await.unwrap();
    let replaced = restored.replaced_dir.clone().expect("the replaced files are kept");
    assert!(replaced.starts_with(&data_dir), "{}", replaced.display());
    for name in DATABASES {
        assert!(replaced.join(name).is_file(), "the replaced {name} is kept");
    }

    let suite = Suite::start(&data_dir).await;
    let mut client = suite.customers().await;
    let customers = all_customers(&mut client).await;
    suite.stop().await;

    let restored_ids: std::collections::HashSet<&str> = customers.iter().map(|(id, _)| id.as_str()).collect();
    let restored_names: std::collections::HashSet<&str> = customers.iter().map(|(_, name)| name.as_str()).collect();
    let attempted: std::collections::HashSet<&str> = attempts.iter().map(|a| a.name.as_str()).collect();
    let before: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.id.is_some() && a.returned < began)
        .collect();
    let during = attempts
        .iter()
        .filter(|a| a.started < finished && a.returned > began)
        .count();
    let after: Vec<&Attempt> = attempts.iter().filter(|a| a.started > finished).collect();
    assert!(
        before.len() >= 200,
        "{} creates acknowledged before the backup",
        before.len()
    );
    assert!(during > 0, "creates were in flight while the backup ran");
    assert!(!after.is_empty(), "creates started after the backup");
    for a in &before {
        let id = a.id.as_deref().unwrap();
        assert!(
            restored_ids.contains(id),
            "{} (acknowledged before the backup) is restored",
            a.name
        );
    }
    for a in &after {
        assert!(
            !restored_names.contains(a.name.as_str()),
            "{} (created after the backup) is not restored",
            a.name
        );
    }
    for (id, name) in &customers {
        assert!(
            attempted.contains(name.as_str()),
            "restored {id} {name} was created by the load"
        );
    }
    assert_eq!(restored_names.len(), customers.len(), "each customer is restored once");

    let _ = std::fs::remove_dir_all(&data_dir);
    let _ = std::fs::remove_dir_all(&backup_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_running_suite_and_backup_refuses_an_existing_backup() {
    let data_dir = temp_dir("data");
    let backup_dir = temp_dir("backup");
    let suite = Suite::start(&data_dir).await;
    backup::backup(&data_dir, &backup_dir).await.unwrap();
    let manifest = std::fs::read(backup_dir.join(backup::MANIFEST)).unwrap();

    // Backing up into a folder that holds a backup, finished or not, leaves it as it is.
    let again = backup::backup(&data_dir, &backup_dir).await.unwrap_err();
    assert!(matches!(again, Error::AlreadyBackedUp { .. }), "{again:?}");
    assert!(again.to_string().contains("already holds a backup"), "{again}");
    assert_eq!(std::fs::read(backup_dir.join(backup::MANIFEST)).unwrap(), manifest);
    let unfinished = temp_dir("unfinished");
    std::fs::create_dir_all(&unfinished).unwrap();
    std::fs::write(unfinished.join("customers.db"), b"an earlier copy").unwrap();
    let refused = backup::backup(&data_dir, &unfinished).await.unwrap_err();
    assert!(matches!(refused, Error::UnfinishedBackup { .. }), "{refused:?}");
    assert_eq!(
        std::fs::read(unfinished.join("customers.db")).unwrap(),
        b"an earlier copy"
    );

    let into_data = backup::backup(&data_dir, &data_dir).await.unwrap_err();
    assert!(matches!(into_data, Error::IntoDataDir { .. }), "{into_data:?}");

    // While the suite runs, restore refuses and changes nothing; so does a second suite.
    let running = backup::restore(&data_dir, &backup_dir).await.unwrap_err();
    assert!(matches!(running, Error::SuiteRunning(_)), "{running:?}");
    assert!(running.to_string().contains("stop the suite first"), "{running}");
    let second = crm_suite::run(config(&data_dir), async {}, |_| panic!("a second suite must not start"))
        .await
        .unwrap_err();
    assert!(second.to_string().contains("is in use by process"), "{second}");
    let replaced = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("replaced-")
            })
            .count()
    };
    assert_eq!(replaced(&data_dir), 0, "nothing was replaced");
    let mut client = suite.customers().await;
    assert!(
        all_customers(&mut client).await.is_empty(),
        "the running suite still serves"
    );
    suite.stop().await;

    // A damaged backup is refused before anything changes.
    let damaged = temp_dir("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    for entry in std::fs::read_dir(&backup_dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), damaged.join(entry.file_name())).unwrap();
    }
    let mut bytes = std::fs::read(damaged.join("sales.db")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(damaged.join("sales.db"), bytes).unwrap();
    let refused = backup::restore(&data_dir, &damaged).await.unwrap_err();
    assert!(matches!(refused, Error::Damaged { .. }), "{refused:?}");
    assert!(refused.to_string().contains("nothing was restored"), "{refused}");
    assert_eq!(replaced(&data_dir), 0, "nothing was replaced");

    // Stopped, the suite can be restored, and starts again on what was restored.
    let restored = backup::restore(&data_dir, &backup_dir).await.unwrap();
    assert!(
        restored.to_string().contains("the files it replaced are kept in"),
        "{restored}"
    );
    assert_eq!(replaced(&data_dir), 1);
    Suite::start(&data_dir).await.stop().await;

    for dir in [&data_dir, &backup_dir, &unfinished, &damaged] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
