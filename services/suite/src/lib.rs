//! The suite: every service that exists, in one process, each on its own port with its own
//! SQLite file under the data directory, and the gateway in front of them. Services still talk
//! to each other over gRPC on loopback, exactly as in a cluster.
//!
//! Today the suite runs identity, customers, sales, warehouse and the gateway; the other services join as
//! they are built.
//!
//! - [`backup`]: `crm backup` and `crm restore`, online copies of the SQLite files and putting
//!   them back.
//! - [`lock`]: the data directory's lock a running suite holds.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use crm_kit::config::LogFormat;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub mod backup;
pub mod lock;

/// Where the SQLite files are when no data directory is given.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// The `crm` command line: no subcommand runs the suite; a subcommand works on its data.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "crm",
    about = "Runs the whole CRM on this machine (embedded SQLite, no setup)",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Settings of the suite, when it runs.
    #[command(flatten)]
    pub suite: SuiteConfig,
    /// What to do instead of running the suite.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands of `crm`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Command {
    /// Copies every service's database into a new backup folder; safe while the suite runs.
    Backup(BackupArgs),
    /// Puts a backup back into the data directory; only while the suite is stopped.
    Restore(RestoreArgs),
}

/// Settings of `crm backup`.
#[derive(clap::Args, Debug, Clone)]
pub struct BackupArgs {
    /// The suite's data directory, to back up.
    #[arg(long, env = "CRM_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// The backup folder: created when missing, refused when it already holds a backup.
    #[arg(long)]
    pub to: PathBuf,
}

/// Settings of `crm restore`.
#[derive(clap::Args, Debug, Clone)]
pub struct RestoreArgs {
    /// The suite's data directory, to restore into.
    #[arg(long, env = "CRM_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// The backup folder written by `crm backup`.
    #[arg(long)]
    pub from: PathBuf,
}

/// Settings of the suite.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "crm",
    about = "Runs the whole CRM on this machine (embedded SQLite, no setup)"
)]
pub struct SuiteConfig {
    /// Where each service keeps its SQLite file.
    #[arg(long, env = "CRM_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
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
    /// Address of the sales service.
    #[arg(long, env = "CRM_SALES_ADDR", default_value = "127.0.0.1:50053")]
    pub sales_addr: SocketAddr,
    /// Address of the warehouse service.
    #[arg(long, env = "CRM_WAREHOUSE_ADDR", default_value = "127.0.0.1:50055")]
    pub warehouse_addr: SocketAddr,
    /// Address of the gateway (HTTP: REST/JSON, OpenAPI, gRPC-Web and gRPC).
    #[arg(long, env = "CRM_GATEWAY_ADDR", default_value = "127.0.0.1:8080")]
    pub gateway_addr: SocketAddr,
    /// Origins the gateway lets call from a browser (CORS), comma-separated; `*` for any.
    /// Empty: no cross-origin calls.
    #[arg(long, env = "CRM_GATEWAY_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Calls per minute from one IP address to the gateway's public methods (sign-in, token
    /// refresh, web-form capture); 0: no limit.
    #[arg(long, env = "CRM_GATEWAY_PUBLIC_RATE_PER_MINUTE", default_value_t = 30.0)]
    pub gateway_public_rate_per_minute: f64,
    /// Bursts allowed on the gateway's public methods from one IP address.
    #[arg(long, env = "CRM_GATEWAY_PUBLIC_BURST", default_value_t = 10.0)]
    pub gateway_public_burst: f64,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// The secret the services present to identity for their own tokens; a random one per run
    /// when unset.
    #[arg(long, env = "CRM_SERVICE_SECRET", hide_env_values = true)]
    pub service_secret: Option<String>,
    /// The business's country (ISO 3166 code): phone numbers typed without a country code are
    /// read as its numbers by identity, customers and sales alike.
    #[arg(long, env = "CRM_DEFAULT_PHONE_REGION", default_value = "CN")]
    pub default_phone_region: crm_kit::phone::PhoneRegion,
    /// The business's base currency (ISO 4217), the same for every service.
    #[arg(long, env = "CRM_BASE_CURRENCY", default_value = crm_kit::money::DEFAULT_BASE_CURRENCY)]
    pub base_currency: String,
    /// Address of the metrics port (Prometheus text at `/metrics`) of every service and the
    /// gateway, which share this process; unset: no metrics port.
    #[arg(long, env = "CRM_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

/// The running services and where they listen, in the order they started (the gateway last).
#[derive(Debug, Clone)]
pub struct Started {
    pub services: Vec<(&'static str, SocketAddr)>,
    /// Where the metrics are served, when they are.
    pub metrics: Option<SocketAddr>,
}

type Task = JoinHandle<crm_kit::Result<()>>;

impl SuiteConfig {
    /// Every service and the gateway on a free loopback port, over `data_dir`, with the
    /// administrator's first password `admin_password`: how tests and benchmarks run the suite.
    pub fn on_free_ports(data_dir: std::path::PathBuf, admin_password: &str) -> SuiteConfig {
        let any: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
        SuiteConfig {
            data_dir,
            identity_addr: any,
            admin_password: Some(admin_password.into()),
            customers_addr: any,
            sales_addr: any,
            warehouse_addr: any,
            gateway_addr: any,
            cors_origins: Vec::new(),
            gateway_public_rate_per_minute: 30.0,
            gateway_public_burst: 10.0,
            log_format: crm_kit::config::LogFormat::Json,
            service_secret: None,
            default_phone_region: crm_kit::phone::PhoneRegion::CN,
            base_currency: crm_kit::money::DEFAULT_BASE_CURRENCY.into(),
            metrics_addr: None,
        }
    }
}

/// Starts every service and then the gateway, reports their addresses through `on_started`,
/// and runs until `shutdown` completes (or one of them stops on its own); then the gateway
/// drains and stops first, and the services after it. The data directory stays locked while
/// it runs: a second suite on it, or a restore into it, is refused.
pub async fn run(
    config: SuiteConfig,
    shutdown: impl Future<Output = ()> + Send,
    on_started: impl FnOnce(&Started),
) -> crm_kit::Result<()> {
    let _lock = lock_data_dir(&config.data_dir)?;
    // Every port is taken before anything starts, so a port in use fails the start cleanly.
    let identity_listener = crm_kit::serve::bind(config.identity_addr).await?;
    let identity_addr = local_addr(&identity_listener)?;
    let customers_listener = crm_kit::serve::bind(config.customers_addr).await?;
    let customers_addr = local_addr(&customers_listener)?;
    let sales_listener = crm_kit::serve::bind(config.sales_addr).await?;
    let sales_addr = local_addr(&sales_listener)?;
    let warehouse_listener = crm_kit::serve::bind(config.warehouse_addr).await?;
    let warehouse_addr = local_addr(&warehouse_listener)?;
    let gateway_listener = crm_kit::serve::bind(config.gateway_addr).await?;
    let gateway_addr = local_addr(&gateway_listener)?;
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(crm_kit::serve::bind(addr).await?),
        None => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(local_addr).transpose()?;

    // The gateway stops before the services it calls, so its in-flight requests can finish.
    let (services_stop, services_stopped) = watch::channel(false);
    let (gateway_stop, gateway_stopped) = watch::channel(false);
    let (exited_tx, mut exited_rx) = mpsc::unbounded_channel();

    // The services' shared secret for their own tokens (event feeds): the configured one, or a
    // fresh one for this run, since every service of the suite is in this process.
    let service_secret = config
        .service_secret
        .clone()
        .unwrap_or_else(crm_kit::config::generate_secret);
    let mut identity = crm_identity::Config::for_suite(&config.data_dir);
    identity.service.listen = Some(identity_addr);
    identity.service.service_secret = service_secret.clone();
    identity.admin_password = config.admin_password.clone();
    identity.default_phone_region = config.default_phone_region;
    identity.handover_peers = vec![
        format!("http://{}", dial(customers_addr)),
        format!("http://{}", dial(sales_addr)),
    ];
    let identity_task = spawn(
        "identity",
        &exited_tx,
        crm_identity::run(identity, identity_listener, stopped(services_stopped.clone())),
    );

    let mut customers = crm_customers::Config::for_suite(&config.data_dir);
    customers.service.identity_url = format!("http://{}", dial(identity_addr));
    customers.service.listen = Some(customers_addr);
    customers.service.service_secret = service_secret.clone();
    customers.default_phone_region = config.default_phone_region;
    customers.service.base_currency = config.base_currency.clone();
    let customers_task = spawn(
        "customers",
        &exited_tx,
        crm_customers::run(customers, customers_listener, stopped(services_stopped.clone())),
    );

    let mut sales = crm_sales::Config::for_suite(&config.data_dir);
    sales.service.identity_url = format!("http://{}", dial(identity_addr));
    sales.service.listen = Some(sales_addr);
    sales.service.service_secret = service_secret.clone();
    sales.default_phone_region = config.default_phone_region;
    sales.service.base_currency = config.base_currency.clone();
    sales.customers_url = format!("http://{}", dial(customers_addr));
    let sales_task = spawn(
        "sales",
        &exited_tx,
        crm_sales::run(sales, sales_listener, stopped(services_stopped.clone())),
    );

    let mut warehouse = crm_warehouse::Config::for_suite(&config.data_dir);
    warehouse.service.identity_url = format!("http://{}", dial(identity_addr));
    warehouse.service.listen = Some(warehouse_addr);
    warehouse.service.service_secret = service_secret.clone();
    warehouse.service.base_currency = config.base_currency.clone();
    let warehouse_task = spawn(
        "warehouse",
        &exited_tx,
        crm_warehouse::run(warehouse, warehouse_listener, stopped(services_stopped.clone())),
    );

    let mut gateway = crm_gateway::Config::local(gateway_addr)
        .with_upstream("identity", format!("http://{}", dial(identity_addr)))
        .with_upstream("customers", format!("http://{}", dial(customers_addr)))
        .with_upstream("sales", format!("http://{}", dial(sales_addr)))
        .with_upstream("warehouse", format!("http://{}", dial(warehouse_addr)));
    gateway.cors_origins = config.cors_origins.clone();
    gateway.public_rate_per_minute = config.gateway_public_rate_per_minute;
    gateway.public_burst = config.gateway_public_burst;
    gateway.log_format = config.log_format;
    let gateway_task = spawn(
        "gateway",
        &exited_tx,
        crm_gateway::run(gateway, gateway_listener, stopped(gateway_stopped)),
    );

    // The services share this process, so one port serves the metrics of them all.
    let (metrics_stop, metrics_stopping) = crm_kit::serve::Stopping::new();
    let metrics_task =
        metrics_listener.map(|listener| tokio::spawn(crm_kit::metrics::serve(listener, metrics_stopping)));

    on_started(&Started {
        services: vec![
            ("identity", identity_addr),
            ("customers", customers_addr),
            ("sales", sales_addr),
            ("warehouse", warehouse_addr),
            ("gateway", gateway_addr),
        ],
        metrics: metrics_addr,
    });
    tokio::select! {
        () = shutdown => tracing::info!("stopping the suite"),
        Some(name) = exited_rx.recv() => tracing::error!(service = name, "stopped on its own; stopping the suite"),
    }
    let _ = gateway_stop.send(true);
    let gateway = join("gateway", gateway_task).await;
    let _ = services_stop.send(true);
    let warehouse = join("warehouse", warehouse_task).await;
    let sales = join("sales", sales_task).await;
    let customers = join("customers", customers_task).await;
    let identity = join("identity", identity_task).await;
    let _ = metrics_stop.send(true);
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    gateway.and(warehouse).and(sales).and(customers).and(identity)
}

/// Locks the data directory for this run; refused while another suite (or a restore) holds it.
fn lock_data_dir(data_dir: &std::path::Path) -> crm_kit::Result<lock::DataDirLock> {
    lock::DataDirLock::acquire(data_dir).map_err(|e| match e {
        lock::LockError::Held { .. } => crm_kit::Error::FailedPrecondition {
            reason: "DATA_DIR_IN_USE",
            message: format!("cannot start the suite: {e}; is another `crm` (or `crm restore`) running on it?"),
            subject: data_dir.display().to_string(),
            metadata: Vec::new(),
        },
        e => crm_kit::Error::Internal(format!("cannot start the suite: {e}")),
    })
}

/// Runs `service` on its own task, telling `exited` its name when it ends.
fn spawn(
    name: &'static str,
    exited: &mpsc::UnboundedSender<&'static str>,
    service: impl Future<Output = crm_kit::Result<()>> + Send + 'static,
) -> Task {
    let exited = exited.clone();
    tokio::spawn(async move {
        let result = service.await;
        if let Err(e) = &result {
            tracing::error!(service = name, error = %e, "service failed");
        }
        let _ = exited.send(name);
        result
    })
}

async fn join(name: &str, task: Task) -> crm_kit::Result<()> {
    task.await
        .map_err(|e| crm_kit::Error::Internal(format!("{name} task: {e}")))?
}

/// Completes once `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

fn local_addr(listener: &tokio::net::TcpListener) -> crm_kit::Result<SocketAddr> {
    listener
        .local_addr()
        .map_err(|e| crm_kit::Error::Internal(e.to_string()))
}

/// Where to reach a listener from this machine: a wildcard address (`0.0.0.0`, `::`) is
/// reached on loopback.
fn dial(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_dialled_on_loopback() {
        assert_eq!(dial("0.0.0.0:8080".parse().unwrap()), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(dial("[::]:50051".parse().unwrap()), "[::1]:50051".parse().unwrap());
        assert_eq!(
            dial("10.1.2.3:50052".parse().unwrap()),
            "10.1.2.3:50052".parse().unwrap()
        );
    }

    #[test]
    fn the_gateway_defaults_to_port_8080_and_takes_a_list_of_cors_origins() {
        use clap::Parser;
        let config =
            SuiteConfig::try_parse_from(["crm", "--cors-origins", "https://a.example,https://b.example"]).unwrap();
        assert_eq!(config.gateway_addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.cors_origins, ["https://a.example", "https://b.example"]);
    }

    #[test]
    fn crm_alone_runs_the_suite_and_backup_and_restore_take_their_own_data_dir() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["crm", "--data-dir", "/srv/crm"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.suite.data_dir, PathBuf::from("/srv/crm"));
        let cli = Cli::try_parse_from(["crm", "backup", "--data-dir", "/srv/crm", "--to", "/backups/1"]).unwrap();
        let Some(Command::Backup(args)) = cli.command else {
            panic!("a backup: {:?}", cli.command)
        };
        assert_eq!((args.data_dir, args.to), ("/srv/crm".into(), "/backups/1".into()));
        let cli = Cli::try_parse_from(["crm", "restore", "--from", "/backups/1"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Restore(_))));
        // A suite flag before the subcommand would be ignored by it: refused instead.
        assert!(Cli::try_parse_from(["crm", "--data-dir", "/srv/crm", "backup", "--to", "/b"]).is_err());
        assert!(Cli::try_parse_from(["crm", "backup"]).is_err(), "--to is required");
    }
}
