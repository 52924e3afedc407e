//! Token attacks: forged, expired, misdirected and malformed tokens are refused.

use crm_kit::auth::token;
use sha2::Digest as _;
use tonic::Code;

use crate::helpers::{b64, current, spawn};

/// HMAC-SHA256 (RFC 2104), to forge HS256 tokens.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = sha2::Sha256::new().chain_update(&ipad).chain_update(message).finalize();
    let outer = sha2::Sha256::new().chain_update(&opad).chain_update(inner).finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer);
    out
}

#[tokio::test]
async fn forged_expired_misdirected_and_malformed_tokens_are_refused() {
    let app = spawn().await;
    let admin = app.admin().await;
    let admin_id = admin.employee.id.clone();
    let good = app.claims(&admin_id);

    // The control: a token minted with the service's key is accepted.
    let minted = app.mint(&good);
    let me = current(&mut app.client(&minted))
        .await
        .expect("a correctly minted token works");
    assert_eq!(me.employee.map(|e| e.id), Some(admin_id.clone()));

    let payload = b64(serde_json::to_vec(&good).expect("claims encode"));
    let public = app.key.verifying_key();
    let hs256 = |secret: &[u8]| {
        let header = b64(format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{}"}}"#, app.kid));
        let input = format!("{header}.{payload}");
        format!("{input}.{}", b64(hmac_sha256(secret, input.as_bytes())))
    };
    let none = format!(
        "{}.{payload}.",
        b64(format!(r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#, app.kid))
    );
    let none_signed = format!("{}{}", none, minted.rsplit('.').next().expect("signature"));

    let mut expired = good.clone();
    expired.iat -= 7200;
    expired.nbf -= 7200;
    expired.exp = crm_kit::time::now_seconds() - 3600;
    let mut not_yet = good.clone();
    not_yet.iat += 3600;
    not_yet.nbf += 3600;
    not_yet.exp += 3600;
    let mut wrong_aud = good.clone();
    wrong_aud.aud = vec!["another-app".into()];
    let mut wrong_iss = good.clone();
    wrong_iss.iss = "someone-else".into();

    let tampered = {
        let mut parts: Vec<String> = minted.split('.').map(str::to_string).collect();
        let mut richer = good.clone();
        richer.perms = vec!["*".into()];
        parts[1] = b64(serde_json::to_vec(&richer).expect("claims encode"));
        parts.join(".")
    };
    let stranger = token::generate_key();
    let unknown_kid = crm_identity::keys::kid_of(&stranger.verifying_key());

    let attacks: Vec<(&str, Option<String>)> = vec![
        ("alg=none", Some(format!("Bearer {none}"))),
        ("alg=none with a real signature", Some(format!("Bearer {none_signed}"))),
        (
            "HS256 keyed with the public key",
            Some(format!("Bearer {}", hs256(public.as_bytes()))),
        ),
        (
            "HS256 keyed with the published key text",
            Some(format!("Bearer {}", hs256(b64(public.as_bytes()).as_bytes()))),
        ),
        ("expired", Some(format!("Bearer {}", app.mint(&expired)))),
        ("not valid yet", Some(format!("Bearer {}", app.mint(&not_yet)))),
        ("wrong audience", Some(format!("Bearer {}", app.mint(&wrong_aud)))),
        ("wrong issuer", Some(format!("Bearer {}", app.mint(&wrong_iss)))),
        ("tampered payload", Some(format!("Bearer {tampered}"))),
        (
            "unknown key and kid",
            Some(format!("Bearer {}", token::sign(&good, &unknown_kid, &stranger))),
        ),
        (
            "a stranger's key under the known kid",
            Some(format!("Bearer {}", token::sign(&good, &app.kid, &stranger))),
        ),
        ("garbage", Some("Bearer garbage".into())),
        ("three garbage segments", Some("Bearer a.b.c".into())),
        ("empty bearer", Some("Bearer ".into())),
        ("bare scheme", Some("Bearer".into())),
        ("no scheme", Some(minted.clone())),
        ("another scheme", Some(format!("Basic {minted}"))),
        ("no header", None),
    ];
    for (name, header) in attacks {
        let status = current(&mut app.with_header(header)).await.expect_err(name);
        assert_eq!(status.code(), Code::Unauthenticated, "{name}: {status:?}");
    }
    // Still fine afterwards (no attack poisoned the key cache).
    current(&mut app.client(&minted))
        .await
        .expect("the good token still works");
    current(&mut app.client(&admin.tokens.access_token))
        .await
        .expect("the signed-in admin's token still works");
}
