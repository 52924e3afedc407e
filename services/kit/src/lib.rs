//! crm-kit: what every CRM service is built from, so no service re-invents it.
//!
//! - [`config`]: `CRM_*` environment settings with clap flags.
//! - [`cpu`]: CPU-heavy work on a bounded number of blocking threads.
//! - [`csv_io`]: CSV uploads parsed from a client stream, and CSV exports in chunks.
//! - [`db`]: one connection pool for `sqlite://` and `postgres://`, pragmas, write transactions,
//!   migrations at start-up.
//! - [`service`]: the service builder: connect, migrate (the kit's tables included), verify
//!   callers, publish and follow events, background jobs, serve, shut down.
//! - [`history`]: field-level change history of any record.
//! - [`documents`]: uploaded files kept with any record, stored in pieces, streamed back.
//! - [`serve`]: a tonic server with health, reflection, tracing, limits, panics answered as
//!   INTERNAL, and graceful shutdown.
//! - [`errors`]: the one mapping from domain failures to `tonic::Status` with google.rpc details.
//! - [`money`]: exact decimals between the wire (strings) and storage (scaled integers), and
//!   `Money` arithmetic that refuses to mix currencies and rounds per currency.
//! - [`quantity`]: exact quantities (4 decimal places) and unit conversions that are exact or
//!   refused.
//! - [`numbering`]: document numbers per kind and period (`SO-20261122-0007`), never repeated.
//! - [`rpcs`]: the `rpcs!` macro implementing a service's tonic trait by delegation.
//! - [`transitions`]: a document's allowed status moves as a table, and the refusals.
//! - [`phone`]: phone numbers as typed, read by libphonenumber's rules and normalised to E.164.
//! - [`paging`]: opaque, tamper-checked keyset page tokens and page-size rules.
//! - [`listing`]: one keyset page of a list: its order, the token's position, the next token.
//! - [`sql`]: SQL with positional parameters, built piece by piece.
//! - [`filter`]: an AIP-160 subset compiled to SQL through a column allow-list.
//! - [`idempotency`]: `request_id` replay of stored responses.
//! - [`limits`]: connection caps, keepalive and stream limits of a port, and the process's
//!   descriptor limit raised at start.
//! - [`directory`]: who other employees are (identity, asked with the caller's token).
//! - [`events`]: the transactional outbox, the `EventFeed` server, and the subscriber that
//!   follows another service's feed exactly once.
//! - [`handover`]: identity's departure and move events applied to a service's own records.
//! - [`failpoint`]: crash drills (`CRM_FAILPOINT`).
//! - [`auth`]: access tokens, the verified [`auth::Principal`], permission checks per method and
//!   data scopes as SQL predicates.
//! - [`telemetry`]: tracing setup, W3C trace context, one access line per call.
//! - [`metrics`]: request, pool, event-feed and health metrics, as Prometheus text on the
//!   metrics port and over OTLP.
//! - [`text`]: text fields and lists of texts from the wire: trimmed, bounded, no control
//!   characters, de-duplicated in linear time.
//! - [`fields`]: the field values every service reads alike (`Email`, `Phone`, `Mobile`,
//!   `Code`, `Text`), parsed into newtypes with violations named by field path.
//! - [`update`]: etags and `update_mask` paths checked against what a resource lets clients change.
//! - [`time`]: the storage clock (microseconds since the Unix epoch) and dates.
//! - [`testing`] (feature `testing`): fresh databases and services on port 0 for tests.

// The kit's pieces run their own SQL; clippy.toml keeps each service's SQL in its store/.
#![allow(clippy::disallowed_methods)]

pub mod auth;
pub mod config;
pub mod cpu;
pub mod csv_io;
pub mod db;
pub mod directory;
pub mod documents;
pub mod errors;
pub mod events;
pub mod failpoint;
pub mod fields;
pub mod filter;
pub mod handover;
pub mod history;
pub mod idempotency;
pub mod limits;
pub mod listing;
pub mod metrics;
pub mod money;
pub mod numbering;
pub mod paging;
pub mod phone;
pub mod quantity;
pub mod rpcs;
pub mod serve;
pub mod service;
pub mod sql;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod time;
pub mod transitions;
pub mod update;

pub use errors::{Error, Result};

/// A new time-ordered id (UUIDv7), the id of every record.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
