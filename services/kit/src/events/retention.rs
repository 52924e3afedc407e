//! Outbox retention: events older than the retention setting, and applied by every registered
//! consumer, are pruned in batches. Consumers register by name when they subscribe and
//! acknowledge as they apply (`EventFeed.Acknowledge`). A consumer whose cursor is behind what
//! was pruned is refused (FAILED_PRECONDITION, FEED_PRUNED) with what to do, never handed a
//! gap. A consumer not heard from for longer than the consumer expiry (a service that was
//! removed) no longer holds pruning back; should it return, it gets that refusal.

use std::time::Duration;

use crate::db::{Db, Migration};
use crate::errors::{Error, Result};
use crate::serve::Stopping;

/// The consumers a producer knows of, and its pruned mark; every service that publishes events
/// lists it with [`super::MIGRATIONS`].
pub const MIGRATION: Migration = Migration {
    version: 1_000_007,
    name: "kit_feed_consumers",
    only_on: None,
    sql: "CREATE TABLE IF NOT EXISTS crm_feed_consumers (
        consumer TEXT PRIMARY KEY,
        acked_sequence BIGINT NOT NULL,
        acked_at BIGINT NOT NULL
    );
    INSERT INTO crm_event_counter (name, last) VALUES ('pruned', 0) ON CONFLICT DO NOTHING",
};

/// Events deleted per transaction while pruning.
const BATCH: i64 = 10_000;

/// Longest accepted consumer name.
const MAX_CONSUMER_LEN: usize = 100;

/// Checks a consumer name from the wire (empty is an anonymous reader).
pub(crate) fn check_consumer(field: &str, consumer: &str) -> Result<()> {
    if consumer.len() > MAX_CONSUMER_LEN || consumer.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid(
            field,
            crate::errors::reason::MALFORMED,
            format!("a service name of at most {MAX_CONSUMER_LEN} characters without spaces"),
        ));
    }
    Ok(())
}

/// Records that `consumer` has applied every event through `sequence` (a position never moves
/// back: a rewound consumer re-reads, it does not ask for pruned events to come back).
pub async fn acknowledge(db: &Db, consumer: &str, sequence: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO crm_feed_consumers (consumer, acked_sequence, acked_at) VALUES ($1, $2, $3)
         ON CONFLICT (consumer) DO UPDATE SET
           acked_sequence = CASE WHEN crm_feed_consumers.acked_sequence > excluded.acked_sequence
                                 THEN crm_feed_consumers.acked_sequence ELSE excluded.acked_sequence END,
           acked_at = excluded.acked_at",
    )
    .bind(consumer)
    .bind(sequence)
    .bind(crate::time::now_micros())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The last pruned sequence (0: nothing pruned).
pub async fn pruned_through(db: &Db) -> Result<i64> {
    let v: Option<i64> = sqlx::query_scalar("SELECT last FROM crm_event_counter WHERE name = 'pruned'")
        .fetch_optional(&db.pool)
        .await?;
    Ok(v.unwrap_or(0))
}

/// FAILED_PRECONDITION (FEED_PRUNED) when a cursor at `after` would skip pruned events.
pub(crate) fn check_not_pruned(after: i64, pruned: i64) -> Result<()> {
    if after >= pruned {
        return Ok(());
    }
    Err(Error::FailedPrecondition {
        reason: "FEED_PRUNED",
        message: format!(
            "events 1 to {pruned} of this feed were pruned (older than the producer's retention and applied by \
             every consumer it heard from); a cursor at {after} would miss those after it. Rebuild this \
             consumer's copy of the producer's data, then set its cursor to {pruned} \
             (crm_kit::events::set_cursor), or restore the producer's outbox from a backup"
        ),
        subject: "crm_outbox".into(),
        metadata: vec![
            ("after_sequence".into(), after.to_string()),
            ("pruned_through_sequence".into(), pruned.to_string()),
        ],
    })
}

/// What one pruning did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    /// The pruned mark afterwards.
    pub through: i64,
    /// Events deleted.
    pub deleted: u64,
}

/// How long events are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events younger than this are kept, whoever has applied them.
    pub keep: Duration,
    /// A consumer not heard from for longer than this no longer holds pruning back.
    pub consumer_expiry: Duration,
}

fn before(now: i64, d: Duration) -> i64 {
    now.saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Prunes the events older than `retention.keep` (at `now`, microseconds) that every consumer
/// heard from within `retention.consumer_expiry` has applied.
pub async fn prune(db: &Db, retention: Retention, now: i64) -> Result<Pruned> {
    let horizon = before(now, retention.keep);
    let held_back: Option<i64> =
        sqlx::query_scalar("SELECT MIN(acked_sequence) FROM crm_feed_consumers WHERE acked_at >= $1")
            .bind(before(now, retention.consumer_expiry))
            .fetch_one(&db.pool)
            .await?;
    let old_enough: Option<i64> =
        sqlx::query_scalar("SELECT MAX(sequence) FROM crm_outbox WHERE sequence IS NOT NULL AND occurred_at < $1")
            .bind(horizon)
            .fetch_one(&db.pool)
            .await?;
    let mut done = Pruned {
        through: pruned_through(db).await?,
        deleted: 0,
    };
    let Some(old_enough) = old_enough else {
        return Ok(done);
    };
    let cutoff = held_back.map_or(old_enough, |h| h.min(old_enough));
    while done.through < cutoff {
        let to = cutoff.min(done.through.saturating_add(BATCH));
        let mut tx = db.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM crm_outbox WHERE sequence IS NOT NULL AND sequence <= $1")
            .bind(to)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE crm_event_counter SET last = $1 WHERE name = 'pruned' AND last < $1")
            .bind(to)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        done.through = to;
        done.deleted += deleted;
    }
    Ok(done)
}

/// Prunes every `interval` until `stopping` fires (see [`prune`]); `retention` `None` keeps
/// every event.
pub fn spawn_pruning(
    db: Db,
    retention: Option<Retention>,
    interval: Duration,
    mut stopping: Stopping,
) -> Option<tokio::task::JoinHandle<()>> {
    let retention = retention?;
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopping.wait() => return,
                _ = tokio::time::sleep(interval) => {}
            }
            match prune(&db, retention, crate::time::now_micros()).await {
                Ok(p) if p.deleted > 0 => {
                    tracing::info!(deleted = p.deleted, through = p.through, "outbox pruned");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox pruning failed; retrying later"),
            }
        }
    }))
}

/// What the metrics report of this service's feed: changes committed but not yet numbered
/// (the outbox's backlog, read through its partial index), the head, and the acknowledged
/// position of each consumer heard from since `heard_since` (microseconds; expired consumers,
/// removed services, hold nothing back and are not reported).
pub(crate) async fn figures(db: &Db, heard_since: i64) -> Result<(i64, i64, Vec<(String, i64)>)> {
    let backlog: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crm_outbox WHERE sequence IS NULL")
        .fetch_one(&db.pool)
        .await?;
    let head: i64 = sqlx::query_scalar("SELECT last FROM crm_event_counter WHERE name = 'outbox'")
        .fetch_one(&db.pool)
        .await?;
    let consumers: Vec<(String, i64)> = sqlx::query_as(
        "SELECT consumer, acked_sequence FROM crm_feed_consumers WHERE acked_at >= $1 ORDER BY consumer",
    )
    .bind(heard_since)
    .fetch_all(&db.pool)
    .await?;
    Ok((backlog, head, consumers))
}

/// Samples the feed's [`figures`] into the metrics every `interval` until `stopping` fires;
/// consumers not heard from for `consumer_expiry` are left out.
pub fn spawn_sampling(
    db: Db,
    service: &'static str,
    interval: Duration,
    consumer_expiry: Option<Duration>,
    mut stopping: Stopping,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if crate::metrics::enabled() {
                let heard_since = consumer_expiry.map_or(0, |d| before(crate::time::now_micros(), d));
                match figures(&db, heard_since).await {
                    Ok((backlog, head, consumers)) => crate::metrics::feed_sampled(service, backlog, head, &consumers),
                    Err(e) => tracing::debug!(error = %e, "sampling the event feed's figures failed"),
                }
            }
            tokio::select! {
                _ = stopping.wait() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    })
}
