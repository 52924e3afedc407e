//! Verifies access tokens with the identity service's public keys, cached and refetched when a
//! token names a key not seen yet (after a rotation).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ed25519_dalek::VerifyingKey;

use super::Principal;
use super::token::{self, Expectations, TokenError};

/// Published keys by `kid`, or why they could not be fetched.
pub type Fetched = Result<Vec<(String, VerifyingKey)>, String>;

/// A key fetch in progress.
pub type Fetching<'a> = Pin<Box<dyn Future<Output = Fetched> + Send + 'a>>;

/// Where public keys come from.
pub trait KeySource: Send + Sync + 'static {
    /// Every key that may verify a token now, by `kid`.
    fn fetch(&self) -> Fetching<'_>;
}

/// Keys held in memory: the identity service's own view of its keys, and tests.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys(Arc<RwLock<Vec<(String, VerifyingKey)>>>);

impl StaticKeys {
    /// Replaces the keys.
    pub fn set(&self, keys: Vec<(String, VerifyingKey)>) {
        *self.0.write().expect("keys lock") = keys;
    }
}

impl KeySource for StaticKeys {
    fn fetch(&self) -> Fetching<'_> {
        let keys = self.0.read().expect("keys lock").clone();
        Box::pin(async move { Ok(keys) })
    }
}

/// The identity service's `GetKeySet`, over gRPC.
#[derive(Debug, Clone)]
struct IdentityKeys {
    channel: tonic::transport::Channel,
}

impl KeySource for IdentityKeys {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let mut client =
                crm_proto::identity::identity_service_client::IdentityServiceClient::new(self.channel.clone());
            let set = client
                .get_key_set(crm_proto::identity::GetKeySetRequest {})
                .await
                .map_err(|s| format!("identity key set: {}", s.message()))?
                .into_inner();
            Ok(set
                .keys
                .into_iter()
                .filter_map(|k| token::decode_public_key(&k.public_key).map(|key| (k.kid, key)))
                .collect())
        })
    }
}

/// Why a call could not be authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The token is not acceptable (the message says why, safely).
    Refused(TokenError),
    /// The keys could not be fetched, so the token could not be checked.
    KeysUnavailable(String),
}

/// Verifies bearer tokens into [`Principal`]s.
pub struct Verifier {
    source: Box<dyn KeySource>,
    keys: RwLock<HashMap<String, VerifyingKey>>,
    expect: Expectations,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

/// The shortest time between two key fetches: a flood of tokens naming made-up keys must not
/// become a flood of calls to identity.
const REFETCH_INTERVAL: Duration = Duration::from_secs(2);

impl Verifier {
    /// A verifier taking keys from `source`, expecting the CRM's issuer and audience.
    pub fn new(source: impl KeySource) -> Arc<Verifier> {
        Arc::new(Verifier {
            source: Box::new(source),
            keys: RwLock::new(HashMap::new()),
            expect: Expectations {
                issuer: super::ISSUER.into(),
                audience: super::AUDIENCE.into(),
            },
            last_fetch: tokio::sync::Mutex::new(None),
        })
    }

    /// A verifier taking keys from the identity service at `url` (connected lazily).
    pub fn from_identity(url: &str) -> crate::Result<Arc<Verifier>> {
        let channel = tonic::transport::Endpoint::from_shared(url.to_string())
            .map_err(|e| crate::Error::Internal(format!("identity address {url:?}: {e}")))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .connect_lazy();
        Ok(Verifier::new(IdentityKeys { channel }))
    }

    /// Fetches the keys now (at start-up, so the first call does not wait). Failure is logged,
    /// not fatal: identity may start later.
    pub async fn prefetch(&self) {
        if let Err(e) = self.refresh(true).await {
            tracing::warn!(error = %e, "signing keys not fetched yet");
        }
    }

    async fn refresh(&self, force: bool) -> Result<(), String> {
        let asked = Instant::now();
        let mut last = self.last_fetch.lock().await;
        if !force && last.is_some_and(|t| t >= asked) {
            // Fetched while this caller waited for the lock: that fetch is as fresh as any.
            return Ok(());
        }
        if !force && let Some(t) = *last {
            // Fetched moments ago: wait out the interval (a key rotated just now is then seen),
            // one fetch at a time, rather than refuse or call identity for every such token.
            let since = t.elapsed();
            if since < REFETCH_INTERVAL {
                tokio::time::sleep(REFETCH_INTERVAL - since).await;
            }
        }
        *last = Some(Instant::now());
        let keys = self.source.fetch().await?;
        tracing::debug!(keys = keys.len(), "signing keys fetched");
        *self.keys.write().expect("keys lock") = keys.into_iter().collect();
        Ok(())
    }

    fn check(&self, bearer: &str) -> Result<token::Claims, TokenError> {
        let keys = self.keys.read().expect("keys lock");
        token::verify(
            bearer,
            |kid| keys.get(kid).copied(),
            &self.expect,
            crate::time::now_seconds(),
        )
    }

    /// Verifies `bearer` (the token without `Bearer `). A token naming a key not seen yet
    /// fetches the key set once more before it is refused.
    pub async fn verify(&self, bearer: &str) -> Result<Principal, VerifyError> {
        let claims = match self.check(bearer) {
            Err(TokenError::UnknownKey(_)) => {
                self.refresh(false).await.map_err(VerifyError::KeysUnavailable)?;
                self.check(bearer)
            }
            other => other,
        }
        .map_err(VerifyError::Refused)?;
        Ok(Principal::from_claims(claims, bearer.to_string()))
    }
}
