//! Access tokens (`crm_kit::auth::token`): any text is refused with a reason unless it is a
//! token signed with a known key whose claims pass every check; claims of any shape signed
//! with the key verify only when the checks hold, and verify again, re-signed, to the same
//! claims; an edited signed token is refused.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_kit::auth::token::{Claims, Expectations, LEEWAY_SECONDS, TokenError, key_id, sign, verify};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_780_000_000;
const KID: &str = "k1";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn lookup(kid: &str) -> Option<VerifyingKey> {
    (kid == KID).then(|| key().verifying_key())
}

fn expect() -> Expectations {
    Expectations {
        issuer: crm_kit::auth::ISSUER.into(),
        audience: crm_kit::auth::AUDIENCE.into(),
    }
}

/// The claims pass every check a verifier makes after the signature.
fn acceptable(c: &Claims) -> bool {
    let e = expect();
    c.iss == e.issuer
        && c.aud.contains(&e.audience)
        && NOW < c.exp.saturating_add(LEEWAY_SECONDS)
        && c.nbf <= NOW + LEEWAY_SECONDS
        && c.iat <= NOW + LEEWAY_SECONDS
        && !c.sub.is_empty()
}

/// A compact JWS of `header` and `payload` (any bytes) signed with the known key.
fn signed(header: &[u8], payload: &[u8]) -> String {
    let mut out = URL_SAFE_NO_PAD.encode(header);
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let signature = key().sign(out.as_bytes());
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
    out
}

fuzz_target!(|data: &[u8]| {
    // As a token from outside: its key id is read or refused, and it never verifies (no
    // fuzzer forges Ed25519), unless it is a real token of the known key.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = key_id(text);
        if let Ok(claims) = verify(text, lookup, &expect(), NOW) {
            assert!(acceptable(&claims));
            assert_eq!(verify(&sign(&claims, KID, &key()), lookup, &expect(), NOW), Ok(claims));
        }
    }

    // As a header and claims, signed: the header must say EdDSA and the known kid, and the
    // claims then decide.
    let mut parts = data.splitn(2, |b| *b == b'\n');
    let (header, payload) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let token = signed(header, payload);
    match verify(&token, lookup, &expect(), NOW) {
        Ok(claims) => {
            assert!(acceptable(&claims), "{claims:?}");
            assert_eq!(key_id(&token).as_deref(), Ok(KID));
            let again = sign(&claims, KID, &key());
            assert_eq!(verify(&again, lookup, &expect(), NOW), Ok(claims.clone()));
            // Any edit of the signed text is refused.
            let at = header.len() % again.len();
            let mut edited = again.into_bytes();
            edited[at] = if edited[at] == b'A' { b'B' } else { b'A' };
            let edited = String::from_utf8(edited).expect("base64url is ASCII");
            assert!(verify(&edited, lookup, &expect(), NOW).is_err(), "{edited}");
        }
        Err(TokenError::Malformed | TokenError::UnsupportedAlgorithm(_) | TokenError::UnknownKey(_)) => {}
        Err(
            e @ (TokenError::WrongIssuer | TokenError::WrongAudience | TokenError::Expired | TokenError::NotYetValid),
        ) => {
            // Only claims that decode are judged.
            let claims: Claims =
                serde_json::from_slice(payload).unwrap_or_else(|_| panic!("{e:?} of claims that do not decode"));
            assert!(!acceptable(&claims), "{e:?} for {claims:?}");
        }
        Err(e) => panic!("a token signed with the right key: {e:?}"),
    }
});
