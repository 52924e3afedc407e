//! The first start: the seeded administrator signs in, and the token verifies with the
//! published key set.

use crm_kit::auth::token;
use crm_proto::identity as pb;

use crate::helpers::{ADMIN_PASSWORD, b64, current, spawn, verify_with};

#[tokio::test]
async fn first_start_seeds_an_admin_whose_token_verifies_with_the_published_key_set() {
    let app = spawn().await;
    let signed = app.sign_in("admin", ADMIN_PASSWORD).await.expect("admin signs in");
    let tokens = signed.tokens.expect("tokens");
    let admin = signed.employee.expect("employee");
    assert_eq!(admin.login, "admin");
    assert_eq!(admin.role_ids, ["admin"]);
    assert_eq!(admin.status, pb::EmployeeStatus::Active as i32);
    assert_eq!(tokens.token_type, "Bearer");
    assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
    assert_ne!(tokens.access_token, tokens.refresh_token);

    let me = current(&mut app.client(&tokens.access_token))
        .await
        .expect("current employee");
    assert_eq!(me.employee.as_ref().map(|e| e.id.as_str()), Some(admin.id.as_str()));
    assert!(me.permissions.iter().any(|p| p == "*"), "{:?}", me.permissions);
    assert!(
        me.scopes
            .iter()
            .any(|s| s.service == "*" && s.scope == pb::DataScope::All as i32),
        "{:?}",
        me.scopes
    );

    let set = app.key_set().await;
    assert_eq!(set.issuer, crm_kit::auth::ISSUER);
    assert_eq!(set.audience, crm_kit::auth::AUDIENCE);
    let published = set
        .keys
        .iter()
        .find(|k| k.kid == app.kid)
        .expect("the configured key is published");
    assert_eq!(published.algorithm, "EdDSA");
    assert_eq!(published.public_key, b64(app.key.verifying_key().as_bytes()));
    assert!(published.retire_time.is_none(), "the configured key is current");
    assert_eq!(token::key_id(&tokens.access_token).as_deref(), Ok(app.kid.as_str()));

    let claims = verify_with(&set, &tokens.access_token).expect("the access token verifies with the key set");
    assert_eq!(claims.sub, admin.id);
    assert_eq!(claims.iss, set.issuer);
    assert_eq!(claims.aud, [set.audience.as_str()]);
    assert_eq!(claims.perms, ["*"]);
    assert_eq!(claims.roles, ["admin"]);
    assert_eq!(claims.exp - claims.iat, 15 * 60, "access tokens live 15 minutes");
    assert_eq!(
        tokens.access_token_expire_time.as_ref().map(|t| t.seconds),
        Some(claims.exp)
    );
    // Another issuer's expectations refuse it.
    let mut other = set.clone();
    other.audience = "another-app".into();
    assert_eq!(
        verify_with(&other, &tokens.access_token),
        Err(token::TokenError::WrongAudience)
    );
}
