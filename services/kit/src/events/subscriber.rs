//! Following another service's feed: each event's effect, its inbox entry and the cursor move
//! commit together; the producer being down only delays things.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crm_proto::events as pb;
use sqlx::AnyConnection;
use tracing::Instrument;

use super::{Event, Lease};
use crate::auth::ServiceCredentials;
use crate::db::Db;
use crate::errors::{Error, Result};
use crate::serve::Stopping;

/// What a consumer does with the events of one feed.
pub trait Handler: Send + Sync + 'static {
    /// Applies `event` inside the consumer's transaction `conn` (which also records the event
    /// and moves the cursor). An `Err` of a kind the caller could fix (invalid, not found,
    /// failed precondition...) refuses the event for good: it is recorded with the reason and
    /// skipped. `Unavailable` and `Internal` roll back and retry after a pause.
    fn apply<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        event: &'a Event,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;
}

/// One feed to follow.
#[derive(Clone)]
pub struct Follow {
    /// The producer's name, which keys the cursor, e.g. `identity`.
    pub feed: String,
    /// The producer's gRPC address.
    pub url: String,
    /// The event types wanted (empty: every type).
    pub types: Vec<String>,
    /// The consumer's service credentials (`None`: call without a token, for a feed served
    /// without access control, as in the kit's own tests).
    pub credentials: Option<Arc<ServiceCredentials>>,
    /// First pause after a failure; doubled up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// How long this replica's claim to follow lasts unless renewed.
    pub lease_ttl: Duration,
    /// Where the follower says whether it is keeping up (for health); `None`: nowhere.
    pub health: Option<FeedHealth>,
    /// This service's name, under which it subscribes and acknowledges what it applied, so the
    /// producer keeps those events until then (empty: an anonymous reader).
    pub consumer: String,
    /// How often at most the follower acknowledges its position while events keep coming.
    pub ack_interval: Duration,
}

/// Whether a follower is keeping up: true while it follows its feed (or stands by because
/// another replica follows it), false from a failure until it follows again. The service's
/// health reports it under its own name (see [`crate::serve::ServeSpec::health_checks`]).
#[derive(Debug, Clone)]
pub struct FeedHealth(Arc<tokio::sync::watch::Sender<bool>>);

impl FeedHealth {
    /// A reporter, healthy at first, and the receiver health reads.
    pub fn new() -> (FeedHealth, tokio::sync::watch::Receiver<bool>) {
        let (tx, rx) = tokio::sync::watch::channel(true);
        (FeedHealth(Arc::new(tx)), rx)
    }

    fn set(&self, ok: bool) {
        self.0.send_if_modified(|now| {
            let changed = *now != ok;
            *now = ok;
            changed
        });
    }
}

fn report(follow: &Follow, ok: bool) {
    if let Some(h) = &follow.health {
        h.set(ok);
    }
}

impl std::fmt::Debug for Follow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follow")
            .field("feed", &self.feed)
            .field("url", &self.url)
            .field("types", &self.types)
            .finish_non_exhaustive()
    }
}

impl Follow {
    /// Follows `feed` at `url` for the given types, with the usual pauses.
    pub fn new(feed: &str, url: &str, types: Vec<String>, credentials: Arc<ServiceCredentials>) -> Follow {
        Follow {
            feed: feed.to_string(),
            url: url.to_string(),
            types,
            credentials: Some(credentials),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            lease_ttl: Duration::from_secs(15),
            health: None,
            consumer: String::new(),
            ack_interval: Duration::from_secs(5),
        }
    }
}

/// Follows the feed until `stopping` fires. Spawn it; it never returns an error, it logs and
/// retries.
pub async fn follow(db: Db, follow: Follow, handler: Arc<dyn Handler>, mut stopping: Stopping) {
    let lease = Lease::new(format!("follow:{}", follow.feed), follow.lease_ttl);
    let clock = crate::metrics::lag_clock(
        if follow.consumer.is_empty() {
            "anonymous"
        } else {
            &follow.consumer
        },
        &follow.feed,
    );
    let mut failures = 0u32;
    loop {
        if stopping.is_stopping() {
            break;
        }
        let outcome = match lease.acquire(&db).await {
            Ok(true) => {
                session(
                    &db,
                    &follow,
                    handler.as_ref(),
                    &lease,
                    &clock,
                    &mut stopping,
                    &mut failures,
                )
                .await
            }
            Ok(false) => {
                // Another replica follows; look again before its lease could run out.
                clock.standby();
                report(&follow, true);
                tokio::select! {
                    _ = stopping.wait() => break,
                    _ = tokio::time::sleep(follow.lease_ttl / 3) => continue,
                }
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => break,
            Err(e) => {
                clock.behind();
                failures += 1;
                // Handing the feed to another replica is no failure.
                if !matches!(
                    e,
                    Error::Aborted {
                        reason: "LEASE_LOST",
                        ..
                    }
                ) {
                    report(&follow, false);
                }
                let pause = backoff(&follow, failures);
                tracing::warn!(
                    feed = %follow.feed,
                    error = %e,
                    failures,
                    retry_in_ms = pause.as_millis() as u64,
                    "event feed interrupted"
                );
                tokio::select! {
                    _ = stopping.wait() => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
    let _ = lease.release(&db).await;
}

/// The pause after the `failures`th failure in a row: doubling, capped, with jitter so the
/// replicas of many consumers do not knock on a returning producer at the same instant.
fn backoff(follow: &Follow, failures: u32) -> Duration {
    let base = follow
        .min_backoff
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)))
        .min(follow.max_backoff);
    let jitter = (crate::time::now_micros().rem_euclid(1000) as f64) / 1000.0 * 0.25;
    base.mul_f64(1.0 - jitter)
}

/// One connection to the feed: from the stored cursor until an error, a lost lease or stop.
async fn session(
    db: &Db,
    follow: &Follow,
    handler: &dyn Handler,
    lease: &Lease,
    clock: &crate::metrics::LagClock,
    stopping: &mut Stopping,
    failures: &mut u32,
) -> Result<()> {
    // Holding the lease, this replica answers for the lag: behind until the feed says not.
    clock.behind();
    let mut cursor = read_cursor(db, &follow.feed).await?;
    let token = match &follow.credentials {
        Some(c) => Some(c.token().await?),
        None => None,
    };
    let channel = tonic::transport::Endpoint::from_shared(follow.url.clone())
        .map_err(|e| Error::Internal(format!("feed URL {}: {e}", follow.url)))?
        .connect_timeout(Duration::from_secs(3))
        .http2_keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(|e| Error::Unavailable(format!("{} feed at {} is unreachable: {e}", follow.feed, follow.url)))?;
    let subscribe = pb::SubscribeRequest {
        after_sequence: cursor,
        types: follow.types.clone(),
        consumer: follow.consumer.clone(),
    };
    let request = match &token {
        Some(token) => crate::auth::bearer_request(token, subscribe)?,
        None => tonic::Request::new(subscribe),
    };
    let mut client = pb::event_feed_client::EventFeedClient::new(channel).max_decoding_message_size(16 * 1024 * 1024);
    let mut stream = client
        .subscribe(request)
        .await
        .map_err(|s| {
            if s.code() == tonic::Code::FailedPrecondition {
                // The cursor is behind what the producer pruned: retrying cannot help.
                tracing::error!(feed = %follow.feed, after = cursor, "{}", s.message());
            }
            Error::Unavailable(format!(
                "{} feed refused the subscription: {}",
                follow.feed,
                s.message()
            ))
        })?
        .into_inner();
    tracing::info!(feed = %follow.feed, after = cursor, "following event feed");
    *failures = 0;
    report(follow, true);
    // The subscription itself told the producer where this consumer stands. Later positions
    // are acknowledged at most every `ack_interval`, on a deadline of its own (the lease's
    // renewals must not keep pushing it back), and a failed acknowledgement is tried again.
    let mut acked = cursor;
    let mut ack_due = tokio::time::Instant::now() + follow.ack_interval;
    let mut renew = tokio::time::interval(lease.ttl() / 3);
    renew.tick().await;
    loop {
        tokio::select! {
            _ = stopping.wait() => return Ok(()),
            _ = renew.tick() => {
                if !lease.acquire(db).await? {
                    return Err(Error::Aborted { reason: "LEASE_LOST", message: "another replica took over the feed".into() });
                }
            }
            message = stream.message() => {
                let page = message
                    .map_err(|s| Error::Unavailable(format!("{} feed: {}", follow.feed, s.message())))?
                    .ok_or_else(|| Error::Unavailable(format!("{} feed ended", follow.feed)))?;
                let applied = apply_page(db, &follow.feed, handler, cursor, &page).await.inspect_err(|_| clock.apply_failed("failed"))?;
                cursor = applied.through;
                clock.applied(applied.events);
                for _ in 0..applied.refused {
                    clock.apply_failed("refused");
                }
                if cursor >= page.head_sequence {
                    clock.caught_up();
                } else {
                    clock.behind();
                }
            }
            _ = tokio::time::sleep_until(ack_due), if !follow.consumer.is_empty() && cursor > acked => {
                if acknowledge(&mut client, follow, cursor).await {
                    acked = cursor;
                }
                ack_due = tokio::time::Instant::now() + follow.ack_interval;
            }
        }
    }
}

/// Tells the producer this consumer has applied everything through `cursor`; whether it took.
/// A failure only delays pruning, so it is logged and tried again later.
async fn acknowledge(
    client: &mut pb::event_feed_client::EventFeedClient<tonic::transport::Channel>,
    follow: &Follow,
    cursor: i64,
) -> bool {
    let ack = pb::AcknowledgeRequest {
        consumer: follow.consumer.clone(),
        sequence: cursor,
    };
    // A fresh token: a session outlives the one it subscribed with.
    let request = match &follow.credentials {
        Some(c) => match c.token().await {
            Ok(token) => crate::auth::bearer_request(&token, ack),
            Err(e) => Err(e),
        },
        None => Ok(tonic::Request::new(ack)),
    };
    let outcome = match request {
        Ok(request) => client
            .acknowledge(request)
            .await
            .map(|_| ())
            .map_err(|s| s.message().to_string()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(feed = %follow.feed, cursor, error = %e, "acknowledging the feed position failed");
            false
        }
    }
}

/// Applies one delivered page of events in one transaction, each exactly once, and moves the
/// cursor to the end of the page; returns the new cursor. One commit per page keeps up with a
/// busy feed (each event its own commit would queue behind the disk's flushes); a crash
/// anywhere before the commit leaves the whole page to be applied again.
async fn apply_page(
    db: &Db,
    feed: &str,
    handler: &dyn Handler,
    cursor: i64,
    page: &pb::SubscribeResponse,
) -> Result<Applied> {
    let through = page
        .events
        .iter()
        .map(|e| e.sequence)
        .max()
        .unwrap_or(cursor)
        .max(page.through_sequence);
    if through <= cursor {
        return Ok(Applied {
            through: cursor,
            events: 0,
            refused: 0,
        });
    }
    let started = std::time::Instant::now();
    let mut tx = db.begin_write().await?;
    let (mut applied, mut refused) = (0usize, 0usize);
    for event in page.events.iter().filter(|e| e.sequence > cursor) {
        let span = crate::telemetry::event_span(feed, &event.r#type, event.sequence, &event.traceparent);
        refused += usize::from(!apply_one(&mut tx, feed, handler, event).instrument(span).await?);
        applied += 1;
        crate::failpoint::hit("events.apply.after_event");
    }
    move_cursor(&mut tx, feed, cursor, through).await?;
    crate::failpoint::hit("events.apply.before_commit");
    tx.commit().await?;
    if applied > 0 {
        tracing::debug!(
            feed,
            events = applied,
            through,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "events applied"
        );
    }
    Ok(Applied {
        through,
        events: (applied - refused) as u64,
        refused,
    })
}

/// What applying a page did.
struct Applied {
    /// The new cursor.
    through: i64,
    /// Events applied (not counting those refused or already applied before).
    events: u64,
    /// Events refused for good.
    refused: usize,
}

/// Applies one event inside the page's transaction, unless the inbox has it already. A
/// refusal (an error the event itself causes) undoes only this event's effect, back to a
/// savepoint, and is recorded; any other error fails the whole page. Returns false when the
/// event was refused.
async fn apply_one(tx: &mut AnyConnection, feed: &str, handler: &dyn Handler, event: &Event) -> Result<bool> {
    let now = crate::time::now_micros();
    sqlx::query("SAVEPOINT crm_event").execute(&mut *tx).await?;
    let fresh = sqlx::query(
        "INSERT INTO crm_event_inbox (feed, event_id, sequence, type, outcome, detail, applied_at) \
         VALUES ($1, $2, $3, $4, 'applied', '', $5) ON CONFLICT DO NOTHING",
    )
    .bind(feed)
    .bind(&event.event_id)
    .bind(event.sequence)
    .bind(&event.r#type)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let mut accepted = true;
    if fresh && let Err(e) = handler.apply(&mut *tx, event).await {
        accepted = false;
        if matches!(e, Error::Unavailable(_) | Error::Internal(_)) {
            return Err(e);
        }
        // Refused for good: nothing of its effect stays, the refusal is kept.
        tracing::error!(feed, event_id = %event.event_id, r#type = %event.r#type, error = %e, "event refused");
        sqlx::query("ROLLBACK TO SAVEPOINT crm_event").execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO crm_event_inbox (feed, event_id, sequence, type, outcome, detail, applied_at) \
             VALUES ($1, $2, $3, $4, 'refused', $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(feed)
        .bind(&event.event_id)
        .bind(event.sequence)
        .bind(&event.r#type)
        .bind(e.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("RELEASE SAVEPOINT crm_event").execute(&mut *tx).await?;
    Ok(accepted)
}

/// Moves the cursor from `from` to `to`; fails when another follower moved it meanwhile.
async fn move_cursor(conn: &mut AnyConnection, feed: &str, from: i64, to: i64) -> Result<()> {
    let moved =
        sqlx::query("UPDATE crm_event_cursors SET sequence = $1, updated_at = $2 WHERE feed = $3 AND sequence = $4")
            .bind(to)
            .bind(crate::time::now_micros())
            .bind(feed)
            .bind(from)
            .execute(conn)
            .await?
            .rows_affected();
    if moved == 1 {
        Ok(())
    } else {
        Err(Error::Aborted {
            reason: "CURSOR_MOVED",
            message: format!("the {feed} cursor moved past {from} elsewhere"),
        })
    }
}

/// The stored cursor of `feed` (made at 0 the first time).
pub async fn read_cursor(db: &Db, feed: &str) -> Result<i64> {
    if let Some(at) = sqlx::query_scalar("SELECT sequence FROM crm_event_cursors WHERE feed = $1")
        .bind(feed)
        .fetch_optional(&db.pool)
        .await?
    {
        return Ok(at);
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO crm_event_cursors (feed, sequence, updated_at) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING")
        .bind(feed)
        .bind(crate::time::now_micros())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(
        sqlx::query_scalar("SELECT sequence FROM crm_event_cursors WHERE feed = $1")
            .bind(feed)
            .fetch_one(&db.pool)
            .await?,
    )
}

/// Sets the cursor of `feed` (an operator rewinding to re-read events: the inbox still keeps
/// each event from being applied twice).
pub async fn set_cursor(db: &Db, feed: &str, sequence: i64) -> Result<()> {
    read_cursor(db, feed).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE crm_event_cursors SET sequence = $1, updated_at = $2 WHERE feed = $3")
        .bind(sequence)
        .bind(crate::time::now_micros())
        .bind(feed)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
