//! Keyset page tokens and page sizes.
//!
//! A token carries the position after the last row of a page (a JSON cursor), bound to the
//! query it was issued for (a fingerprint of filter, search, order and caller) and signed with
//! HMAC-SHA256, so a client can neither edit it nor reuse it for another query. Keyset pages
//! cost the same at row ten million as at row ten.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the signature kept in a token.
const TAG_LEN: usize = 16;

/// Why a page token was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PageTokenError {
    #[error("page_token is malformed; pass back the next_page_token of the previous page unchanged")]
    Malformed,
    #[error("page_token was altered; pass back the next_page_token of the previous page unchanged")]
    Tampered,
    #[error("page_token was not issued for this query; keep filter, query and order_by the same while paging")]
    WrongQuery,
}

/// Why a page size was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PageSizeError {
    #[error("page_size must not be negative")]
    Negative,
}

/// Signs and checks page tokens with one secret.
pub struct PageTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens(..)")
    }
}

impl PageTokens {
    /// Tokens signed with `secret` (the same on every replica).
    pub fn new(secret: &[u8]) -> Self {
        PageTokens { key: secret.to_vec() }
    }

    fn mac(&self, fingerprint: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(&(fingerprint.len() as u64).to_be_bytes());
        mac.update(fingerprint.as_bytes());
        mac.update(payload);
        mac
    }

    /// A token for `cursor` within the query `fingerprint`.
    pub fn encode<T: Serialize>(&self, fingerprint: &str, cursor: &T) -> String {
        let payload = serde_json::to_vec(cursor).unwrap_or_default();
        let tag = self.mac(fingerprint, &payload).finalize().into_bytes();
        // The tag binds the token to the query; a second tag over the payload alone tells an
        // altered token from one used with another query.
        let plain = self.mac("", &payload).finalize().into_bytes();
        let mut bytes = Vec::with_capacity(payload.len() + 2 * TAG_LEN);
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        bytes.extend_from_slice(&plain[..TAG_LEN]);
        bytes.extend_from_slice(&payload);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The cursor of a token issued for the query `fingerprint`.
    pub fn decode<T: DeserializeOwned>(&self, fingerprint: &str, token: &str) -> Result<T, PageTokenError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| PageTokenError::Malformed)?;
        if bytes.len() <= 2 * TAG_LEN {
            return Err(PageTokenError::Malformed);
        }
        let (tag, rest) = bytes.split_at(TAG_LEN);
        let (plain, payload) = rest.split_at(TAG_LEN);
        if self.mac("", payload).verify_truncated_left(plain).is_err() {
            return Err(PageTokenError::Tampered);
        }
        if self.mac(fingerprint, payload).verify_truncated_left(tag).is_err() {
            return Err(PageTokenError::WrongQuery);
        }
        serde_json::from_slice(payload).map_err(|_| PageTokenError::Malformed)
    }
}

/// A stable fingerprint of a query's parts (length-prefixed, so parts cannot run together).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update((p.len() as u64).to_be_bytes());
        hasher.update(p.as_bytes());
    }
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The page size to use: 0 means the default, above the maximum is coerced down (AIP-158).
pub fn page_size(requested: i32, default: u32, max: u32) -> Result<u32, PageSizeError> {
    match requested {
        n if n < 0 => Err(PageSizeError::Negative),
        0 => Ok(default.min(max)),
        n => Ok(u32::try_from(n).unwrap_or(max).min(max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Cursor {
        name: String,
        id: String,
    }

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let tokens = PageTokens::new(b"secret");
        let fp = fingerprint(&["level = \"A\"", "name"]);
        let c = Cursor {
            name: "深圳".into(),
            id: "0190".into(),
        };
        let t = tokens.encode(&fp, &c);
        assert_eq!(tokens.decode::<Cursor>(&fp, &t).unwrap(), c);
        assert_eq!(
            tokens.decode::<Cursor>(&fingerprint(&["", "name"]), &t),
            Err(PageTokenError::WrongQuery)
        );
        assert_eq!(
            PageTokens::new(b"other").decode::<Cursor>(&fp, &t),
            Err(PageTokenError::Tampered)
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        assert_eq!(
            tokens.decode::<Cursor>(&fp, &URL_SAFE_NO_PAD.encode(bytes)),
            Err(PageTokenError::Tampered)
        );
        assert_eq!(
            tokens.decode::<Cursor>(&fp, "not base64!"),
            Err(PageTokenError::Malformed)
        );
        assert_eq!(tokens.decode::<Cursor>(&fp, "AAAA"), Err(PageTokenError::Malformed));
    }

    #[test]
    fn fingerprints_do_not_run_together() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["x"]), fingerprint(&["x"]));
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0, 50, 500), Ok(50));
        assert_eq!(page_size(10, 50, 500), Ok(10));
        assert_eq!(page_size(10_000, 50, 500), Ok(500));
        assert_eq!(page_size(-1, 50, 500), Err(PageSizeError::Negative));
    }
}
