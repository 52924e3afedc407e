//! The sales service's rules, without I/O: stored codes of the enums, which status moves are
//! allowed, the money an opportunity derives from its amounts, the report formulas (division
//! by zero is empty, never an error or infinity) and forecast periods.

use crm_kit::money::{from_storage, round_to_minor, to_storage, to_wire};
use crm_kit::transitions::{Move, Transitions};
use crm_proto::sales as pb;
use rust_decimal::Decimal;

/// Stored code of a lead source.
pub fn source_code(s: pb::LeadSource) -> &'static str {
    match s {
        pb::LeadSource::Event => "event",
        pb::LeadSource::PhoneInquiry => "phone_inquiry",
        pb::LeadSource::Referral => "referral",
        pb::LeadSource::WebsiteForm => "website_form",
        pb::LeadSource::Campaign => "campaign",
        pb::LeadSource::Import => "import",
        pb::LeadSource::Other | pb::LeadSource::Unspecified => "other",
    }
}

/// The lead source of a stored code.
pub fn source_of(code: &str) -> pb::LeadSource {
    match code {
        "event" => pb::LeadSource::Event,
        "phone_inquiry" => pb::LeadSource::PhoneInquiry,
        "referral" => pb::LeadSource::Referral,
        "website_form" => pb::LeadSource::WebsiteForm,
        "campaign" => pb::LeadSource::Campaign,
        "import" => pb::LeadSource::Import,
        _ => pb::LeadSource::Other,
    }
}

/// Stored code of a lead status.
pub fn lead_status_code(s: pb::LeadStatus) -> &'static str {
    match s {
        pb::LeadStatus::New | pb::LeadStatus::Unspecified => "new",
        pb::LeadStatus::Contacting => "contacting",
        pb::LeadStatus::Qualified => "qualified",
        pb::LeadStatus::Converted => "converted",
        pb::LeadStatus::Disqualified => "disqualified",
    }
}

/// The lead status of a stored code.
pub fn lead_status_of(code: &str) -> pb::LeadStatus {
    match code {
        "contacting" => pb::LeadStatus::Contacting,
        "qualified" => pb::LeadStatus::Qualified,
        "converted" => pb::LeadStatus::Converted,
        "disqualified" => pb::LeadStatus::Disqualified,
        _ => pb::LeadStatus::New,
    }
}

/// A lead's status name in messages.
fn lead_status_name(s: pb::LeadStatus) -> &'static str {
    match s {
        pb::LeadStatus::Unspecified => "unspecified",
        pb::LeadStatus::New => "new",
        pb::LeadStatus::Contacting => "contacting",
        pb::LeadStatus::Qualified => "qualified",
        pb::LeadStatus::Converted => "converted",
        pb::LeadStatus::Disqualified => "disqualified",
    }
}

/// The statuses SetLeadStatus moves between.
const OPEN_LEAD: &[pb::LeadStatus] = &[
    pb::LeadStatus::New,
    pb::LeadStatus::Contacting,
    pb::LeadStatus::Qualified,
    pb::LeadStatus::Disqualified,
];

/// SetLeadStatus's moves: an unconverted lead takes any open status (its own too); a converted
/// lead is final. Only ConvertLead converts, so no move leads into `converted`.
pub const LEAD_STATUS: Transitions<pb::LeadStatus> = Transitions {
    document: "lead",
    reason: "LEAD_CONVERTED",
    name: lead_status_name,
    moves: &[
        Move {
            from: OPEN_LEAD,
            to: pb::LeadStatus::New,
        },
        Move {
            from: OPEN_LEAD,
            to: pb::LeadStatus::Contacting,
        },
        Move {
            from: OPEN_LEAD,
            to: pb::LeadStatus::Qualified,
        },
        Move {
            from: OPEN_LEAD,
            to: pb::LeadStatus::Disqualified,
        },
    ],
    refusals: &[],
};

/// Stored code of an opportunity status.
pub fn opportunity_status_code(s: pb::OpportunityStatus) -> &'static str {
    match s {
        pb::OpportunityStatus::Open | pb::OpportunityStatus::Unspecified => "open",
        pb::OpportunityStatus::Won => "won",
        pb::OpportunityStatus::Lost => "lost",
        pb::OpportunityStatus::Terminated => "terminated",
    }
}

/// The opportunity status of a stored code.
pub fn opportunity_status_of(code: &str) -> pb::OpportunityStatus {
    match code {
        "won" => pb::OpportunityStatus::Won,
        "lost" => pb::OpportunityStatus::Lost,
        "terminated" => pb::OpportunityStatus::Terminated,
        _ => pb::OpportunityStatus::Open,
    }
}

/// An opportunity's status name in messages.
fn opportunity_status_name(s: pb::OpportunityStatus) -> &'static str {
    match s {
        pb::OpportunityStatus::Unspecified => "unspecified",
        pb::OpportunityStatus::Open => "open",
        pb::OpportunityStatus::Won => "won",
        pb::OpportunityStatus::Lost => "lost",
        pb::OpportunityStatus::Terminated => "terminated",
    }
}

/// SetOpportunityStatus's moves: an open deal closes as won, lost or terminated; a closed deal
/// is re-opened before it closes another way. (A lost deal also names its reason: a field rule,
/// checked by the handler.)
pub const OPPORTUNITY_STATUS: Transitions<pb::OpportunityStatus> = {
    use pb::OpportunityStatus::{Lost, Open, Terminated, Won};
    Transitions {
        document: "opportunity",
        reason: "STATUS_NOT_ALLOWED",
        name: opportunity_status_name,
        moves: &[
            Move { from: &[Open], to: Won },
            Move {
                from: &[Open],
                to: Lost,
            },
            Move {
                from: &[Open],
                to: Terminated,
            },
            Move {
                from: &[Won, Lost, Terminated],
                to: Open,
            },
        ],
        refusals: &[],
    }
};

/// Stored code of a forecast category.
pub fn forecast_code(c: pb::ForecastCategory) -> &'static str {
    match c {
        pb::ForecastCategory::Pipeline | pb::ForecastCategory::Unspecified => "pipeline",
        pb::ForecastCategory::BestCase => "best_case",
        pb::ForecastCategory::Commit => "commit",
        pb::ForecastCategory::Closed => "closed",
        pb::ForecastCategory::Omitted => "omitted",
    }
}

/// The forecast category of a stored code.
pub fn forecast_of(code: &str) -> pb::ForecastCategory {
    match code {
        "best_case" => pb::ForecastCategory::BestCase,
        "commit" => pb::ForecastCategory::Commit,
        "closed" => pb::ForecastCategory::Closed,
        "omitted" => pb::ForecastCategory::Omitted,
        _ => pb::ForecastCategory::Pipeline,
    }
}

/// Stored code of an activity method.
pub fn method_code(m: pb::ActivityMethod) -> &'static str {
    match m {
        pb::ActivityMethod::Phone => "phone",
        pb::ActivityMethod::Email => "email",
        pb::ActivityMethod::Im => "im",
        pb::ActivityMethod::Visit => "visit",
        pb::ActivityMethod::Meeting => "meeting",
        pb::ActivityMethod::Other | pb::ActivityMethod::Unspecified => "other",
    }
}

/// The activity method of a stored code.
pub fn method_of(code: &str) -> pb::ActivityMethod {
    match code {
        "phone" => pb::ActivityMethod::Phone,
        "email" => pb::ActivityMethod::Email,
        "im" => pb::ActivityMethod::Im,
        "visit" => pb::ActivityMethod::Visit,
        "meeting" => pb::ActivityMethod::Meeting,
        _ => pb::ActivityMethod::Other,
    }
}

/// The weighted (opportunity) amount: expected amount × probability ÷ 100, rounded to the
/// currency's minor unit (half away from zero). Storage units in and out.
pub fn weighted(expected_amount: i64, probability: i64, currency: &str) -> i64 {
    let d = from_storage(expected_amount) * Decimal::from(probability) / Decimal::from(100);
    let d = round_to_minor(d, currency).unwrap_or(d);
    to_storage(d).unwrap_or(0)
}

/// [`weighted`] as an SQL expression over integer columns `amount` and `probability`, so
/// reports sum it in the database: `amount × probability ÷ 100`, rounded half away from zero
/// to the currency's minor unit, in storage units. Integer division truncates towards zero in
/// both PostgreSQL and SQLite, which the rounding builds on.
pub fn weighted_sql(amount: &str, probability: &str, currency: &str) -> String {
    let places = crm_kit::money::minor_units(currency)
        .unwrap_or(2)
        .min(crm_kit::money::STORAGE_SCALE);
    // Storage units per minor unit, and the divisor that turns amount × probability into
    // minor units.
    let unit = 10i64.pow(crm_kit::money::STORAGE_SCALE - places);
    let divisor = 100 * unit;
    let half = divisor / 2;
    format!(
        "(CASE WHEN {amount} * {probability} >= 0 \
         THEN (({amount} * {probability} + {half}) / {divisor}) * {unit} \
         ELSE -(((-({amount} * {probability})) + {half}) / {divisor}) * {unit} END)"
    )
}

/// `part ÷ whole × 100` to two places, or `None` when `whole` is zero.
pub fn percent(part: i64, whole: i64) -> Option<Decimal> {
    if whole == 0 {
        return None;
    }
    Some((Decimal::from(part) * Decimal::from(100) / Decimal::from(whole)).round_dp(2))
}

/// A percentage as the wire shows it: `"12.5"`, or empty for `None`.
pub fn percent_text(p: Option<Decimal>) -> String {
    p.map(|d| d.normalize().to_string()).unwrap_or_default()
}

/// `total ÷ count` in storage units rounded to the minor unit, or `None` when `count` is zero.
pub fn average_amount(total: i64, count: i64, currency: &str) -> Option<i64> {
    if count == 0 {
        return None;
    }
    let d = from_storage(total) / Decimal::from(count);
    to_storage(round_to_minor(d, currency).unwrap_or(d)).ok()
}

/// Average days, to one place, or `None` when `count` is zero.
pub fn average_days(total_micros: i64, count: i64) -> Option<Decimal> {
    if count == 0 {
        return None;
    }
    Some((Decimal::from(total_micros) / Decimal::from(count) / Decimal::from(crm_kit::time::DAY_MICROS)).round_dp(1))
}

/// The money of one figure in a report: amount as the wire writes it.
pub fn money(currency: &str, storage: i64) -> crm_proto::common::Money {
    crm_proto::common::Money {
        currency_code: currency.to_string(),
        amount: to_wire(from_storage(storage)),
    }
}

/// The forecast period of a `YYYY-MM-DD` date: `YYYY-MM`, or `YYYY-Qn` by quarter.
pub fn period_of(date: &str, quarter: bool) -> Option<String> {
    let (y, m, _) = crm_kit::time::parse_date(date)?;
    Some(if quarter {
        format!("{y:04}-Q{}", (m - 1) / 3 + 1)
    } else {
        format!("{y:04}-{m:02}")
    })
}

/// Whether a quota period is well formed: `YYYY-MM` or `YYYY-Qn`.
pub fn valid_quota_period(p: &str) -> bool {
    let Some((y, rest)) = p.split_once('-') else {
        return false;
    };
    if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match rest.as_bytes() {
        [b'Q', q] => (b'1'..=b'4').contains(q),
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            let m = (a - b'0') * 10 + (b - b'0');
            (1..=12).contains(&m)
        }
        _ => false,
    }
}

/// Whether a probability is a percentage.
pub fn valid_probability(p: i32) -> bool {
    (0..=100).contains(&p)
}

/// Whether a deal is stuck at `now`: open, in a stage with a time limit, and in it for longer
/// than that limit allows.
pub fn stuck(status: &str, time_limit_days: i64, stage_entered_at: i64, now: i64) -> bool {
    status == "open" && time_limit_days > 0 && now - stage_entered_at > time_limit_days * crm_kit::time::DAY_MICROS
}

/// The SQL condition of [`stuck`] at `now`, over opportunities `o` joined to their stage `s`.
pub fn stuck_sql(now: i64) -> String {
    format!(
        "o.status = 'open' AND s.time_limit_days > 0 AND o.stage_entered_at < {now} - s.time_limit_days * {}",
        crm_kit::time::DAY_MICROS
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::OpportunityStatus as S;

    fn storage(s: &str) -> i64 {
        to_storage(s.parse().unwrap()).unwrap()
    }

    #[test]
    fn weighted_amount_rounds_half_away_from_zero_to_the_minor_unit() {
        assert_eq!(weighted(storage("1000"), 35, "CNY"), storage("350"));
        // 333.33 × 50% = 166.665 → 166.67
        assert_eq!(weighted(storage("333.33"), 50, "CNY"), storage("166.67"));
        assert_eq!(weighted(storage("100"), 0, "CNY"), 0);
        assert_eq!(weighted(storage("100"), 100, "CNY"), storage("100"));
    }

    #[test]
    fn percentages_and_averages_are_empty_on_zero() {
        assert_eq!(percent(30, 0), None);
        assert_eq!(percent_text(percent(30, 0)), "");
        assert_eq!(percent_text(percent(30, 120)), "25");
        assert_eq!(percent_text(percent(1, 3)), "33.33");
        assert_eq!(percent_text(percent(-50, 200)), "-25");
        assert_eq!(average_amount(storage("100"), 0, "CNY"), None);
        assert_eq!(average_amount(storage("100"), 3, "CNY"), Some(storage("33.33")));
        assert_eq!(average_days(0, 0), None);
        assert_eq!(
            average_days(3 * crm_kit::time::DAY_MICROS, 2).unwrap().to_string(),
            "1.5"
        );
    }

    #[test]
    fn status_moves() {
        let o = &OPPORTUNITY_STATUS;
        assert!(o.allows(S::Open, S::Won));
        assert!(o.allows(S::Open, S::Lost));
        assert!(o.allows(S::Won, S::Open));
        assert!(o.allows(S::Terminated, S::Open));
        assert!(!o.allows(S::Won, S::Lost));
        assert!(!o.allows(S::Open, S::Open));
        assert_eq!(
            o.refusal(S::Won, S::Lost).unwrap(),
            "a won opportunity cannot become lost; it can become open"
        );
        assert_eq!(o.refusal(S::Open, S::Open).unwrap(), "the opportunity is already open");
        use pb::LeadStatus as L;
        let l = &LEAD_STATUS;
        assert!(l.allows(L::New, L::Qualified));
        assert!(l.allows(L::Disqualified, L::New));
        assert!(l.allows(L::New, L::New));
        assert!(!l.allows(L::Qualified, L::Converted));
        assert!(!l.allows(L::Converted, L::New));
        assert_eq!(
            l.refusal(L::Converted, L::New).unwrap(),
            "a converted lead cannot change status"
        );
    }

    #[test]
    fn periods() {
        assert_eq!(period_of("2026-11-05", false).as_deref(), Some("2026-11"));
        assert_eq!(period_of("2026-11-05", true).as_deref(), Some("2026-Q4"));
        assert_eq!(period_of("2026-01-01", true).as_deref(), Some("2026-Q1"));
        assert_eq!(period_of("nope", true), None);
        for ok in ["2026-01", "2026-12", "2026-Q1", "2026-Q4"] {
            assert!(valid_quota_period(ok), "{ok}");
        }
        for bad in ["2026-13", "2026-00", "2026-Q5", "26-01", "2026-1", "2026"] {
            assert!(!valid_quota_period(bad), "{bad}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in [S::Open, S::Won, S::Lost, S::Terminated] {
            assert_eq!(opportunity_status_of(opportunity_status_code(s)), s);
        }
        for c in [
            pb::ForecastCategory::Pipeline,
            pb::ForecastCategory::BestCase,
            pb::ForecastCategory::Commit,
            pb::ForecastCategory::Closed,
            pb::ForecastCategory::Omitted,
        ] {
            assert_eq!(forecast_of(forecast_code(c)), c);
        }
        for s in [
            pb::LeadSource::Event,
            pb::LeadSource::PhoneInquiry,
            pb::LeadSource::Referral,
            pb::LeadSource::WebsiteForm,
            pb::LeadSource::Campaign,
            pb::LeadSource::Import,
            pb::LeadSource::Other,
        ] {
            assert_eq!(source_of(source_code(s)), s);
        }
    }
}
