//! Test support: a fresh database per test (a SQLite file in a temporary folder, or a new
//! PostgreSQL database made from `CRM_TEST_POSTGRES_URL`), and a service on port 0.
//!
//! Test databases are named `crm_test_<prefix>_<uuid v7>`; the first fresh database of a
//! process sweeps away those created more than [`STALE_AFTER`] ago, so repeated runs do not
//! fill the disk while concurrent runs keep theirs.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The environment variable that switches tests to PostgreSQL.
pub const POSTGRES_ENV: &str = "CRM_TEST_POSTGRES_URL";

/// Age after which a test database is left over from an earlier run.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3 * 3600);

static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// When a test database name was made: the millisecond stamp of its UUID v7.
fn created_at_ms(name: &str) -> Option<u64> {
    let stem = name.split('.').next()?;
    let hex = stem.rsplit('_').next()?;
    if !stem.starts_with("crm_test_") || hex.len() != 32 {
        return None;
    }
    u64::from_str_radix(hex.get(..12)?, 16).ok()
}

fn is_stale(name: &str) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    created_at_ms(name).is_some_and(|t| u128::from(t) + STALE_AFTER.as_millis() < now)
}

/// A database made for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub url: String,
}

/// Whether tests run against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(POSTGRES_ENV).is_ok_and(|v| !v.trim().is_empty())
}

/// A fresh, empty database. With `CRM_TEST_POSTGRES_URL` set it is a new PostgreSQL database
/// (and an unreachable server fails the test); otherwise a new SQLite file.
pub async fn fresh_database(prefix: &str) -> TestDatabase {
    fresh_database_at(std::env::var(POSTGRES_ENV).ok().as_deref(), prefix).await
}

/// A fresh, empty database: a new PostgreSQL database made through `postgres_admin_url`, or a
/// new SQLite file when it is `None`.
pub async fn fresh_database_at(postgres_admin_url: Option<&str>, prefix: &str) -> TestDatabase {
    let name = format!("crm_test_{}_{}", prefix, uuid::Uuid::now_v7().simple());
    match postgres_admin_url {
        Some(admin_url) if !admin_url.trim().is_empty() => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(admin_url)
                .await
                .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable: {e}"));
            if !SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
                let names: Vec<String> =
                    sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'crm\\_test\\_%'")
                        .fetch_all(&mut conn)
                        .await
                        .unwrap_or_default();
                for stale in names.iter().filter(|n| is_stale(n)) {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{stale}\" WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            }
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let _ = conn.close().await;
            TestDatabase {
                url: replace_database(admin_url, &name),
            }
        }
        _ => {
            let dir = std::env::temp_dir().join("crm-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            if !SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    if is_stale(&entry.file_name().to_string_lossy()) {
                        let _ = std::fs::remove_file(entry.path());
                    }
                }
            }
            TestDatabase {
                url: format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
            }
        }
    }
}

/// `postgres://u@h:5432/db?x` with the database name replaced.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}

/// A service running on a loopback port for one test; stops when dropped.
#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Starts `run(listener, shutdown)` on 127.0.0.1:0.
    pub async fn start<F, Fut>(run: F) -> TestServer
    where
        F: FnOnce(TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        Self::start_on(listener, run).await
    }

    /// Starts `run(listener, shutdown)` on a listener bound already (a port chosen before the
    /// service starts, or the port of a service being restarted).
    pub async fn start_on<F, Fut>(listener: TcpListener, run: F) -> TestServer
    where
        F: FnOnce(TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        let shutdown = Box::pin(async move {
            let _ = rx.await;
        });
        let task = tokio::spawn(run(listener, shutdown));
        TestServer {
            addr,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Waits until the service reports SERVING on gRPC health (it has migrated its database and
    /// serves), and panics with the reason if it stopped first or is not serving within 60 s.
    pub async fn wait_serving(&mut self) {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::health_client::HealthClient;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(task) = self.task.as_mut()
                && task.is_finished()
            {
                let task = self.task.take().expect("the task");
                match task.await {
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    _ => panic!("the service at {} stopped before it served", self.addr),
                }
            }
            let status = async {
                let channel = tonic::transport::Endpoint::from_shared(self.endpoint())
                    .ok()?
                    .connect_timeout(std::time::Duration::from_secs(1))
                    .connect()
                    .await
                    .ok()?;
                let answer = HealthClient::new(channel)
                    .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
                    .await
                    .ok()?;
                Some(answer.into_inner().status)
            }
            .await;
            if status == Some(ServingStatus::Serving as i32) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the service at {} is not serving after 60 s",
                self.addr
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// `http://127.0.0.1:port`, for a tonic client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the service and waits until it has drained.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A service under test with a handle on its database: what each service's harness returns.
#[derive(Debug)]
pub struct TestService {
    pub server: TestServer,
    pub database_url: String,
    /// The service's database, for a test's own assertions.
    pub db: crate::db::Db,
}

impl TestService {
    /// Starts `run(database_url, listener, shutdown)` on `listener` (or a fresh loopback port)
    /// over `database_url` (or a fresh database named after `prefix`), and returns once it
    /// serves: the body of every service's `testing::spawn`.
    pub async fn start<F, Fut>(
        prefix: &str,
        database_url: Option<String>,
        listener: Option<TcpListener>,
        run: F,
    ) -> TestService
    where
        F: FnOnce(String, TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let database_url = match database_url {
            Some(url) => url,
            None => fresh_database(prefix).await.url,
        };
        let listener = match listener {
            Some(listener) => listener,
            None => TcpListener::bind("127.0.0.1:0").await.expect("bind port 0"),
        };
        let url = database_url.clone();
        let mut server = TestServer::start_on(listener, move |listener, shutdown| run(url, listener, shutdown)).await;
        server.wait_serving().await;
        TestService {
            server,
            db: connect(&database_url).await,
            database_url,
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        self.server.endpoint()
    }
}

/// Sends `authorization: Bearer <token>` on every call.
#[derive(Debug, Clone)]
pub struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    /// The interceptor for `token`.
    pub fn new(token: &str) -> Bearer {
        Bearer(format!("Bearer {token}").parse().expect("a token is ASCII"))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

/// A connected channel to `url` (`http://127.0.0.1:port`).
pub async fn channel(url: &str) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(url.to_string())
        .expect("endpoint")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// Asserts `result` failed with `code` and a field violation naming `field`; returns the status.
pub fn assert_field<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    field: &str,
) -> tonic::Status {
    use tonic_types::StatusExt;
    let status = result.expect_err("expected an error");
    assert_eq!(status.code(), code, "{status:?}");
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no BadRequest details in {status:?}"));
    assert!(
        bad.field_violations.iter().any(|v| v.field == field),
        "no violation for {field} in {:?}",
        bad.field_violations
    );
    status
}

/// [`assert_field`], the violation of `field` also giving `reason` (see [`crate::errors::reason`]).
pub fn assert_field_reason<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    field: &str,
    reason: &str,
) -> tonic::Status {
    use tonic_types::StatusExt;
    let status = assert_field(result, code, field);
    let bad = status.get_details_bad_request().expect("BadRequest details");
    assert!(
        bad.field_violations
            .iter()
            .any(|v| v.field == field && v.reason == reason),
        "no {reason} violation for {field} in {:?}",
        bad.field_violations
    );
    status
}

/// Asserts `result` failed with `code` and an ErrorInfo giving `reason`; returns the status.
pub fn assert_reason<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    reason: &str,
) -> tonic::Status {
    use tonic_types::StatusExt;
    let status = result.expect_err("expected an error");
    assert_eq!(status.code(), code, "{status:?}");
    let info = status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "{status:?}");
    status
}

/// A pool on a test database, for a test's own assertions and set-ups (aging records, reading
/// what a command stored).
pub async fn connect(url: &str) -> crate::db::Db {
    crate::db::Db::connect(url, 2)
        .await
        .expect("connect to the test database")
}

#[cfg(test)]
mod tests {
    #[test]
    fn stale_test_databases_are_recognised_by_their_stamp() {
        let fresh = format!("crm_test_customers_{}", uuid::Uuid::now_v7().simple());
        assert!(!super::is_stale(&fresh));
        assert!(!super::is_stale(&format!("{fresh}.db-wal")));
        // 2020-01-01 in the UUID v7 stamp.
        let old = "crm_test_customers_016f5e66e8007000800000000000000a";
        assert!(super::is_stale(old));
        assert!(super::is_stale(&format!("{old}.db-shm")));
        assert!(!super::is_stale("customers_016f5e66e8007000800000000000000a"));
        assert!(!super::is_stale("crm_test_notastamp"));
    }

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(super::replace_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
