//! Key rotation: old tokens stay valid, new ones carry the new key.

use std::collections::BTreeSet;

use crm_kit::auth::token;
use crm_proto::identity as pb;

use crate::helpers::{ADMIN_PASSWORD, current, spawn, verify_with};

#[tokio::test]
async fn rotating_the_signing_key_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let old_access = admin.tokens.access_token.clone();

    let rotated = admin
        .client
        .rotate_signing_key(pb::RotateSigningKeyRequest {})
        .await
        .expect("rotate")
        .into_inner()
        .key
        .expect("key");
    assert_ne!(rotated.kid, app.kid);
    assert_eq!(rotated.algorithm, "EdDSA");
    assert!(rotated.retire_time.is_none());

    let set = app.key_set().await;
    let kids: BTreeSet<&str> = set.keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, BTreeSet::from([app.kid.as_str(), rotated.kid.as_str()]));
    let old = set.keys.iter().find(|k| k.kid == app.kid).expect("old key");
    assert!(old.retire_time.is_some(), "the old key is retired");
    let new = set.keys.iter().find(|k| k.kid == rotated.kid).expect("new key");
    assert!(new.retire_time.is_none(), "the new key is current");
    assert_eq!(new.public_key, rotated.public_key);

    // Tokens signed before the rotation still work.
    current(&mut app.client(&old_access))
        .await
        .expect("a token issued before the rotation works");
    current(&mut app.client(&app.mint(&app.claims(&admin.employee.id))))
        .await
        .expect("a token signed with the retired key works");

    // New tokens carry the new kid, verify with the key set, and are accepted at once.
    let fresh = app.tokens("admin", ADMIN_PASSWORD).await;
    assert_eq!(token::key_id(&fresh.access_token), Ok(rotated.kid.clone()));
    verify_with(&set, &fresh.access_token).expect("verifies with the published new key");
    current(&mut app.client(&fresh.access_token))
        .await
        .expect("a token signed with the new key is accepted right after the rotation");
    let refreshed = app
        .anonymous()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: admin.tokens.refresh_token.clone(),
        })
        .await
        .expect("a refresh token from before the rotation refreshes")
        .into_inner()
        .tokens
        .expect("tokens");
    assert_eq!(token::key_id(&refreshed.access_token), Ok(rotated.kid.clone()));
}
