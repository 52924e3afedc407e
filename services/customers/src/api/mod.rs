//! The tonic service. Each RPC turns its request into domain values (collecting every field
//! violation), checks the caller and the caller's scope, calls the store inside one
//! transaction, and maps failures to `Status` through `crm_kit::Error`.
//!
//! - [`customers`]: create, get, list/search, update, delete, duplicates, merge, history.
//! - [`ownership`]: assign, transfer, release, claim, share, locks, pool policy, reclaim.
//! - [`catalog`]: categories, dictionaries, saved filters.
//! - [`contacts`], [`follow_ups`], [`reminders`]: the people, the contacts made, the morning list.
//! - [`transfer`]: CSV import (client stream) and export (server stream).
//! - [`convert`]: rows → wire messages.

pub mod catalog;
pub mod contacts;
pub mod convert;
pub mod customers;
pub mod follow_ups;
pub mod ownership;
pub mod reminders;
pub mod service;
pub mod transfer;

use std::sync::Arc;

use crm_kit::caller::Caller;
use crm_kit::db::Db;
use crm_kit::filter::{CompiledFilter, SqlValue};
use crm_kit::paging::PageTokens;
use crm_kit::{Error, Result};
use sqlx::AnyConnection;

use crate::store::customers::CustomerRow;

/// The customers service's state, shared by every call.
#[derive(Clone)]
pub struct CustomersApi {
    pub(crate) db: Db,
    pub(crate) tokens: Arc<PageTokens>,
    pub(crate) utc_offset_minutes: i32,
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
    pub fn new(db: Db, config: &crate::Config) -> Self {
        CustomersApi {
            db,
            tokens: Arc::new(PageTokens::new(config.service.page_token_secret.as_bytes())),
            utc_offset_minutes: config.utc_offset_minutes,
        }
    }

    /// A pooled connection.
    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool.acquire().await?)
    }
}

/// The caller's data scope as a predicate on customers `c`, or None for everything.
///
/// Until identity brings departments and scopes: managers see everyone's customers; others see
/// their own, those they collaborate on, and the public pool (which they may claim from).
pub fn scope(caller: &Caller) -> Option<CompiledFilter> {
    if caller.is_manager {
        return None;
    }
    Some(CompiledFilter {
        sql: "(c.owner_id = $1 OR c.owner_id = '' OR EXISTS (SELECT 1 FROM customer_collaborators cc \
              WHERE cc.customer_id = c.id AND cc.employee_id = $1))"
            .into(),
        params: vec![SqlValue::Text(caller.employee_id.clone())],
    })
}

/// Whether a customer is within the caller's scope.
pub async fn in_scope(conn: &mut AnyConnection, caller: &Caller, row: &CustomerRow) -> Result<bool> {
    if caller.is_manager || row.owner_id.is_empty() || row.owner_id == caller.employee_id {
        return Ok(true);
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM customer_collaborators WHERE customer_id = $1 AND employee_id = $2",
    )
    .bind(&row.id)
    .bind(&caller.employee_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// Loads a live customer the caller may see; NOT_FOUND otherwise (out of scope looks the same
/// as missing, so ids cannot be probed).
pub async fn visible_customer(conn: &mut AnyConnection, caller: &Caller, field: &str, id: &str) -> Result<CustomerRow> {
    let id = id.trim();
    if id.is_empty() {
        return Err(Error::required(field));
    }
    match crate::store::customers::load(conn, id, false).await? {
        Some(row) if in_scope(conn, caller, &row).await? => Ok(row),
        _ => Err(Error::not_found(CUSTOMER, id)),
    }
}

/// Whether the caller may act on a customer as its owner would (owner or manager).
pub fn may_manage(caller: &Caller, row: &CustomerRow) -> bool {
    caller.is_manager || row.owner_id == caller.employee_id
}

/// Checks an etag sent by a client against the current version.
pub fn check_etag(field: &str, sent: &str, current_version: i64, resource: &str) -> Result<()> {
    let sent = sent.trim();
    if sent.is_empty() {
        return Err(Error::invalid(field, "REQUIRED", "is required: send the etag you read"));
    }
    if sent != format!("v{current_version}") {
        return Err(Error::stale_etag(resource));
    }
    Ok(())
}

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
