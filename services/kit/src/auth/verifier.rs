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
    /// Tokens verified already, with the second they stop being accepted: a client sends the
    /// same token on every call for its lifetime, and a signature check costs more than the
    /// call's own work. Only verified tokens get in; the map is emptied when it is full.
    verified: std::sync::Mutex<HashMap<String, (Principal, i64)>>,
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

/// How many verified tokens are remembered (about one per signed-in employee).
const VERIFIED_CAPACITY: usize = 10_000;

/// The shortest time between two key fetches: a flood of tokens naming made-up keys must not
/// become a flood of calls to identity.
const REFETCH_INTERVAL: Duration = Duration::from_secs(2);

impl Verifier {
    /// A verifier taking keys from `source`, expecting the CRM's issuer and audience.
    pub fn new(source: impl KeySource) -> Arc<Verifier> {
        Arc::new(Verifier {
            source: Box::new(source),
            keys: RwLock::new(HashMap::new()),
            verified: std::sync::Mutex::new(HashMap::new()),
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

    /// Whether any signing key is known (tokens can be verified without waiting for identity).
    pub fn has_keys(&self) -> bool {
        !self.keys.read().expect("keys lock").is_empty()
    }

    async fn refresh(&self, force: bool) -> Result<(), String> {
        let asked = Instant::now();
        let mut last = self.last_fetch.lock().await;
        if !force && last.is_some_and(|t| t >= asked || t.elapsed() < REFETCH_INTERVAL) {
            // Fetched while this caller waited for the lock, or moments ago: a token naming a
            // key still unknown is refused rather than sent to identity again (a key rotated
            // in the last two seconds is accepted on the caller's retry).
            return Ok(());
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
        let now = crate::time::now_seconds();
        if let Some((principal, until)) = self.verified.lock().expect("verified lock").get(bearer)
            && now < *until
        {
            return Ok(principal.clone());
        }
        let claims = match self.check(bearer) {
            Err(TokenError::UnknownKey(_)) => {
                self.refresh(false).await.map_err(VerifyError::KeysUnavailable)?;
                self.check(bearer)
            }
            other => other,
        }
        .map_err(VerifyError::Refused)?;
        let until = claims.exp + token::LEEWAY_SECONDS;
        let principal = Principal::from_claims(claims, bearer.to_string());
        let mut verified = self.verified.lock().expect("verified lock");
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(bearer.to_string(), (principal.clone(), until));
        Ok(principal)
    }
}

impl Verifier {
    /// Authenticates and authorizes one call to a method with rule `access`: `Ok(None)` for a
    /// public method, the caller for a bearer token that verifies and holds the permission,
    /// else the status to answer (UNAUTHENTICATED, PERMISSION_DENIED naming the permission, or
    /// UNAVAILABLE when identity's keys cannot be fetched). Used by every service's
    /// [`super::AuthLayer`] and by the gateway.
    pub async fn authorize(
        &self,
        access: &crm_proto::MethodAccess,
        headers: &http::HeaderMap,
    ) -> Result<Option<Principal>, tonic::Status> {
        if access.public {
            return Ok(None);
        }
        let Some(token) = super::bearer(headers) else {
            return Err(tonic::Status::unauthenticated(
                "sign in first: no bearer token in the authorization header",
            ));
        };
        let principal = match self.verify(token).await {
            Ok(p) => p,
            Err(VerifyError::Refused(why)) => {
                tracing::info!(reason = %why, "token refused");
                return Err(tonic::Status::unauthenticated(why.to_string()));
            }
            Err(VerifyError::KeysUnavailable(e)) => {
                tracing::warn!(error = %e, "cannot verify tokens: signing keys unavailable");
                return Err(tonic::Status::unavailable(
                    "the identity service's signing keys cannot be fetched; retry",
                ));
            }
        };
        if !access.permission.is_empty() && !principal.has_permission(access.permission) {
            return Err(crate::Error::PermissionDenied {
                permission: access.permission.to_string(),
            }
            .into());
        }
        Ok(Some(principal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::token::Claims;

    fn claims(exp_in: i64) -> Claims {
        let now = crate::time::now_seconds();
        Claims {
            iss: crate::auth::ISSUER.into(),
            aud: vec![crate::auth::AUDIENCE.into()],
            sub: "ann".into(),
            iat: now,
            nbf: now,
            exp: now + exp_in,
            jti: String::new(),
            name: String::new(),
            dept: String::new(),
            dpath: String::new(),
            roles: vec![],
            perms: vec!["customers.customer.read".into()],
            scopes: Default::default(),
        }
    }

    #[tokio::test]
    async fn verified_tokens_are_remembered_and_nothing_else_is() {
        let key = token::generate_key();
        let keys = StaticKeys::default();
        keys.set(vec![("k1".into(), key.verifying_key())]);
        let verifier = Verifier::new(keys.clone());
        let good = token::sign(&claims(600), "k1", &key);
        let first = verifier.verify(&good).await.expect("verifies");
        assert_eq!(first.employee_id, "ann");
        assert_eq!(verifier.verify(&good).await, Ok(first));
        // Any other string is checked on its own: the same claims under a stranger's signature
        // are refused although the genuine token was remembered.
        let forged = token::sign(&claims(600), "k1", &token::generate_key());
        assert_eq!(
            verifier.verify(&forged).await,
            Err(VerifyError::Refused(TokenError::BadSignature))
        );
        // An expired token is never accepted.
        let expired = token::sign(&claims(-3600), "k1", &key);
        assert_eq!(
            verifier.verify(&expired).await,
            Err(VerifyError::Refused(TokenError::Expired))
        );
    }
}
