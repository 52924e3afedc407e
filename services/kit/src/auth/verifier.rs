//! Verifies access tokens with the identity service's public keys, cached and refetched when a
//! token names a key not seen yet (after a rotation), and refuses the tokens identity has
//! revoked although they have not expired (a deactivated employee's): the revocations are polled
//! in the background ([`Verifier::watch_revocations`]) and checked on every call, cached tokens
//! included.

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

/// One employee's revoked tokens: those issued at or before `before` (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub employee_id: String,
    pub before: i64,
    /// The employee was deactivated (else their tokens were revoked, e.g. by a password reset).
    pub deactivated: bool,
}

/// Revocations, or why they could not be fetched.
pub type FetchedRevocations = Result<Vec<Revocation>, String>;

/// A revocation fetch in progress.
pub type FetchingRevocations<'a> = Pin<Box<dyn Future<Output = FetchedRevocations> + Send + 'a>>;

/// Where public keys and revocations come from.
pub trait KeySource: Send + Sync + 'static {
    /// Every key that may verify a token now, by `kid`.
    fn fetch(&self) -> Fetching<'_>;

    /// Every revocation still in force (a source without any has none).
    fn revocations(&self) -> FetchingRevocations<'_> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// Keys and revocations held in memory (tests).
#[derive(Debug, Clone, Default)]
pub struct StaticKeys {
    keys: Arc<RwLock<Vec<(String, VerifyingKey)>>>,
    /// The revocations, and the error fetching them gives instead when set.
    revocations: Arc<RwLock<(Vec<Revocation>, Option<String>)>>,
}

impl StaticKeys {
    /// Replaces the keys.
    pub fn set(&self, keys: Vec<(String, VerifyingKey)>) {
        *self.keys.write().expect("keys lock") = keys;
    }

    /// Replaces the revocations, or makes fetching them fail with `Err`.
    pub fn set_revocations(&self, revocations: Result<Vec<Revocation>, String>) {
        *self.revocations.write().expect("revocations lock") = match revocations {
            Ok(list) => (list, None),
            Err(e) => (Vec::new(), Some(e)),
        };
    }
}

impl KeySource for StaticKeys {
    fn fetch(&self) -> Fetching<'_> {
        let keys = self.keys.read().expect("keys lock").clone();
        Box::pin(async move { Ok(keys) })
    }

    fn revocations(&self) -> FetchingRevocations<'_> {
        let fetched = match &*self.revocations.read().expect("revocations lock") {
            (_, Some(e)) => Err(e.clone()),
            (list, None) => Ok(list.clone()),
        };
        Box::pin(async move { fetched })
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

    fn revocations(&self) -> FetchingRevocations<'_> {
        Box::pin(async move {
            let mut client =
                crm_proto::identity::identity_service_client::IdentityServiceClient::new(self.channel.clone());
            let list = client
                .list_revocations(crm_proto::identity::ListRevocationsRequest {})
                .await
                .map_err(|s| format!("identity revocations: {}", s.message()))?
                .into_inner();
            Ok(list
                .revocations
                .into_iter()
                .map(|r| Revocation {
                    before: r.revoke_time.map_or(0, |t| t.seconds),
                    deactivated: r.reason == DEACTIVATED,
                    employee_id: r.employee_id,
                })
                .collect())
        })
    }
}

/// The reason identity gives a deactivation's revocation.
pub const DEACTIVATED: &str = "deactivated";

/// How often a verifier asks identity for revocations unless configured otherwise.
pub const DEFAULT_REVOCATION_POLL: Duration = Duration::from_secs(1);

/// The last revocations fetched, by employee.
#[derive(Debug, Default)]
struct Revocations {
    by_employee: HashMap<String, (i64, bool)>,
    /// The last fetch failed (logged once until one succeeds again).
    failing: bool,
}

/// The background task polling a verifier's revocations; dropping it stops the task.
#[derive(Debug)]
pub struct RevocationWatch(tokio::task::JoinHandle<()>);

impl Drop for RevocationWatch {
    fn drop(&mut self) {
        self.0.abort();
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
    verified: std::sync::Mutex<HashMap<String, Verified>>,
    revocations: RwLock<Revocations>,
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

/// A token verified already.
#[derive(Debug, Clone)]
struct Verified {
    principal: Principal,
    /// When it stops being accepted (expiry plus leeway).
    until: i64,
    issued_at: i64,
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
            revocations: RwLock::new(Revocations::default()),
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

    /// Fetches the keys and revocations now (at start-up, so the first call does not wait).
    /// Failure is logged, not fatal: identity may start later.
    pub async fn prefetch(&self) {
        if let Err(e) = self.refresh(true).await {
            tracing::warn!(error = %e, "signing keys not fetched yet");
        }
        self.refresh_revocations().await;
    }

    /// Fetches the revocations and puts them in force, tokens already verified included. When
    /// they cannot be fetched the last ones known stay in force (and the failure is logged).
    pub async fn refresh_revocations(&self) {
        let fetched = self.source.revocations().await;
        let mut held = self.revocations.write().expect("revocations lock");
        match fetched {
            Ok(list) => {
                if held.failing {
                    tracing::info!(revocations = list.len(), "token revocations fetched again");
                }
                held.failing = false;
                held.by_employee = list
                    .into_iter()
                    .map(|r| (r.employee_id, (r.before, r.deactivated)))
                    .collect();
            }
            Err(e) => {
                if !held.failing {
                    tracing::warn!(
                        error = %e,
                        revocations = held.by_employee.len(),
                        "token revocations cannot be fetched; the last ones known stay in force"
                    );
                }
                held.failing = true;
            }
        }
    }

    /// Polls the revocations every `every` until the returned watch is dropped (a service keeps
    /// it for as long as it serves).
    pub fn watch_revocations(self: &Arc<Self>, every: Duration) -> RevocationWatch {
        let verifier = Arc::downgrade(self);
        let every = every.max(Duration::from_millis(10));
        RevocationWatch(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(verifier) = verifier.upgrade() else {
                    return;
                };
                verifier.refresh_revocations().await;
            }
        }))
    }

    /// Why a token of `employee_id` issued at `issued_at` is refused although it verifies.
    fn revoked(&self, employee_id: &str, issued_at: i64) -> Option<TokenError> {
        let held = self.revocations.read().expect("revocations lock");
        match held.by_employee.get(employee_id) {
            Some(&(before, deactivated)) if issued_at <= before => Some(if deactivated {
                TokenError::AccountDeactivated
            } else {
                TokenError::Revoked
            }),
            _ => None,
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
        let cached = self.verified.lock().expect("verified lock").get(bearer).cloned();
        if let Some(v) = cached
            && now < v.until
        {
            if let Some(why) = self.revoked(&v.principal.employee_id, v.issued_at) {
                return Err(VerifyError::Refused(why));
            }
            return Ok(v.principal);
        }
        let claims = match self.check(bearer) {
            Err(TokenError::UnknownKey(_)) => {
                self.refresh(false).await.map_err(VerifyError::KeysUnavailable)?;
                self.check(bearer)
            }
            other => other,
        }
        .map_err(VerifyError::Refused)?;
        if let Some(why) = self.revoked(&claims.sub, claims.iat) {
            return Err(VerifyError::Refused(why));
        }
        let until = claims.exp + token::LEEWAY_SECONDS;
        let issued_at = claims.iat;
        let principal = Principal::from_claims(claims, bearer.to_string());
        let mut verified = self.verified.lock().expect("verified lock");
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(
            bearer.to_string(),
            Verified {
                principal: principal.clone(),
                until,
                issued_at,
            },
        );
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
                return Err(crate::Error::unauthenticated(why.reason(), why.to_string()).into());
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

    #[tokio::test]
    async fn revoked_tokens_are_refused_cached_or_not_and_later_ones_pass() {
        let key = token::generate_key();
        let keys = StaticKeys::default();
        keys.set(vec![("k1".into(), key.verifying_key())]);
        let verifier = Verifier::new(keys.clone());
        let now = crate::time::now_seconds();
        let old = token::sign(&claims(600), "k1", &key);
        let mut cached = claims(600);
        cached.jti = "cached".into();
        let cached = token::sign(&cached, "k1", &key);
        assert!(verifier.verify(&cached).await.is_ok(), "verified and remembered");
        let mut later = claims(600);
        later.iat = now + 1;
        let later = token::sign(&later, "k1", &key);

        keys.set_revocations(Ok(vec![Revocation {
            employee_id: "ann".into(),
            before: now,
            deactivated: true,
        }]));
        // Not in force until fetched.
        assert!(verifier.verify(&cached).await.is_ok());
        let _watch = verifier.watch_revocations(Duration::from_millis(20));
        let deadline = Instant::now() + Duration::from_secs(5);
        while verifier.verify(&cached).await.is_ok() {
            assert!(Instant::now() < deadline, "the watch puts revocations in force");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = VerifyError::Refused(TokenError::AccountDeactivated);
        assert_eq!(verifier.verify(&cached).await, Err(refused.clone()));
        assert_eq!(verifier.verify(&old).await, Err(refused.clone()));
        // A token issued after the revocation works.
        assert_eq!(verifier.verify(&later).await.map(|p| p.employee_id), Ok("ann".into()));

        // The answer on the wire: UNAUTHENTICATED with the reason.
        let access = crm_proto::MethodAccess {
            path: "/x/Y",
            permission: "",
            public: false,
        };
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, format!("Bearer {old}").parse().unwrap());
        let status = verifier.authorize(&access, &headers).await.expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), "the account is deactivated");
        assert!(
            String::from_utf8_lossy(status.details()).contains("ACCOUNT_DEACTIVATED"),
            "the ErrorInfo reason is in the details"
        );

        // Identity unreachable: the last known revocations stay in force.
        keys.set_revocations(Err("identity is down".into()));
        verifier.refresh_revocations().await;
        assert_eq!(verifier.verify(&old).await, Err(refused));
        // A password reset's revocation says so.
        keys.set_revocations(Ok(vec![Revocation {
            employee_id: "ann".into(),
            before: now,
            deactivated: false,
        }]));
        verifier.refresh_revocations().await;
        assert_eq!(
            verifier.verify(&old).await,
            Err(VerifyError::Refused(TokenError::Revoked))
        );
        // Revocations lifted (aged out): accepted again.
        keys.set_revocations(Ok(vec![]));
        verifier.refresh_revocations().await;
        assert!(verifier.verify(&old).await.is_ok());
    }
}
