//! Pure rules of the customers service: no I/O.
//!
//! - [`names`]: normalisation, duplicate keys, search grams, similarity.
//! - [`contact_info`]: tax id, website and coordinate parsers (phones, mobiles and e-mail
//!   addresses are the kit's [`crm_kit::fields`]).
//! - [`customer`]: the editable fields of a customer, parsed from the wire with every violation
//!   collected, and the diff that feeds the change history.
//! - [`pool`]: the public pool's rules (caps, cooldown, reclaim days, lock cap).
//! - [`codes`]: the stable text codes stored for enums.

use crm_kit::errors::reason;

pub mod codes;
pub mod contact_info;
pub mod customer;
pub mod names;
pub mod pool;

/// Names of the editable dictionaries.
pub const DICTIONARIES: &[&str] = &[
    "customer_type",
    "industry",
    "level",
    "source",
    "satisfaction",
    "service_type",
    "contact_method",
    "importance",
];

/// A required, length-limited, trimmed single-line text (no control characters).
pub fn required_text(field: &str, value: &str, max_chars: usize) -> crm_kit::Result<String> {
    crm_kit::text::required(field, value, max_chars, crm_kit::text::Lines::Single)
}

/// An optional, length-limited, trimmed single-line text (no control characters).
pub fn optional_text(field: &str, value: &str, max_chars: usize) -> crm_kit::Result<String> {
    crm_kit::text::optional(field, value, max_chars, crm_kit::text::Lines::Single)
}

/// A required, length-limited, trimmed note (line breaks and tabs allowed, no other control
/// characters).
pub fn required_notes(field: &str, value: &str, max_chars: usize) -> crm_kit::Result<String> {
    crm_kit::text::required(field, value, max_chars, crm_kit::text::Lines::Multi)
}

/// An optional, length-limited, trimmed note (line breaks and tabs allowed).
pub fn optional_notes(field: &str, value: &str, max_chars: usize) -> crm_kit::Result<String> {
    crm_kit::text::optional(field, value, max_chars, crm_kit::text::Lines::Multi)
}

/// Checks an optional `YYYY-MM-DD` date (or `--MM-DD` when `allow_no_year`).
pub fn optional_date(field: &str, value: &str, allow_no_year: bool) -> crm_kit::Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    if allow_no_year
        && let Some(md) = v.strip_prefix("--")
        && crm_kit::time::parse_date(&format!("2000-{md}")).is_some()
    {
        return Ok(v.to_string());
    }
    match crm_kit::time::parse_date(v) {
        Some(_) => Ok(v.to_string()),
        None => Err(crm_kit::Error::invalid(
            field,
            reason::MALFORMED,
            if allow_no_year {
                "must be a date YYYY-MM-DD (or --MM-DD without a year)"
            } else {
                "must be a date YYYY-MM-DD"
            },
        )),
    }
}

/// The `MM-DD` of a birthday (`YYYY-MM-DD` or `--MM-DD`), or "" when there is none.
pub fn month_day(birthday: &str) -> String {
    if let Some(md) = birthday.strip_prefix("--") {
        md.to_string()
    } else if birthday.len() == 10 {
        birthday[5..].to_string()
    } else {
        String::new()
    }
}

/// The delete guard: a customer with money owed either way, or with orders, stays (it can be
/// marked lost or dormant instead). The balances and order count are kept on the customer from
/// the finance and orders services' events.
pub fn delete_guard(
    customer_id: &str,
    receivable_balance: i64,
    payable_balance: i64,
    order_count: i64,
) -> crm_kit::Result<()> {
    let subject = format!("customers/{customer_id}");
    if receivable_balance != 0 {
        return Err(crm_kit::Error::precondition(
            "RECEIVABLE_BALANCE_NOT_ZERO",
            subject,
            "the customer has a receivable balance; settle it or mark the customer lost or dormant instead",
        ));
    }
    if payable_balance != 0 {
        return Err(crm_kit::Error::precondition(
            "PAYABLE_BALANCE_NOT_ZERO",
            subject,
            "the customer has a payable balance; settle it or mark the customer lost or dormant instead",
        ));
    }
    if order_count > 0 {
        return Err(crm_kit::Error::precondition(
            "CUSTOMER_HAS_ORDERS",
            subject,
            "the customer has orders; mark it lost or dormant instead",
        ));
    }
    Ok(())
}
