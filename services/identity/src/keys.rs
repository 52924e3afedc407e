//! Signing keys: the current Ed25519 key signs; retired keys stay published until every token
//! they signed has expired. Keys live in the service's own database (so every replica signs with
//! the same key); the first key comes from configuration (a Kubernetes Secret) or is generated.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_kit::Result;
use crm_kit::auth::token;
use crm_kit::db::Db;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::Digest as _;

use crate::store::{self, KeyRow};

/// How long a retired key stays in the key set: longer than any access token lives.
pub const RETIRED_KEPT_MICROS: i64 = 24 * 3600 * 1_000_000;

/// The `kid` of a public key: the first 16 hex digits of its SHA-256.
pub fn kid_of(public: &VerifyingKey) -> String {
    let digest = sha2::Sha256::digest(public.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A key row for `key`, created `now`.
pub fn row_of(key: &SigningKey, now: i64) -> KeyRow {
    let public = key.verifying_key();
    KeyRow {
        kid: kid_of(&public),
        private_key: URL_SAFE_NO_PAD.encode(key.to_bytes()),
        public_key: token::encode_public_key(&public),
        created_at: now,
        retired_at: 0,
    }
}

/// Reads a 32-byte seed given as base64url (or standard base64).
pub fn parse_seed(text: &str) -> Option<SigningKey> {
    let text = text.trim();
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
        .ok()?;
    let seed: [u8; 32] = bytes.try_into().ok()?;
    Some(SigningKey::from_bytes(&seed))
}

/// At start-up: makes sure a current key exists. A configured key never installed before
/// becomes current (the previous one is retired): rotating through the Secret is putting a new
/// seed in it. A configured key installed before is left as it is, so a later
/// `RotateSigningKey` survives restarts. Without configuration a key is generated on first start.
pub async fn ensure_current(db: &Db, configured: Option<&SigningKey>) -> Result<()> {
    let mut conn = db.pool.acquire().await?;
    let now = crm_kit::time::now_micros();
    let keys = store::signing_keys(&mut conn, now).await?;
    let current = keys.iter().find(|k| k.retired_at == 0);
    match (configured, current) {
        (Some(key), Some(_)) if store::key_known(&mut conn, &kid_of(&key.verifying_key())).await? => Ok(()),
        (Some(key), _) => {
            tracing::info!(kid = %kid_of(&key.verifying_key()), "signing with the configured key");
            store::install_key(&mut conn, &row_of(key, now)).await
        }
        (None, Some(_)) => Ok(()),
        (None, None) => {
            let key = token::generate_key();
            tracing::info!(kid = %kid_of(&key.verifying_key()), "generated a signing key");
            store::install_key(&mut conn, &row_of(&key, now)).await
        }
    }
}

/// The current signing key with its kid.
pub async fn current(conn: &mut sqlx::AnyConnection) -> Result<(String, SigningKey)> {
    let keys = store::signing_keys(conn, crm_kit::time::now_micros()).await?;
    let row = keys
        .into_iter()
        .find(|k| k.retired_at == 0)
        .ok_or_else(|| crm_kit::Error::Internal("no current signing key".into()))?;
    let key = parse_seed(&row.private_key).ok_or_else(|| crm_kit::Error::Internal("unreadable signing key".into()))?;
    Ok((row.kid, key))
}

/// How long a revocation is listed: longer than any access token lives.
pub const REVOCATIONS_KEPT_MICROS: i64 = RETIRED_KEPT_MICROS;

/// The revocations `ListRevocations` publishes: those recent enough that a token they void may
/// not have expired yet.
pub async fn revocations(conn: &mut sqlx::AnyConnection) -> Result<Vec<crm_kit::auth::Revocation>> {
    let rows = store::revocations_since(conn, crm_kit::time::now_micros() - REVOCATIONS_KEPT_MICROS).await?;
    Ok(rows
        .into_iter()
        .map(|r| crm_kit::auth::Revocation {
            employee_id: r.employee_id,
            before: r.revoked_at.div_euclid(1_000_000),
            deactivated: r.reason == crm_kit::auth::DEACTIVATED,
        })
        .collect())
}

/// Identity's own verifier source: the published keys and the revocations, read from its
/// database.
#[derive(Debug, Clone)]
pub struct DbKeys(pub Db);

impl crm_kit::auth::KeySource for DbKeys {
    fn fetch(&self) -> crm_kit::auth::Fetching<'_> {
        Box::pin(async move {
            let mut conn = self.0.pool.acquire().await.map_err(|e| e.to_string())?;
            let keys = store::signing_keys(&mut conn, crm_kit::time::now_micros() - RETIRED_KEPT_MICROS)
                .await
                .map_err(|e| e.to_string())?;
            Ok(keys
                .into_iter()
                .filter_map(|k| token::decode_public_key(&k.public_key).map(|p| (k.kid, p)))
                .collect())
        })
    }

    fn revocations(&self) -> crm_kit::auth::FetchingRevocations<'_> {
        Box::pin(async move {
            let mut conn = self.0.pool.acquire().await.map_err(|e| e.to_string())?;
            revocations(&mut conn).await.map_err(|e| e.to_string())
        })
    }
}
