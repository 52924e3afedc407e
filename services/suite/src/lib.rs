//! The suite: every service that exists, in one process, each on its own port with its own
//! SQLite file under the data directory. Services still talk to each other over gRPC on
//! loopback, exactly as in a cluster.
//!
//! Today the suite runs identity and customers; the gateway and the other services join as
//! they are built.

use std::net::SocketAddr;
use std::path::PathBuf;

use crm_kit::config::LogFormat;
use tokio::sync::watch;

/// Settings of the suite.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "crm",
    about = "Runs the whole CRM on this machine (embedded SQLite, no setup)"
)]
pub struct SuiteConfig {
    /// Where each service keeps its SQLite file.
    #[arg(long, env = "CRM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address of the identity service.
    #[arg(long, env = "CRM_IDENTITY_ADDR", default_value = "127.0.0.1:50051")]
    pub identity_addr: SocketAddr,
    /// Password of the administrator created on the first start (login `admin`); without it
    /// one is generated and printed once.
    #[arg(long, env = "CRM_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Address of the customers service.
    #[arg(long, env = "CRM_CUSTOMERS_ADDR", default_value = "127.0.0.1:50052")]
    pub customers_addr: SocketAddr,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
}

/// The running services and where they listen.
#[derive(Debug, Clone)]
pub struct Started {
    pub services: Vec<(&'static str, SocketAddr)>,
}

/// Starts every service, reports their addresses through `on_started`, and runs until
/// `shutdown` completes; then every service drains and stops.
pub async fn run(
    config: SuiteConfig,
    shutdown: impl std::future::Future<Output = ()> + Send,
    on_started: impl FnOnce(&Started),
) -> crm_kit::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        while !*rx.borrow() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    };

    let mut identity = crm_identity::Config::for_suite(&config.data_dir);
    identity.service.listen = Some(config.identity_addr);
    identity.admin_password = config.admin_password.clone();
    let identity_listener = crm_kit::serve::bind(config.identity_addr).await?;
    let identity_addr = identity_listener
        .local_addr()
        .map_err(|e| crm_kit::Error::Internal(e.to_string()))?;
    let identity_task = tokio::spawn(crm_identity::run(identity, identity_listener, stopped(stop_rx.clone())));

    let mut customers = crm_customers::Config::for_suite(&config.data_dir);
    customers.service.identity_url = format!("http://{identity_addr}");
    customers.service.listen = Some(config.customers_addr);
    let customers_listener = crm_kit::serve::bind(config.customers_addr).await?;
    let customers_addr = customers_listener
        .local_addr()
        .map_err(|e| crm_kit::Error::Internal(e.to_string()))?;
    let customers_task = tokio::spawn(crm_customers::run(
        customers,
        customers_listener,
        stopped(stop_rx.clone()),
    ));

    on_started(&Started {
        services: vec![("identity", identity_addr), ("customers", customers_addr)],
    });
    shutdown.await;
    tracing::info!("stopping the suite");
    let _ = stop_tx.send(true);
    let customers = customers_task
        .await
        .map_err(|e| crm_kit::Error::Internal(format!("customers task: {e}")))?;
    let identity = identity_task
        .await
        .map_err(|e| crm_kit::Error::Internal(format!("identity task: {e}")))?;
    customers.and(identity)
}
