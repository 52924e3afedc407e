//! The warehouse service (`crm.warehouse.v1`, port 50055): the product catalog and every
//! movement of stock.
//!
//! - [`domain`]: pure rules: enum codes, units and their exact conversions, the moving-average
//!   cost of an outbound, document kinds and status moves.
//! - [`store`]: all SQL: the catalog, warehouses and keepers, documents, the ledger and the
//!   balances it keeps (changed by conditional updates only), reservations, reports.
//! - [`api`]: the tonic service.
//!
//! Stock moves only by posting a document. A posting writes its ledger lines and the balances
//! they change in one transaction; an outbound takes stock with
//! `UPDATE balances ... WHERE on_hand - reserved >= $q`, so concurrent postings of the last
//! units can never take more than there is, whatever the backend.

pub mod api;
pub mod domain;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::future::Future;

use crm_kit::config::{LogFormat, ServiceConfig};
use crm_kit::db::Migration;
use crm_kit::service::Service;
use crm_proto::warehouse::warehouse_service_server::WarehouseServiceServer;
use tokio::net::TcpListener;

/// The service's default gRPC port.
pub const DEFAULT_PORT: u16 = 50055;

/// The fully qualified gRPC service name.
pub const GRPC_SERVICE: &str = "crm.warehouse.v1.WarehouseService";

/// The service's schema, applied at start-up after the kit's own tables.
pub const MIGRATIONS: &[Migration] = crm_kit::migrations![
    (1, "init", "0001_init.sql"),
    (2, "stocktakes", "0002_stocktakes.sql"),
    (3, "loans", "0003_loans.sql"),
    (4, "tracking", "0004_tracking.sql"),
    (5, "prices", "0005_prices.sql"),
    (6, "value_days", "0006_value_days.sql"),
    (
        7,
        "product_search_trgm",
        "0007_product_search_trgm.postgres.sql",
        Postgres
    )
];

/// Settings of the warehouse service.
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "crm-warehouse", about = "The CRM's warehouse service (gRPC)")]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceConfig,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// Most lines one stock document may hold.
    #[arg(long, env = "CRM_WAREHOUSE_MAX_DOCUMENT_LINES", default_value_t = 10_000)]
    pub max_document_lines: usize,
}

impl Config {
    /// Defaults for the suite: SQLite under `data_dir`, port 50055.
    pub fn for_suite(data_dir: &std::path::Path) -> Config {
        let mut service = ServiceConfig::for_port(DEFAULT_PORT);
        service.data_dir = data_dir.to_path_buf();
        Config {
            service,
            log_format: LogFormat::Auto,
            max_document_lines: 10_000,
        }
    }
}

/// Binds the configured address and runs until `shutdown` completes.
pub async fn run_standalone(config: Config, shutdown: impl Future<Output = ()> + Send) -> crm_kit::Result<()> {
    let listener = crm_kit::service::bind(&config.service, DEFAULT_PORT).await?;
    run(config, listener, shutdown).await
}

/// Connects and migrates the database, then serves on `listener` until `shutdown` completes,
/// verifying callers with identity's keys and publishing the warehouse's events.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> crm_kit::Result<()> {
    let mut service = Service::connect("warehouse", &config.service, MIGRATIONS).await?;
    service.verify_with_identity().await?;
    service.publish_events();
    // The stock value's closed days are summed as they close, so no question pays for them.
    service.every(
        "summing the closed days of stock value",
        Some(std::time::Duration::from_secs(600)),
        |db| async move {
            let now = crm_kit::time::now_micros();
            let mut tx = db.begin_write().await?;
            let days = store::stock::sum_closed_days(&mut tx, now, now).await?;
            tx.commit().await?;
            if days > 0 {
                tracing::info!(days, "stock value: closed days summed");
            }
            Ok(())
        },
    );
    let api = api::WarehouseApi::new(service.db().clone(), &config)?;
    service.add(
        WarehouseServiceServer::new(api)
            .max_decoding_message_size(service.max_request_bytes())
            .max_encoding_message_size(crm_kit::service::MAX_RESPONSE_BYTES),
    );
    service.serve(listener, shutdown).await
}
