//! Phone numbers as typed (`crm_kit::phone`): refused with a reason naming the field, or
//! normalised to E.164; the normalised form reads back as itself (from any region), a mobile
//! is a phone, and search forms are digits.

#![no_main]

use crm_kit::phone::{PhoneRegion, parse_mobile, parse_phone, renormalize, search_forms};
use libfuzzer_sys::fuzz_target;

const REGIONS: &[&str] = &["CN", "HK", "US", "GB", "DE", "ES", "JP", "SG", "TW", "AU", "FR", "IN"];

fn region(code: &str) -> PhoneRegion {
    code.parse().expect("a region with numbers")
}

fuzz_target!(|data: &[u8]| {
    let [pick, text @ ..] = data else { return };
    let Ok(typed) = std::str::from_utf8(text) else { return };
    let home = region(REGIONS[usize::from(*pick) % REGIONS.len()]);

    let phone = parse_phone("phone", typed, home);
    let mobile = parse_mobile("mobile", typed, home);
    match &phone {
        Ok(p) => {
            assert_eq!(p.typed, typed.trim());
            let (main, ext) = p.normalized.split_once(";ext=").unwrap_or((&p.normalized, ""));
            assert!(
                main.starts_with('+') && main[1..].bytes().all(|b| b.is_ascii_digit()),
                "{p:?}"
            );
            assert!(ext.bytes().all(|b| b.is_ascii_digit()), "{p:?}");
            // Idempotent, and E.164 reads the same whatever the home region.
            for other in [home, region("US"), region("DE")] {
                let again = parse_phone("phone", &p.normalized, other)
                    .unwrap_or_else(|e| panic!("{p:?} does not read back from {other}: {e:?}"));
                assert_eq!(again.normalized, p.normalized, "from {other}");
            }
            assert_eq!(renormalize(&p.normalized, home).as_deref(), Some(p.normalized.as_str()));
            for form in search_forms(&p.normalized) {
                assert!(!form.is_empty() && form.bytes().all(|b| b.is_ascii_digit()), "{form:?}");
            }
        }
        Err(crm_kit::Error::InvalidArgument(v)) => {
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].field, "phone");
            assert!(mobile.is_err(), "a mobile that is no phone: {typed:?}");
        }
        Err(e) => panic!("{e:?}"),
    }
    match &mobile {
        Ok(m) => assert_eq!(phone.as_ref().ok(), Some(m), "a mobile is a phone"),
        Err(crm_kit::Error::InvalidArgument(v)) => {
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].field, "mobile");
        }
        Err(e) => panic!("{e:?}"),
    }
});
