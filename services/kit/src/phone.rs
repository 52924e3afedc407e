//! Phone numbers as people type them: `１３６ ００１１ ２２３３` from a Chinese input method,
//! `（0755）2666 8888`, `+1 (416) 555-0199`, `030 1234567-89`, `0755-88881234 转 802`.
//!
//! The text is folded first (NFKC: full-width digits, brackets and spaces become ASCII), an
//! extension is split off, and the rest is read by libphonenumber's rules (the `phonenumber`
//! crate): with its country code when it has one (`+44`, `0044`), otherwise as a number of the
//! business's own country ([`PhoneRegion`], `CRM_DEFAULT_PHONE_REGION`). A number is kept twice:
//! as typed, for display, and normalised to E.164 (`+8613600112233`, `;ext=802` after it), for
//! matching and duplicates.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber, Type};
use unicode_normalization::UnicodeNormalization;

use crate::errors::reason;
use crate::{Error, Result};

/// Longest phone number accepted as typed, in characters.
pub const MAX_TYPED: usize = 40;

/// Longest extension, in digits.
const MAX_EXTENSION: usize = 8;

/// The country whose numbers may be written without a country code: the business's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(Id);

impl PhoneRegion {
    /// Mainland China, the default.
    pub const CN: PhoneRegion = PhoneRegion(Id::CN);
}

impl Default for PhoneRegion {
    fn default() -> Self {
        PhoneRegion::CN
    }
}

impl fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name: &str = self.0.as_ref();
        f.write_str(name)
    }
}

impl FromStr for PhoneRegion {
    type Err = String;

    /// An ISO 3166 two-letter code (`CN`, `de`); `UK` is taken for `GB`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let upper = s.trim().to_ascii_uppercase();
        let upper = if upper == "UK" { "GB".to_string() } else { upper };
        let id = Id::from_str(&upper)
            .map_err(|_| format!("{s} is not a two-letter country code such as CN, HK, DE or US"))?;
        let has_numbers = phonenumber::metadata::DATABASE.by_id(id.as_ref()).is_some();
        if upper.len() != 2 || !has_numbers {
            return Err(format!("{s} is not a two-letter country code such as CN, HK, DE or US"));
        }
        Ok(PhoneRegion(id))
    }
}

/// A phone number as typed and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Phone {
    /// What the person typed, trimmed.
    pub typed: String,
    /// E.164 (`+8675588881234`), then `;ext=N` when there is an extension.
    pub normalized: String,
}

/// Folds compatibility forms (NFKC): full-width digits, letters, brackets and the ideographic
/// space become their ASCII forms.
pub fn fold(s: &str) -> String {
    s.nfkc().collect()
}

fn rule(region: PhoneRegion, what: &str) -> String {
    format!(
        "must be {what}: + and the country code, or a {region} number with its area code; spaces, dashes, dots \
         and brackets may separate the digits"
    )
}

/// Splits `main` and an extension at the first extension marker (`ext`, `ext.`, `x`, `#`,
/// `转`, `分机`, or RFC 3966's `;ext=`).
fn split_extension(folded: &str) -> (&str, Option<&str>) {
    let lower = folded.to_ascii_lowercase();
    [";ext=", "ext.", "ext", "x", "#", "转", "分机"]
        .iter()
        .filter_map(|m| lower.find(m).map(|i| (i, m.len())))
        .min_by_key(|(i, _)| *i)
        .map(|(i, len)| (&folded[..i], Some(&folded[i + len..])))
        .unwrap_or((folded, None))
}

/// `main` written with `+` before its country code: as typed when it has a `+`, else with the
/// home region's international call prefix (`00`, `011`) in front replaced by `+`.
fn international_form(main: &str, home: &phonenumber::metadata::Metadata) -> Option<String> {
    if main.contains('+') {
        return Some(main.to_string());
    }
    let digits: String = main.chars().filter(char::is_ascii_digit).collect();
    let idd = home.international_prefix()?.find(&digits).filter(|m| m.start() == 0)?;
    Some(format!("+{}", &digits[idd.end()..]))
}

/// Reads a number: folds it, checks its characters, splits the extension and lets
/// libphonenumber read and validate the rest.
fn read(field: &str, s: &str, region: PhoneRegion, what: &str) -> Result<(Phone, PhoneNumber)> {
    let typed = s.trim();
    if typed.chars().count() > MAX_TYPED {
        return Err(Error::invalid(
            field,
            reason::TOO_LONG,
            format!("must be at most {MAX_TYPED} characters"),
        ));
    }
    let malformed = || Error::invalid(field, reason::MALFORMED, rule(region, what));
    let folded = fold(typed);
    let (main, extension) = split_extension(&folded);
    let main = main.trim().trim_end_matches([',', '-', ' ']);
    let extension = match extension.map(str::trim) {
        None => None,
        Some(e) if !e.is_empty() && e.len() <= MAX_EXTENSION && e.chars().all(|c| c.is_ascii_digit()) => Some(e),
        Some(_) => {
            return Err(Error::invalid(
                field,
                reason::MALFORMED,
                format!("the extension must be 1 to {MAX_EXTENSION} digits"),
            ));
        }
    };
    // One `+`, before the first digit (`+86 …`, `(+86) …`); otherwise digits and separators.
    let first_digit = main.find(|c: char| c.is_ascii_digit());
    let plus_ok = match (main.find('+'), first_digit) {
        (None, _) => true,
        (Some(p), Some(d)) => p < d && main.matches('+').count() == 1,
        (Some(_), None) => false,
    };
    if first_digit.is_none()
        || !plus_ok
        || !main
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')' | '/'))
    {
        return Err(malformed());
    }
    let mut number = phonenumber::parse(Some(region.0), main).map_err(|_| malformed())?;
    // libphonenumber's reader strips the national prefix of the region it is given even from
    // a number that names another country (`+86 138…` read as a US number loses the 1 after
    // 86): a number with a country code of its own is read again, written with `+`, as a
    // number of that country.
    if let Some(home) = phonenumber::metadata::DATABASE.by_id(region.0.as_ref())
        && number.code().value() != home.country_code()
        && let Some(international) = international_form(main, home)
        && let Ok(again) = phonenumber::parse(None, &international)
        && again.code().value() == number.code().value()
    {
        number = again;
    }
    if !number.is_valid() {
        return Err(malformed());
    }
    let mut normalized = number.format().mode(Mode::E164).to_string();
    if let Some(e) = extension {
        normalized.push_str(";ext=");
        normalized.push_str(e);
    }
    Ok((
        Phone {
            typed: typed.to_string(),
            normalized,
        },
        number,
    ))
}

/// Any phone number (landline, mobile, toll-free...), with an optional extension.
pub fn parse_phone(field: &str, s: &str, region: PhoneRegion) -> Result<Phone> {
    read(field, s, region, "a phone number").map(|(p, _)| p)
}

/// A mobile number: one libphonenumber knows as mobile, or one whose country does not tell
/// mobiles from landlines by the number (the US and Canada). No extension.
pub fn parse_mobile(field: &str, s: &str, region: PhoneRegion) -> Result<Phone> {
    let (phone, number) = read(field, s, region, "a mobile number")?;
    if phone.normalized.contains(";ext=") {
        return Err(Error::invalid(
            field,
            reason::MALFORMED,
            "a mobile number has no extension",
        ));
    }
    match number.number_type(&phonenumber::metadata::DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber | Type::Pager => Ok(phone),
        _ => Err(Error::invalid(
            field,
            "NOT_MOBILE",
            format!("{} is not a mobile number; put it in the phone field", phone.typed),
        )),
    }
}

/// The digit strings under which a stored number is found by search: the E.164 digits
/// (`8675588881234`) and the national digits with the trunk prefix (`075588881234`), so a
/// fragment typed either way (`0755 8888`, `+86 755 8888`, `138 0013`) is a substring of one.
/// Text that is not a normalised number is returned as it is.
pub fn search_forms(normalized: &str) -> Vec<String> {
    let (main, _) = normalized.split_once(";ext=").unwrap_or((normalized, ""));
    let Ok(number) = phonenumber::parse(None, main) else {
        return vec![normalized.to_string()];
    };
    let digits = |s: String| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let mut forms = vec![
        digits(number.format().mode(Mode::E164).to_string()),
        digits(number.format().mode(Mode::National).to_string()),
    ];
    forms.dedup();
    forms
}

/// Reads back a number stored before numbers were kept in E.164 (digits, `+digits`, `;ext=N`):
/// its E.164 form, or None when the old text is no valid number.
pub fn renormalize(stored: &str, region: PhoneRegion) -> Option<String> {
    if stored.is_empty() {
        return None;
    }
    parse_phone("phone", stored, region).ok().map(|p| p.normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CN: PhoneRegion = PhoneRegion::CN;

    /// (typed, default region, phone's normalised form or None when refused, whether a mobile).
    const PHONES: &[(&str, &str, Option<&str>, bool)] = &[
        // Mainland China: mobiles in every way they are typed.
        ("13800138000", "CN", Some("+8613800138000"), true),
        ("138 0013 8000", "CN", Some("+8613800138000"), true),
        ("138-0013-8000", "CN", Some("+8613800138000"), true),
        ("１３６ ００１１ ２２３３", "CN", Some("+8613600112233"), true),
        ("１３６－００１１－２２３３", "CN", Some("+8613600112233"), true),
        ("+86 138 0013 8000", "CN", Some("+8613800138000"), true),
        ("+86-138-0013-8000", "CN", Some("+8613800138000"), true),
        ("0086 138 0013 8000", "CN", Some("+8613800138000"), true),
        ("(+86) 13800138000", "CN", Some("+8613800138000"), true),
        ("＋８６ １３８００１３８０００", "CN", Some("+8613800138000"), true),
        ("19912345678", "CN", Some("+8619912345678"), true),
        // Mainland China: landlines with area codes, brackets, extensions.
        ("0755-8888 1234", "CN", Some("+8675588881234"), false),
        ("（0755）2666 8888", "CN", Some("+8675526668888"), false),
        ("(0755) 2666-8888", "CN", Some("+8675526668888"), false),
        ("010-6552 9988", "CN", Some("+861065529988"), false),
        ("010 6552 9988", "CN", Some("+861065529988"), false),
        ("+86 10 6552 9988", "CN", Some("+861065529988"), false),
        ("021-6888 8888", "CN", Some("+862168888888"), false),
        ("0755-88881234 转 802", "CN", Some("+8675588881234;ext=802"), false),
        ("0755-88881234转802", "CN", Some("+8675588881234;ext=802"), false),
        ("020-8765 4321 分机 12", "CN", Some("+862087654321;ext=12"), false),
        ("400 810 8888", "CN", Some("+864008108888"), false),
        // Hong Kong.
        ("+852 2123 4567", "CN", Some("+85221234567"), false),
        ("+852 9123 4567", "CN", Some("+85291234567"), true),
        ("(852) 6123-4567", "HK", Some("+85261234567"), true),
        ("2123 4567", "HK", Some("+85221234567"), false),
        // Taiwan.
        ("+886 2 2345 6789", "CN", Some("+886223456789"), false),
        ("+886 912 345 678", "CN", Some("+886912345678"), true),
        ("(02) 2345-6789", "TW", Some("+886223456789"), false),
        ("0912-345-678", "TW", Some("+886912345678"), true),
        // Germany.
        ("+49 30 1234567", "CN", Some("+49301234567"), false),
        ("+49 (0)30 1234567", "CN", Some("+49301234567"), false),
        ("030 1234567", "DE", Some("+49301234567"), false),
        ("0049 40 1234567", "CN", Some("+49401234567"), false),
        ("+49 151 23456789", "CN", Some("+4915123456789"), true),
        ("0151/23456789", "DE", Some("+4915123456789"), true),
        // Spain.
        ("+34 91 123 45 67", "CN", Some("+34911234567"), false),
        ("+34 (91) 123.45.67", "CN", Some("+34911234567"), false),
        ("912 34 56 78", "ES", Some("+34912345678"), false),
        ("+34 612 345 678", "CN", Some("+34612345678"), true),
        ("612 34 56 78", "ES", Some("+34612345678"), true),
        // The United Kingdom.
        ("+44 20 7946 0958", "CN", Some("+442079460958"), false),
        ("+44 (0)20 7946 0958", "CN", Some("+442079460958"), false),
        ("020 7946 0958", "GB", Some("+442079460958"), false),
        ("+44 7911 123456", "CN", Some("+447911123456"), true),
        ("07911 123456", "GB", Some("+447911123456"), true),
        // The United States and Canada (fixed line or mobile cannot be told apart).
        ("+1 (416) 555-0199", "CN", Some("+14165550199"), true),
        ("+1 212-555-0123", "CN", Some("+12125550123"), true),
        ("(212) 555-0123", "US", Some("+12125550123"), true),
        ("212.555.0123", "US", Some("+12125550123"), true),
        ("+1 650 253 0000 ext. 1234", "CN", Some("+16502530000;ext=1234"), false),
        ("650-253-0000 x12", "US", Some("+16502530000;ext=12"), false),
        // A country code of its own wins over the business's country and its national prefix
        // (the United States' is 1, which begins Chinese mobiles and British area codes).
        ("+86 138 0013 8000", "US", Some("+8613800138000"), true),
        ("+86 10 6552 9988", "US", Some("+861065529988"), false),
        ("+44 113 496 0000", "US", Some("+441134960000"), false),
        ("011 86 138 0013 8000", "US", Some("+8613800138000"), true),
        ("+1 212-555-0123", "DE", Some("+12125550123"), true),
        ("+49 (0)30 1234567", "US", Some("+49301234567"), false),
        // Refused: not numbers, too short, too long, wrong for the region, bad extensions.
        ("call me", "CN", None, false),
        ("12", "CN", None, false),
        ("+", "CN", None, false),
        ("12345", "CN", None, false),
        ("1380013800", "CN", None, false),
        ("138001380001", "CN", None, false),
        ("12800138000", "CN", None, false),
        ("+86 138 0013 800", "CN", None, false),
        ("+44 20 7946 095", "CN", None, false),
        ("+49 30", "CN", None, false),
        ("+1 212 555 012", "CN", None, false),
        ("612345678", "CN", None, false),
        ("0755-8888 1234 ext", "CN", None, false),
        ("0755-8888 1234 转 abc", "CN", None, false),
        ("12a45678", "CN", None, false),
        ("+999 1234 5678", "CN", None, false),
        ("0123456789012345678901234567890123456789012", "CN", None, false),
    ];

    #[test]
    fn real_formats_are_read_as_typed() {
        assert!(PHONES.len() >= 40);
        let mut wrong = Vec::new();
        for (typed, region, want, mobile) in PHONES {
            let region: PhoneRegion = region.parse().unwrap();
            let got = parse_phone("phone", typed, region);
            match (want, &got) {
                (Some(n), Ok(p)) if p.normalized == *n && p.typed == typed.trim() => {}
                (None, Err(_)) => {}
                _ => wrong.push(format!("{typed} ({region}): {got:?}, want {want:?}")),
            }
            let as_mobile = parse_mobile("mobile", typed, region);
            if as_mobile.is_ok() != *mobile {
                wrong.push(format!("{typed} ({region}) as a mobile: {as_mobile:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn errors_name_the_field_and_the_rule() {
        let err = parse_mobile("contact.mobile", "12345", CN).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("mobile number") && text.contains("CN"), "{text}");
        let Error::InvalidArgument(list) = err else {
            panic!("{text}")
        };
        assert_eq!(list[0].field, "contact.mobile");
        assert_eq!(list[0].reason, "MALFORMED");
        let Error::InvalidArgument(list) = parse_mobile("m", "010 6552 9988", CN).unwrap_err() else {
            panic!()
        };
        assert_eq!(list[0].reason, "NOT_MOBILE");
        let Error::InvalidArgument(list) = parse_phone("p", &"1".repeat(41), CN).unwrap_err() else {
            panic!()
        };
        assert_eq!(list[0].reason, "TOO_LONG");
    }

    #[test]
    fn regions_are_country_codes() {
        assert_eq!("cn".parse::<PhoneRegion>().unwrap(), CN);
        assert_eq!("UK".parse::<PhoneRegion>().unwrap().to_string(), "GB");
        assert_eq!(PhoneRegion::default().to_string(), "CN");
        assert!("XX".parse::<PhoneRegion>().is_err());
        assert!("China".parse::<PhoneRegion>().is_err());
    }

    #[test]
    fn search_forms_hold_every_typed_fragment() {
        assert_eq!(search_forms("+8675588881234"), ["8675588881234", "075588881234"]);
        assert_eq!(search_forms("+8613800138000;ext=1"), ["8613800138000", "13800138000"]);
        assert_eq!(search_forms("+442079460958"), ["442079460958", "02079460958"]);
        assert_eq!(search_forms("not a number"), ["not a number"]);
    }

    #[test]
    fn numbers_stored_before_e164_are_read_again() {
        assert_eq!(renormalize("13800138000", CN).as_deref(), Some("+8613800138000"));
        assert_eq!(
            renormalize("075588881234;ext=802", CN).as_deref(),
            Some("+8675588881234;ext=802")
        );
        assert_eq!(renormalize("+34911234567", CN).as_deref(), Some("+34911234567"));
        assert_eq!(renormalize("12;ext=1", CN), None);
        assert_eq!(renormalize("", CN), None);
    }
}
