//! The salesperson's morning list: customers to contact today or tomorrow, overdue ones, those
//! not contacted or not ordering for N days, and contacts with a birthday this week. "Today"
//! is the business's day at the caller's UTC offset.

use crm_kit::auth::Principal;
use crm_kit::listing::{Direction, Keyset, Order, Position};
use crm_kit::time::{DAY_MICROS, civil_from_days, local_day_start, now_micros};
use crm_kit::{Error, Result};
use crm_proto::customers as pb;

use super::{CustomersApi, convert, scope};
use crate::store::customers::{self as store, CustomerRow};
use crate::store::reminders::{self, Owners};
use crm_kit::errors::reason;

/// The `MM-DD` of each day of the week (Monday to Sunday) containing local day `day`.
fn week_month_days(day: i64) -> Vec<String> {
    // 1970-01-01 was a Thursday: Monday is day index 0 when shifted by 3.
    let monday = day - (day + 3).rem_euclid(7);
    (0..7)
        .map(|i| {
            let (_, m, d) = civil_from_days(monday + i);
            format!("{m:02}-{d:02}")
        })
        .collect()
}

impl CustomersApi {
    /// ListReminders.
    pub async fn list_reminders(
        &self,
        caller: &Principal,
        req: pb::ListRemindersRequest,
    ) -> Result<pb::ListRemindersResponse> {
        let (kind, days, offset) = self.reminder_request(caller, &req)?;
        let clock = clock_sql(kind);
        let order = if kind == pb::ReminderKind::BirthdaysThisWeek {
            Order::by("k.birthday_md", "k.id", Direction::Ascending)
        } else {
            Order::by(clock, "c.id", Direction::Ascending)
        };
        let shape = format!("{} {days} {} {offset}", req.kind, req.team);
        let keyset = Keyset::open(
            &self.tokens,
            order,
            req.page_size,
            &req.page_token,
            &["reminders", &shape, &caller.employee_id],
        )?;
        let now = now_micros();
        let today = local_day_start(now, offset);

        // The team's list is the caller's scope (owned customers only); the caller's own list is
        // within it too.
        let reach = scope(caller);
        let owners = match req.team {
            true => Owners::Team,
            false => Owners::Of(&caller.employee_id),
        };
        let mut conn = self.conn().await?;
        if kind == pb::ReminderKind::BirthdaysThisWeek {
            let day_index = (today + i64::from(offset) * 60_000_000).div_euclid(DAY_MICROS);
            let page = reminders::birthdays(&mut conn, &keyset, &reach, owners, &week_month_days(day_index)).await?;
            let ids: Vec<String> = page.rows.iter().map(|b| b.contact.customer_id.clone()).collect();
            let customers = store::load_many(&mut conn, &ids).await?;
            let wire = convert::customers(&mut conn, &customers).await?;
            let reminders = page
                .rows
                .iter()
                .map(|b| pb::Reminder {
                    customer: wire.iter().find(|w| w.id == b.contact.customer_id).cloned(),
                    contact: Some(convert::contact(&b.contact)),
                })
                .collect();
            return Ok(pb::ListRemindersResponse {
                reminders,
                next_page_token: page.next_page_token,
            });
        }

        let (from, until) = match kind {
            pb::ReminderKind::Today => (Some(today), today + DAY_MICROS),
            pb::ReminderKind::Tomorrow => (Some(today + DAY_MICROS), today + 2 * DAY_MICROS),
            // Overdue: a follow-up was planned (the clock is above zero) and its time has passed.
            pb::ReminderKind::Overdue => (Some(1), now),
            _ => (None, today - i64::from(days) * DAY_MICROS),
        };
        let page = reminders::due(&mut conn, &keyset, &reach, owners, clock, from, until, |r| {
            Position::at(clock_of(kind, r), &r.id)
        })
        .await?;
        let wire = convert::customers(&mut conn, &page.rows).await?;
        Ok(pb::ListRemindersResponse {
            reminders: wire
                .into_iter()
                .map(|c| pb::Reminder {
                    customer: Some(c),
                    contact: None,
                })
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// A reminder request's kind, days (30 by default) and UTC offset (the business's by
    /// default), checked; a team list only for managers.
    fn reminder_request(
        &self,
        caller: &Principal,
        req: &pb::ListRemindersRequest,
    ) -> Result<(pb::ReminderKind, i32, i32)> {
        let kind = match pb::ReminderKind::try_from(req.kind) {
            Ok(pb::ReminderKind::Unspecified) => return Err(Error::required("kind")),
            Ok(k) => k,
            Err(_) => {
                return Err(Error::invalid(
                    "kind",
                    reason::UNKNOWN_ENUM_VALUE,
                    format!("{} is not a reminder kind", req.kind),
                ));
            }
        };
        let days = match req.days {
            0 => 30,
            d if (1..=3650).contains(&d) => d,
            _ => {
                return Err(Error::invalid(
                    "days",
                    reason::OUT_OF_RANGE,
                    "must be between 1 and 3650",
                ));
            }
        };
        let offset = req.utc_offset_minutes.unwrap_or(self.utc_offset_minutes);
        if !(-14 * 60..=14 * 60).contains(&offset) {
            return Err(Error::invalid(
                "utc_offset_minutes",
                reason::OUT_OF_RANGE,
                "must be between -840 and 840",
            ));
        }
        if req.team && !super::is_manager(caller) {
            return Err(Error::PermissionDenied {
                permission: "customers.reminder.team".into(),
            });
        }
        Ok((kind, days, offset))
    }
}

/// The time a reminder kind looks at, as SQL over customers `c`: the last contact (or the
/// creation) for "not contacted", the last order (or the creation) for "no order", else the
/// next planned follow-up.
fn clock_sql(kind: pb::ReminderKind) -> &'static str {
    match kind {
        pb::ReminderKind::NotContacted => {
            "(CASE WHEN c.last_follow_up_at > 0 THEN c.last_follow_up_at ELSE c.created_at END)"
        }
        pb::ReminderKind::NoOrder => "(CASE WHEN c.last_order_at > 0 THEN c.last_order_at ELSE c.created_at END)",
        _ => "c.next_follow_up_at",
    }
}

/// [`clock_sql`] of a row read.
fn clock_of(kind: pb::ReminderKind, r: &CustomerRow) -> i64 {
    let since = |at: i64| if at > 0 { at } else { r.created_at };
    match kind {
        pb::ReminderKind::NotContacted => since(r.last_follow_up_at),
        pb::ReminderKind::NoOrder => since(r.last_order_at),
        _ => r.next_follow_up_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_runs_monday_to_sunday() {
        // 2026-11-22 is a Sunday: its week is 11-16 .. 11-22.
        let day = crm_kit::time::days_from_civil(2026, 11, 22);
        assert_eq!(
            week_month_days(day),
            ["11-16", "11-17", "11-18", "11-19", "11-20", "11-21", "11-22"]
        );
        // A week across the new year.
        let day = crm_kit::time::days_from_civil(2026, 12, 31);
        assert_eq!(
            week_month_days(day),
            ["12-28", "12-29", "12-30", "12-31", "01-01", "01-02", "01-03"]
        );
    }
}
