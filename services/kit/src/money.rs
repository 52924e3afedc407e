//! Exact money between the wire, the domain and storage.
//!
//! On the wire an amount is a decimal string ("1234.50"); in the domain a `rust_decimal`
//! `Decimal`; in storage a BIGINT of the amount × 10^4. Floating point never touches money.
//! Rounding (spec: half away from zero to the currency's minor unit on line totals and tax)
//! lives here too.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places kept in storage.
pub const STORAGE_SCALE: u32 = 4;

/// Why an amount was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    #[error("must be a decimal string like \"1234.50\" (digits, an optional leading '-', an optional '.')")]
    Malformed,
    #[error("must have at most {max_places} decimal places")]
    TooPrecise { max_places: u32 },
    #[error("is too large to store")]
    OutOfRange,
    #[error("currency {0} is not a supported ISO 4217 code")]
    UnknownCurrency(String),
    #[error("amounts in {left} and {right} cannot be added or compared: convert one first")]
    CurrencyMismatch { left: String, right: String },
}

/// The base currency when the setting (`CRM_BASE_CURRENCY`) is not given: the currency reports,
/// aging and every base amount are kept in.
pub const DEFAULT_BASE_CURRENCY: &str = "CNY";

/// Parses a decimal string: `-?\d+(\.\d+)?`, at most 4 decimals, within storage range.
pub fn parse_decimal(s: &str) -> Result<Decimal, MoneyError> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(MoneyError::Malformed);
    }
    if frac.is_some_and(|f| f.trim_end_matches('0').len() > STORAGE_SCALE as usize) {
        return Err(MoneyError::TooPrecise {
            max_places: STORAGE_SCALE,
        });
    }
    if int.trim_start_matches('0').len() > 14 {
        return Err(MoneyError::OutOfRange);
    }
    let d: Decimal = s.parse().map_err(|_| MoneyError::Malformed)?;
    to_storage(d)?;
    Ok(d.normalize())
}

/// The storage integer of an amount (× 10^4).
pub fn to_storage(d: Decimal) -> Result<i64, MoneyError> {
    let normalized = d.normalize();
    if normalized.scale() > STORAGE_SCALE {
        return Err(MoneyError::TooPrecise {
            max_places: STORAGE_SCALE,
        });
    }
    let scaled = normalized
        .checked_mul(Decimal::from(10_000))
        .ok_or(MoneyError::OutOfRange)?;
    scaled.trunc().to_i64().ok_or(MoneyError::OutOfRange)
}

/// The amount of a storage integer.
pub fn from_storage(v: i64) -> Decimal {
    Decimal::new(v, STORAGE_SCALE).normalize()
}

/// The wire form: plain decimal, at least two decimals ("12" → "12.00", "1.2345" stays).
pub fn to_wire(d: Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

/// Decimal places of a currency's minor unit, for the codes the suite accepts.
pub fn minor_units(currency: &str) -> Option<u32> {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => Some(0),
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => Some(3),
        "CNY" | "USD" | "EUR" | "GBP" | "HKD" | "TWD" | "MOP" | "SGD" | "AUD" | "NZD" | "CAD" | "CHF" | "SEK"
        | "NOK" | "DKK" | "PLN" | "CZK" | "HUF" | "RUB" | "INR" | "IDR" | "MYR" | "THB" | "PHP" | "BRL" | "MXN"
        | "ARS" | "COP" | "PEN" | "ZAR" | "AED" | "SAR" | "ILS" | "TRY" | "EGP" | "NGN" | "KES" | "PKR" | "BDT"
        | "UAH" | "RON" | "BGN" => Some(2),
        _ => None,
    }
}

/// Rounds half away from zero to the currency's minor unit.
pub fn round_to_minor(d: Decimal, currency: &str) -> Result<Decimal, MoneyError> {
    let places = minor_units(currency).ok_or_else(|| MoneyError::UnknownCurrency(currency.to_string()))?;
    Ok(d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero))
}

/// An amount in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub currency: String,
    pub amount: Decimal,
}

impl Money {
    /// Parses a wire currency code and amount.
    pub fn parse(currency: &str, amount: &str) -> Result<Money, MoneyError> {
        let currency = currency.trim();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) || minor_units(currency).is_none() {
            return Err(MoneyError::UnknownCurrency(currency.to_string()));
        }
        Ok(Money {
            currency: currency.to_string(),
            amount: parse_decimal(amount.trim())?,
        })
    }

    /// From a stored currency and integer.
    pub fn from_storage(currency: &str, v: i64) -> Money {
        Money {
            currency: currency.to_string(),
            amount: from_storage(v),
        }
    }

    /// The storage integer.
    pub fn storage(&self) -> Result<i64, MoneyError> {
        to_storage(self.amount)
    }

    /// The wire message.
    pub fn to_proto(&self) -> crm_proto::common::Money {
        crm_proto::common::Money {
            currency_code: self.currency.clone(),
            amount: to_wire(self.amount),
        }
    }

    /// From the wire message.
    pub fn from_proto(m: &crm_proto::common::Money) -> Result<Money, MoneyError> {
        Money::parse(&m.currency_code, &m.amount)
    }

    /// Nothing, in a currency.
    pub fn zero(currency: &str) -> Money {
        Money {
            currency: currency.to_string(),
            amount: Decimal::ZERO,
        }
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency.clone(),
                right: other.currency.clone(),
            });
        }
        Ok(())
    }

    /// An amount in this currency, kept within what storage holds.
    fn with_amount(&self, amount: Option<Decimal>) -> Result<Money, MoneyError> {
        let amount = amount.ok_or(MoneyError::OutOfRange)?.normalize();
        to_storage(amount)?;
        Ok(Money {
            currency: self.currency.clone(),
            amount,
        })
    }

    /// The sum; refused across currencies and beyond storage range.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.with_amount(self.amount.checked_add(other.amount))
    }

    /// The difference; refused across currencies and beyond storage range.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.with_amount(self.amount.checked_sub(other.amount))
    }

    /// Orders two amounts of one currency; refused across currencies.
    pub fn checked_cmp(&self, other: &Money) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// The total of amounts that must all be in `currency` (an empty list totals zero).
    pub fn sum<'a, I: IntoIterator<Item = &'a Money>>(currency: &str, items: I) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |total, m| total.checked_add(m))
    }

    /// A unit price times a quantity, rounded half away from zero to the currency's minor unit
    /// (the spec's rule for line totals): 3 × 0.333 CNY is 1.00.
    pub fn line_total(&self, quantity: crate::quantity::Quantity) -> Result<Money, MoneyError> {
        let exact = self
            .amount
            .checked_mul(quantity.decimal())
            .ok_or(MoneyError::OutOfRange)?;
        self.with_amount(Some(round_to_minor(exact, &self.currency)?))
    }

    /// A share of this amount: `rate` a decimal fraction (0.13 for a 13 % tax), rounded half
    /// away from zero to the currency's minor unit.
    pub fn share(&self, rate: Decimal) -> Result<Money, MoneyError> {
        let exact = self.amount.checked_mul(rate).ok_or(MoneyError::OutOfRange)?;
        self.with_amount(Some(round_to_minor(exact, &self.currency)?))
    }

    /// This amount rounded half away from zero to the currency's minor unit.
    pub fn rounded(&self) -> Result<Money, MoneyError> {
        self.with_amount(Some(round_to_minor(self.amount, &self.currency)?))
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", to_wire(self.amount), self.currency)
    }
}

/// An amount in the base currency `base` from the wire, in storage units, 0 or more: `None`
/// when it is unset or empty, or wrong (the violation recorded under `field`: another currency,
/// negative, malformed, too large).
pub fn base_amount(
    field: &str,
    m: Option<&crm_proto::common::Money>,
    base: &str,
    v: &mut crate::errors::Violations,
) -> Option<i64> {
    use crate::errors::reason;
    let m = m.filter(|m| !m.amount.trim().is_empty() || !m.currency_code.trim().is_empty())?;
    let currency = if m.currency_code.trim().is_empty() {
        base
    } else {
        m.currency_code.trim()
    };
    match Money::parse(currency, &m.amount) {
        Ok(money) if money.currency != base => {
            v.add(
                format!("{field}.currency_code"),
                "UNSUPPORTED_CURRENCY",
                format!("amounts are kept in the base currency {base}"),
            );
            None
        }
        Ok(money) if money.is_negative() => {
            v.add(format!("{field}.amount"), reason::NEGATIVE, "must be 0 or more");
            None
        }
        Ok(money) => match money.storage() {
            Ok(s) => Some(s),
            Err(e) => {
                v.add(format!("{field}.amount"), reason::OUT_OF_RANGE, e.to_string());
                None
            }
        },
        Err(e) => {
            v.add(format!("{field}.amount"), reason::MALFORMED, e.to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(parse_decimal("1234.50").unwrap(), Decimal::new(12345, 1));
        assert_eq!(parse_decimal("-0.0001").unwrap(), Decimal::new(-1, 4));
        assert_eq!(
            parse_decimal("1.23450").unwrap(),
            Decimal::new(12345, 4),
            "trailing zeros are not precision"
        );
        for bad in [
            "", "-", "1.", ".5", "+1", "1e3", "1,000", " 1", "1 ", "0x10", "--1", "1.2.3",
        ] {
            assert_eq!(parse_decimal(bad), Err(MoneyError::Malformed), "{bad:?}");
        }
        assert_eq!(parse_decimal("1.23456"), Err(MoneyError::TooPrecise { max_places: 4 }));
        assert_eq!(parse_decimal("123456789012345"), Err(MoneyError::OutOfRange));
        assert!(parse_decimal("99999999999999.9999").is_ok());
    }

    #[test]
    fn wire_form() {
        assert_eq!(to_wire(Decimal::new(12, 0)), "12.00");
        assert_eq!(to_wire(Decimal::new(15, 1)), "1.50");
        assert_eq!(to_wire(Decimal::new(12345, 4)), "1.2345");
        assert_eq!(to_wire(Decimal::new(-5, 0)), "-5.00");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(
            round_to_minor(Decimal::new(1005, 3), "CNY").unwrap(),
            Decimal::new(101, 2)
        );
        assert_eq!(
            round_to_minor(Decimal::new(-1005, 3), "CNY").unwrap(),
            Decimal::new(-101, 2)
        );
        assert_eq!(
            round_to_minor(Decimal::new(1004, 3), "CNY").unwrap(),
            Decimal::new(100, 2)
        );
        assert_eq!(round_to_minor(Decimal::new(15, 1), "JPY").unwrap(), Decimal::new(2, 0));
        assert!(round_to_minor(Decimal::ONE, "XXQ").is_err());
    }

    #[test]
    fn money_checks_currency() {
        assert_eq!(Money::parse("CNY", "10").unwrap().to_proto().amount, "10.00");
        assert!(matches!(Money::parse("cny", "10"), Err(MoneyError::UnknownCurrency(_))));
        assert!(matches!(Money::parse("XXQ", "10"), Err(MoneyError::UnknownCurrency(_))));
    }

    fn cny(s: &str) -> Money {
        Money::parse("CNY", s).unwrap()
    }

    #[test]
    fn arithmetic_refuses_to_mix_currencies() {
        let usd = Money::parse("USD", "1").unwrap();
        assert_eq!(
            cny("1").checked_add(&usd),
            Err(MoneyError::CurrencyMismatch {
                left: "CNY".into(),
                right: "USD".into()
            })
        );
        assert!(cny("1").checked_sub(&usd).is_err());
        assert!(cny("1").checked_cmp(&usd).is_err());
        assert!(Money::sum("CNY", &[cny("1"), usd]).is_err());
        assert_eq!(Money::sum("CNY", &[cny("1.10"), cny("2.205")]).unwrap(), cny("3.305"));
        assert_eq!(Money::sum("EUR", &[]).unwrap(), Money::zero("EUR"));
        assert_eq!(cny("1").checked_sub(&cny("2.5")).unwrap(), cny("-1.5"));
        assert_eq!(
            Money::from_storage("CNY", i64::MAX).checked_add(&cny("0.0001")),
            Err(MoneyError::OutOfRange),
            "beyond what storage holds"
        );
    }

    #[test]
    fn line_totals_and_shares_round_per_currency() {
        use crate::quantity::Quantity;
        let three = Quantity::parse("3").unwrap();
        assert_eq!(cny("0.333").line_total(three).unwrap(), cny("1.00"));
        assert_eq!(
            cny("0.335").line_total(Quantity::parse("1").unwrap()).unwrap(),
            cny("0.34")
        );
        assert_eq!(
            Money::parse("JPY", "99.5")
                .unwrap()
                .line_total(Quantity::parse("1").unwrap())
                .unwrap(),
            Money::parse("JPY", "100").unwrap()
        );
        assert_eq!(cny("100.05").share(Decimal::new(13, 2)).unwrap(), cny("13.01"));
        assert_eq!(cny("-0.005").rounded().unwrap(), cny("-0.01"));
        assert_eq!(cny("12.5").to_string(), "12.50 CNY");
    }

    proptest! {
        #[test]
        fn sums_are_exact_and_order_free(vs in proptest::collection::vec(-9_999_999_999_999i64..=9_999_999_999_999i64, 0..20)) {
            let items: Vec<Money> = vs.iter().map(|v| Money::from_storage("CNY", *v)).collect();
            let total = Money::sum("CNY", &items).unwrap();
            prop_assert_eq!(total.storage().unwrap(), vs.iter().sum::<i64>());
            let mut reversed = items.clone();
            reversed.reverse();
            prop_assert_eq!(Money::sum("CNY", &reversed).unwrap(), total);
        }

        #[test]
        fn mixed_currencies_never_add(a in -9_999_999_999i64..=9_999_999_999i64, b in -9_999_999_999i64..=9_999_999_999i64) {
            let x = Money::from_storage("CNY", a);
            let y = Money::from_storage("USD", b);
            prop_assert!(x.checked_add(&y).is_err());
            prop_assert!(y.checked_sub(&x).is_err());
        }

        #[test]
        fn storage_round_trips(v in -999_999_999_999_999_999i64..=999_999_999_999_999_999i64) {
            prop_assert_eq!(to_storage(from_storage(v)).unwrap(), v);
        }

        #[test]
        fn wire_round_trips(v in -999_999_999_999_999_999i64..=999_999_999_999_999_999i64) {
            let d = from_storage(v);
            prop_assert_eq!(parse_decimal(&to_wire(d)).unwrap(), d);
        }

        #[test]
        fn rounding_is_idempotent_and_close(v in -9_999_999_999_999i64..=9_999_999_999_999i64) {
            let d = from_storage(v);
            let r = round_to_minor(d, "CNY").unwrap();
            prop_assert_eq!(round_to_minor(r, "CNY").unwrap(), r);
            prop_assert!((r - d).abs() <= Decimal::new(5, 3));
            // Half away from zero: the sign never flips and ties move outward.
            prop_assert!(r.is_zero() || r.is_sign_negative() == d.is_sign_negative());
        }

        #[test]
        fn five_decimals_are_refused(v in 1i64..=9_999_999i64) {
            let d = Decimal::new(v * 10 + 1, 5);
            prop_assert!(to_storage(d).is_err());
        }
    }
}
