//! A lease row: which replica does a singleton job, until when.

use std::time::Duration;

use crate::db::Db;
use crate::errors::Result;

/// One replica's claim on a named job.
#[derive(Debug, Clone)]
pub struct Lease {
    name: String,
    holder: String,
    ttl: Duration,
}

impl Lease {
    /// A lease on `name` held by this process (a fresh holder id per process).
    pub fn new(name: impl Into<String>, ttl: Duration) -> Lease {
        Lease {
            name: name.into(),
            holder: format!("{}-{}", std::process::id(), crate::new_id()),
            ttl,
        }
    }

    /// How long a claim lasts unless renewed.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes or renews the lease: true when this process holds it until `ttl` from now. A lease
    /// held by another replica is taken only once it has expired.
    pub async fn acquire(&self, db: &Db) -> Result<bool> {
        let now = crate::time::now_micros();
        let until = now + i64::try_from(self.ttl.as_micros()).unwrap_or(i64::MAX / 2);
        let mut tx = db.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO crm_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE crm_leases.holder = excluded.holder OR crm_leases.expires_at < $4",
        )
        .bind(&self.name)
        .bind(&self.holder)
        .bind(until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Gives the lease up (on shutdown), so another replica takes over at once.
    pub async fn release(&self, db: &Db) -> Result<()> {
        let mut tx = db.begin_write().await?;
        sqlx::query("DELETE FROM crm_leases WHERE name = $1 AND holder = $2")
            .bind(&self.name)
            .bind(&self.holder)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
