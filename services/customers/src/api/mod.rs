//! The tonic service. Each RPC turns its request into domain values (collecting every field
//! violation), checks the caller and the caller's scope, calls the store inside one
//! transaction, and maps failures to `Status` through `crm_kit::Error`.
//!
//! - [`customers`]: create, get, list/search, update, delete, duplicates, merge, history.
//! - [`ownership`]: assign, transfer, release, claim, share, locks, pool policy, reclaim.
//! - [`catalog`]: categories, dictionaries, saved filters.
//! - [`contacts`], [`follow_ups`], [`reminders`]: the people, the contacts made, the morning list.
//! - [`transfer`]: CSV import (client stream); [`export`]: CSV export (server stream).
//! - [`convert`]: rows → wire messages.

pub mod catalog;
pub mod contacts;
pub mod convert;
pub mod customers;
pub mod export;
pub use crm_kit::directory;
pub mod follow_ups;
pub mod ownership;
pub mod reminders;
pub mod search;
pub mod service;
pub mod transfer;

use std::sync::Arc;

use crm_kit::auth::{Principal, ReadScope, Scope, ScopeColumns, ScopeRule};
use crm_kit::db::Db;
use crm_kit::paging::PageTokens;
use crm_kit::{Error, Result};
use sqlx::AnyConnection;

use crate::store::customers::CustomerRow;

/// The customers service's state, shared by every call.
#[derive(Clone)]
pub struct CustomersApi {
    pub(crate) db: Db,
    pub(crate) directory: directory::Directory,
    pub(crate) tokens: Arc<PageTokens>,
    pub(crate) utc_offset_minutes: i32,
    /// The country of phone numbers written without a country code.
    pub(crate) phone_region: crm_kit::phone::PhoneRegion,
    /// The currency a customer's order and balance totals are kept in.
    pub(crate) base_currency: String,
}

impl std::fmt::Debug for CustomersApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomersApi").finish_non_exhaustive()
    }
}

/// The resource type named in errors about customers.
pub const CUSTOMER: &str = "crm.customers.v1.Customer";

impl CustomersApi {
    /// The service over a migrated database.
    pub fn new(db: Db, config: &crate::Config) -> Result<Self> {
        Ok(CustomersApi {
            db,
            directory: directory::Directory::new(&config.service.identity_url)?,
            tokens: Arc::new(PageTokens::new(config.service.page_token_secret.as_bytes())),
            utc_offset_minutes: config.utc_offset_minutes,
            phone_region: config.default_phone_region,
            base_currency: config.service.base_currency()?,
        })
    }

    /// A pooled connection.
    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool.acquire().await?)
    }
}

/// The service name in permissions and data scopes.
pub const SERVICE: &str = "customers";

/// The collaborator condition for scope predicates (`$1` is the caller).
const COLLABORATES: &str =
    "EXISTS (SELECT 1 FROM customer_collaborators cc WHERE cc.customer_id = c.id AND cc.employee_id = $1)";

/// Whether the caller's reach goes beyond their own customers (a manager's department or tree,
/// or everything).
pub fn is_manager(caller: &Principal) -> bool {
    caller.scope(SERVICE) != Scope::Own
}

/// Whether the caller may see the public pool.
fn sees_pool(caller: &Principal) -> bool {
    POOL_READERS.iter().any(|p| caller.has_permission(p))
}

/// How customers `c` are scoped: their own customers and those they collaborate on, their
/// department's or department tree's when their scope says so, and the public pool when they
/// may see or claim from it.
pub const CUSTOMER_SCOPE: ScopeRule = ScopeRule {
    service: SERVICE,
    columns: ScopeColumns {
        owner: "c.owner_id",
        owner_department_path: "c.owner_department_path",
        collaborator: Some(COLLABORATES),
    },
    unowned_visible_to: POOL_READERS,
};

/// The permissions that show the public pool.
const POOL_READERS: &[&str] = &["customers.pool.read", "customers.pool.claim"];

/// The customers `c` the caller may see.
pub fn scope(caller: &Principal) -> ReadScope {
    ReadScope::of(caller, &CUSTOMER_SCOPE)
}

/// Whether a customer is within the caller's scope.
pub async fn in_scope(conn: &mut AnyConnection, caller: &Principal, row: &CustomerRow) -> Result<bool> {
    if row.owner_id.is_empty() {
        return Ok(sees_pool(caller) || caller.scope(SERVICE) == Scope::All);
    }
    if caller.covers(SERVICE, &row.owner_id, &row.owner_department_path) {
        return Ok(true);
    }
    crate::store::ownership::is_collaborator(conn, &row.id, &caller.employee_id).await
}

/// Loads a live customer the caller may see; NOT_FOUND otherwise (out of scope looks the same
/// as missing, so ids cannot be probed).
pub async fn visible_customer(
    conn: &mut AnyConnection,
    caller: &Principal,
    field: &str,
    id: &str,
) -> Result<CustomerRow> {
    let id = id.trim();
    if id.is_empty() {
        return Err(Error::required(field));
    }
    match crate::store::customers::load(conn, id, false).await? {
        Some(row) if in_scope(conn, caller, &row).await? => Ok(row),
        _ => Err(Error::not_found(CUSTOMER, id)),
    }
}

/// Whether the caller may act on a customer as its owner would: its owner, or a manager whose
/// scope covers it (pooled customers included).
pub fn may_manage(caller: &Principal, row: &CustomerRow) -> bool {
    row.owner_id == caller.employee_id
        || (is_manager(caller)
            && (row.owner_id.is_empty() || caller.covers(SERVICE, &row.owner_id, &row.owner_department_path)))
}

pub use crm_kit::update::check_etag;

/// Converts the kit's page-size rule error.
pub fn page_size(requested: i32, default: u32, max: u32) -> Result<i64> {
    Ok(i64::from(crm_kit::paging::page_size(requested, default, max)?))
}

/// Decodes a page token for a query fingerprint.
pub fn decode_token<T: serde::de::DeserializeOwned>(
    tokens: &PageTokens,
    fingerprint: &str,
    token: &str,
) -> Result<Option<T>> {
    if token.is_empty() {
        return Ok(None);
    }
    Ok(Some(tokens.decode(fingerprint, token)?))
}
