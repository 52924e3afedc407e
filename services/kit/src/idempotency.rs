//! `request_id` idempotency: a command retried with the same id returns the response stored by
//! the first attempt, without acting twice; the same id with a different request is
//! ALREADY_EXISTS. The stored response is written in the same transaction as the command's
//! effect, so a crash leaves either both or neither.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::db::{Db, Migration, WriteTx};
use crate::errors::reason;
use crate::errors::{Error, Result};

/// The table the kit keeps responses in; every service lists it with its own migrations.
pub const MIGRATION: Migration = Migration {
    version: 1_000_001,
    name: "kit_idempotency",
    only_on: None,
    sql: "CREATE TABLE IF NOT EXISTS crm_idempotency (
        scope TEXT NOT NULL,
        request_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (scope, request_id)
    )",
};

/// Longest accepted `request_id`.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// A validated request id for one command, with the fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct RequestKey {
    /// The command, e.g. `CreateCustomer`, plus the caller: ids are per caller and command.
    pub scope: String,
    pub request_id: String,
    pub fingerprint: String,
}

impl RequestKey {
    /// `None` when the request carries no id. `request` must have its `request_id` cleared so
    /// the fingerprint covers only what the command does.
    pub fn new<M: Message>(command: &str, caller: &str, request_id: &str, request: &M) -> Result<Option<RequestKey>> {
        let request_id = request_id.trim();
        if request_id.is_empty() {
            return Ok(None);
        }
        if request_id.len() > MAX_REQUEST_ID_LEN || request_id.chars().any(char::is_control) {
            return Err(Error::invalid(
                "request_id",
                reason::MALFORMED,
                format!("must be at most {MAX_REQUEST_ID_LEN} printable characters"),
            ));
        }
        let digest = Sha256::digest(request.encode_to_vec());
        Ok(Some(RequestKey {
            scope: format!("{command}/{caller}"),
            request_id: request_id.to_string(),
            fingerprint: hex(&digest),
        }))
    }

    /// ALREADY_EXISTS (REQUEST_ID_REUSED) unless `fingerprint`, stored by an earlier attempt
    /// under this id, is this request's: the same id with a different request.
    pub fn check(&self, fingerprint: &str) -> Result<()> {
        if fingerprint == self.fingerprint {
            return Ok(());
        }
        Err(Error::AlreadyExists {
            reason: "REQUEST_ID_REUSED",
            message: "request_id was already used with a different request".into(),
            metadata: [("request_id".to_string(), self.request_id.clone())].into(),
            resource: None,
        })
    }

    /// The stored response of an earlier attempt, if any.
    pub async fn replay<R: Message + Default>(&self, conn: &mut AnyConnection) -> Result<Option<R>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT fingerprint, response FROM crm_idempotency WHERE scope = $1 AND request_id = $2")
                .bind(&self.scope)
                .bind(&self.request_id)
                .fetch_optional(conn)
                .await?;
        let Some((fingerprint, response)) = row else {
            return Ok(None);
        };
        self.check(&fingerprint)?;
        let bytes = STANDARD
            .decode(response)
            .map_err(|e| Error::Internal(format!("stored response is corrupt: {e}")))?;
        R::decode(bytes.as_slice())
            .map(Some)
            .map_err(|e| Error::Internal(format!("stored response is corrupt: {e}")))
    }

    /// Stores the response inside the command's transaction. A concurrent attempt with the same
    /// id that committed first makes this fail with ABORTED, rolling back the duplicate effect.
    pub async fn record<R: Message>(&self, conn: &mut AnyConnection, response: &R) -> Result<()> {
        let result = sqlx::query(
            "INSERT INTO crm_idempotency (scope, request_id, fingerprint, response, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&self.scope)
        .bind(&self.request_id)
        .bind(&self.fingerprint)
        .bind(STANDARD.encode(response.encode_to_vec()))
        .bind(crate::time::now_micros())
        .execute(conn)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if crate::errors::is_unique_violation(&e) => Err(Error::Aborted {
                reason: "REQUEST_IN_PROGRESS",
                message: "another request with the same request_id finished first; retry to get its result".into(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

/// How a command's transaction began: with the stored response of an earlier attempt under the
/// same `request_id` (return it, do nothing), or fresh.
#[derive(Debug)]
pub enum Begun<R> {
    Replayed(R),
    Fresh(CommandTx),
}

/// One command's write transaction and its request key: begun by [`Db::begin_command`], ended
/// by [`CommandTx::finish`], which stores the response under the key and commits, so every
/// command runs the same sequence (begin, replay, act, record, commit). Dropping it unfinished
/// rolls the command back.
#[derive(Debug)]
pub struct CommandTx {
    tx: WriteTx,
    key: Option<RequestKey>,
}

impl Db {
    /// Begins a command: a write transaction, and the earlier attempt's response when `key`
    /// (the request's `request_id`, if it has one) was seen before.
    pub async fn begin_command<R: Message + Default>(&self, key: Option<RequestKey>) -> Result<Begun<R>> {
        let mut tx = self.begin_write().await?;
        if let Some(k) = &key
            && let Some(done) = k.replay(&mut tx).await?
        {
            return Ok(Begun::Replayed(done));
        }
        Ok(Begun::Fresh(CommandTx { tx, key }))
    }
}

impl CommandTx {
    /// Stores `response` under the request key (when there is one) and commits; a concurrent
    /// attempt with the same id that committed first makes this ABORTED and rolls back.
    pub async fn finish<R: Message>(mut self, response: R) -> Result<R> {
        if let Some(k) = &self.key {
            k.record(&mut self.tx, &response).await?;
        }
        self.tx.commit().await?;
        Ok(response)
    }

    /// Rolls the command back.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for CommandTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for CommandTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Lower-case hex of `bytes` (digests as they are stored and shown).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
