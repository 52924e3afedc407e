//! `crm.events.v1.EventFeed`: the numbered events after a cursor, then new ones as they come.

use std::pin::Pin;
use std::time::Duration;

use crm_proto::events as pb;
use tokio::sync::{mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::db::Db;
use crate::errors::reason;
use crate::errors::{Error, Result};

/// Most events in one response.
const PAGE: i64 = 500;

/// How long a tailing feed waits before looking again when no local sequencer woke it (events
/// sequenced by another replica of the producer).
const TAIL_POLL: Duration = Duration::from_millis(250);

/// Longest accepted type filter.
const MAX_TYPES: usize = 64;

/// The feed server of one service's outbox.
#[derive(Debug, Clone)]
pub struct Feed {
    db: Db,
    head: watch::Receiver<i64>,
}

impl Feed {
    pub(crate) fn new(db: Db, head: watch::Receiver<i64>) -> Feed {
        Feed { db, head }
    }
}

type EventStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::SubscribeResponse, Status>> + Send>>;

#[tonic::async_trait]
impl pb::event_feed_server::EventFeed for Feed {
    type SubscribeStream = EventStream;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> std::result::Result<Response<Self::SubscribeStream>, Status> {
        let req = request.into_inner();
        let mut violations = crate::errors::Violations::new();
        if req.after_sequence < 0 {
            violations.add("after_sequence", reason::OUT_OF_RANGE, "must be 0 or more");
        }
        if req.types.len() > MAX_TYPES {
            violations.add("types", reason::TOO_MANY, format!("at most {MAX_TYPES} types"));
        }
        for (i, t) in req.types.iter().enumerate() {
            if t.trim().is_empty() || t.len() > 200 {
                violations.add(
                    format!("types[{i}]"),
                    reason::MALFORMED,
                    "a message name such as crm.identity.v1.EmployeeDeactivated",
                );
            }
        }
        violations.take(super::retention::check_consumer("consumer", &req.consumer));
        violations.finish()?;
        super::retention::check_not_pruned(req.after_sequence, super::retention::pruned_through(&self.db).await?)?;
        if !req.consumer.is_empty() {
            // Subscribing after N says every event through N was applied.
            super::retention::acknowledge(&self.db, &req.consumer, req.after_sequence).await?;
        }
        let (tx, rx) = mpsc::channel(4);
        let feed = self.clone();
        tokio::spawn(async move {
            if let Err(e) = feed.stream(req.after_sequence, req.types, &tx).await {
                let _ = tx.send(Err(e.into())).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn acknowledge(
        &self,
        request: Request<pb::AcknowledgeRequest>,
    ) -> std::result::Result<Response<pb::AcknowledgeResponse>, Status> {
        let req = request.into_inner();
        let mut violations = crate::errors::Violations::new();
        if req.consumer.is_empty() {
            violations.add("consumer", reason::REQUIRED, "the consuming service's name");
        } else {
            violations.take(super::retention::check_consumer("consumer", &req.consumer));
        }
        if req.sequence < 0 {
            violations.add("sequence", reason::OUT_OF_RANGE, "must be 0 or more");
        }
        violations.finish()?;
        super::retention::acknowledge(&self.db, &req.consumer, req.sequence).await?;
        Ok(Response::new(pb::AcknowledgeResponse {
            pruned_through_sequence: super::retention::pruned_through(&self.db).await?,
        }))
    }
}

impl Feed {
    /// Sends pages until the subscriber goes away.
    async fn stream(
        &self,
        mut cursor: i64,
        types: Vec<String>,
        tx: &mpsc::Sender<std::result::Result<pb::SubscribeResponse, Status>>,
    ) -> Result<()> {
        let mut head = self.head.clone();
        // The first page goes out even when empty: it tells the subscriber the head, so one
        // that is already caught up knows it (its lag in the metrics is zero).
        let mut first = true;
        loop {
            // Marks the current head as seen before reading, so a sequencing that lands during
            // the read wakes the next wait instead of being missed.
            head.borrow_and_update();
            let page = read_page(&self.db, cursor, &types).await?;
            let moved = page.through_sequence > cursor;
            let full = page.events.len() as i64 == PAGE;
            if moved || first {
                first = false;
                cursor = page.through_sequence.max(cursor);
                if tx.send(Ok(page)).await.is_err() {
                    return Ok(());
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                _ = tx.closed() => return Ok(()),
                r = head.changed() => if r.is_err() { return Err(Error::Unavailable("the service is stopping".into())) },
                _ = tokio::time::sleep(TAIL_POLL) => {}
            }
        }
    }
}

/// The events after `cursor` (of `types`, when given), up to one page, and how far they cover.
pub(crate) async fn read_page(db: &Db, cursor: i64, types: &[String]) -> Result<pb::SubscribeResponse> {
    // Everything up to the counter was numbered by committed sequencer transactions.
    let head: i64 = sqlx::query_scalar("SELECT last FROM crm_event_counter WHERE name = 'outbox'")
        .fetch_one(&db.pool)
        .await?;
    if head <= cursor {
        return Ok(pb::SubscribeResponse {
            events: Vec::new(),
            through_sequence: cursor,
            head_sequence: head,
        });
    }
    let mut sql = String::from(
        "SELECT sequence, event_id, type, aggregate_id, occurred_at, payload, traceparent FROM crm_outbox \
         WHERE sequence > $1 AND sequence <= $2",
    );
    if !types.is_empty() {
        sql.push_str(" AND type IN (");
        for i in 0..types.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", i + 4));
        }
        sql.push(')');
    }
    sql.push_str(" ORDER BY sequence LIMIT $3");
    let mut q = sqlx::query_as::<_, (i64, String, String, String, i64, Vec<u8>, String)>(&sql)
        .bind(cursor)
        .bind(head)
        .bind(PAGE);
    for t in types {
        q = q.bind(t);
    }
    let rows = q.fetch_all(&db.pool).await?;
    let through_sequence = if rows.len() as i64 == PAGE {
        rows.last().map_or(head, |r| r.0)
    } else {
        head
    };
    let events = rows
        .into_iter()
        .map(
            |(sequence, event_id, event_type, aggregate_id, occurred_at, payload, traceparent)| pb::Event {
                sequence,
                event_id,
                payload: Some(prost_types::Any {
                    type_url: format!("type.googleapis.com/{event_type}"),
                    value: payload,
                }),
                r#type: event_type,
                aggregate_id,
                occurred_at: Some(crate::time::to_proto(occurred_at)),
                traceparent,
            },
        )
        .collect();
    Ok(pb::SubscribeResponse {
        events,
        through_sequence,
        head_sequence: head,
    })
}
