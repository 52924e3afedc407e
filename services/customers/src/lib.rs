//! The customers service (`crm.customers.v1`, port 50052): who the customers are, who owns
//! each one, and every contact with them.
//!
//! - [`domain`]: pure rules: name normalisation and duplicate keys, field parsing, pool policy,
//!   reminders' calendar, change diffs.
//! - [`store`]: all SQL, one module per table group; every write runs in one transaction with
//!   its search-index rows, history rows and idempotency record.
//! - [`api`]: the tonic service: request → domain conversion (all field violations at once),
//!   caller and scope checks, store calls, errors → `Status`.
//! - [`reclaim`]: the periodic job returning neglected customers to the public pool.
//! - [`events`]: identity's events applied here (handover, employee and department moves) and
//!   the handover counts identity asks for. Changes to customers are announced on the
//!   service's own event feed (`crm.events.v1.EventFeed`).

pub mod api;
pub mod domain;
pub mod events;
pub mod reclaim;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crm_kit::config::{LogFormat, ServiceConfig};
use crm_kit::db::Migration;
use crm_kit::service::Service;
use crm_proto::customers::customers_service_server::CustomersServiceServer;
use tokio::net::TcpListener;

/// The service's default gRPC port.
pub const DEFAULT_PORT: u16 = 50052;

/// The fully qualified gRPC service name.
pub const GRPC_SERVICE: &str = "crm.customers.v1.CustomersService";

/// The service's schema, applied at start-up after the kit's own tables.
pub const MIGRATIONS: &[Migration] = crm_kit::migrations![
    (1, "init", "0001_init.sql"),
    (2, "sparse_lookup_indexes", "0002_sparse_lookup_indexes.sql"),
    (3, "search_index_gin", "0003_search_index_gin.postgres.sql", Postgres),
    (4, "owner_department", "0004_owner_department.sql"),
    (5, "phones_as_typed", "0005_phones_as_typed.sql"),
    (6, "import_jobs", "0006_import_jobs.sql"),
    (7, "name_key_bytes", "0007_name_key_bytes.postgres.sql", Postgres),
    (8, "name_key_order", "0008_name_key_order.sql"),
];

/// Settings of the customers service.
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "crm-customers", about = "The CRM's customers service (gRPC)")]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceConfig,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// Offset from UTC, in minutes, of the business's day ("today" in reminders, reclaim days).
    #[arg(
        long,
        env = "CRM_UTC_OFFSET_MINUTES",
        default_value_t = 480,
        allow_negative_numbers = true
    )]
    pub utc_offset_minutes: i32,
    /// How often the reclaim rules run, in seconds (0 = only on demand).
    #[arg(long, env = "CRM_RECLAIM_INTERVAL_SECONDS", default_value_t = 3600)]
    pub reclaim_interval_seconds: u64,
    /// Follow identity's event feed (handovers, employee and department moves).
    #[arg(long, env = "CRM_FOLLOW_IDENTITY", default_value_t = true, action = clap::ArgAction::Set)]
    pub follow_identity: bool,
    /// The business's country (ISO 3166 code): phone numbers typed without a country code are
    /// read as its numbers.
    #[arg(long, env = "CRM_DEFAULT_PHONE_REGION", default_value = "CN")]
    pub default_phone_region: crm_kit::phone::PhoneRegion,
}

impl Config {
    /// Defaults for the suite: SQLite under `data_dir`, port 50052.
    pub fn for_suite(data_dir: &std::path::Path) -> Config {
        let mut service = ServiceConfig::for_port(DEFAULT_PORT);
        service.data_dir = data_dir.to_path_buf();
        Config {
            service,
            log_format: LogFormat::Auto,
            utc_offset_minutes: 480,
            reclaim_interval_seconds: 3600,
            follow_identity: true,
            default_phone_region: crm_kit::phone::PhoneRegion::CN,
        }
    }
}

/// Binds the configured address and runs until `shutdown` completes.
pub async fn run_standalone(config: Config, shutdown: impl Future<Output = ()> + Send) -> crm_kit::Result<()> {
    let listener = crm_kit::service::bind(&config.service, DEFAULT_PORT).await?;
    run(config, listener, shutdown).await
}

/// Connects and migrates the database, then serves on `listener` until `shutdown` completes,
/// verifying callers with the identity service's keys.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> crm_kit::Result<()> {
    run_gated(config, listener, shutdown, None).await
}

/// [`run`] with the given gate instead of identity's keys (benchmarks compare the verifying
/// gate with a trusting one).
pub async fn run_gated(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    gate: Option<crm_kit::auth::Gate>,
) -> crm_kit::Result<()> {
    let mut service = Service::connect("customers", &config.service, MIGRATIONS).await?;
    match gate {
        Some(gate) => service.gate(gate),
        None => service.verify_with_identity().await?,
    }
    if let Some(done) = store::rekey::run(service.db(), config.default_phone_region).await? {
        tracing::info!(
            customers = done.customers,
            kept_old_key = done.kept_old_key.len(),
            "rebuilt name keys, phones and search"
        );
    }
    let api = api::CustomersApi::new(service.db().clone(), &config)?;
    let reclaim = api.clone();
    let every = (config.reclaim_interval_seconds > 0).then(|| Duration::from_secs(config.reclaim_interval_seconds));
    service.every("reclaim", every, move |_| reclaim::run_once(reclaim.clone()));
    service.follow_handovers(Arc::new(events::Customers), config.follow_identity);
    service.add(
        CustomersServiceServer::new(api)
            .max_decoding_message_size(service.max_request_bytes())
            .max_encoding_message_size(crm_kit::service::MAX_RESPONSE_BYTES),
    );
    service.serve(listener, shutdown).await
}
