//! Field values from the wire that every service reads the same way: e-mail addresses, phone
//! and mobile numbers, codes, and bounded texts. Each is a newtype only its parser makes, so
//! holding one means the input passed the rule; the parser records what is wrong in
//! [`Violations`] under the field's path in the request (`customer.email`, `lead.mobile`), so
//! a request reports every bad field at once.
//!
//! `parse` reads a field that must be given (blank is REQUIRED); `parse_optional` one that may
//! be left blank (None, and nothing recorded).

use std::fmt;

use crate::errors::{Error, Result, Violations, reason};
use crate::phone::PhoneRegion;
use crate::text::Lines;

/// Reads a field that must be given: REQUIRED when blank.
fn required<T>(field: &str, value: &str, read: impl FnOnce(&str) -> Result<T>) -> Result<T> {
    if value.trim().is_empty() {
        Err(Error::required(field))
    } else {
        read(value)
    }
}

/// Reads a field that may be left blank: None when it is.
fn optional<T>(value: &str, read: impl FnOnce(&str) -> Result<T>) -> Result<Option<T>> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        read(value).map(Some)
    }
}

/// Longest e-mail address, in bytes (RFC 5321's limit on a path).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Longest local part (before the `@`), in bytes.
const MAX_LOCAL_BYTES: usize = 64;

/// Longest label of a domain, in bytes.
const MAX_LABEL_BYTES: usize = 63;

const EMAIL_RULE: &str = "must be an email address like name@example.com";

/// An e-mail address: one `@`, a local part without spaces, and a domain of two or more labels
/// of letters, digits and inner dashes (internationalised domains as typed, `例子.中国`). Kept
/// trimmed, with the domain lower-cased: domains are case-insensitive, local parts need not be.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// An address that must be given.
    pub fn parse(v: &mut Violations, field: &str, value: &str) -> Option<Email> {
        v.take(required(field, value, |s| Email::read(field, s)))
    }

    /// An address that may be left blank.
    pub fn parse_optional(v: &mut Violations, field: &str, value: &str) -> Option<Email> {
        v.take(optional(value, |s| Email::read(field, s))).flatten()
    }

    fn read(field: &str, value: &str) -> Result<Email> {
        let too_long = || {
            Error::invalid(
                field,
                reason::TOO_LONG,
                format!("must be at most {MAX_EMAIL_BYTES} bytes"),
            )
        };
        let s = value.trim();
        if s.len() > MAX_EMAIL_BYTES {
            return Err(too_long());
        }
        crate::text::check_controls(field, s, Lines::Single)?;
        let malformed = || Error::invalid(field, reason::MALFORMED, EMAIL_RULE);
        let mut parts = s.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed());
        };
        if local.is_empty() || local.len() > MAX_LOCAL_BYTES || local.chars().any(char::is_whitespace) {
            return Err(malformed());
        }
        // The labels are checked after lower-casing, which may change a letter's length or
        // make it a combining mark: what is kept is what passed, and reads back the same.
        let domain = domain.to_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= MAX_LABEL_BYTES
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if domain.split('.').count() < 2 || !domain.split('.').all(label_ok) {
            return Err(malformed());
        }
        let email = format!("{local}@{domain}");
        if email.len() > MAX_EMAIL_BYTES {
            return Err(too_long());
        }
        Ok(Email(email))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`Phone`] and [`Mobile`] share: the number as typed and in E.164.
macro_rules! number {
    ($name:ident) => {
        impl $name {
            fn from_parsed(p: crate::phone::Phone) -> $name {
                $name {
                    typed: p.typed,
                    e164: p.normalized,
                }
            }

            /// E.164 (`+8675588881234`, then `;ext=N` when there is an extension): what
            /// duplicates and search compare.
            pub fn as_str(&self) -> &str {
                &self.e164
            }

            /// The number as typed, trimmed (`（0755）8888 1234 转 802`): what is shown.
            pub fn typed(&self) -> &str {
                &self.typed
            }

            /// The E.164 form, owned.
            pub fn into_inner(self) -> String {
                self.e164
            }

            /// (as typed, E.164), owned.
            pub fn into_parts(self) -> (String, String) {
                (self.typed, self.e164)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.e164)
            }
        }
    };
}

/// A phone number of any kind (landline, mobile, toll-free), with an optional extension, read
/// by [`crate::phone::parse_phone`]: full-width digits and brackets folded, a number without a
/// country code taken as one of the business's country.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    typed: String,
    e164: String,
}

number!(Phone);

impl Phone {
    /// A number that must be given; one without a country code is read as one of `region`.
    pub fn parse(v: &mut Violations, field: &str, value: &str, region: PhoneRegion) -> Option<Phone> {
        v.take(required(field, value, |s| crate::phone::parse_phone(field, s, region)))
            .map(Phone::from_parsed)
    }

    /// A number that may be left blank.
    pub fn parse_optional(v: &mut Violations, field: &str, value: &str, region: PhoneRegion) -> Option<Phone> {
        v.take(optional(value, |s| crate::phone::parse_phone(field, s, region)))
            .flatten()
            .map(Phone::from_parsed)
    }
}

/// A mobile number, read by [`crate::phone::parse_mobile`]: one libphonenumber knows as a
/// mobile (or cannot tell from a landline, as in the US), without an extension. A landline is
/// refused as NOT_MOBILE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mobile {
    typed: String,
    e164: String,
}

number!(Mobile);

impl Mobile {
    /// A mobile that must be given; one without a country code is read as one of `region`.
    pub fn parse(v: &mut Violations, field: &str, value: &str, region: PhoneRegion) -> Option<Mobile> {
        v.take(required(field, value, |s| crate::phone::parse_mobile(field, s, region)))
            .map(Mobile::from_parsed)
    }

    /// A mobile that may be left blank.
    pub fn parse_optional(v: &mut Violations, field: &str, value: &str, region: PhoneRegion) -> Option<Mobile> {
        v.take(optional(value, |s| crate::phone::parse_mobile(field, s, region)))
            .flatten()
            .map(Mobile::from_parsed)
    }
}

/// Longest code, in characters.
pub const MAX_CODE_CHARS: usize = 32;

/// A code: a short identifier that people type and systems match (a dictionary entry's
/// `trade_show`, a SKU): 1 to [`MAX_CODE_CHARS`] ASCII letters, digits, `_` and `-`, kept
/// trimmed and as cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(String);

impl Code {
    /// A code that must be given.
    pub fn parse(v: &mut Violations, field: &str, value: &str) -> Option<Code> {
        v.take(required(field, value, |s| Code::read(field, s)))
    }

    /// A code that may be left blank.
    pub fn parse_optional(v: &mut Violations, field: &str, value: &str) -> Option<Code> {
        v.take(optional(value, |s| Code::read(field, s))).flatten()
    }

    fn read(field: &str, value: &str) -> Result<Code> {
        let c = value.trim();
        // Every accepted character is ASCII, so bytes count characters here.
        if c.len() > MAX_CODE_CHARS || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
            return Err(Error::invalid(
                field,
                reason::MALFORMED,
                format!("must be 1 to {MAX_CODE_CHARS} letters, digits, '_' or '-'"),
            ));
        }
        Ok(Code(c.to_string()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a [`Text`] field accepts: its length in characters once trimmed, and whether it may
/// span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// Fewest characters; 0 lets the field be left blank, 1 or more makes it required.
    pub min_chars: usize,
    /// Most characters.
    pub max_chars: usize,
    /// Whether line breaks and tabs are allowed (other control characters never are).
    pub lines: Lines,
}

impl TextRule {
    /// A single-line text (a name, a title) of at most `max_chars`, which may be left blank.
    pub const fn single_line(max_chars: usize) -> TextRule {
        TextRule {
            min_chars: 0,
            max_chars,
            lines: Lines::Single,
        }
    }

    /// A text that may span lines (a note, a remark) of at most `max_chars`, which may be left
    /// blank.
    pub const fn multi_line(max_chars: usize) -> TextRule {
        TextRule {
            min_chars: 0,
            max_chars,
            lines: Lines::Multi,
        }
    }

    /// The same rule for a text that must be given.
    pub const fn required(self) -> TextRule {
        self.at_least(if self.min_chars == 0 { 1 } else { self.min_chars })
    }

    /// The same rule for a text of at least `min_chars` characters.
    pub const fn at_least(self, min_chars: usize) -> TextRule {
        TextRule { min_chars, ..self }
    }
}

/// A text: trimmed, within its [`TextRule`]'s bounds, without control characters (see
/// [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Text(String);

impl Text {
    /// A text by `rule`: blank is REQUIRED when the rule wants at least one character, and
    /// otherwise an empty text.
    pub fn parse(v: &mut Violations, field: &str, value: &str, rule: TextRule) -> Option<Text> {
        v.take(Text::read(field, value, rule))
    }

    fn read(field: &str, value: &str, rule: TextRule) -> Result<Text> {
        let t = if rule.min_chars > 0 {
            crate::text::required(field, value, rule.max_chars, rule.lines)?
        } else {
            crate::text::optional(field, value, rule.max_chars, rule.lines)?
        };
        if rule.min_chars > 1 && t.chars().count() < rule.min_chars {
            return Err(Error::invalid(
                field,
                reason::TOO_SHORT,
                format!("must be at least {} characters", rule.min_chars),
            ));
        }
        Ok(Text(t))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// Whether the text is empty (a field left blank).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CN: PhoneRegion = PhoneRegion::CN;

    /// The value, or the (field, reason) of each violation.
    fn outcome<T>(
        parse: impl FnOnce(&mut Violations) -> Option<T>,
    ) -> std::result::Result<T, Vec<(String, &'static str)>> {
        let mut v = Violations::new();
        let got = parse(&mut v);
        match (got, v.finish()) {
            (Some(t), Ok(())) => Ok(t),
            (None, Err(Error::InvalidArgument(list))) => Err(list.into_iter().map(|f| (f.field, f.reason)).collect()),
            (None, Ok(())) => Err(Vec::new()),
            (Some(_), Err(e)) => panic!("a value and a violation: {e:?}"),
            (None, Err(e)) => panic!("unexpected {e:?}"),
        }
    }

    fn reason_of<T: fmt::Debug>(r: std::result::Result<T, Vec<(String, &'static str)>>) -> &'static str {
        match r {
            Err(list) if list.len() == 1 => list[0].1,
            other => panic!("expected one violation, got {other:?}"),
        }
    }

    /// `s` with ASCII turned into its full-width forms, as a Chinese input method types it.
    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                ' ' => '\u{3000}',
                '!'..='~' => char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap_or(c),
                _ => c,
            })
            .collect()
    }

    fn email(s: &str) -> std::result::Result<String, &'static str> {
        outcome(|v| Email::parse(v, "contact.email", s))
            .map(Email::into_inner)
            .map_err(|e| e.first().map_or("NONE", |(_, r)| *r))
    }

    #[test]
    fn emails() {
        // (typed, kept or the reason it is refused)
        let cases: &[(&str, std::result::Result<&str, &str>)] = &[
            ("li.na@example.com", Ok("li.na@example.com")),
            ("  Li.Na@Example.COM\t", Ok("Li.Na@example.com")),
            ("王@例子.中国", Ok("王@例子.中国")),
            ("a@b.c", Ok("a@b.c")),
            ("o'brien+crm@mail.example.co.uk", Ok("o'brien+crm@mail.example.co.uk")),
            ("", Err("REQUIRED")),
            ("   ", Err("REQUIRED")),
            ("a@b", Err("MALFORMED")),
            ("@b.com", Err("MALFORMED")),
            ("a@", Err("MALFORMED")),
            ("a b@c.com", Err("MALFORMED")),
            ("a@@b.com", Err("MALFORMED")),
            ("a@b@c.com", Err("MALFORMED")),
            ("a@-b.com", Err("MALFORMED")),
            ("a@b-.com", Err("MALFORMED")),
            ("a@b..com", Err("MALFORMED")),
            ("a@.b.com", Err("MALFORMED")),
            ("a@b.com.", Err("MALFORMED")),
            ("a@b_c.com", Err("MALFORMED")),
            ("plain", Err("MALFORMED")),
            ("not-an-email", Err("MALFORMED")),
            // Full-width forms are not folded: `＠` and `．` are not `@` and `.`.
            ("ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ", Err("MALFORMED")),
            ("li@example．com", Err("MALFORMED")),
            ("li\u{3000}na@example.com", Err("MALFORMED")),
            // Control characters are named as such, wherever they are.
            ("a\0@b.example", Err("CONTROL_CHARACTER")),
            ("a@b.exa\u{7}mple", Err("CONTROL_CHARACTER")),
            ("a@b.example\u{85}x", Err("CONTROL_CHARACTER")),
        ];
        for (typed, want) in cases {
            assert_eq!(email(typed), want.map(str::to_string), "{typed:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(email(&long_local), Err("MALFORMED"));
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert_eq!(email(&long_label), Err("MALFORMED"));
        let of_length = |last_label: usize| {
            let (b, c, d) = ("b".repeat(60), "c".repeat(60), "d".repeat(60));
            format!("{}@{b}.{c}.{d}.{}", "a".repeat(64), "e".repeat(last_label))
        };
        assert_eq!(of_length(6).len(), MAX_EMAIL_BYTES);
        assert_eq!(email(&of_length(6)), Ok(of_length(6)));
        assert_eq!(email(&of_length(7)), Err("TOO_LONG"));
        assert_eq!(email(&"a".repeat(100_000)), Err("TOO_LONG"));
        // Violations name the field.
        let got = outcome(|v| Email::parse(v, "customer.email", "x"));
        assert_eq!(got, Err(vec![("customer.email".to_string(), "MALFORMED")]));
    }

    #[test]
    fn an_optional_email_may_be_blank() {
        assert_eq!(outcome(|v| Email::parse_optional(v, "e", "  ")), Err(Vec::new()));
        assert_eq!(
            outcome(|v| Email::parse_optional(v, "e", "x@y")),
            Err(vec![("e".to_string(), "MALFORMED")])
        );
        let e = outcome(|v| Email::parse_optional(v, "e", " x@Y.cn ")).unwrap();
        assert_eq!((e.as_str(), e.to_string()), ("x@y.cn", "x@y.cn".to_string()));
    }

    #[test]
    fn phones_keep_what_was_typed_and_e164() {
        let p = outcome(|v| Phone::parse(v, "customer.phone", " （0755）2666 8888 ", CN)).unwrap();
        assert_eq!((p.typed(), p.as_str()), ("（0755）2666 8888", "+8675526668888"));
        assert_eq!(p.to_string(), "+8675526668888");
        let p = outcome(|v| Phone::parse(v, "p", "0755-88881234 转 802", CN)).unwrap();
        assert_eq!(
            p.into_parts(),
            ("0755-88881234 转 802".to_string(), "+8675588881234;ext=802".to_string())
        );
        let full = outcome(|v| Phone::parse(v, "p", &full_width("+86 138 0013 8000"), CN)).unwrap();
        assert_eq!(full.into_inner(), "+8613800138000");

        let refused = |s: &str| reason_of(outcome(|v| Phone::parse(v, "lead.phone", s, CN)));
        assert_eq!(refused(""), "REQUIRED");
        assert_eq!(refused("call me"), "MALFORMED");
        assert_eq!(refused("12345"), "MALFORMED");
        assert_eq!(refused(&"1".repeat(41)), "TOO_LONG");
        assert_eq!(refused("0755\u{0}8888 1234"), "MALFORMED");
        assert_eq!(
            outcome(|v| Phone::parse(v, "lead.phone", "call me", CN)).unwrap_err()[0].0,
            "lead.phone"
        );
        assert_eq!(outcome(|v| Phone::parse_optional(v, "p", " ", CN)), Err(Vec::new()));
    }

    #[test]
    fn mobiles_refuse_landlines_and_extensions() {
        let m = outcome(|v| Mobile::parse(v, "contact.mobile", "  １３６ ００１１ ２２３３ ", CN)).unwrap();
        assert_eq!((m.typed(), m.as_str()), ("１３６ ００１１ ２２３３", "+8613600112233"));
        let refused = |s: &str| reason_of(outcome(|v| Mobile::parse(v, "contact.mobile", s, CN)));
        assert_eq!(refused("010 6552 9988"), "NOT_MOBILE");
        assert_eq!(refused("138 0013 8000 ext 12"), "MALFORMED");
        assert_eq!(refused("12345"), "MALFORMED");
        assert_eq!(refused("   "), "REQUIRED");
        assert_eq!(refused(&format!("{}13800138000", "-".repeat(30))), "TOO_LONG");
        assert_eq!(refused("1380013\u{1b}8000"), "MALFORMED");
        assert_eq!(outcome(|v| Mobile::parse_optional(v, "m", "", CN)), Err(Vec::new()));
        let m = outcome(|v| Mobile::parse_optional(v, "m", "+44 7911 123456", CN)).unwrap();
        assert_eq!(m.to_string(), "+447911123456");
    }

    #[test]
    fn codes() {
        let code = |s: &str| {
            outcome(|v| Code::parse(v, "entry.code", s))
                .map(Code::into_inner)
                .map_err(|e| e[0].1)
        };
        assert_eq!(code("trade_show"), Ok("trade_show".into()));
        assert_eq!(code("  SKU-0042 "), Ok("SKU-0042".into()));
        assert_eq!(code(&"a".repeat(32)), Ok("a".repeat(32)));
        assert_eq!(code(&"a".repeat(33)), Err("MALFORMED"));
        assert_eq!(code(""), Err("REQUIRED"));
        assert_eq!(code(" \t "), Err("REQUIRED"));
        assert_eq!(code("bad code!"), Err("MALFORMED"));
        assert_eq!(code("a.b"), Err("MALFORMED"));
        assert_eq!(code("展会"), Err("MALFORMED"));
        assert_eq!(code(&full_width("SKU-1")), Err("MALFORMED"));
        assert_eq!(code("a\0b"), Err("MALFORMED"));
        assert_eq!(code("a\nb"), Err("MALFORMED"));
        assert_eq!(outcome(|v| Code::parse_optional(v, "c", "")), Err(Vec::new()));
        let c = outcome(|v| Code::parse_optional(v, "c", "vip")).unwrap();
        assert_eq!((c.as_str(), c.to_string()), ("vip", "vip".to_string()));
    }

    #[test]
    fn texts() {
        let text = |s: &str, rule: TextRule| {
            outcome(|v| Text::parse(v, "lead.title", s, rule))
                .map(Text::into_inner)
                .map_err(|e| e[0].1)
        };
        let line = TextRule::single_line(5);
        assert_eq!(text("  boss ", line), Ok("boss".into()));
        assert_eq!(text("", line), Ok(String::new()));
        assert_eq!(text("", line.required()), Err("REQUIRED"));
        assert_eq!(text("  ", line.at_least(2)), Err("REQUIRED"));
        assert_eq!(text("a", line.at_least(2)), Err("TOO_SHORT"));
        assert_eq!(text("深圳", line.at_least(2)), Ok("深圳".into()));
        assert_eq!(text("深圳市南山区", line), Err("TOO_LONG"));
        assert_eq!(text("深圳市南山", line), Ok("深圳市南山".into()));
        // Full-width text is kept as typed and counted in characters.
        assert_eq!(text(&full_width("ABCDE"), line), Ok("ＡＢＣＤＥ".into()));
        assert_eq!(text(&full_width("ABCDEF"), line), Err("TOO_LONG"));
        assert_eq!(text("a\0b", line), Err("CONTROL_CHARACTER"));
        assert_eq!(text("a\nb", line), Err("CONTROL_CHARACTER"));
        let note = TextRule::multi_line(20);
        assert_eq!(text(" one\ntwo\tthree ", note), Ok("one\ntwo\tthree".into()));
        assert_eq!(text("one\r\ntwo", note), Err("CONTROL_CHARACTER"));
        assert_eq!(text("bell\u{7}", note), Err("CONTROL_CHARACTER"));
        let t = outcome(|v| Text::parse(v, "t", " x ", note)).unwrap();
        assert_eq!((t.as_str(), t.to_string(), t.is_empty()), ("x", "x".to_string(), false));
        assert_eq!(TextRule::single_line(9).required().required().min_chars, 1);
        assert_eq!(TextRule::single_line(9).at_least(3).required().min_chars, 3);
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,40}",
            "[a-zA-Z0-9._%+'-]{1,20}@[a-zA-Z0-9-]{1,12}(\\.[a-zA-Z0-9-]{1,12}){1,3}",
            "[a-zA-Z0-9_ -]{0,40}",
            any::<String>(),
        ]
    }

    fn surrounded(s: &str, pad: &str) -> String {
        format!("{pad}{s}{pad}")
    }

    proptest! {
        #[test]
        fn surrounding_spaces_change_nothing(s in any_text(), pad in "[ \t\u{3000}]{0,3}") {
            let padded = surrounded(&s, &pad);
            prop_assert_eq!(
                outcome(|v| Email::parse(v, "f", &s)),
                outcome(|v| Email::parse(v, "f", &padded))
            );
            prop_assert_eq!(
                outcome(|v| Code::parse_optional(v, "f", &s)),
                outcome(|v| Code::parse_optional(v, "f", &padded))
            );
            prop_assert_eq!(
                outcome(|v| Text::parse(v, "f", &s, TextRule::multi_line(20).required())),
                outcome(|v| Text::parse(v, "f", &padded, TextRule::multi_line(20).required()))
            );
            prop_assert_eq!(
                outcome(|v| Phone::parse_optional(v, "f", &s, CN)),
                outcome(|v| Phone::parse_optional(v, "f", &padded, CN))
            );
        }

        #[test]
        fn what_is_kept_reads_back_as_itself(s in any_text()) {
            if let Ok(e) = outcome(|v| Email::parse(v, "f", &s)) {
                prop_assert_eq!(outcome(|v| Email::parse(v, "f", e.as_str())), Ok(e.clone()));
                prop_assert!(e.as_str().len() <= MAX_EMAIL_BYTES);
            }
            if let Ok(c) = outcome(|v| Code::parse(v, "f", &s)) {
                prop_assert!(!c.as_str().is_empty() && c.as_str().len() <= MAX_CODE_CHARS);
                prop_assert_eq!(outcome(|v| Code::parse(v, "f", c.as_str())), Ok(c.clone()));
            }
            let rule = TextRule::single_line(10).at_least(2);
            if let Ok(t) = outcome(|v| Text::parse(v, "f", &s, rule)) {
                prop_assert!((2..=10).contains(&t.as_str().chars().count()));
                prop_assert!(!t.as_str().chars().any(char::is_control));
                prop_assert_eq!(outcome(|v| Text::parse(v, "f", t.as_str(), rule)), Ok(t.clone()));
            }
        }

        #[test]
        fn control_characters_are_refused_by_every_field(
            s in "[a-z]{1,5}",
            c in prop_oneof![Just('\0'), Just('\u{7}'), Just('\u{1b}'), Just('\u{7f}'), Just('\u{85}'), Just('\r')],
        ) {
            let with = format!("{s}{c}{s}@example.com");
            let inside = format!("{s}{c}{s}");
            let number = format!("138{c}00138000");
            let refused = |r: std::result::Result<(), Vec<(String, &'static str)>>| r.is_err_and(|e| !e.is_empty());
            prop_assert_eq!(reason_of(outcome(|v| Email::parse(v, "f", &with))), "CONTROL_CHARACTER");
            prop_assert!(refused(outcome(|v| Code::parse(v, "f", &inside).map(|_| ()))));
            prop_assert_eq!(
                reason_of(outcome(|v| Text::parse(v, "f", &inside, TextRule::multi_line(20)))),
                "CONTROL_CHARACTER"
            );
            prop_assert!(refused(outcome(|v| Phone::parse(v, "f", &number, CN).map(|_| ()))));
            prop_assert!(refused(outcome(|v| Mobile::parse(v, "f", &number, CN).map(|_| ()))));
        }

        #[test]
        fn full_width_mobiles_are_the_ascii_ones(
            digits in "1[38][0-9]{9}",
            sep in prop_oneof![Just(""), Just(" "), Just("-")],
            plus in any::<bool>(),
        ) {
            let typed = format!("{}{}{sep}{}{sep}{}", if plus { "+86 " } else { "" }, &digits[..3], &digits[3..7], &digits[7..]);
            let ascii = outcome(|v| Mobile::parse(v, "m", &typed, CN)).map(Mobile::into_inner);
            let e164 = format!("+86{digits}");
            prop_assert_eq!(ascii.as_deref(), Ok(e164.as_str()));
            let wide = outcome(|v| Mobile::parse(v, "m", &full_width(&typed), CN)).map(Mobile::into_inner);
            prop_assert_eq!(&wide, &ascii);
            let phone = outcome(|v| Phone::parse(v, "p", &full_width(&typed), CN)).map(Phone::into_inner);
            prop_assert_eq!(&phone, &ascii);
        }
    }
}
