//! Access tokens: compact JWS (JWT) signed with Ed25519 (`alg` `EdDSA`).
//!
//! Verification is strict on purpose: the header must say exactly `EdDSA` and name a `kid` the
//! verifier knows (so `alg=none` and HS256-with-the-public-key tokens are refused before any
//! key is used), the signature is checked with `verify_strict`, then `iss`, `aud`, `exp` and
//! `nbf` are checked against the verifier's expectations.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "EdDSA";

/// Clock difference tolerated between the signer and a verifier, in seconds.
pub const LEEWAY_SECONDS: i64 = 30;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience (one, or a list on the wire).
    #[serde(with = "audience")]
    pub aud: Vec<String>,
    /// Employee id.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    #[serde(default)]
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// Token id.
    #[serde(default)]
    pub jti: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Department id.
    #[serde(default)]
    pub dept: String,
    /// Department path from the top of the tree (`/d1/d7/`).
    #[serde(default)]
    pub dpath: String,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Granted permissions (patterns, `*` segments allowed).
    #[serde(default)]
    pub perms: Vec<String>,
    /// Data scope per service (`own`, `department`, `department_tree`, `all`).
    #[serde(default)]
    pub scopes: BTreeMap<String, String>,
}

mod audience {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(aud: &[String], s: S) -> Result<S::Ok, S::Error> {
        match aud {
            [one] => s.serialize_str(one),
            many => s.collect_seq(many),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Aud {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Aud::deserialize(d)? {
            Aud::One(a) => vec![a],
            Aud::Many(a) => a,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

/// Why a token was refused. The message is safe to show the caller.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("tokens signed with {0:?} are not accepted")]
    UnsupportedAlgorithm(String),
    #[error("the token was signed with an unknown key")]
    UnknownKey(String),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by someone else")]
    WrongIssuer,
    #[error("the token is meant for someone else")]
    WrongAudience,
    /// Its employee was deactivated after it was issued.
    #[error("the account is deactivated")]
    AccountDeactivated,
    /// Identity revoked every token of its employee issued until then (a password reset).
    #[error("the token was revoked; sign in again")]
    Revoked,
}

impl TokenError {
    /// The `ErrorInfo` reason of the refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            TokenError::Malformed => "MALFORMED_TOKEN",
            TokenError::UnsupportedAlgorithm(_) => "UNSUPPORTED_ALGORITHM",
            TokenError::UnknownKey(_) => "UNKNOWN_SIGNING_KEY",
            TokenError::BadSignature => "BAD_SIGNATURE",
            TokenError::Expired => "TOKEN_EXPIRED",
            TokenError::NotYetValid => "TOKEN_NOT_YET_VALID",
            TokenError::WrongIssuer => "WRONG_ISSUER",
            TokenError::WrongAudience => "WRONG_AUDIENCE",
            TokenError::AccountDeactivated => "ACCOUNT_DEACTIVATED",
            TokenError::Revoked => "TOKEN_REVOKED",
        }
    }
}

/// Signs `claims` with `key`, naming it `kid` in the header.
pub fn sign(claims: &Claims, kid: &str, key: &SigningKey) -> String {
    let header = Header {
        alg: ALGORITHM.into(),
        typ: Some("JWT".into()),
        kid: Some(kid.into()),
    };
    let mut out = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header encodes"));
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims encode")));
    let signature = key.sign(out.as_bytes());
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
    out
}

/// The `kid` a token names, if its header can be read (used to decide whether to refetch keys).
pub fn key_id(token: &str) -> Result<String, TokenError> {
    let header = token.split('.').next().ok_or(TokenError::Malformed)?;
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).map_err(|_| TokenError::Malformed)?)
        .map_err(|_| TokenError::Malformed)?;
    if header.alg != ALGORITHM {
        return Err(TokenError::UnsupportedAlgorithm(header.alg));
    }
    header.kid.filter(|k| !k.is_empty()).ok_or(TokenError::Malformed)
}

/// What a verifier expects of every token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    pub issuer: String,
    pub audience: String,
}

/// Verifies `token` with the key its header names (looked up by `key`) and checks its claims
/// at `now` (seconds since the epoch).
pub fn verify(
    token: &str,
    key: impl Fn(&str) -> Option<VerifyingKey>,
    expect: &Expectations,
    now: i64,
) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let kid = key_id(token)?;
    let key = key(&kid).ok_or(TokenError::UnknownKey(kid))?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?
        .try_into()
        .map_err(|_| TokenError::Malformed)?;
    let signed = &token[..header.len() + 1 + payload.len()];
    key.verify_strict(signed.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| TokenError::BadSignature)?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?)
        .map_err(|_| TokenError::Malformed)?;
    if claims.iss != expect.issuer {
        return Err(TokenError::WrongIssuer);
    }
    if !claims.aud.contains(&expect.audience) {
        return Err(TokenError::WrongAudience);
    }
    if now >= claims.exp + LEEWAY_SECONDS {
        return Err(TokenError::Expired);
    }
    if claims.nbf > now + LEEWAY_SECONDS || claims.iat > now + LEEWAY_SECONDS {
        return Err(TokenError::NotYetValid);
    }
    if claims.sub.is_empty() {
        return Err(TokenError::Malformed);
    }
    Ok(claims)
}

/// A new Ed25519 key from the operating system's randomness.
pub fn generate_key() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the operating system provides randomness");
    SigningKey::from_bytes(&seed)
}

/// A key's public half as base64url (JWK `x`).
pub fn encode_public_key(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// Reads a public key written by [`encode_public_key`].
pub fn decode_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64) -> Claims {
        Claims {
            iss: "crm-identity".into(),
            aud: vec!["crm".into()],
            sub: "e1".into(),
            iat: now,
            nbf: now,
            exp: now + 900,
            jti: "t1".into(),
            name: "Ann".into(),
            dept: "d1".into(),
            dpath: "/d1/".into(),
            roles: vec!["salesperson".into()],
            perms: vec!["customers.customer.read".into()],
            scopes: [("customers".to_string(), "own".to_string())].into(),
        }
    }

    fn expect() -> Expectations {
        Expectations {
            issuer: "crm-identity".into(),
            audience: "crm".into(),
        }
    }

    fn forge(header: &str, payload: &[u8], signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    #[test]
    fn round_trip_and_every_attack_is_refused() {
        let key = generate_key();
        let public = key.verifying_key();
        let lookup = |kid: &str| (kid == "k1").then_some(public);
        let now = 1_700_000_000;
        let good = sign(&claims(now), "k1", &key);
        assert_eq!(verify(&good, lookup, &expect(), now).unwrap(), claims(now));

        // alg=none, with and without a signature.
        let payload = serde_json::to_vec(&claims(now)).unwrap();
        let none = forge(r#"{"alg":"none","kid":"k1"}"#, &payload, b"");
        assert_eq!(
            verify(&none, lookup, &expect(), now),
            Err(TokenError::UnsupportedAlgorithm("none".into()))
        );
        // HS256 "signed" with the public key as the HMAC secret.
        use hmac::Mac as _;
        let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k1"}"#);
        let body = URL_SAFE_NO_PAD.encode(&payload);
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(public.as_bytes()).unwrap();
        mac.update(format!("{head}.{body}").as_bytes());
        let hs = format!("{head}.{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
        assert_eq!(
            verify(&hs, lookup, &expect(), now),
            Err(TokenError::UnsupportedAlgorithm("HS256".into()))
        );
        // Expired, not yet valid.
        assert_eq!(
            verify(&good, lookup, &expect(), now + 900 + LEEWAY_SECONDS),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&good, lookup, &expect(), now - 3600),
            Err(TokenError::NotYetValid)
        );
        // Wrong issuer and audience.
        let mut other = claims(now);
        other.iss = "someone-else".into();
        assert_eq!(
            verify(&sign(&other, "k1", &key), lookup, &expect(), now),
            Err(TokenError::WrongIssuer)
        );
        let mut other = claims(now);
        other.aud = vec!["another-app".into()];
        assert_eq!(
            verify(&sign(&other, "k1", &key), lookup, &expect(), now),
            Err(TokenError::WrongAudience)
        );
        // A tampered payload (more permissions) under the original signature.
        let mut parts: Vec<&str> = good.split('.').collect();
        let mut richer = claims(now);
        richer.perms = vec!["*".into()];
        let richer = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&richer).unwrap());
        parts[1] = &richer;
        assert_eq!(
            verify(&parts.join("."), lookup, &expect(), now),
            Err(TokenError::BadSignature)
        );
        // A key nobody published, and a stranger's key under a known kid.
        assert_eq!(
            verify(&sign(&claims(now), "k9", &key), lookup, &expect(), now),
            Err(TokenError::UnknownKey("k9".into()))
        );
        assert_eq!(
            verify(&sign(&claims(now), "k1", &generate_key()), lookup, &expect(), now),
            Err(TokenError::BadSignature)
        );
        // Garbage.
        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!", &good[1..]] {
            assert!(verify(junk, lookup, &expect(), now).is_err(), "{junk}");
        }
    }

    #[test]
    fn public_keys_round_trip() {
        let key = generate_key().verifying_key();
        assert_eq!(decode_public_key(&encode_public_key(&key)), Some(key));
        assert_eq!(decode_public_key("short"), None);
    }
}
