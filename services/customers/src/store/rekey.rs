//! Rebuilds the keys derived from stored text when the rules that derive them change: the
//! duplicate name key, the E.164 phones and the search text and bigrams. SQL alone cannot
//! compute them (traditional-to-simplified folding, libphonenumber), so a migration only adds
//! the `derived_keys` table and the service brings its rows up to date at start-up, before it
//! serves, in batches of one transaction each. A start interrupted half-way rebuilds again
//! (every step is idempotent) until it has recorded the version.

use crm_kit::Result;
use crm_kit::db::{Backend, Db};
use crm_kit::phone::{PhoneRegion, renormalize};
use sqlx::AnyConnection;

use super::search;
use crate::domain::names;

/// The version of the rules stored rows were written with. Raise it whenever `name_key`,
/// `normalize_text` or the phone normalisation change what they make of stored text.
/// 1: traditional characters fold to simplified, phones are E.164 and kept as typed.
pub const VERSION: i64 = 1;

/// Customers per transaction.
const BATCH: i64 = 500;

/// What a rebuild changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rekeyed {
    pub customers: u64,
    /// Live companies whose new name key another live company already holds: they keep their
    /// old key (the two are duplicates under the new rules and should be merged).
    pub kept_old_key: Vec<(String, String)>,
}

/// Brings every row to [`VERSION`]; does nothing when it is there already (or the database is
/// new).
pub async fn run(db: &Db, region: PhoneRegion) -> Result<Option<Rekeyed>> {
    let mut conn = db.pool.acquire().await?;
    let stored: Option<i64> = sqlx::query_scalar("SELECT version FROM derived_keys WHERE name = 'customers'")
        .fetch_optional(&mut *conn)
        .await?;
    if stored == Some(VERSION) {
        return Ok(None);
    }
    drop(conn);
    let mut done = Rekeyed::default();
    if db.backend == Backend::Sqlite {
        // The gram rows have no index by customer: dropping them all and writing each
        // customer's anew is one scan instead of one per customer.
        let mut tx = db.begin_write().await?;
        sqlx::query("DELETE FROM customer_grams").execute(&mut *tx).await?;
        tx.commit().await?;
    }
    let mut after = String::new();
    loop {
        let mut tx = db.begin_write().await?;
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM customers WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(&after)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
        for id in &ids {
            rekey_customer(&mut tx, id, region, &mut done).await?;
        }
        tx.commit().await?;
        done.customers += ids.len() as u64;
        match ids.last() {
            Some(last) if ids.len() as i64 == BATCH => after.clone_from(last),
            _ => break,
        }
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM derived_keys WHERE name = 'customers'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO derived_keys (name, version) VALUES ('customers', $1)")
        .bind(VERSION)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    for (id, holder) in &done.kept_old_key {
        tracing::warn!(
            customer_id = %id,
            duplicate_of = %holder,
            "two customers have the same name under the new name rules; merge them"
        );
    }
    Ok(Some(done))
}

/// The E.164 form of a stored number and its typed text (the stored text when none was kept).
fn phone_pair(stored: &str, typed: &str, region: PhoneRegion) -> (String, String) {
    let normalized = renormalize(stored, region).unwrap_or_else(|| stored.to_string());
    let typed = if typed.is_empty() { stored } else { typed };
    (normalized, typed.to_string())
}

async fn rekey_customer(conn: &mut AnyConnection, id: &str, region: PhoneRegion, done: &mut Rekeyed) -> Result<()> {
    type Row = (String, String, String, String, String, String, String, Option<i64>);
    let Some((kind, name, old_key, phone, phone_typed, mobile, mobile_typed, deleted_at)): Option<Row> =
        sqlx::query_as(
            "SELECT kind, name, name_key, phone, phone_typed, mobile, mobile_typed, deleted_at FROM customers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(());
    };
    let live = deleted_at.is_none();
    let mut key = names::name_key(&name);
    if key != old_key && live && kind == "company" {
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT id FROM customers WHERE kind = 'company' AND name_key = $1 AND deleted_at IS NULL AND id <> $2 LIMIT 1",
        )
        .bind(&key)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(holder) = holder {
            done.kept_old_key.push((id.to_string(), holder));
            key = old_key;
        }
    }
    let (phone, phone_typed) = phone_pair(&phone, &phone_typed, region);
    let old_mobile = mobile.clone();
    let (mut mobile, mobile_typed) = phone_pair(&mobile, &mobile_typed, region);
    if live && kind == "individual" && !mobile.is_empty() {
        let taken: Option<String> = sqlx::query_scalar(
            "SELECT id FROM customers WHERE kind = 'individual' AND mobile = $1 AND deleted_at IS NULL AND id <> $2 LIMIT 1",
        )
        .bind(&mobile)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if taken.is_some() {
            mobile = old_mobile;
        }
    }
    sqlx::query(
        "UPDATE customers SET name_key = $1, phone = $2, phone_typed = $3, mobile = $4, mobile_typed = $5 WHERE id = $6",
    )
    .bind(&key)
    .bind(&phone)
    .bind(&phone_typed)
    .bind(&mobile)
    .bind(&mobile_typed)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let contacts: Vec<(String, String, String, String, String)> =
        sqlx::query_as("SELECT id, mobile, mobile_typed, phone, phone_typed FROM contacts WHERE customer_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    for (contact_id, m, mt, p, pt) in contacts {
        let (m, mt) = phone_pair(&m, &mt, region);
        let (p, pt) = phone_pair(&p, &pt, region);
        sqlx::query("UPDATE contacts SET mobile = $1, mobile_typed = $2, phone = $3, phone_typed = $4 WHERE id = $5")
            .bind(&m)
            .bind(&mt)
            .bind(&p)
            .bind(&pt)
            .bind(&contact_id)
            .execute(&mut *conn)
            .await?;
    }
    let entry = search::texts_of(conn, id).await?.entry();
    if crm_kit::db::backend(conn) == Backend::Postgres {
        sqlx::query("UPDATE customers SET search_text = $1, grams = CAST($2 AS BIGINT[]) WHERE id = $3")
            .bind(&entry.text)
            .bind(entry.grams_literal())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query("UPDATE customers SET search_text = $1 WHERE id = $2")
            .bind(&entry.text)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        search::insert_grams(conn, &[(id, entry.grams.as_slice())]).await?;
    }
    Ok(())
}
