//! Password hashing: Argon2id with 19 MiB of memory and two passes (the OWASP minimum), run on
//! the kit's bounded CPU pool ([`crm_kit::cpu`]) so a sign-in never stalls other calls and a
//! flood of sign-ins queues instead of starting a thread (and 19 MiB) each.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost in KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const ITERATIONS: u32 = 2;
/// Shortest password accepted.
pub const MIN_LENGTH: usize = 8;
/// Longest password accepted (bounds the hashing work a request can ask for).
pub const MAX_LENGTH: usize = 256;

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(MEMORY_KIB, ITERATIONS, 1, None).expect("valid Argon2 parameters"),
    )
}

/// Hashes `password` into a PHC string (algorithm, parameters and salt included).
pub async fn hash(password: String) -> crm_kit::Result<String> {
    crm_kit::cpu::run(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| crm_kit::Error::Internal(format!("randomness: {e}")))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| crm_kit::Error::Internal(e.to_string()))?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| crm_kit::Error::Internal(format!("password hash: {e}")))
    })
    .await?
}

/// Whether `password` matches `stored` (a PHC string). An unreadable hash never matches.
pub async fn verify(password: String, stored: String) -> bool {
    crm_kit::cpu::run(move || {
        PasswordHash::new(&stored).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash no password matches, verified against when the login is unknown so that the answer
/// takes as long as for a known login (no account enumeration by timing).
pub const DECOY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xr1BtU3Uu0oj0T1yRJBzWG5Zp7QG3OCm5wTtBoQm2bE";

/// A random password for the first administrator when none is configured.
pub fn generate() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_carry_the_parameters() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse".into(), h.clone()).await);
        assert!(!verify("wrong horse".into(), h).await);
        assert!(PasswordHash::new(DECOY).is_ok(), "the decoy costs a real verification");
        assert!(!verify("anything".into(), DECOY.into()).await);
        assert!(!verify("anything".into(), "not a hash".into()).await);
    }
}
