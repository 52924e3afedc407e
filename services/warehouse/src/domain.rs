//! The warehouse's rules, without I/O: codes of its enums, a product's units and their exact
//! conversions, what each kind of document moves, a document's status moves, and the
//! moving-average valuation.

use crm_kit::quantity::{Quantity, QuantityError};
use crm_kit::transitions::{Move, Transitions};
use crm_proto::warehouse as pb;

/// The storage factor of quantities, costs and values (× 10^4).
const FACTOR: i128 = 10_000;

/// Which way a document moves stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
    Transfer,
    /// A stocktake's differences: signed lines, gains in and losses out.
    Adjustment,
    /// Off the shelves and onto loan, at the same warehouse.
    Loan,
    /// Off loan and back onto the shelves.
    LoanReturn,
    /// Off loan and out of the company's stock.
    LoanSale,
}

/// A document kind: its stored code, direction and number prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub code: &'static str,
    pub proto: pb::DocumentKind,
    pub direction: Direction,
}

/// Every kind of stock document.
pub const KINDS: &[Kind] = &[
    Kind {
        code: "opening",
        proto: pb::DocumentKind::Opening,
        direction: Direction::Inbound,
    },
    Kind {
        code: "purchase_receipt",
        proto: pb::DocumentKind::PurchaseReceipt,
        direction: Direction::Inbound,
    },
    Kind {
        code: "customer_return",
        proto: pb::DocumentKind::CustomerReturn,
        direction: Direction::Inbound,
    },
    Kind {
        code: "other_inbound",
        proto: pb::DocumentKind::OtherInbound,
        direction: Direction::Inbound,
    },
    Kind {
        code: "delivery",
        proto: pb::DocumentKind::Delivery,
        direction: Direction::Outbound,
    },
    Kind {
        code: "repair_parts",
        proto: pb::DocumentKind::RepairParts,
        direction: Direction::Outbound,
    },
    Kind {
        code: "material_issue",
        proto: pb::DocumentKind::MaterialIssue,
        direction: Direction::Outbound,
    },
    Kind {
        code: "other_outbound",
        proto: pb::DocumentKind::OtherOutbound,
        direction: Direction::Outbound,
    },
    Kind {
        code: "transfer",
        proto: pb::DocumentKind::Transfer,
        direction: Direction::Transfer,
    },
    Kind {
        code: "stocktake",
        proto: pb::DocumentKind::Stocktake,
        direction: Direction::Adjustment,
    },
    Kind {
        code: "loan_out",
        proto: pb::DocumentKind::LoanOut,
        direction: Direction::Loan,
    },
    Kind {
        code: "loan_return",
        proto: pb::DocumentKind::LoanReturn,
        direction: Direction::LoanReturn,
    },
    Kind {
        code: "loan_sale",
        proto: pb::DocumentKind::LoanSale,
        direction: Direction::LoanSale,
    },
];

/// The codes of every kind, for filters.
pub const KIND_CODES: &[&str] = &[
    "opening",
    "purchase_receipt",
    "customer_return",
    "other_inbound",
    "delivery",
    "repair_parts",
    "material_issue",
    "other_outbound",
    "transfer",
    "stocktake",
    "loan_out",
    "loan_return",
    "loan_sale",
];

impl Kind {
    /// The kind of a wire value (`None` for unspecified or unknown).
    pub fn of_proto(raw: i32) -> Option<Kind> {
        KINDS.iter().copied().find(|k| k.proto as i32 == raw)
    }

    /// The kind of a stored code.
    pub fn of_code(code: &str) -> Option<Kind> {
        KINDS.iter().copied().find(|k| k.code == code)
    }

    /// The numbering kind and pattern of its documents.
    pub fn number_pattern(self) -> (&'static str, &'static str) {
        match self.direction {
            Direction::Inbound => ("stock_in", "WH-IN-{YYYY}{MM}{DD}-{SEQ:4}"),
            Direction::Outbound => ("stock_out", "WH-OUT-{YYYY}{MM}{DD}-{SEQ:4}"),
            Direction::Transfer => ("stock_transfer", "WH-TR-{YYYY}{MM}{DD}-{SEQ:4}"),
            Direction::Adjustment => ("stock_adjustment", "WH-ADJ-{YYYY}{MM}{DD}-{SEQ:4}"),
            Direction::Loan => ("stock_loan", "WH-LN-{YYYY}{MM}{DD}-{SEQ:4}"),
            Direction::LoanReturn => ("stock_loan_return", "WH-LR-{YYYY}{MM}{DD}-{SEQ:4}"),
            Direction::LoanSale => ("stock_loan_sale", "WH-LS-{YYYY}{MM}{DD}-{SEQ:4}"),
        }
    }
}

/// A document's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    InTransit,
    Posted,
    Cancelled,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::InTransit => "in_transit",
            Status::Posted => "posted",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn of_code(code: &str) -> Status {
        match code {
            "in_transit" => Status::InTransit,
            "posted" => Status::Posted,
            "cancelled" => Status::Cancelled,
            _ => Status::Draft,
        }
    }

    pub fn proto(self) -> pb::DocumentStatus {
        match self {
            Status::Draft => pb::DocumentStatus::Draft,
            Status::InTransit => pb::DocumentStatus::InTransit,
            Status::Posted => pb::DocumentStatus::Posted,
            Status::Cancelled => pb::DocumentStatus::Cancelled,
        }
    }
}

/// The status codes, for filters.
pub const STATUS_CODES: &[&str] = &["draft", "in_transit", "posted", "cancelled"];

/// How a stock document's status moves.
pub const DOCUMENT: Transitions<Status> = Transitions {
    document: "stock document",
    reason: "DOCUMENT_STATUS_NOT_ALLOWED",
    name: Status::code,
    moves: &[
        Move {
            from: &[Status::Draft],
            to: Status::Posted,
        },
        Move {
            from: &[Status::Draft],
            to: Status::InTransit,
        },
        Move {
            from: &[Status::InTransit],
            to: Status::Posted,
        },
        Move {
            from: &[Status::Draft],
            to: Status::Cancelled,
        },
    ],
    refusals: &[
        (
            Status::Posted,
            Status::Cancelled,
            "a posted document is never changed; undo it with another document (a return, an inbound)",
        ),
        (
            Status::InTransit,
            Status::Cancelled,
            "the goods have left; receive the transfer, then transfer them back",
        ),
        (
            Status::Cancelled,
            Status::Posted,
            "a cancelled document cannot be posted; create a new one",
        ),
        (
            Status::Cancelled,
            Status::InTransit,
            "a cancelled document cannot be posted; create a new one",
        ),
    ],
};

/// A product's stock unit and its alternative units (`factor` stock units each).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Units {
    pub unit: String,
    pub alternatives: Vec<(String, Quantity)>,
}

/// Why a quantity in a unit could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitError {
    /// The product has no such unit.
    Unknown { unit: String, known: Vec<String> },
    /// The conversion into the stock unit is not exact (or out of range).
    Conversion(QuantityError),
}

impl Units {
    /// `quantity` of `unit` (empty: the stock unit) in stock units, exactly.
    pub fn to_stock(&self, quantity: Quantity, unit: &str) -> Result<Quantity, UnitError> {
        let unit = unit.trim();
        if unit.is_empty() || unit == self.unit {
            return Ok(quantity);
        }
        match self.alternatives.iter().find(|(name, _)| name == unit) {
            Some((_, factor)) => quantity.to_base_units(*factor).map_err(UnitError::Conversion),
            None => Err(UnitError::Unknown {
                unit: unit.to_string(),
                known: std::iter::once(self.unit.clone())
                    .chain(self.alternatives.iter().map(|(n, _)| n.clone()))
                    .collect(),
            }),
        }
    }

    /// The stock units one `unit` holds (1 for the stock unit).
    pub fn factor(&self, unit: &str) -> Option<Quantity> {
        let unit = unit.trim();
        if unit.is_empty() || unit == self.unit {
            return Quantity::units(1).ok();
        }
        self.alternatives.iter().find(|(n, _)| n == unit).map(|(_, f)| *f)
    }
}

/// `a × b / 10^4` rounded half away from zero (storage × storage → storage), or `None` when it
/// leaves the range of storage.
pub fn scaled_product(a: i64, b: i64) -> Option<i64> {
    let p = i128::from(a) * i128::from(b);
    let q = div_round(p, FACTOR);
    i64::try_from(q).ok()
}

/// `n / d` rounded half away from zero (`d` > 0).
fn div_round(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

/// The value of `quantity` at `unit_cost` per stock unit (both storage).
pub fn line_value(quantity: i64, unit_cost: i64) -> Option<i64> {
    scaled_product(quantity, unit_cost)
}

/// The moving-average cost per stock unit of a balance (storage), or `None` without stock.
pub fn average_cost(on_hand: i64, value: i64) -> Option<i64> {
    if on_hand <= 0 {
        return None;
    }
    i64::try_from(div_round(i128::from(value) * FACTOR, i128::from(on_hand))).ok()
}

/// The cost an outbound of `quantity` carries from a balance holding `on_hand` worth `value`
/// before it: its share of the value (all of it when it empties the balance, so no value is
/// left behind on nothing), or, past what is on hand (a warehouse that allows negative stock),
/// the rest at `last_unit_cost`.
pub fn outbound_cost(on_hand: i64, value: i64, last_unit_cost: i64, quantity: i64) -> Option<i64> {
    if on_hand > 0 && quantity <= on_hand {
        if quantity == on_hand {
            return Some(value);
        }
        let share = div_round(i128::from(value) * i128::from(quantity), i128::from(on_hand));
        return i64::try_from(share).ok();
    }
    // Past what is there: what is there at its value, the rest at the last known cost.
    let (held, held_value) = if on_hand > 0 { (on_hand, value) } else { (0, 0) };
    let rest = line_value(quantity - held, last_unit_cost)?;
    held_value.checked_add(rest)
}

/// The last cost to remember after a change: the new average while stock is positive, else
/// the previous one.
pub fn remembered_cost(on_hand: i64, value: i64, previous: i64) -> i64 {
    average_cost(on_hand, value).unwrap_or(previous)
}

/// A counterparty kind code.
pub fn counterparty_code(k: pb::CounterpartyKind) -> Option<&'static str> {
    match k {
        pb::CounterpartyKind::Customer => Some("customer"),
        pb::CounterpartyKind::Employee => Some("employee"),
        pb::CounterpartyKind::Supplier => Some("supplier"),
        pb::CounterpartyKind::Unspecified => None,
    }
}

pub fn counterparty_of(code: &str) -> pb::CounterpartyKind {
    match code {
        "customer" => pb::CounterpartyKind::Customer,
        "employee" => pb::CounterpartyKind::Employee,
        "supplier" => pb::CounterpartyKind::Supplier,
        _ => pb::CounterpartyKind::Unspecified,
    }
}

/// A product status code.
pub fn product_status_code(s: pb::ProductStatus) -> Option<&'static str> {
    match s {
        pb::ProductStatus::Active => Some("active"),
        pb::ProductStatus::Discontinued => Some("discontinued"),
        pb::ProductStatus::Unspecified => None,
    }
}

pub fn product_status_of(code: &str) -> pb::ProductStatus {
    match code {
        "discontinued" => pb::ProductStatus::Discontinued,
        _ => pb::ProductStatus::Active,
    }
}

/// A tracking code.
pub fn tracking_code(t: pb::Tracking) -> Option<&'static str> {
    match t {
        pb::Tracking::None => Some("none"),
        pb::Tracking::Serial => Some("serial"),
        pb::Tracking::Lot => Some("lot"),
        pb::Tracking::Unspecified => None,
    }
}

pub fn tracking_of(code: &str) -> pb::Tracking {
    match code {
        "serial" => pb::Tracking::Serial,
        "lot" => pb::Tracking::Lot,
        _ => pb::Tracking::None,
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
    fn units_convert_exactly_or_are_named() {
        let units = Units {
            unit: "piece".into(),
            alternatives: vec![("box".into(), q("12")), ("kg".into(), q("0.25"))],
        };
        assert_eq!(units.to_stock(q("3"), "box").unwrap(), q("36"));
        assert_eq!(units.to_stock(q("5"), "").unwrap(), q("5"));
        assert_eq!(units.to_stock(q("5"), "piece").unwrap(), q("5"));
        assert!(matches!(
            units.to_stock(q("1"), "pallet"),
            Err(UnitError::Unknown { unit, known }) if unit == "pallet" && known == ["piece", "box", "kg"]
        ));
        assert!(matches!(
            units.to_stock(q("0.0001"), "kg"),
            Err(UnitError::Conversion(QuantityError::Inexact { .. }))
        ));
    }

    #[test]
    fn moving_average_by_hand() {
        // 10 in at 5.00, 10 in at 8.00: 20 worth 130, average 6.50.
        let v = line_value(q("10").storage(), q("5").storage()).unwrap()
            + line_value(q("10").storage(), q("8").storage()).unwrap();
        assert_eq!(v, q("130").storage());
        assert_eq!(average_cost(q("20").storage(), v), Some(q("6.5").storage()));
        // 3 out of 20 worth 130 carry 19.50.
        assert_eq!(
            outbound_cost(q("20").storage(), v, 0, q("3").storage()),
            Some(q("19.5").storage())
        );
        // 1 out of 3 worth 10.00: 3.3333 (rounded), and the last one out takes the rest exactly.
        assert_eq!(
            outbound_cost(q("3").storage(), q("10").storage(), 0, q("1").storage()),
            Some(q("3.3333").storage())
        );
        assert_eq!(
            outbound_cost(q("1").storage(), q("3.3334").storage(), 0, q("1").storage()),
            Some(q("3.3334").storage())
        );
        // Past what is on hand: 2 held worth 10, 3 more at the last cost 4.
        assert_eq!(
            outbound_cost(q("2").storage(), q("10").storage(), q("4").storage(), q("5").storage()),
            Some(q("22").storage())
        );
        assert_eq!(
            outbound_cost(q("-1").storage(), q("-4").storage(), q("4").storage(), q("2").storage()),
            Some(q("8").storage())
        );
    }

    #[test]
    fn document_moves() {
        assert!(DOCUMENT.check(Status::Draft, Status::Posted, "d").is_ok());
        assert!(DOCUMENT.check(Status::InTransit, Status::Posted, "d").is_ok());
        assert!(DOCUMENT.check(Status::Posted, Status::Cancelled, "d").is_err());
        assert!(DOCUMENT.check(Status::Cancelled, Status::Posted, "d").is_err());
        for k in KINDS {
            assert_eq!(Kind::of_proto(k.proto as i32), Some(*k));
            assert_eq!(Kind::of_code(k.code), Some(*k));
            assert!(KIND_CODES.contains(&k.code));
        }
        assert_eq!(Kind::of_proto(0), None);
    }

    proptest! {
        /// However a balance is emptied, piece by piece, its value leaves with it: nothing is
        /// left on zero stock and nothing is taken twice.
        #[test]
        fn emptying_a_balance_takes_exactly_its_value(
            value in 0i64..=10_000_000_000,
            pieces in proptest::collection::vec(1i64..=50_000, 1..20),
        ) {
            let mut on_hand: i64 = pieces.iter().sum();
            let mut left = value;
            let mut taken = 0i64;
            for p in pieces {
                let cost = outbound_cost(on_hand, left, 0, p).unwrap();
                prop_assert!(cost >= 0 && cost <= left);
                left -= cost;
                taken += cost;
                on_hand -= p;
            }
            prop_assert_eq!(on_hand, 0);
            prop_assert_eq!(left, 0);
            prop_assert_eq!(taken, value);
        }
    }
}
