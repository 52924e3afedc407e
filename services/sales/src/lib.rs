//! The sales service (`crm.sales.v1`, port 50053): the pipeline from the first hint of interest
//! to a won deal.
//!
//! - [`domain`]: pure rules: enum codes, status moves, weighted amounts, report formulas,
//!   forecast periods.
//! - [`store`]: all SQL.
//! - [`api`]: the tonic service: leads (pool, assignment, conversion through the customers
//!   service), pipelines and stages, opportunities with stage history and activities, quotas,
//!   reports.
//! - [`events`]: identity's handovers applied here (leads and open opportunities pass to the
//!   successor, keeping stage and activities) and the handover counts identity asks for.

pub mod api;
pub mod domain;
pub mod events;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::future::Future;
use std::sync::Arc;

use crm_kit::config::{LogFormat, ServiceConfig};
use crm_kit::db::Migration;
use crm_kit::service::Service;
use crm_proto::sales::sales_service_server::SalesServiceServer;
use tokio::net::TcpListener;

/// The service's default gRPC port.
pub const DEFAULT_PORT: u16 = 50053;

/// The fully qualified gRPC service name.
pub const GRPC_SERVICE: &str = "crm.sales.v1.SalesService";

/// The service's schema, applied at start-up after the kit's own tables.
pub const MIGRATIONS: &[Migration] = crm_kit::migrations![
    (1, "init", "0001_init.sql"),
    (2, "capture", "0002_capture.sql"),
    (3, "projects", "0003_projects.sql"),
    (4, "lead_follow_ups", "0004_lead_follow_ups.sql"),
    (5, "forecast_snapshots", "0005_forecast_snapshots.sql"),
    (6, "assign_by_source", "0006_assign_by_source.sql"),
    (7, "project_documents", "0007_project_documents_sqlite.sql", Sqlite),
    (8, "project_documents", "0007_project_documents_postgres.sql", Postgres),
    (9, "reached_position", "0008_reached_position.sql"),
    (10, "import_progress", "0009_import_progress.sql"),
    (11, "quota_departments", "0010_quota_departments.sql"),
    (12, "documents_in_the_kit_store", "0011_documents_in_the_kit_store.sql"),
];

/// Settings of the sales service.
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "crm-sales", about = "The CRM's sales pipeline service (gRPC)")]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceConfig,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// The customers service, which converted leads become customers of.
    #[arg(long, env = "CRM_CUSTOMERS_URL", default_value = "http://127.0.0.1:50052")]
    pub customers_url: String,
    /// How often, in seconds, the service checks whether this week's forecast snapshot is due
    /// (0: only on demand).
    #[arg(long, env = "CRM_FORECAST_SNAPSHOT_CHECK_SECONDS", default_value_t = 3600)]
    pub forecast_snapshot_check_seconds: u64,
    /// Follow identity's event feed (handovers).
    #[arg(long, env = "CRM_FOLLOW_IDENTITY", default_value_t = true, action = clap::ArgAction::Set)]
    pub follow_identity: bool,
    /// Largest project document accepted, in bytes.
    #[arg(long, env = "CRM_SALES_MAX_DOCUMENT_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_document_bytes: usize,
    /// The business's country (ISO 3166 code): lead phones typed without a country code are
    /// read as its numbers, as the customers service reads them.
    #[arg(long, env = "CRM_DEFAULT_PHONE_REGION", default_value = "CN")]
    pub default_phone_region: crm_kit::phone::PhoneRegion,
}

impl Config {
    /// Defaults for the suite: SQLite under `data_dir`, port 50053.
    pub fn for_suite(data_dir: &std::path::Path) -> Config {
        let mut service = ServiceConfig::for_port(DEFAULT_PORT);
        service.data_dir = data_dir.to_path_buf();
        Config {
            service,
            log_format: LogFormat::Auto,
            customers_url: "http://127.0.0.1:50052".into(),
            forecast_snapshot_check_seconds: 3600,
            follow_identity: true,
            max_document_bytes: 20 * 1024 * 1024,
            default_phone_region: crm_kit::phone::PhoneRegion::CN,
        }
    }
}

/// Binds the configured address and runs until `shutdown` completes.
pub async fn run_standalone(config: Config, shutdown: impl Future<Output = ()> + Send) -> crm_kit::Result<()> {
    let listener = crm_kit::service::bind(&config.service, DEFAULT_PORT).await?;
    run(config, listener, shutdown).await
}

/// Connects and migrates the database, makes sure a default pipeline exists, then serves on
/// `listener` until `shutdown` completes, verifying callers with identity's keys.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> crm_kit::Result<()> {
    let mut service = Service::connect("sales", &config.service, MIGRATIONS).await?;
    api::pipelines::seed_default(service.db()).await?;
    service.verify_with_identity().await?;
    let api = api::SalesApi::new(service.db().clone(), &config)?;
    service.follow_handovers(Arc::new(events::Sales), config.follow_identity);
    let currency = config.service.base_currency()?;
    let every = (config.forecast_snapshot_check_seconds > 0)
        .then(|| std::time::Duration::from_secs(config.forecast_snapshot_check_seconds));
    service.now_and_every("weekly forecast snapshot", every, move |db| {
        let currency = currency.clone();
        async move { api::reports::snapshot_if_due(&db, &currency).await }
    });
    service.add(
        SalesServiceServer::new(api)
            .max_decoding_message_size(service.max_request_bytes())
            .max_encoding_message_size(crm_kit::service::MAX_RESPONSE_BYTES),
    );
    service.serve(listener, shutdown).await
}
