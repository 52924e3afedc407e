//! A real sales service for tests and benchmarks (feature `testing`): on port 0 over a fresh
//! database, verifying callers with the given identity service and converting leads through
//! the given customers service. [`spawn`] returns once the service has migrated and serves.

use crm_kit::testing::TestService;
use crm_proto::sales::sales_service_client::SalesServiceClient;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use crm_kit::testing::Bearer;

/// A client of the sales service calling with one token.
pub type Client = SalesServiceClient<InterceptedService<Channel, Bearer>>;

/// Starts sales over a fresh database, with identity at `identity_url` and customers at
/// `customers_url`.
pub async fn spawn(identity_url: &str, customers_url: &str) -> TestService {
    spawn_with(identity_url, customers_url, None, |_| {}).await
}

/// [`spawn`] on `listener` (a port chosen before the service starts, for peers that must know
/// it), with `tune` adjusting the settings
/// first (a database it names is used instead of a fresh one).
pub async fn spawn_with(
    identity_url: &str,
    customers_url: &str,
    listener: Option<TcpListener>,
    tune: impl FnOnce(&mut crate::Config),
) -> TestService {
    let mut config = crate::Config::for_suite(&std::env::temp_dir());
    config.service.identity_url = identity_url.to_string();
    config.service.db_max_connections = 4;
    config.customers_url = customers_url.to_string();
    tune(&mut config);
    let database_url = config.service.database_url.clone();
    TestService::start(
        "sales",
        database_url,
        listener,
        move |url, listener, shutdown| async move {
            config.service.database_url = Some(url);
            crate::run(config, listener, shutdown)
                .await
                .expect("sales service runs");
        },
    )
    .await
}

/// A client calling with `token`.
pub async fn client(service: &TestService, token: &str) -> Client {
    SalesServiceClient::with_interceptor(crm_kit::testing::channel(&service.url()).await, Bearer::new(token))
}
