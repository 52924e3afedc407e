//! A real customers service for tests and benchmarks (feature `testing`): on port 0 over a
//! fresh database, verifying callers with the given identity service, the reclaim job off.
//! [`spawn`] returns once the service has migrated and serves.

use crm_kit::db::Db;
use crm_kit::testing::{TestServer, fresh_database};
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Sends `authorization: Bearer <token>` (the same interceptor every service's harness uses).
pub use crm_kit::testing::Bearer;

/// A client of the customers service calling with one token.
pub type Client = CustomersServiceClient<InterceptedService<Channel, Bearer>>;

/// A running customers service with a handle on its database.
#[derive(Debug)]
pub struct TestCustomers {
    pub server: TestServer,
    pub database_url: String,
    /// The service's database, for a test's own assertions.
    pub db: Db,
}

/// Starts customers over a fresh database, verifying callers with identity at `identity_url`.
pub async fn spawn(identity_url: &str) -> TestCustomers {
    spawn_with(identity_url, None, |_| {}).await
}

/// [`spawn`] on `listener` (a port chosen before the service starts, for peers that must know
/// it), with `tune` adjusting the settings first (a
/// database it names is used instead of a fresh one).
pub async fn spawn_with(
    identity_url: &str,
    listener: Option<TcpListener>,
    tune: impl FnOnce(&mut crate::Config),
) -> TestCustomers {
    let mut config = crate::Config::for_suite(&std::env::temp_dir());
    config.service.identity_url = identity_url.to_string();
    config.service.db_max_connections = 8;
    config.reclaim_interval_seconds = 0;
    tune(&mut config);
    let database_url = match config.service.database_url.clone() {
        Some(url) => url,
        None => fresh_database("customers").await.url,
    };
    config.service.database_url = Some(database_url.clone());
    let listener = match listener {
        Some(listener) => listener,
        None => TcpListener::bind("127.0.0.1:0").await.expect("bind port 0"),
    };
    let mut server = TestServer::start_on(listener, move |listener, shutdown| async move {
        crate::run(config, listener, shutdown)
            .await
            .expect("customers service runs");
    })
    .await;
    server.wait_serving().await;
    TestCustomers {
        server,
        db: crm_kit::testing::connect(&database_url).await,
        database_url,
    }
}

impl TestCustomers {
    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        self.server.endpoint()
    }

    /// A client calling with `token`.
    pub async fn client(&self, token: &str) -> Client {
        CustomersServiceClient::with_interceptor(crm_kit::testing::channel(&self.url()).await, Bearer::new(token))
    }
}
