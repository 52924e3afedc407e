//! Sign-in with lockout, refresh-token rotation, sign-out, and the signed-in employee's own
//! profile and password.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_kit::auth::Principal;
use crm_kit::auth::token::{self, Claims};
use crm_kit::time::{now_micros, set_to_proto};
use crm_kit::{Error, Result};
use crm_proto::identity as pb;
use sqlx::AnyConnection;

use super::{IdentityApi, convert};

/// This service's name in the metrics.
const SERVICE: &str = "identity";
use crate::domain::credentials::{
    LOCK_AFTER_FAILURES, LOCK_MICROS, bad_credentials, check_password_change, check_sign_in, hash_refresh, issued_at,
    locked,
};
use crate::domain::role::effective;
use crate::store::{self, EmployeeRow};
use crate::{keys, passwords};

/// A new refresh token: 32 random bytes, base64url.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

impl IdentityApi {
    /// Access and refresh tokens for `e`, the refresh token starting or continuing `family`.
    async fn issue(&self, conn: &mut AnyConnection, e: &EmployeeRow, family: &str) -> Result<pb::Tokens> {
        let roles = store::roles_of(conn, &e.id).await?;
        let (perms, scopes) = effective(&roles);
        let dpath = store::department(conn, &e.department_id)
            .await?
            .map(|d| d.path)
            .unwrap_or_default();
        let now_s = crm_kit::time::now_seconds();
        let revoked_at = store::revoked_at(conn, &e.id).await?;
        let claims = Claims {
            iss: crm_kit::auth::ISSUER.into(),
            aud: vec![crm_kit::auth::AUDIENCE.into()],
            sub: e.id.clone(),
            iat: issued_at(now_s, revoked_at),
            nbf: now_s,
            exp: now_s + self.access_ttl_seconds,
            jti: crm_kit::new_id(),
            name: e.display_name.clone(),
            dept: e.department_id.clone(),
            dpath,
            roles: roles.iter().map(|r| r.name.clone()).collect(),
            perms,
            scopes: scopes.into_iter().map(|(k, s)| (k, s.as_str().to_string())).collect(),
        };
        let (kid, key) = keys::current(conn).await?;
        let access = token::sign(&claims, &kid, &key);
        let refresh = random_token();
        let now = now_micros();
        let refresh_expires = now + self.refresh_ttl_seconds * 1_000_000;
        store::insert_refresh(conn, &hash_refresh(&refresh), &e.id, family, now, refresh_expires).await?;
        Ok(pb::Tokens {
            access_token: access,
            access_token_expire_time: set_to_proto(claims.exp * 1_000_000),
            refresh_token: refresh,
            refresh_token_expire_time: set_to_proto(refresh_expires),
            token_type: "Bearer".into(),
        })
    }

    /// SignIn: five wrong passwords in a row lock the account for a while.
    pub(super) async fn sign_in(&self, req: pb::SignInRequest) -> Result<pb::SignInResponse> {
        check_sign_in(&req.login, &req.password)?;
        let mut conn = self.conn().await?;
        let Some(e) = store::employee_by_login(&mut conn, req.login.trim()).await? else {
            // Same work, same answer as a wrong password: logins cannot be probed.
            let _ = passwords::verify(req.password, passwords::DECOY.into()).await;
            crm_kit::metrics::sign_in_failed(SERVICE, "bad_credentials");
            return Err(bad_credentials());
        };
        let now = now_micros();
        if e.locked_until > now {
            crm_kit::metrics::sign_in_failed(SERVICE, "locked");
            return Err(locked(e.locked_until));
        }
        drop(conn);
        let good = passwords::verify(req.password, e.password_hash.clone()).await;
        let mut tx = self.db.begin_write().await?;
        if !good {
            let until = store::record_failed_sign_in(&mut tx, &e.id, LOCK_AFTER_FAILURES, now + LOCK_MICROS).await?;
            tx.commit().await?;
            if until > now {
                if until == now + LOCK_MICROS {
                    tracing::warn!(employee = %e.id, "account locked after repeated failed sign-ins");
                    crm_kit::metrics::locked_out(SERVICE);
                }
                crm_kit::metrics::sign_in_failed(SERVICE, "locked");
                return Err(locked(until));
            }
            crm_kit::metrics::sign_in_failed(SERVICE, "bad_credentials");
            return Err(bad_credentials());
        }
        if e.status != store::ACTIVE {
            crm_kit::metrics::sign_in_failed(SERVICE, "deactivated");
            return Err(Error::unauthenticated(
                "ACCOUNT_DEACTIVATED",
                "the account is deactivated",
            ));
        }
        // Failures running alongside this sign-in may have locked the account since it was
        // read: the right password must not get past a lock, however the guesses are timed.
        if !store::clear_failed_sign_ins(&mut tx, &e.id, now).await? {
            let until = store::employee(&mut tx, &e.id).await?.map_or(0, |e| e.locked_until);
            crm_kit::metrics::sign_in_failed(SERVICE, "locked");
            return Err(locked(until));
        }
        let tokens = self.issue(&mut tx, &e, &crm_kit::new_id()).await?;
        let role_ids = store::role_ids_of(&mut tx, &e.id).await?;
        tx.commit().await?;
        tracing::info!(employee = %e.id, "signed in");
        Ok(pb::SignInResponse {
            tokens: Some(tokens),
            employee: Some(convert::employee(&e, role_ids, now)),
        })
    }

    /// RefreshToken: each refresh token works once; a second use ends the whole sign-in.
    pub(super) async fn refresh_token(&self, req: pb::RefreshTokenRequest) -> Result<pb::RefreshTokenResponse> {
        if req.refresh_token.trim().is_empty() {
            return Err(Error::required("refresh_token"));
        }
        let refused =
            || Error::unauthenticated("INVALID_REFRESH_TOKEN", "the refresh token is not valid; sign in again");
        let now = now_micros();
        let mut tx = self.db.begin_write().await?;
        let Some(t) = store::refresh_by_hash(&mut tx, &hash_refresh(req.refresh_token.trim())).await? else {
            return Err(refused());
        };
        if t.revoked_at != 0 || t.expires_at <= now {
            return Err(refused());
        }
        if t.used_at != 0 || !store::use_refresh(&mut tx, &t.id, now).await? {
            // A used token again: someone holds a copy. End the whole sign-in.
            store::revoke_family(&mut tx, &t.family_id, now).await?;
            tx.commit().await?;
            tracing::warn!(employee = %t.employee_id, "refresh token reused; the sign-in is revoked");
            return Err(Error::unauthenticated(
                "REFRESH_TOKEN_REUSED",
                "the refresh token was already used; sign in again",
            ));
        }
        let Some(e) = store::employee(&mut tx, &t.employee_id)
            .await?
            .filter(|e| e.status == store::ACTIVE)
        else {
            return Err(refused());
        };
        let tokens = self.issue(&mut tx, &e, &t.family_id).await?;
        tx.commit().await?;
        Ok(pb::RefreshTokenResponse { tokens: Some(tokens) })
    }

    /// SignOut: revokes every refresh token of the sign-in.
    pub(super) async fn sign_out(&self, req: pb::SignOutRequest) -> Result<pb::SignOutResponse> {
        if req.refresh_token.trim().is_empty() {
            return Err(Error::required("refresh_token"));
        }
        let mut tx = self.db.begin_write().await?;
        // An unknown token signs nobody out, and says nothing about whether it existed.
        if let Some(t) = store::refresh_by_hash(&mut tx, &hash_refresh(req.refresh_token.trim())).await? {
            store::revoke_family(&mut tx, &t.family_id, now_micros()).await?;
        }
        tx.commit().await?;
        Ok(pb::SignOutResponse {})
    }

    /// GetCurrentEmployee: the caller, with what their roles add up to.
    pub(super) async fn get_current_employee(
        &self,
        caller: &Principal,
        _req: pb::GetCurrentEmployeeRequest,
    ) -> Result<pb::GetCurrentEmployeeResponse> {
        let mut conn = self.conn().await?;
        let e = self.load_employee(&mut conn, "employee", &caller.employee_id).await?;
        let roles = store::roles_of(&mut conn, &e.id).await?;
        let (permissions, scopes) = effective(&roles);
        Ok(pb::GetCurrentEmployeeResponse {
            employee: Some(convert::employee(
                &e,
                roles.iter().map(|r| r.id.clone()).collect(),
                now_micros(),
            )),
            permissions,
            scopes: scopes
                .into_iter()
                .map(|(service, s)| pb::ServiceScope {
                    service,
                    scope: convert::scope(s),
                })
                .collect(),
        })
    }

    /// ChangePassword: the caller's own, given the old one; their refresh tokens stop working.
    pub(super) async fn change_password(
        &self,
        caller: &Principal,
        req: pb::ChangePasswordRequest,
    ) -> Result<pb::ChangePasswordResponse> {
        check_password_change(&req.old_password, &req.new_password)?;
        let mut conn = self.conn().await?;
        let e = self.load_employee(&mut conn, "employee", &caller.employee_id).await?;
        drop(conn);
        // The old password is a password guess like a sign-in: it counts towards the lockout,
        // so a stolen access token cannot be used to guess the password without limit.
        let now = now_micros();
        if e.locked_until > now {
            return Err(locked(e.locked_until));
        }
        if !passwords::verify(req.old_password, e.password_hash.clone()).await {
            let mut tx = self.db.begin_write().await?;
            let until = store::record_failed_sign_in(&mut tx, &e.id, LOCK_AFTER_FAILURES, now + LOCK_MICROS).await?;
            tx.commit().await?;
            if until > now {
                return Err(locked(until));
            }
            return Err(Error::invalid(
                "old_password",
                "WRONG_PASSWORD",
                "is not the current password",
            ));
        }
        let hash = passwords::hash(req.new_password).await?;
        let mut tx = self.db.begin_write().await?;
        store::set_password(&mut tx, &e.id, &hash, now, &caller.employee_id).await?;
        store::revoke_employee_tokens(&mut tx, &e.id, now).await?;
        tx.commit().await?;
        Ok(pb::ChangePasswordResponse {})
    }
}
