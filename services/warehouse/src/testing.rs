//! A real warehouse service for tests and benchmarks (feature `testing`): on port 0 over a
//! fresh database, verifying callers with the given identity service. [`spawn`] returns once
//! the service has migrated and serves.

use crm_kit::testing::TestService;
use crm_proto::warehouse::warehouse_service_client::WarehouseServiceClient;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use crm_kit::testing::Bearer;

/// A client of the warehouse service calling with one token.
pub type Client = WarehouseServiceClient<InterceptedService<Channel, Bearer>>;

/// Starts the warehouse over a fresh database, with identity at `identity_url`.
pub async fn spawn(identity_url: &str) -> TestService {
    spawn_with(identity_url, None, |_| {}).await
}

/// [`spawn`] on `listener`, with `tune` adjusting the settings first (a database it names is
/// used instead of a fresh one).
pub async fn spawn_with(
    identity_url: &str,
    listener: Option<TcpListener>,
    tune: impl FnOnce(&mut crate::Config),
) -> TestService {
    let mut config = crate::Config::for_suite(&std::env::temp_dir());
    config.service.identity_url = identity_url.to_string();
    config.service.db_max_connections = 8;
    tune(&mut config);
    let database_url = config.service.database_url.clone();
    TestService::start(
        "warehouse",
        database_url,
        listener,
        move |url, listener, shutdown| async move {
            config.service.database_url = Some(url);
            crate::run(config, listener, shutdown)
                .await
                .expect("warehouse service runs");
        },
    )
    .await
}

/// A client calling with `token`.
pub async fn client(service: &TestService, token: &str) -> Client {
    WarehouseServiceClient::with_interceptor(crm_kit::testing::channel(&service.url()).await, Bearer::new(token))
}
