//! Parsers for contact details: each returns the normalised form that is stored and compared,
//! or an error that names the field and the rule. Phone numbers and e-mail addresses are the
//! kit's ([`crm_kit::fields`]), shared with the other services.

use crm_kit::errors::reason;
use crm_kit::{Error, Result};

fn malformed(field: &str, rule: &str) -> Error {
    Error::invalid(field, reason::MALFORMED, rule.to_string())
}

/// The characters of a unified social credit code (no I, O, S, V, Z), in value order.
const USCC_CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A tax id. Eighteen characters are a Chinese unified social credit code (统一社会信用代码,
/// GB 32100-2015) whose check character is verified; other lengths are foreign tax or VAT
/// numbers (5 to 20 letters and digits). Stored upper-case without spaces or dashes.
pub fn parse_tax_id(field: &str, s: &str) -> Result<String> {
    let v: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .flat_map(char::to_uppercase)
        .collect();
    if v.len() == 18 && v.is_ascii() {
        let mut sum = 0u32;
        for (i, b) in v.bytes().enumerate() {
            let Some(value) = USCC_CHARSET.iter().position(|c| *c == b) else {
                return Err(malformed(
                    field,
                    "must be a unified social credit code (18 characters of 0-9 and A-Y without I, O, S, V, Z)",
                ));
            };
            if i < 17 {
                sum += USCC_WEIGHTS[i] * value as u32;
            } else {
                let check = (31 - sum % 31) % 31;
                if check as usize != value {
                    return Err(malformed(
                        field,
                        "check character does not match (unified social credit code)",
                    ));
                }
            }
        }
        return Ok(v);
    }
    if (5..=20).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(v);
    }
    Err(malformed(
        field,
        "must be a tax id: an 18-character unified social credit code, or 5 to 20 letters and digits",
    ))
}

/// A website: a host with a dot, optionally with http(s):// and a path; stored with a scheme.
pub fn parse_website(field: &str, s: &str) -> Result<String> {
    const RULE: &str = "must be a web address like https://example.com";
    let s = s.trim();
    if s.len() > 200 {
        return Err(Error::invalid(
            field,
            reason::TOO_LONG,
            "must be at most 200 characters",
        ));
    }
    let lower = s.to_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    let ok = host.contains('.')
        && !s.chars().any(char::is_whitespace)
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if !ok {
        return Err(malformed(field, RULE));
    }
    Ok(if lower.starts_with("http://") || lower.starts_with("https://") {
        s.to_string()
    } else {
        format!("https://{s}")
    })
}

/// A coordinate in decimal degrees, |value| ≤ `max_abs`, at most 7 decimals; stored as given.
pub fn parse_coordinate(field: &str, s: &str, max_abs: f64) -> Result<String> {
    let rule = format!("must be decimal degrees between -{max_abs} and {max_abs} with at most 7 decimals");
    let v = s.trim();
    let body = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits_ok = !int.is_empty()
        && int.len() <= 3
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.len() <= 7
        && frac.chars().all(|c| c.is_ascii_digit());
    if !digits_ok || (body.contains('.') && frac.is_empty()) {
        return Err(Error::invalid(field, reason::MALFORMED, rule));
    }
    // Parsing validated digits cannot fail; the bound check is all that is left.
    let value: f64 = v.parse().unwrap_or(f64::MAX);
    if value.abs() > max_abs {
        return Err(Error::invalid(field, reason::OUT_OF_RANGE, rule));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_ids() {
        assert_eq!(parse_tax_id("t", "91350100M000100Y43").unwrap(), "91350100M000100Y43");
        assert_eq!(parse_tax_id("t", "91350100m000100y43").unwrap(), "91350100M000100Y43");
        assert_eq!(parse_tax_id("t", "91110000802100433B").unwrap(), "91110000802100433B");
        let err = parse_tax_id("t", "91350100M000100Y44").unwrap_err();
        assert!(err.to_string().contains("check character"), "{err}");
        assert!(
            parse_tax_id("t", "91350100I000100Y43").is_err(),
            "I is not in the charset"
        );
        assert_eq!(parse_tax_id("t", "ESB-12345678").unwrap(), "ESB12345678");
        assert!(parse_tax_id("t", "!!").is_err());
        assert!(parse_tax_id("t", "1234").is_err());
    }

    #[test]
    fn websites_and_coordinates() {
        assert_eq!(parse_website("w", "example.com").unwrap(), "https://example.com");
        assert_eq!(
            parse_website("w", "http://a.example.cn/x?y").unwrap(),
            "http://a.example.cn/x?y"
        );
        assert!(parse_website("w", "not a site").is_err());
        assert!(parse_website("w", "localhost").is_err());
        assert_eq!(parse_coordinate("c", "22.543096", 90.0).unwrap(), "22.543096");
        assert_eq!(parse_coordinate("c", "-114.0578650", 180.0).unwrap(), "-114.0578650");
        assert!(parse_coordinate("c", "91", 90.0).is_err());
        assert!(parse_coordinate("c", "1.12345678", 90.0).is_err());
        assert!(parse_coordinate("c", "1e5", 90.0).is_err());
        assert!(parse_coordinate("c", "", 90.0).is_err());
    }
}
