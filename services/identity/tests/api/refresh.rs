//! Refresh-token rotation: each refresh token works once, a reused one ends the sign-in.

use crm_proto::identity as pb;
use tonic::Code;

use crate::helpers::{ADMIN_PASSWORD, assert_code, assert_field, assert_reason, current, spawn};

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_sign_in() {
    let app = spawn().await;
    let mut anon = app.anonymous();
    let refresh = |token: &str| pb::RefreshTokenRequest {
        refresh_token: token.into(),
    };
    let first = app.tokens("admin", ADMIN_PASSWORD).await;
    let second = anon
        .refresh_token(refresh(&first.refresh_token))
        .await
        .expect("refresh")
        .into_inner()
        .tokens
        .expect("tokens");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    current(&mut app.client(&second.access_token))
        .await
        .expect("the refreshed access token works");
    let third = anon
        .refresh_token(refresh(&second.refresh_token))
        .await
        .expect("refresh again")
        .into_inner()
        .tokens
        .expect("tokens");

    // Another sign-in is a separate family.
    let other = app.tokens("admin", ADMIN_PASSWORD).await;

    // The first token again: reuse, and the whole sign-in ends.
    assert_reason(
        anon.refresh_token(refresh(&first.refresh_token)).await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_REUSED",
    );
    assert_reason(
        anon.refresh_token(refresh(&third.refresh_token)).await,
        Code::Unauthenticated,
        "INVALID_REFRESH_TOKEN",
    );
    assert_code(
        anon.refresh_token(refresh(&second.refresh_token)).await,
        Code::Unauthenticated,
    );

    // The other sign-in is untouched; signing it out revokes it.
    let other2 = anon
        .refresh_token(refresh(&other.refresh_token))
        .await
        .expect("the other sign-in still refreshes")
        .into_inner()
        .tokens
        .expect("tokens");
    anon.sign_out(pb::SignOutRequest {
        refresh_token: other2.refresh_token.clone(),
    })
    .await
    .expect("sign out");
    assert_reason(
        anon.refresh_token(refresh(&other2.refresh_token)).await,
        Code::Unauthenticated,
        "INVALID_REFRESH_TOKEN",
    );

    // Made-up and missing tokens.
    assert_reason(
        anon.refresh_token(refresh("made-up-refresh-token")).await,
        Code::Unauthenticated,
        "INVALID_REFRESH_TOKEN",
    );
    assert_field(
        anon.refresh_token(refresh("")).await,
        Code::InvalidArgument,
        "refresh_token",
        "REQUIRED",
    );
    // Signing out an unknown token says nothing.
    anon.sign_out(pb::SignOutRequest {
        refresh_token: "made-up-refresh-token".into(),
    })
    .await
    .expect("sign out of an unknown token");
}
