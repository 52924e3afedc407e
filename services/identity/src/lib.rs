//! The identity service (`crm.identity.v1`, port 50051): who works here, in which department,
//! with which roles; sign-in, and the Ed25519-signed access tokens every other service verifies
//! on its own with the public keys this service publishes.
//!
//! - [`domain`]: pure rules: credential and lockout checks, employee and department fields,
//!   role permissions and scopes.
//! - [`api`]: the RPCs, one file per resource: sign-in with lockout, refresh-token rotation,
//!   employees, departments, roles, the key set.
//! - [`store`]: all SQL.
//! - [`passwords`]: Argon2id hashing on the blocking pool.
//! - [`keys`]: the signing keys (configured or generated; rotation).
//! - [`roles`]: the built-in roles.

pub mod api;
pub mod domain;
pub mod handover;
pub mod keys;
pub mod passwords;
pub mod roles;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::future::Future;

use crm_kit::config::{LogFormat, ServiceConfig};
use crm_kit::db::Migration;
use crm_kit::service::Service;
use crm_proto::identity::identity_service_server::IdentityServiceServer;
use tokio::net::TcpListener;

/// The service's default gRPC port.
pub const DEFAULT_PORT: u16 = 50051;

/// The fully qualified gRPC service name.
pub const GRPC_SERVICE: &str = "crm.identity.v1.IdentityService";

/// The service's schema, applied at start-up after the kit's own tables.
pub const MIGRATIONS: &[Migration] =
    crm_kit::migrations![(1, "init", "0001_init.sql"), (2, "revocations", "0002_revocations.sql"),];

/// Settings of the identity service.
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "crm-identity", about = "The CRM's identity service (gRPC)")]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceConfig,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// Minutes an access token lives.
    #[arg(long, env = "CRM_ACCESS_TOKEN_MINUTES", default_value_t = 15)]
    pub access_token_minutes: u64,
    /// Days a refresh token lives (each refresh issues a new one).
    #[arg(long, env = "CRM_REFRESH_TOKEN_DAYS", default_value_t = 30)]
    pub refresh_token_days: u64,
    /// The Ed25519 signing key: a 32-byte seed in base64 (from a Secret). Without it a key is
    /// generated on first start and kept in the database.
    #[arg(long, env = "CRM_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,
    /// Login of the administrator created on first start.
    #[arg(long, env = "CRM_ADMIN_LOGIN", default_value = "admin")]
    pub admin_login: String,
    /// Password of the administrator created on first start; without it one is generated and
    /// printed once to the log.
    #[arg(long, env = "CRM_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// The services that own records an employee hands over, asked for a handover's dry-run
    /// counts (comma-separated gRPC addresses).
    #[arg(
        long,
        env = "CRM_HANDOVER_PEERS",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50052,http://127.0.0.1:50053"
    )]
    pub handover_peers: Vec<String>,
    /// The business's country (ISO 3166 code): employees' phone numbers typed without a country
    /// code are its numbers, as in the customers and sales services.
    #[arg(long, env = "CRM_DEFAULT_PHONE_REGION", default_value = "CN")]
    pub default_phone_region: crm_kit::phone::PhoneRegion,
}

impl Config {
    /// Defaults for the suite: SQLite under `data_dir`, port 50051.
    pub fn for_suite(data_dir: &std::path::Path) -> Config {
        let mut service = ServiceConfig::for_port(DEFAULT_PORT);
        service.data_dir = data_dir.to_path_buf();
        Config {
            service,
            log_format: LogFormat::Auto,
            access_token_minutes: 15,
            refresh_token_days: 30,
            signing_key: None,
            admin_login: "admin".into(),
            admin_password: None,
            handover_peers: vec!["http://127.0.0.1:50052".into(), "http://127.0.0.1:50053".into()],
            default_phone_region: crm_kit::phone::PhoneRegion::CN,
        }
    }
}

/// Binds the configured address and runs until `shutdown` completes.
pub async fn run_standalone(config: Config, shutdown: impl Future<Output = ()> + Send) -> crm_kit::Result<()> {
    let listener = crm_kit::service::bind(&config.service, DEFAULT_PORT).await?;
    run(config, listener, shutdown).await
}

/// Connects and migrates the database, makes sure a signing key, the built-in roles and (on an
/// empty database) an administrator exist, then serves on `listener` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> crm_kit::Result<()> {
    let mut service = Service::connect("identity", &config.service, MIGRATIONS).await?;
    let db = service.db().clone();
    let configured =
        match config.signing_key.as_deref().filter(|k| !k.trim().is_empty()) {
            Some(text) => Some(keys::parse_seed(text).ok_or_else(|| {
                crm_kit::Error::Internal("CRM_SIGNING_KEY is not a base64 32-byte Ed25519 seed".into())
            })?),
            None => None,
        };
    keys::ensure_current(&db, configured.as_ref()).await?;
    if let Some(password) = api::seed(&db, &config.admin_login, config.admin_password.as_deref()).await? {
        // Printed once, on the first start of an empty database, for the operator to sign in.
        tracing::warn!(
            login = %config.admin_login,
            password = %password,
            "created the first administrator with a generated password; sign in and change it"
        );
    }

    // Identity checks its own revocations straight from its database (each replica sees every
    // other's within a poll; the one that deactivates refreshes at once).
    let verifier = crm_kit::auth::Verifier::new(keys::DbKeys(db.clone()));
    service.verify_with(verifier.clone()).await;
    service.publish_events();
    let api = api::IdentityApi::new(db, &config).with_verifier(verifier);
    service.add(
        IdentityServiceServer::new(api)
            .max_decoding_message_size(service.max_request_bytes())
            .max_encoding_message_size(crm_kit::service::MAX_RESPONSE_BYTES),
    );
    service.serve(listener, shutdown).await
}
