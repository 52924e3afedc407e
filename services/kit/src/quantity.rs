//! Exact quantities of goods: stock, order lines, receipts, parts issued.
//!
//! A quantity keeps 4 decimal places (a product sold by the metre or the kilogram), stored as a
//! BIGINT of the quantity × 10^4 and sent on the wire as a decimal string ("12", "0.25").
//! Arithmetic is checked: it never wraps, and it never rounds silently. A conversion between
//! units (a box of 12 into pieces, pieces back into boxes) is exact or refused, so a product
//! bought in boxes and stocked in pieces never gains or loses a fraction on the way.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Decimal places a quantity keeps.
pub const SCALE: u32 = 4;
const FACTOR: i64 = 10_000;

/// Why a quantity was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum QuantityError {
    #[error("must be a decimal number like \"12\" or \"0.25\" (digits, an optional leading '-', an optional '.')")]
    Malformed,
    #[error("must have at most {SCALE} decimal places")]
    TooPrecise,
    #[error("is too large")]
    OutOfRange,
    #[error("must not be negative")]
    Negative,
    #[error("must be greater than zero")]
    NotPositive,
    #[error("{quantity} is not a whole number of units of {factor} (the conversion would not be exact)")]
    Inexact { quantity: String, factor: String },
}

impl QuantityError {
    /// The field-violation reason of this refusal (`crate::errors::reason`).
    pub fn reason(&self) -> &'static str {
        use crate::errors::reason;
        match self {
            QuantityError::Malformed => reason::MALFORMED,
            QuantityError::TooPrecise => reason::TOO_PRECISE,
            QuantityError::OutOfRange => reason::OUT_OF_RANGE,
            QuantityError::Negative => reason::NEGATIVE,
            QuantityError::NotPositive => reason::NOT_POSITIVE,
            QuantityError::Inexact { .. } => reason::INEXACT_CONVERSION,
        }
    }
}

/// A quantity, exact to 4 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(i64);

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);

    /// A whole number of units.
    pub fn units(n: i64) -> Result<Quantity, QuantityError> {
        n.checked_mul(FACTOR).map(Quantity).ok_or(QuantityError::OutOfRange)
    }

    /// The quantity of a stored integer (× 10^4).
    pub const fn from_storage(v: i64) -> Quantity {
        Quantity(v)
    }

    /// The stored integer (× 10^4).
    pub const fn storage(self) -> i64 {
        self.0
    }

    /// Parses the wire form with money's decimal rules (`-?\d+(\.\d+)?`, at most 4 significant
    /// decimals, 14 integer digits), after folding what an input method types (full-width digits
    /// and point, NFKC) and trimming spaces.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let folded = crate::phone::fold(s);
        let d = crate::money::parse_decimal(folded.trim()).map_err(|e| match e {
            crate::money::MoneyError::TooPrecise { .. } => QuantityError::TooPrecise,
            crate::money::MoneyError::OutOfRange => QuantityError::OutOfRange,
            _ => QuantityError::Malformed,
        })?;
        Quantity::from_decimal(d)
    }

    /// Parses a quantity that must be greater than zero (an order line, a receipt).
    pub fn parse_positive(s: &str) -> Result<Quantity, QuantityError> {
        let q = Quantity::parse(s)?;
        if q.0 <= 0 {
            return Err(QuantityError::NotPositive);
        }
        Ok(q)
    }

    /// Parses a quantity that may be zero but not negative (a safety stock level).
    pub fn parse_non_negative(s: &str) -> Result<Quantity, QuantityError> {
        let q = Quantity::parse(s)?;
        if q.0 < 0 {
            return Err(QuantityError::Negative);
        }
        Ok(q)
    }

    /// The wire form: the shortest exact decimal ("12", "0.25", "-3.5").
    pub fn to_wire(self) -> String {
        self.decimal().to_string()
    }

    /// The quantity as a decimal.
    pub fn decimal(self) -> Decimal {
        Decimal::new(self.0, SCALE).normalize()
    }

    /// From a decimal, exactly or not at all.
    pub fn from_decimal(d: Decimal) -> Result<Quantity, QuantityError> {
        let d = d.normalize();
        if d.scale() > SCALE {
            return Err(QuantityError::TooPrecise);
        }
        let scaled = d.checked_mul(Decimal::from(FACTOR)).ok_or(QuantityError::OutOfRange)?;
        scaled.to_i64().map(Quantity).ok_or(QuantityError::OutOfRange)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Quantity) -> Result<Quantity, QuantityError> {
        self.0
            .checked_add(other.0)
            .map(Quantity)
            .ok_or(QuantityError::OutOfRange)
    }

    pub fn checked_sub(self, other: Quantity) -> Result<Quantity, QuantityError> {
        self.0
            .checked_sub(other.0)
            .map(Quantity)
            .ok_or(QuantityError::OutOfRange)
    }

    pub fn checked_neg(self) -> Result<Quantity, QuantityError> {
        self.0.checked_neg().map(Quantity).ok_or(QuantityError::OutOfRange)
    }

    /// The sum of quantities, checked.
    pub fn sum<I: IntoIterator<Item = Quantity>>(items: I) -> Result<Quantity, QuantityError> {
        items.into_iter().try_fold(Quantity::ZERO, Quantity::checked_add)
    }

    /// This quantity of a unit that holds `factor` base units (3 boxes of 12 → 36 pieces),
    /// exactly: refused when the result needs more than 4 decimal places.
    pub fn to_base_units(self, factor: Quantity) -> Result<Quantity, QuantityError> {
        if factor.0 <= 0 {
            return Err(QuantityError::NotPositive);
        }
        let product = self
            .decimal()
            .checked_mul(factor.decimal())
            .ok_or(QuantityError::OutOfRange)?;
        Quantity::from_decimal(product).map_err(|e| match e {
            QuantityError::TooPrecise => QuantityError::Inexact {
                quantity: self.to_wire(),
                factor: factor.to_wire(),
            },
            e => e,
        })
    }

    /// This many base units in a unit of `factor` base units (36 pieces → 3 boxes of 12),
    /// exactly: refused when it is not a whole number of 4-decimal units (37 pieces in boxes of
    /// 12 is 3.0833...), never rounded.
    pub fn from_base_units(self, factor: Quantity) -> Result<Quantity, QuantityError> {
        if factor.0 <= 0 {
            return Err(QuantityError::NotPositive);
        }
        let inexact = || QuantityError::Inexact {
            quantity: self.to_wire(),
            factor: factor.to_wire(),
        };
        // self / factor in storage units is (self.0 / factor.0) × 10^4, exact when it divides.
        let numerator = i128::from(self.0) * i128::from(FACTOR);
        let denominator = i128::from(factor.0);
        if numerator % denominator != 0 {
            return Err(inexact());
        }
        i64::try_from(numerator / denominator)
            .map(Quantity)
            .map_err(|_| QuantityError::OutOfRange)
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_wire())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn parses_what_people_type_and_refuses_the_rest() {
        assert_eq!(q("12").storage(), 120_000);
        assert_eq!(q("0.25").storage(), 2_500);
        assert_eq!(q("-3.5").storage(), -35_000);
        assert_eq!(q(" 1.50000 ").storage(), 15_000, "trailing zeros are not precision");
        assert_eq!(q("１２．５").storage(), 125_000, "full-width digits");
        assert_eq!(q("007").storage(), 70_000);
        for bad in ["", "-", "1.", ".5", "+1", "1e3", "1,000", "0x10", "--1", "1.2.3", "one"] {
            assert_eq!(Quantity::parse(bad), Err(QuantityError::Malformed), "{bad:?}");
        }
        assert_eq!(Quantity::parse("1.00001"), Err(QuantityError::TooPrecise));
        assert_eq!(Quantity::parse("123456789012345"), Err(QuantityError::OutOfRange));
        assert_eq!(Quantity::parse_positive("0"), Err(QuantityError::NotPositive));
        assert_eq!(Quantity::parse_non_negative("-1"), Err(QuantityError::Negative));
        assert_eq!(Quantity::parse_non_negative("0"), Ok(Quantity::ZERO));
    }

    #[test]
    fn wire_form_is_the_shortest_exact_decimal() {
        assert_eq!(q("12.000").to_wire(), "12");
        assert_eq!(q("0.2500").to_wire(), "0.25");
        assert_eq!(q("-0.0001").to_wire(), "-0.0001");
        assert_eq!(Quantity::ZERO.to_wire(), "0");
    }

    #[test]
    fn unit_conversions_are_exact_or_refused() {
        let box_of_12 = q("12");
        assert_eq!(q("3").to_base_units(box_of_12).unwrap(), q("36"));
        assert_eq!(q("36").from_base_units(box_of_12).unwrap(), q("3"));
        assert_eq!(q("6").from_base_units(box_of_12).unwrap(), q("0.5"));
        assert!(matches!(
            q("37").from_base_units(box_of_12),
            Err(QuantityError::Inexact { .. })
        ));
        // A kilogram in grams and back.
        let kg = q("1000");
        assert_eq!(q("0.0015").to_base_units(kg).unwrap(), q("1.5"));
        assert_eq!(q("1.5").from_base_units(kg).unwrap(), q("0.0015"));
        assert_eq!(
            q("0.0001").from_base_units(kg),
            Err(QuantityError::Inexact {
                quantity: "0.0001".into(),
                factor: "1000".into()
            })
        );
        assert!(matches!(
            q("0.0001").to_base_units(q("0.5")),
            Err(QuantityError::Inexact { .. })
        ));
        assert_eq!(q("1").to_base_units(Quantity::ZERO), Err(QuantityError::NotPositive));
    }

    #[test]
    fn arithmetic_never_wraps() {
        let max = Quantity::from_storage(i64::MAX);
        assert_eq!(max.checked_add(q("0.0001")), Err(QuantityError::OutOfRange));
        assert_eq!(
            Quantity::from_storage(i64::MIN).checked_neg(),
            Err(QuantityError::OutOfRange)
        );
        assert_eq!(Quantity::sum([q("1.5"), q("2.25"), q("-0.75")]).unwrap(), q("3"));
    }

    proptest! {
        #[test]
        fn wire_round_trips(v in -999_999_999_999_999_999i64..=999_999_999_999_999_999i64) {
            let x = Quantity::from_storage(v);
            prop_assert_eq!(Quantity::parse(&x.to_wire()).unwrap(), x);
        }

        #[test]
        fn conversions_round_trip(units in -1_000_000_000i64..=1_000_000_000i64, factor in 1i64..=100_000i64) {
            let x = Quantity::from_storage(units);
            let f = Quantity::from_storage(factor * FACTOR);
            let base = x.to_base_units(f).unwrap();
            prop_assert_eq!(base.from_base_units(f).unwrap(), x);
        }

        #[test]
        fn a_refused_conversion_is_never_a_rounded_one(v in 1i64..=1_000_000_000i64, factor in 2i64..=1000i64) {
            let f = Quantity::units(factor).unwrap();
            match Quantity::from_storage(v).from_base_units(f) {
                Ok(boxes) => prop_assert_eq!(boxes.to_base_units(f).unwrap(), Quantity::from_storage(v)),
                Err(e) => prop_assert!(matches!(e, QuantityError::Inexact { .. }), "{:?}", e),
            }
        }
    }
}
