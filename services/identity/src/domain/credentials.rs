//! Passwords, the sign-in lockout and refresh tokens.

use crm_kit::errors::{Violations, reason};
use crm_kit::{Error, Result};
use sha2::Digest as _;

use crate::passwords;

/// Failed sign-ins in a row that lock an account.
pub const LOCK_AFTER_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub const LOCK_MICROS: i64 = 15 * 60 * 1_000_000;

/// The reason of a revocation by a password reset.
pub const PASSWORD_RESET: &str = "password_reset";

/// The answer to a wrong login or a wrong password alike.
pub fn bad_credentials() -> Error {
    Error::unauthenticated("INVALID_CREDENTIALS", "wrong login or password")
}

/// The answer while an account is locked, naming when it unlocks.
pub fn locked(until: i64) -> Error {
    Error::Unauthenticated {
        reason: "ACCOUNT_LOCKED",
        message: format!(
            "the account is locked after {LOCK_AFTER_FAILURES} failed sign-ins until {}",
            crm_kit::time::format_rfc3339(until)
        ),
        metadata: vec![("unlock_time".into(), crm_kit::time::format_rfc3339(until))],
    }
}

/// A new password: between the shortest and the longest length accepted.
pub fn check_password(field: &str, password: &str, v: &mut Violations) {
    let n = password.chars().count();
    if n < passwords::MIN_LENGTH {
        v.add(
            field,
            "TOO_SHORT",
            format!("must be at least {} characters", passwords::MIN_LENGTH),
        );
    } else if n > passwords::MAX_LENGTH {
        v.add(
            field,
            reason::TOO_LONG,
            format!("must be at most {} characters", passwords::MAX_LENGTH),
        );
    }
}

/// A sign-in's login and password, checked before either reaches the database or the hasher.
pub fn check_sign_in(login: &str, password: &str) -> Result<()> {
    let mut v = Violations::new();
    // Bounded and free of control characters before it reaches the database (PostgreSQL
    // refuses NUL, which would surface as INTERNAL).
    v.take(crm_kit::text::required(
        "login",
        login,
        254,
        crm_kit::text::Lines::Single,
    ));
    if password.is_empty() {
        v.add("password", reason::REQUIRED, "is required");
    } else if password.chars().count() > passwords::MAX_LENGTH {
        v.add(
            "password",
            reason::TOO_LONG,
            format!("must be at most {} characters", passwords::MAX_LENGTH),
        );
    }
    v.finish()
}

/// A password change: the old password given, the new one acceptable and different.
pub fn check_password_change(old_password: &str, new_password: &str) -> Result<()> {
    let mut v = Violations::new();
    if old_password.is_empty() {
        v.add("old_password", reason::REQUIRED, "is required");
    }
    check_password("new_password", new_password, &mut v);
    if !old_password.is_empty() && old_password == new_password {
        v.add("new_password", "UNCHANGED", "must differ from the old password");
    }
    v.finish()
}

/// The stored form of a refresh token: its SHA-256, in hex.
pub fn hash_refresh(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The issue time (seconds) an access token states at `now_seconds`, given the employee's
/// latest revocation (microseconds).
pub fn issued_at(now_seconds: i64, revoked_at: Option<i64>) -> i64 {
    // Verifiers refuse tokens issued at or before the second of a revocation: a token
    // issued later in that same second (a reset password's first sign-in) says the next.
    match revoked_at {
        Some(at) => now_seconds.max(at.div_euclid(1_000_000) + 1),
        None => now_seconds,
    }
}
