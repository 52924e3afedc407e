//! Events between services, without losing or doubling any.
//!
//! - **Outbox** ([`append`]): a service writes an event row in the same transaction as the
//!   change it announces, so nothing is published that did not commit and nothing that
//!   committed is lost.
//! - **Sequencer** ([`Outbox::start`]): a background task numbers committed events. Rows are
//!   appended without a sequence; the sequencer gives the next numbers to the rows it can see,
//!   that is, to committed rows only, under a lock on the counter row. A transaction that began
//!   first but commits last therefore gets the higher number, and a consumer that has read up
//!   to N never finds a new event below N.
//! - **Feed** ([`Outbox::feed`]): `crm.events.v1.EventFeed/Subscribe` streams the numbered
//!   events after a cursor: first the backlog, then each new event moments after it commits.
//! - **Subscriber** ([`subscriber::follow`]): follows another service's feed. The effects of a
//!   delivered page of events, their entries in the inbox (applied event ids: redelivery changes
//!   nothing) and the cursor move commit in one transaction, so an effect happens exactly once
//!   across crashes; an event refused for good is undone back to its savepoint and recorded.
//!   It reconnects with backoff while the producer is down, and among replicas a lease lets one
//!   follow at a time (the cursor moves by compare-and-set, so even two followers cannot apply
//!   an event twice).
//! - **Retention** ([`retention`]): consumers register by name and acknowledge what they
//!   applied; events older than the retention and applied by every consumer heard from within
//!   it are pruned, and a consumer behind the pruned range is refused with what to do.

mod feed;
mod lease;
mod outbox;
pub mod retention;
pub mod subscriber;

pub use feed::Feed;
pub use lease::Lease;
pub use outbox::{Outbox, append, append_at, append_statement};
pub use subscriber::{FeedHealth, Follow, Handler, follow};

use crate::db::{Backend, Migration};

/// The kit's event tables; every service that publishes or consumes events lists these with
/// its own migrations.
pub const MIGRATIONS: [Migration; 3] = [
    Migration {
        version: 1_000_002,
        name: "kit_outbox",
        only_on: Some(Backend::Sqlite),
        sql: "CREATE TABLE IF NOT EXISTS crm_outbox (
            event_id TEXT PRIMARY KEY,
            sequence BIGINT,
            type TEXT NOT NULL,
            aggregate_id TEXT NOT NULL,
            occurred_at BIGINT NOT NULL,
            payload BLOB NOT NULL,
            traceparent TEXT NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX IF NOT EXISTS crm_outbox_by_sequence ON crm_outbox (sequence);
        CREATE INDEX IF NOT EXISTS crm_outbox_unsequenced ON crm_outbox (event_id) WHERE sequence IS NULL",
    },
    Migration {
        version: 1_000_003,
        name: "kit_outbox",
        only_on: Some(Backend::Postgres),
        sql: "CREATE TABLE IF NOT EXISTS crm_outbox (
            event_id TEXT PRIMARY KEY,
            sequence BIGINT,
            type TEXT NOT NULL,
            aggregate_id TEXT NOT NULL,
            occurred_at BIGINT NOT NULL,
            payload BYTEA NOT NULL,
            traceparent TEXT NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX IF NOT EXISTS crm_outbox_by_sequence ON crm_outbox (sequence);
        CREATE INDEX IF NOT EXISTS crm_outbox_unsequenced ON crm_outbox (event_id) WHERE sequence IS NULL",
    },
    Migration {
        version: 1_000_004,
        name: "kit_event_state",
        only_on: None,
        sql: "-- The outbox's last assigned sequence (its row lock serialises sequencers).
        CREATE TABLE IF NOT EXISTS crm_event_counter (name TEXT PRIMARY KEY, last BIGINT NOT NULL);
        INSERT INTO crm_event_counter (name, last) VALUES ('outbox', 0) ON CONFLICT DO NOTHING;
        -- Where this service stands in each feed it follows.
        CREATE TABLE IF NOT EXISTS crm_event_cursors (
            feed TEXT PRIMARY KEY,
            sequence BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        -- Every event applied (or refused) from each feed: a redelivered event is skipped.
        CREATE TABLE IF NOT EXISTS crm_event_inbox (
            feed TEXT NOT NULL,
            event_id TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            type TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            applied_at BIGINT NOT NULL,
            PRIMARY KEY (feed, event_id)
        );
        -- Which replica does a singleton job (following a feed), until when.
        CREATE TABLE IF NOT EXISTS crm_leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at BIGINT NOT NULL
        )",
    },
];

/// The gRPC name of the feed service, for health reporting.
pub const FEED_SERVICE: &str = "crm.events.v1.EventFeed";

/// The gRPC name of the handover count service, for health reporting.
pub const HANDOVER_SERVICE: &str = "crm.events.v1.HandoverService";

/// An event as a consumer receives it.
pub type Event = crm_proto::events::Event;

/// Decodes an event's payload as `M`; an event of another type or a payload that does not
/// decode is a permanent failure (the event is recorded as refused, not retried).
pub fn payload<M: prost::Message + prost::Name + Default>(event: &Event) -> crate::Result<M> {
    let any = event.payload.as_ref().ok_or_else(|| {
        crate::Error::precondition("EVENT_MALFORMED", &event.event_id, "the event carries no payload")
    })?;
    any.to_msg::<M>().map_err(|e| {
        crate::Error::precondition(
            "EVENT_MALFORMED",
            &event.event_id,
            format!("payload is not a {}: {e}", M::full_name()),
        )
    })
}
