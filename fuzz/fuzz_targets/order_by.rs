//! `order_by` of a customer list: one sortable field, optionally `asc` or `desc`. Checked
//! against a model of the rule; the SQL column always comes from the service's own list.

#![no_main]

use crm_customers::api::customers::parse_order;
use libfuzzer_sys::fuzz_target;

const SORTABLE: &[&str] = &[
    "name",
    "create_time",
    "last_follow_up_time",
    "next_follow_up_time",
    "level_code",
];

fuzz_target!(|data: &[u8]| {
    let Ok(order_by) = std::str::from_utf8(data) else {
        return;
    };
    let words: Vec<&str> = order_by.split_whitespace().collect();
    let field = words.first().copied().unwrap_or("name");
    let expected = match words.get(1).copied() {
        _ if words.len() > 2 || order_by.contains(',') || !SORTABLE.contains(&field) => None,
        None | Some("asc") => Some(false),
        Some("desc") => Some(true),
        Some(_) => None,
    };
    match (parse_order(order_by), expected) {
        (Ok(order), Some(want)) => {
            assert_eq!(order.is_descending(), want, "{order_by:?}");
            // The same column as the field alone names: one from the list, never the text.
            let alone = parse_order(field).expect("a sortable field alone");
            assert!(std::ptr::eq(order.column(), alone.column()), "{order_by:?}");
            let spaced = parse_order(&format!(" \t{}  ", words.join("   "))).expect("the same, spaced");
            assert!(
                std::ptr::eq(order.column(), spaced.column()) && spaced.is_descending() == want,
                "{order_by:?}"
            );
        }
        (Err(crm_kit::Error::InvalidArgument(v)), None) => {
            assert_eq!(v.len(), 1, "{v:?}");
            assert_eq!(v[0].field, "order_by");
            assert!(matches!(v[0].reason, "MALFORMED" | "UNKNOWN_FIELD"), "{v:?}");
        }
        (got, want) => panic!("{order_by:?}: got {got:?}, the rule says {want:?}"),
    }
});
