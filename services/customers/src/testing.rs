//! A real customers service for tests and benchmarks (feature `testing`): on port 0 over a
//! fresh database, verifying callers with the given identity service, the reclaim job off.
//! [`spawn`] returns once the service has migrated and serves.

use crm_kit::testing::TestService;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Sends `authorization: Bearer <token>` (the same interceptor every service's harness uses).
pub use crm_kit::testing::Bearer;

/// A client of the customers service calling with one token.
pub type Client = CustomersServiceClient<InterceptedService<Channel, Bearer>>;

/// Starts customers over a fresh database, verifying callers with identity at `identity_url`.
pub async fn spawn(identity_url: &str) -> TestService {
    spawn_with(identity_url, None, |_| {}).await
}

/// [`spawn`] on `listener` (a port chosen before the service starts, for peers that must know
/// it), with `tune` adjusting the settings
/// first (a database it names is used instead of a fresh one).
pub async fn spawn_with(
    identity_url: &str,
    listener: Option<TcpListener>,
    tune: impl FnOnce(&mut crate::Config),
) -> TestService {
    let mut config = crate::Config::for_suite(&std::env::temp_dir());
    config.service.identity_url = identity_url.to_string();
    config.service.db_max_connections = 8;
    config.reclaim_interval_seconds = 0;
    tune(&mut config);
    let database_url = config.service.database_url.clone();
    TestService::start(
        "customers",
        database_url,
        listener,
        move |url, listener, shutdown| async move {
            config.service.database_url = Some(url);
            crate::run(config, listener, shutdown)
                .await
                .expect("customers service runs");
        },
    )
    .await
}

/// A client calling with `token`.
pub async fn client(service: &TestService, token: &str) -> Client {
    CustomersServiceClient::with_interceptor(crm_kit::testing::channel(&service.url()).await, Bearer::new(token))
}
