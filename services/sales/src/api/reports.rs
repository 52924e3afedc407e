//! Quotas and the reports: the funnel, the forecast against quota, and the opportunity analysis
//! by customer or salesperson. Every report covers only the caller's data scope; every ratio
//! with a zero divisor is empty.

use std::collections::BTreeMap;

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::money::Money;
use crm_kit::time::{DAY_MICROS, now_micros};
use crm_kit::{Error, Result};
use crm_proto::sales as pb;

use super::{OPPORTUNITY_SCOPE, SalesApi};
use crate::domain::{self, money, percent, percent_text};
use crate::store;
use crate::store::reports::{ForecastSubject, QuotaRow, SnapshotCell, SnapshotKey, Tally};
use crm_kit::auth::ReadScope;
use crm_kit::errors::reason;

/// The microsecond bounds `[from, to)` of a date range (open ends: none).
fn created_bounds(field: &str, r: Option<&pb::DateRange>, v: &mut Violations) -> (Option<i64>, Option<i64>) {
    let Some(r) = r else {
        return (None, None);
    };
    let day = |f: &str, s: &str, v: &mut Violations| -> Option<i64> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match crm_kit::time::parse_date(s) {
            Some((y, m, d)) => Some(crm_kit::time::days_from_civil(y, m, d) * DAY_MICROS),
            None => {
                v.add(f, reason::MALFORMED, "must be a date YYYY-MM-DD");
                None
            }
        }
    };
    let from = day(&format!("{field}.from_date"), &r.from_date, v);
    let to = day(&format!("{field}.to_date"), &r.to_date, v).map(|d| d + DAY_MICROS);
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        v.add(
            format!("{field}.to_date"),
            reason::OUT_OF_RANGE,
            "must not be before from_date",
        );
    }
    (from, to)
}

impl SalesApi {
    pub async fn set_quota(&self, caller: &Principal, req: pb::SetQuotaRequest) -> Result<pb::SetQuotaResponse> {
        let Some(src) = req.quota else {
            return Err(Error::required("quota"));
        };
        let mut v = Violations::new();
        if !domain::valid_quota_period(src.period.trim()) {
            v.add(
                "quota.period",
                reason::MALFORMED,
                "a month YYYY-MM or a quarter YYYY-Qn",
            );
        }
        if src.subject_id.trim().is_empty() {
            v.add(
                "quota.subject_id",
                reason::REQUIRED,
                "an employee or (with department) a department id",
            );
        }
        let amount = match src.amount.as_ref().map(Money::from_proto) {
            None => {
                v.add("quota.amount", reason::REQUIRED, "is required");
                0
            }
            Some(Ok(m)) if m.currency != self.currency => {
                v.add(
                    "quota.amount.currency_code",
                    "UNSUPPORTED_CURRENCY",
                    format!("amounts are kept in {} for now", self.currency),
                );
                0
            }
            Some(Ok(m)) if m.amount.is_sign_negative() => {
                v.add("quota.amount.amount", reason::NEGATIVE, "must be 0 or more");
                0
            }
            Some(Ok(m)) => m.storage().unwrap_or(0),
            Some(Err(e)) => {
                v.add("quota.amount", reason::MALFORMED, e.to_string());
                0
            }
        };
        v.finish()?;
        let subject_id = src.subject_id.trim().to_string();
        // A quota is set for an active employee or a department within the caller's scope.
        let subject_department_path = if src.department {
            let path = self
                .directory
                .department_path(caller, "quota.subject_id", &subject_id)
                .await?;
            if !caller.covers(super::SERVICE, "", &path) {
                return Err(Error::invalid(
                    "quota.subject_id",
                    "OUT_OF_SCOPE",
                    format!("{subject_id} is outside your data scope"),
                ));
            }
            path
        } else {
            self.owner_path(caller, "quota.subject_id", &subject_id).await?
        };
        let row = QuotaRow {
            period: src.period.trim().to_string(),
            subject_id,
            is_department: i64::from(src.department),
            currency: self.currency.clone(),
            amount,
            subject_department_path,
        };
        let mut tx = self.db.begin_write().await?;
        store::reports::upsert_quota(&mut tx, &row, now_micros(), &caller.employee_id).await?;
        tx.commit().await?;
        Ok(pb::SetQuotaResponse {
            quota: Some(quota_proto(&row)),
        })
    }

    pub async fn list_quotas(&self, caller: &Principal, req: pb::ListQuotasRequest) -> Result<pb::ListQuotasResponse> {
        let mut conn = self.conn().await?;
        let scope = ReadScope::of(caller, &super::QUOTA_SCOPE);
        let quotas = store::reports::quotas(&mut conn, &scope, req.period_prefix.trim()).await?;
        Ok(pb::ListQuotasResponse {
            quotas: quotas.iter().map(quota_proto).collect(),
        })
    }

    pub async fn get_funnel(&self, caller: &Principal, req: pb::GetFunnelRequest) -> Result<pb::GetFunnelResponse> {
        let mut v = Violations::new();
        let (from, to) = created_bounds("period", req.period.as_ref(), &mut v);
        v.finish()?;
        let mut conn = self.conn().await?;
        let pipeline = store::pipelines::load(&mut conn, req.pipeline_id.trim())
            .await?
            .ok_or_else(|| Error::invalid("pipeline_id", "UNKNOWN_PIPELINE", "not a pipeline"))?;
        let stages = store::pipelines::stages(&mut conn, &pipeline.id, false).await?;
        let currency = self.currency.as_str();
        let scope = ReadScope::of(caller, &OPPORTUNITY_SCOPE);
        let cells = store::reports::funnel(&mut conn, &scope, &pipeline.id, (from, to), currency, now_micros()).await?;
        let entered: i64 = cells.iter().map(|c| c.3).sum();
        let of_status = |name: &str| {
            cells
                .iter()
                .filter(|c| c.0 == name)
                .fold((0, 0), |(n, amount), c| (n + c.3, amount + c.4))
        };
        let (won_count, won_amount) = of_status("won");
        let mut out = Vec::new();
        for s in &stages {
            let (mut count, mut expected, mut weighted, mut stuck) = (0, 0, 0, 0);
            for c in cells.iter().filter(|c| c.0 == "open" && c.1 == s.id) {
                count += c.3;
                expected += c.4;
                weighted += c.5;
                stuck += c.6;
            }
            // Won deals reached every stage; the others as far as their history says.
            let reached: i64 = cells
                .iter()
                .filter(|c| c.0 == "won" || c.2 >= s.position)
                .map(|c| c.3)
                .sum();
            out.push(pb::FunnelStage {
                stage_id: s.id.clone(),
                stage_name: s.name.clone(),
                count,
                expected_amount: Some(money(currency, expected)),
                opportunity_amount: Some(money(currency, weighted)),
                reached_percent: percent_text(percent(reached, entered)),
                stuck_count: stuck,
            });
        }
        Ok(pb::GetFunnelResponse {
            stages: out,
            won_count,
            won_amount: Some(money(currency, won_amount)),
            lost_count: of_status("lost").0,
        })
    }

    pub async fn get_forecast(
        &self,
        caller: &Principal,
        req: pb::GetForecastRequest,
    ) -> Result<pb::GetForecastResponse> {
        let quarter = match pb::ForecastPeriod::try_from(req.period).unwrap_or(pb::ForecastPeriod::Unspecified) {
            pb::ForecastPeriod::Quarter => true,
            pb::ForecastPeriod::Month => false,
            pb::ForecastPeriod::Unspecified => {
                return Err(Error::invalid("period", reason::REQUIRED, "MONTH or QUARTER"));
            }
        };
        let mut v = Violations::new();
        let range = req.range.clone().unwrap_or_default();
        for (f, d) in [("range.from_date", &range.from_date), ("range.to_date", &range.to_date)] {
            super::check_date(f, d, false, &mut v);
        }
        v.finish()?;
        let (subject, department) = if req.subject_id.trim().is_empty() {
            (caller.employee_id.clone(), false)
        } else {
            (req.subject_id.trim().to_string(), req.department)
        };
        let currency = self.currency.as_str();
        let of = if department {
            ForecastSubject::Department(&subject)
        } else {
            ForecastSubject::Employee(&subject)
        };
        let mut conn = self.conn().await?;
        // (close month, category) → (count, expected, weighted), summed by the database.
        let months = store::reports::forecast(
            &mut conn,
            &ReadScope::of(caller, &OPPORTUNITY_SCOPE),
            of,
            (range.from_date.trim(), range.to_date.trim()),
            currency,
        )
        .await?;
        // (period, category) → (count, expected, weighted)
        let mut cells: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
        for (month, category, count, expected, weighted) in months {
            let Some(period) = domain::period_of(&format!("{month}-01"), quarter) else {
                continue;
            };
            let cell = cells.entry((period, category)).or_default();
            cell.0 += count;
            cell.1 += expected;
            cell.2 += weighted;
        }
        let quotas = store::reports::quotas(&mut conn, &ReadScope::of(caller, &super::QUOTA_SCOPE), "").await?;
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        let mut out = Vec::new();
        for ((period, category), (count, expected, weighted)) in &cells {
            if category != "omitted" {
                *totals.entry(period.clone()).or_default() += weighted;
            }
            out.push(pb::ForecastRow {
                period: period.clone(),
                category: domain::forecast_of(category) as i32,
                count: *count,
                expected_amount: Some(money(currency, *expected)),
                opportunity_amount: Some(money(currency, *weighted)),
            });
        }
        let totals = totals
            .into_iter()
            .map(|(period, weighted)| {
                let quota = quotas
                    .iter()
                    .find(|q| q.period == period && q.subject_id == subject && (q.is_department == 1) == department);
                pb::ForecastPeriodTotal {
                    opportunity_amount: Some(money(currency, weighted)),
                    quota: quota.map(|q| money(currency, q.amount)),
                    attainment_percent: percent_text(quota.and_then(|q| percent(weighted, q.amount))),
                    period,
                }
            })
            .collect();
        Ok(pb::GetForecastResponse { rows: out, totals })
    }

    pub async fn get_opportunity_analysis(
        &self,
        caller: &Principal,
        req: pb::GetOpportunityAnalysisRequest,
    ) -> Result<pb::GetOpportunityAnalysisResponse> {
        let by_customer =
            match pb::AnalysisGrouping::try_from(req.group_by).unwrap_or(pb::AnalysisGrouping::Unspecified) {
                pb::AnalysisGrouping::Customer => true,
                pb::AnalysisGrouping::Salesperson => false,
                pb::AnalysisGrouping::Unspecified => {
                    return Err(Error::invalid("group_by", reason::REQUIRED, "CUSTOMER or SALESPERSON"));
                }
            };
        let mut v = Violations::new();
        let (from, to) = created_bounds("period", req.period.as_ref(), &mut v);
        v.finish()?;
        let stage = req.stage_id.trim().to_string();
        let currency = self.currency.as_str();
        let mut conn = self.conn().await?;
        let mut groups = store::reports::opportunity_tallies(
            &mut conn,
            &ReadScope::of(caller, &OPPORTUNITY_SCOPE),
            by_customer,
            &stage,
            (from, to),
            currency,
        )
        .await?;
        groups.sort_by(|a, b| a.key.cmp(&b.key));
        let mut total = Tally::default();
        for g in &groups {
            total.absorb(g);
        }
        Ok(pb::GetOpportunityAnalysisResponse {
            rows: groups.iter().map(|t| t.row(currency)).collect(),
            total: Some(total.row(currency)),
        })
    }
}

impl SalesApi {
    pub async fn get_lead_conversion(
        &self,
        caller: &Principal,
        req: pb::GetLeadConversionRequest,
    ) -> Result<pb::GetLeadConversionResponse> {
        let by_source = match pb::LeadGrouping::try_from(req.group_by).unwrap_or(pb::LeadGrouping::Unspecified) {
            pb::LeadGrouping::Salesperson => false,
            pb::LeadGrouping::Source => true,
            pb::LeadGrouping::Unspecified => {
                return Err(Error::invalid("group_by", reason::REQUIRED, "SALESPERSON or SOURCE"));
            }
        };
        let mut v = Violations::new();
        let (from, to) = created_bounds("period", req.period.as_ref(), &mut v);
        v.finish()?;
        let mut conn = self.conn().await?;
        let groups = store::reports::lead_conversion(
            &mut conn,
            &ReadScope::of(caller, &super::LEAD_SCOPE),
            by_source,
            (from, to),
        )
        .await?;
        let row = |key: String, leads: i64, converted: i64, disqualified: i64| pb::LeadConversionRow {
            key,
            leads,
            converted,
            disqualified,
            conversion_percent: percent_text(percent(converted, leads)),
        };
        let total = groups.iter().fold((0, 0, 0), |t, g| (t.0 + g.1, t.1 + g.2, t.2 + g.3));
        Ok(pb::GetLeadConversionResponse {
            rows: groups
                .into_iter()
                .map(|(k, n, c, d)| {
                    let k = if by_source {
                        domain::source_of(&k).as_str_name().to_string()
                    } else {
                        k
                    };
                    row(k, n, c, d)
                })
                .collect(),
            total: Some(row(String::new(), total.0, total.1, total.2)),
        })
    }
}

impl SalesApi {
    pub async fn get_project_analysis(
        &self,
        caller: &Principal,
        req: pb::GetProjectAnalysisRequest,
    ) -> Result<pb::GetProjectAnalysisResponse> {
        let by_customer =
            match pb::AnalysisGrouping::try_from(req.group_by).unwrap_or(pb::AnalysisGrouping::Unspecified) {
                pb::AnalysisGrouping::Customer => true,
                pb::AnalysisGrouping::Salesperson => false,
                pb::AnalysisGrouping::Unspecified => {
                    return Err(Error::invalid("group_by", reason::REQUIRED, "CUSTOMER or SALESPERSON"));
                }
            };
        let mut v = Violations::new();
        let (from, to) = created_bounds("period", req.period.as_ref(), &mut v);
        v.finish()?;
        let currency = self.currency.as_str();
        let mut conn = self.conn().await?;
        let sums = store::reports::project_sums(
            &mut conn,
            &ReadScope::of(caller, &super::PROJECT_SCOPE),
            by_customer,
            (from, to),
            currency,
        )
        .await?;
        let mut groups: BTreeMap<String, (Tally, i64, i64)> = BTreeMap::new();
        let mut total = (Tally::default(), 0i64, 0i64);
        for (key, count, cost, sales, weighted, actual_cost, actual_sales) in sums {
            let tally = Tally {
                key: key.clone(),
                count,
                cost,
                sales,
                weighted,
                ..Tally::default()
            };
            total.0.absorb(&tally);
            total.1 += actual_cost;
            total.2 += actual_sales;
            groups.insert(key, (tally, actual_cost, actual_sales));
        }
        let row = |(tally, cost, sales): &(Tally, i64, i64)| pb::ProjectAnalysisRow {
            expected: Some(tally.row(currency)),
            actual_cost: Some(money(currency, *cost)),
            actual_sales: Some(money(currency, *sales)),
            actual_profit: Some(money(currency, sales - cost)),
            actual_margin_percent: percent_text(percent(sales - cost, *sales)),
        };
        Ok(pb::GetProjectAnalysisResponse {
            rows: groups.values().map(row).collect(),
            total: Some(row(&total)),
        })
    }
}

/// The Monday (`YYYY-MM-DD`, UTC) of the week holding `now`.
pub(crate) fn week_of(now: i64) -> String {
    let days = now.div_euclid(DAY_MICROS);
    // 1970-01-01 was a Thursday: days since the Monday before it, modulo 7.
    let monday = days - (days + 3).rem_euclid(7);
    let (y, m, d) = crm_kit::time::civil_from_days(monday);
    crm_kit::time::format_date(y, m, d)
}

/// Takes the forecast snapshot of the week holding `now` (replacing one taken earlier that
/// week) inside the caller's transaction; the rows written.
pub(crate) async fn snapshot_forecast(
    conn: &mut sqlx::AnyConnection,
    currency: &str,
    now: i64,
) -> Result<(String, i64)> {
    let week = week_of(now);
    let rows = store::reports::forecast_by_owner(conn, currency).await?;
    let mut cells: BTreeMap<SnapshotKey, SnapshotCell> = BTreeMap::new();
    for (owner, path, month, category, count, expected, weighted) in rows {
        let Some(period) = domain::period_of(&format!("{month}-01"), false) else {
            continue;
        };
        cells.insert((owner, period, category), (path, count, expected, weighted));
    }
    store::reports::replace_snapshot(conn, &week, &cells, now).await?;
    Ok((week, cells.len() as i64))
}

/// Takes this week's snapshot unless one exists; run periodically.
pub async fn snapshot_if_due(db: &crm_kit::db::Db, currency: &str) -> Result<()> {
    let now = now_micros();
    if store::reports::snapshot_taken(db, &week_of(now)).await? {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    let (week, rows) = snapshot_forecast(&mut tx, currency, now).await?;
    tx.commit().await?;
    tracing::info!(week, rows, "weekly forecast snapshot taken");
    Ok(())
}

impl SalesApi {
    pub async fn take_forecast_snapshot(
        &self,
        _caller: &Principal,
        _req: pb::TakeForecastSnapshotRequest,
    ) -> Result<pb::TakeForecastSnapshotResponse> {
        let mut tx = self.db.begin_write().await?;
        let (week, rows) = snapshot_forecast(&mut tx, &self.currency, now_micros()).await?;
        tx.commit().await?;
        Ok(pb::TakeForecastSnapshotResponse { week, rows })
    }

    pub async fn list_forecast_snapshots(
        &self,
        caller: &Principal,
        req: pb::ListForecastSnapshotsRequest,
    ) -> Result<pb::ListForecastSnapshotsResponse> {
        let subject = req.subject_id.trim();
        let of = match (subject.is_empty(), req.department) {
            (true, _) => None,
            (false, true) => Some(ForecastSubject::Department(subject)),
            (false, false) => Some(ForecastSubject::Employee(subject)),
        };
        let mut conn = self.conn().await?;
        let rows = store::reports::snapshots(
            &mut conn,
            &ReadScope::of(caller, &super::SNAPSHOT_SCOPE),
            of,
            req.period_prefix.trim(),
        )
        .await?;
        let currency = self.currency.as_str();
        Ok(pb::ListForecastSnapshotsResponse {
            rows: rows
                .into_iter()
                .map(
                    |(week, period, category, count, expected, weighted)| pb::ForecastSnapshotRow {
                        week,
                        period,
                        category: domain::forecast_of(&category) as i32,
                        count,
                        expected_amount: Some(money(currency, expected)),
                        opportunity_amount: Some(money(currency, weighted)),
                    },
                )
                .collect(),
        })
    }
}

impl Tally {
    /// Adds another group's sums (for the total).
    fn absorb(&mut self, other: &Tally) {
        self.count += other.count;
        self.cost += other.cost;
        self.sales += other.sales;
        self.weighted += other.weighted;
        self.won += other.won;
        self.lost += other.lost;
        self.won_amount += other.won_amount;
        self.won_cycle_micros += other.won_cycle_micros;
    }

    /// The report row, with the spec's formulas: profit = sales − cost, margin = profit ÷ sales
    /// × 100, opportunity profit = weighted − cost, its margin = that ÷ weighted × 100.
    fn row(&self, currency: &str) -> pb::AnalysisRow {
        let profit = self.sales - self.cost;
        let opportunity_profit = self.weighted - self.cost;
        pb::AnalysisRow {
            key: self.key.clone(),
            count: self.count,
            expected_cost: Some(money(currency, self.cost)),
            expected_sales: Some(money(currency, self.sales)),
            opportunity_amount: Some(money(currency, self.weighted)),
            expected_profit: Some(money(currency, profit)),
            expected_margin_percent: percent_text(percent(profit, self.sales)),
            opportunity_profit: Some(money(currency, opportunity_profit)),
            opportunity_margin_percent: percent_text(percent(opportunity_profit, self.weighted)),
            won_count: self.won,
            lost_count: self.lost,
            win_rate_percent: percent_text(percent(self.won, self.won + self.lost)),
            average_deal_size: domain::average_amount(self.won_amount, self.won, currency).map(|a| money(currency, a)),
            average_cycle_days: domain::average_days(self.won_cycle_micros, self.won)
                .map(|d| d.normalize().to_string())
                .unwrap_or_default(),
        }
    }
}

fn quota_proto(q: &QuotaRow) -> pb::Quota {
    pb::Quota {
        period: q.period.clone(),
        subject_id: q.subject_id.clone(),
        department: q.is_department == 1,
        amount: Some(money(&q.currency, q.amount)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn weeks_start_on_monday() {
        let day = |y, m, d| crm_kit::time::days_from_civil(y, m, d) * crm_kit::time::DAY_MICROS;
        // 2026-11-23 is a Monday; the whole week maps to it.
        assert_eq!(super::week_of(day(2026, 11, 23)), "2026-11-23");
        assert_eq!(super::week_of(day(2026, 11, 29) + 86_399_000_000), "2026-11-23");
        assert_eq!(super::week_of(day(2026, 11, 30)), "2026-11-30");
        // Across a year end.
        assert_eq!(super::week_of(day(2027, 1, 1)), "2026-12-28");
        // The epoch's own week (1970-01-01 was a Thursday).
        assert_eq!(super::week_of(0), "1969-12-29");
    }
}
