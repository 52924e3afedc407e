//! The outbox: events appended inside the caller's transaction, numbered in commit order by
//! the sequencer once they are visible.

use std::time::Duration;

use sqlx::AnyConnection;
use tokio::sync::watch;

use crate::db::Db;
use crate::errors::Result;
use crate::filter::{CompiledFilter, SqlValue};
use crate::serve::Stopping;

/// How often the sequencer looks for events committed by other replicas of the service (its
/// own process's commits wake it at once).
const POLL: Duration = Duration::from_millis(200);

/// Most events numbered in one sequencer transaction.
const BATCH: i64 = 2_000;

/// Appends an event announcing a change, in the transaction making the change. Its type is the
/// payload's message name; `aggregate_id` names the record it is about.
pub async fn append<M: prost::Message + prost::Name>(
    conn: &mut AnyConnection,
    aggregate_id: &str,
    payload: &M,
) -> Result<String> {
    append_at(conn, aggregate_id, payload, crate::time::now_micros()).await
}

/// [`append`] with the time the change was made.
pub async fn append_at<M: prost::Message + prost::Name>(
    conn: &mut AnyConnection,
    aggregate_id: &str,
    payload: &M,
    occurred_at: i64,
) -> Result<String> {
    let (event_id, statement) = append_statement(aggregate_id, payload, occurred_at);
    sqlx::query_with(&statement.sql, crate::sql::arguments(&statement.params))
        .execute(conn)
        .await?;
    Ok(event_id)
}

/// The outbox insert [`append_at`] runs, as SQL and parameters, for a caller that sends several
/// writes as one statement; with the new event's id.
pub fn append_statement<M: prost::Message + prost::Name>(
    aggregate_id: &str,
    payload: &M,
    occurred_at: i64,
) -> (String, CompiledFilter) {
    let event_id = crate::new_id();
    let statement = CompiledFilter {
        sql: "INSERT INTO crm_outbox (event_id, sequence, type, aggregate_id, occurred_at, payload, traceparent) \
              VALUES ($1, CAST(NULL AS BIGINT), $2, $3, $4, $5, $6)"
            .into(),
        params: vec![
            SqlValue::Text(event_id.clone()),
            SqlValue::Text(M::full_name()),
            SqlValue::Text(aggregate_id.to_string()),
            SqlValue::Int(occurred_at),
            SqlValue::Bytes(payload.encode_to_vec()),
            SqlValue::Text(crate::telemetry::current_traceparent()),
        ],
    };
    (event_id, statement)
}

/// A service's outbox: the sequencer task and what its feed needs.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Db,
    /// The last sequence assigned in this process (feeds wake on it).
    head: watch::Receiver<i64>,
}

impl Outbox {
    /// Starts the sequencer on `db` until `stopping` fires.
    pub fn start(db: Db, stopping: Stopping) -> (Outbox, tokio::task::JoinHandle<()>) {
        let (tx, rx) = watch::channel(0);
        let task = tokio::spawn(run_sequencer(db.clone(), tx, stopping));
        (Outbox { db, head: rx }, task)
    }

    /// The `EventFeed` server of this outbox.
    pub fn feed(&self) -> crm_proto::events::event_feed_server::EventFeedServer<super::Feed> {
        crm_proto::events::event_feed_server::EventFeedServer::new(super::Feed::new(self.db.clone(), self.head.clone()))
            .max_encoding_message_size(16 * 1024 * 1024)
    }
}

async fn run_sequencer(db: Db, head: watch::Sender<i64>, mut stopping: Stopping) {
    let mut failures = 0u32;
    loop {
        match sequence_batch(&db).await {
            Ok(Some(last)) => {
                failures = 0;
                head.send_replace(last);
                continue;
            }
            Ok(None) => failures = 0,
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "outbox sequencer failed; retrying");
            }
        }
        let pause = if failures == 0 {
            POLL
        } else {
            Duration::from_millis(50 * 2u64.pow(failures.min(6)))
        };
        tokio::select! {
            _ = stopping.wait() => return,
            _ = db.committed() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// Numbers the committed events that have no sequence yet; the last number assigned, or `None`
/// when there were none.
pub(crate) async fn sequence_batch(db: &Db) -> Result<Option<i64>> {
    // A cheap look first, so an idle service never takes the write lock.
    let waiting: Option<String> = sqlx::query_scalar("SELECT event_id FROM crm_outbox WHERE sequence IS NULL LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    if waiting.is_none() {
        return Ok(None);
    }
    let mut tx = db.begin_write().await?;
    // Locks the counter row: sequencers of several replicas take turns, and each one's reads
    // below start after the previous one committed (PostgreSQL READ COMMITTED takes a fresh
    // snapshot per statement; SQLite has one writer).
    sqlx::query("UPDATE crm_event_counter SET last = last WHERE name = 'outbox'")
        .execute(&mut *tx)
        .await?;
    let last: i64 = sqlx::query_scalar("SELECT last FROM crm_event_counter WHERE name = 'outbox'")
        .fetch_one(&mut *tx)
        .await?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT event_id FROM crm_outbox WHERE sequence IS NULL ORDER BY event_id LIMIT $1")
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
    if ids.is_empty() {
        tx.rollback().await?;
        return Ok(None);
    }
    let mut next = last;
    let per_statement = crate::db::rows_per_statement(&tx, 2);
    for chunk in ids.chunks(per_statement) {
        // One statement per chunk: `UPDATE ... SET sequence = CASE event_id WHEN $1 THEN $2 ... END`.
        let mut sql = String::from("UPDATE crm_outbox SET sequence = CASE event_id");
        let mut n = 1;
        for _ in chunk {
            sql.push_str(&format!(" WHEN ${} THEN CAST(${} AS BIGINT)", n, n + 1));
            n += 2;
        }
        sql.push_str(" END WHERE event_id IN (");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", 2 * i + 1));
        }
        sql.push_str(") AND sequence IS NULL");
        let mut q = sqlx::query(&sql);
        for id in chunk {
            next += 1;
            q = q.bind(id).bind(next);
        }
        q.execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE crm_event_counter SET last = $1 WHERE name = 'outbox'")
        .bind(next)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::debug!(from = last + 1, to = next, "events sequenced");
    Ok(Some(next))
}
