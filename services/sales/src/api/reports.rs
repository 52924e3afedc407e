//! Quotas and the reports: the funnel, the forecast against quota, and the opportunity analysis
//! by customer or salesperson. Every report covers only the caller's data scope; every ratio
//! with a zero divisor is empty.

use std::collections::BTreeMap;

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::money::Money;
use crm_kit::sql::SqlBuf;
use crm_kit::time::{DAY_MICROS, now_micros};
use crm_kit::{Error, Result};
use crm_proto::sales as pb;

use super::{OPPORTUNITY_SCOPE, SERVICE, SalesApi};
use crate::domain::{self, money, percent, percent_text};
use crate::store::{self, QuotaRow};

/// The figures a report reads of one opportunity.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Figures {
    id: String,
    customer_id: String,
    owner_id: String,
    stage_id: String,
    status: String,
    forecast_category: String,
    probability: i64,
    expected_amount: i64,
    expected_cost: i64,
    planned_close_date: String,
    created_at: i64,
    closed_at: i64,
    stage_entered_at: i64,
}

const FIGURES: &str = "SELECT o.id, o.customer_id, o.owner_id, o.stage_id, o.status, o.forecast_category, o.probability, \
    o.expected_amount, o.expected_cost, o.planned_close_date, o.created_at, o.closed_at, o.stage_entered_at \
    FROM opportunities o WHERE 1 = 1";

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
                v.add(f, "MALFORMED", "must be a date YYYY-MM-DD");
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
            "OUT_OF_RANGE",
            "must not be before from_date",
        );
    }
    (from, to)
}

impl SalesApi {
    /// The caller's opportunities (in scope) matching `extra`.
    async fn figures(&self, caller: &Principal, extra: impl FnOnce(&mut SqlBuf)) -> Result<Vec<Figures>> {
        let mut q = SqlBuf::new(FIGURES);
        if let Some(scope) = caller.scope_filter(SERVICE, OPPORTUNITY_SCOPE) {
            q.push(" AND ").filter(&scope);
        }
        extra(&mut q);
        let mut conn = self.conn().await?;
        store::fetch(&mut conn, &q).await
    }

    pub async fn set_quota(&self, caller: &Principal, req: pb::SetQuotaRequest) -> Result<pb::SetQuotaResponse> {
        let Some(src) = req.quota else {
            return Err(Error::required("quota"));
        };
        let mut v = Violations::new();
        if !domain::valid_quota_period(src.period.trim()) {
            v.add("quota.period", "MALFORMED", "a month YYYY-MM or a quarter YYYY-Qn");
        }
        if src.subject_id.trim().is_empty() {
            v.add(
                "quota.subject_id",
                "REQUIRED",
                "an employee or (with department) a department id",
            );
        }
        let amount = match src.amount.as_ref().map(Money::from_proto) {
            None => {
                v.add("quota.amount", "REQUIRED", "is required");
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
                v.add("quota.amount.amount", "NEGATIVE", "must be 0 or more");
                0
            }
            Some(Ok(m)) => m.storage().unwrap_or(0),
            Some(Err(e)) => {
                v.add("quota.amount", "MALFORMED", e.to_string());
                0
            }
        };
        v.finish()?;
        let row = QuotaRow {
            period: src.period.trim().to_string(),
            subject_id: src.subject_id.trim().to_string(),
            is_department: i64::from(src.department),
            currency: self.currency.clone(),
            amount,
        };
        let mut tx = self.db.begin_write().await?;
        store::upsert_quota(&mut tx, &row, now_micros(), &caller.employee_id).await?;
        tx.commit().await?;
        Ok(pb::SetQuotaResponse {
            quota: Some(quota_proto(&row)),
        })
    }

    pub async fn list_quotas(&self, _caller: &Principal, req: pb::ListQuotasRequest) -> Result<pb::ListQuotasResponse> {
        let mut conn = self.conn().await?;
        let quotas = store::quotas(&mut conn, req.period_prefix.trim()).await?;
        Ok(pb::ListQuotasResponse {
            quotas: quotas.iter().map(quota_proto).collect(),
        })
    }

    pub async fn get_funnel(&self, caller: &Principal, req: pb::GetFunnelRequest) -> Result<pb::GetFunnelResponse> {
        let mut v = Violations::new();
        let (from, to) = created_bounds("period", req.period.as_ref(), &mut v);
        v.finish()?;
        let mut conn = self.conn().await?;
        let pipeline = store::pipeline(&mut conn, req.pipeline_id.trim())
            .await?
            .ok_or_else(|| Error::invalid("pipeline_id", "UNKNOWN_PIPELINE", "not a pipeline"))?;
        let stages = store::stages(&mut conn, &pipeline.id, false).await?;
        // The furthest stage each opportunity of the period ever reached.
        let mut reached = SqlBuf::new(
            "SELECT v.opportunity_id, CAST(MAX(s.position) AS BIGINT) FROM stage_visits v JOIN stages s ON s.id = v.stage_id \
             JOIN opportunities o ON o.id = v.opportunity_id WHERE o.pipeline_id = ",
        );
        reached.text(pipeline.id.clone());
        if let Some(scope) = caller.scope_filter(SERVICE, OPPORTUNITY_SCOPE) {
            reached.push(" AND ").filter(&scope);
        }
        push_bounds(&mut reached, from, to);
        reached.push(" GROUP BY v.opportunity_id");
        let furthest: BTreeMap<String, i64> = reached
            .query_as::<(String, i64)>()
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
        drop(conn);
        let rows = self
            .figures(caller, |q| {
                q.push(" AND o.pipeline_id = ").text(pipeline.id.clone());
                push_bounds(q, from, to);
            })
            .await?;
        let currency = self.currency.as_str();
        let entered = rows.len() as i64;
        let now = crm_kit::time::now_micros();
        let mut out = Vec::new();
        for s in &stages {
            let open: Vec<&Figures> = rows
                .iter()
                .filter(|r| r.status == "open" && r.stage_id == s.id)
                .collect();
            let reached_count = rows
                .iter()
                .filter(|r| r.status == "won" || furthest.get(&r.id).is_some_and(|p| *p >= s.position))
                .count() as i64;
            out.push(pb::FunnelStage {
                stage_id: s.id.clone(),
                stage_name: s.name.clone(),
                count: open.len() as i64,
                expected_amount: Some(money(currency, open.iter().map(|r| r.expected_amount).sum())),
                opportunity_amount: Some(money(
                    currency,
                    open.iter()
                        .map(|r| domain::weighted(r.expected_amount, r.probability, currency))
                        .sum(),
                )),
                reached_percent: percent_text(percent(reached_count, entered)),
                stuck_count: open
                    .iter()
                    .filter(|r| domain::stuck(&r.status, s.time_limit_days, r.stage_entered_at, now))
                    .count() as i64,
            });
        }
        let won: Vec<&Figures> = rows.iter().filter(|r| r.status == "won").collect();
        Ok(pb::GetFunnelResponse {
            stages: out,
            won_count: won.len() as i64,
            won_amount: Some(money(currency, won.iter().map(|r| r.expected_amount).sum())),
            lost_count: rows.iter().filter(|r| r.status == "lost").count() as i64,
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
            pb::ForecastPeriod::Unspecified => return Err(Error::invalid("period", "REQUIRED", "MONTH or QUARTER")),
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
        let rows = self
            .figures(caller, |q| {
                q.push(" AND o.status IN ('open', 'won') AND o.planned_close_date <> ''");
                if !range.from_date.trim().is_empty() {
                    q.push(" AND o.planned_close_date >= ").text(range.from_date.trim());
                }
                if !range.to_date.trim().is_empty() {
                    q.push(" AND o.planned_close_date <= ").text(range.to_date.trim());
                }
                if department {
                    q.push(" AND o.owner_department_path LIKE ")
                        .text(format!("%/{}/%", crm_kit::filter::like_escape(&subject)))
                        .push(" ESCAPE '\\'");
                } else {
                    q.push(" AND o.owner_id = ").text(subject.clone());
                }
            })
            .await?;
        let currency = self.currency.as_str();
        // (period, category) → (count, expected, weighted)
        let mut cells: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
        for r in &rows {
            let Some(period) = domain::period_of(&r.planned_close_date, quarter) else {
                continue;
            };
            let category = if r.status == "won" {
                "closed".to_string()
            } else {
                r.forecast_category.clone()
            };
            let cell = cells.entry((period, category)).or_default();
            cell.0 += 1;
            cell.1 += r.expected_amount;
            cell.2 += domain::weighted(r.expected_amount, r.probability, currency);
        }
        let mut conn = self.conn().await?;
        let quotas = store::quotas(&mut conn, "").await?;
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
                    return Err(Error::invalid("group_by", "REQUIRED", "CUSTOMER or SALESPERSON"));
                }
            };
        let mut v = Violations::new();
        let (from, to) = created_bounds("period", req.period.as_ref(), &mut v);
        v.finish()?;
        let stage = req.stage_id.trim().to_string();
        let rows = self
            .figures(caller, |q| {
                if !stage.is_empty() {
                    q.push(" AND o.stage_id = ").text(stage.clone());
                }
                push_bounds(q, from, to);
            })
            .await?;
        let currency = self.currency.as_str();
        let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
        let mut total = Tally::default();
        for r in &rows {
            let key = if by_customer { &r.customer_id } else { &r.owner_id };
            groups.entry(key.clone()).or_default().add(r, currency);
            total.add(r, currency);
        }
        Ok(pb::GetOpportunityAnalysisResponse {
            rows: groups.into_iter().map(|(k, t)| t.row(k, currency)).collect(),
            total: Some(total.row(String::new(), currency)),
        })
    }
}

impl SalesApi {
    pub async fn get_lead_conversion(
        &self,
        caller: &Principal,
        req: pb::GetLeadConversionRequest,
    ) -> Result<pb::GetLeadConversionResponse> {
        let key = match pb::LeadGrouping::try_from(req.group_by).unwrap_or(pb::LeadGrouping::Unspecified) {
            pb::LeadGrouping::Salesperson => "l.owner_id",
            pb::LeadGrouping::Source => "l.source",
            pb::LeadGrouping::Unspecified => {
                return Err(Error::invalid("group_by", "REQUIRED", "SALESPERSON or SOURCE"));
            }
        };
        let mut v = Violations::new();
        let (from, to) = created_bounds("period", req.period.as_ref(), &mut v);
        v.finish()?;
        let mut q = SqlBuf::new(&format!(
            "SELECT {key}, CAST(COUNT(*) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN l.status = 'converted' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN l.status = 'disqualified' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM leads l WHERE l.deleted_at IS NULL AND l.owner_id <> ''"
        ));
        if let Some(scope) = caller.scope_filter(SERVICE, super::LEAD_SCOPE) {
            q.push(" AND ").filter(&scope);
        }
        if let Some(f) = from {
            q.push(" AND l.created_at >= ").int(f);
        }
        if let Some(t) = to {
            q.push(" AND l.created_at < ").int(t);
        }
        q.push(&format!(" GROUP BY {key} ORDER BY {key}"));
        let mut conn = self.conn().await?;
        let groups: Vec<(String, i64, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
        let row = |key: String, leads: i64, converted: i64, disqualified: i64| pb::LeadConversionRow {
            key,
            leads,
            converted,
            disqualified,
            conversion_percent: percent_text(percent(converted, leads)),
        };
        let total = groups.iter().fold((0, 0, 0), |t, g| (t.0 + g.1, t.1 + g.2, t.2 + g.3));
        let by_source = key == "l.source";
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
                    return Err(Error::invalid("group_by", "REQUIRED", "CUSTOMER or SALESPERSON"));
                }
            };
        let mut v = Violations::new();
        let (from, to) = created_bounds("period", req.period.as_ref(), &mut v);
        v.finish()?;
        let mut q = SqlBuf::new(&format!(
            "SELECT {} FROM projects p WHERE 1 = 1",
            super::projects::PROJECT_COLUMNS
        ));
        if let Some(scope) = caller.scope_filter(SERVICE, super::projects::PROJECT_SCOPE) {
            q.push(" AND ").filter(&scope);
        }
        if let Some(f) = from {
            q.push(" AND p.created_at >= ").int(f);
        }
        if let Some(t) = to {
            q.push(" AND p.created_at < ").int(t);
        }
        let mut conn = self.conn().await?;
        let projects: Vec<super::projects::ProjectRow> = store::fetch(&mut conn, &q).await?;
        let currency = self.currency.as_str();
        let mut groups: BTreeMap<String, (Tally, i64, i64)> = BTreeMap::new();
        let mut total = (Tally::default(), 0i64, 0i64);
        for p in &projects {
            // A project's expected side is its opportunity's figures (it is neither won nor
            // lost again here).
            let figures = Figures {
                id: p.id.clone(),
                customer_id: p.customer_id.clone(),
                owner_id: p.owner_id.clone(),
                stage_id: p.stage_id.clone(),
                status: "project".into(),
                forecast_category: String::new(),
                probability: p.probability,
                expected_amount: p.expected_amount,
                expected_cost: p.expected_cost,
                planned_close_date: String::new(),
                created_at: p.created_at,
                closed_at: 0,
                stage_entered_at: 0,
            };
            let key = if by_customer { &p.customer_id } else { &p.owner_id };
            for g in [groups.entry(key.clone()).or_default(), &mut total] {
                g.0.add(&figures, currency);
                g.1 += p.actual_cost;
                g.2 += p.actual_sales;
            }
        }
        let row = |key: String, (tally, cost, sales): &(Tally, i64, i64)| pb::ProjectAnalysisRow {
            expected: Some(tally.row(key, currency)),
            actual_cost: Some(money(currency, *cost)),
            actual_sales: Some(money(currency, *sales)),
            actual_profit: Some(money(currency, sales - cost)),
            actual_margin_percent: percent_text(percent(sales - cost, *sales)),
        };
        Ok(pb::GetProjectAnalysisResponse {
            rows: groups.iter().map(|(k, g)| row(k.clone(), g)).collect(),
            total: Some(row(String::new(), &total)),
        })
    }
}

/// One snapshot row's key: owner, close month, category.
type SnapshotKey = (String, String, String);
/// One snapshot row's figures: owner's department path, count, expected, weighted.
type SnapshotCell = (String, i64, i64, i64);

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
    let rows: Vec<(String, String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT o.owner_id, o.owner_department_path, o.planned_close_date, o.status, o.forecast_category, o.probability, \
         o.expected_amount FROM opportunities o WHERE o.status IN ('open', 'won') AND o.planned_close_date <> ''",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut cells: BTreeMap<SnapshotKey, SnapshotCell> = BTreeMap::new();
    for (owner, path, date, status, category, probability, expected) in rows {
        let Some(period) = domain::period_of(&date, false) else {
            continue;
        };
        let category = if status == "won" {
            "closed".to_string()
        } else {
            category
        };
        let cell = cells
            .entry((owner, period, category))
            .or_insert_with(|| (path, 0, 0, 0));
        cell.1 += 1;
        cell.2 += expected;
        cell.3 += domain::weighted(expected, probability, currency);
    }
    sqlx::query("DELETE FROM forecast_snapshots WHERE week = $1")
        .bind(&week)
        .execute(&mut *conn)
        .await?;
    for ((owner, period, category), (path, count, expected, weighted)) in &cells {
        sqlx::query(
            "INSERT INTO forecast_snapshots (week, owner_id, owner_department_path, period, category, opportunity_count, \
             expected_amount, weighted_amount, taken_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&week)
        .bind(owner)
        .bind(path)
        .bind(period)
        .bind(category)
        .bind(count)
        .bind(expected)
        .bind(weighted)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok((week, cells.len() as i64))
}

/// Takes this week's snapshot unless one exists; run periodically.
pub async fn snapshot_if_due(db: &crm_kit::db::Db, currency: &str) -> Result<()> {
    let now = now_micros();
    let taken: Option<String> = sqlx::query_scalar("SELECT week FROM forecast_snapshots WHERE week = $1 LIMIT 1")
        .bind(week_of(now))
        .fetch_optional(&db.pool)
        .await?;
    if taken.is_some() {
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
        let mut q = SqlBuf::new(
            "SELECT f.week, f.period, f.category, CAST(SUM(f.opportunity_count) AS BIGINT), \
             CAST(SUM(f.expected_amount) AS BIGINT), CAST(SUM(f.weighted_amount) AS BIGINT) FROM forecast_snapshots f WHERE 1 = 1",
        );
        let scope = crm_kit::auth::ScopeColumns {
            owner: "f.owner_id",
            owner_department_path: "f.owner_department_path",
            collaborator: None,
        };
        if let Some(filter) = caller.scope_filter(SERVICE, scope) {
            q.push(" AND ").filter(&filter);
        }
        let subject = req.subject_id.trim();
        if !subject.is_empty() {
            if req.department {
                q.push(" AND f.owner_department_path LIKE ")
                    .text(format!("%/{}/%", crm_kit::filter::like_escape(subject)))
                    .push(" ESCAPE '\\'");
            } else {
                q.push(" AND f.owner_id = ").text(subject);
            }
        }
        if !req.period_prefix.trim().is_empty() {
            q.push(" AND f.period LIKE ")
                .text(format!("{}%", crm_kit::filter::like_escape(req.period_prefix.trim())))
                .push(" ESCAPE '\\'");
        }
        q.push(" GROUP BY f.week, f.period, f.category ORDER BY f.week, f.period, f.category");
        let mut conn = self.conn().await?;
        let rows: Vec<(String, String, String, i64, i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
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

/// Sums over a group of opportunities.
#[derive(Debug, Default)]
struct Tally {
    count: i64,
    cost: i64,
    sales: i64,
    weighted: i64,
    won: i64,
    lost: i64,
    won_amount: i64,
    won_cycle_micros: i64,
}

impl Tally {
    fn add(&mut self, r: &Figures, currency: &str) {
        self.count += 1;
        self.cost += r.expected_cost;
        self.sales += r.expected_amount;
        self.weighted += domain::weighted(r.expected_amount, r.probability, currency);
        match r.status.as_str() {
            "won" => {
                self.won += 1;
                self.won_amount += r.expected_amount;
                self.won_cycle_micros += (r.closed_at - r.created_at).max(0);
            }
            "lost" => self.lost += 1,
            _ => {}
        }
    }

    /// The report row, with the spec's formulas: profit = sales − cost, margin = profit ÷ sales
    /// × 100, opportunity profit = weighted − cost, its margin = that ÷ weighted × 100.
    fn row(&self, key: String, currency: &str) -> pb::AnalysisRow {
        let profit = self.sales - self.cost;
        let opportunity_profit = self.weighted - self.cost;
        pb::AnalysisRow {
            key,
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

/// `AND o.created_at >= from AND o.created_at < to` for the bounds given.
fn push_bounds(q: &mut SqlBuf, from: Option<i64>, to: Option<i64>) {
    if let Some(f) = from {
        q.push(" AND o.created_at >= ").int(f);
    }
    if let Some(t) = to {
        q.push(" AND o.created_at < ").int(t);
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
