//! Opportunities: amounts and the weighted amount, audit, won/lost/terminated and re-open,
//! stage moves with their history (time in stage, stuck flags), and activities, which complete
//! in order, freeze once complete and back-fill the opportunity.

use crm_kit::auth::Principal;
use crm_kit::auth::ReadScope;
use crm_kit::errors::Violations;
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Keyset, Position};
use crm_kit::time::{DAY_MICROS, now_micros};
use crm_kit::update::{check_etag, etag, mask_paths};
use crm_kit::{Error, Result};
use crm_proto::customers as cpb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::sales as pb;
use sqlx::AnyConnection;

use super::{CHANGES, OPPORTUNITY_SCOPE, SERVICE, SalesApi, audit, check_date, check_notes, check_text};
use crate::domain;
use crate::store;
use crate::store::leads::LeadRow;
use crate::store::opportunities::{ActivityRow, OpportunityRow};
use crate::store::pipelines::StageRow;
use crm_kit::errors::reason;
use crm_kit::history::Changes;

pub const OPPORTUNITY: &str = "crm.sales.v1.Opportunity";
pub const ACTIVITY: &str = "crm.sales.v1.Activity";

const OPPORTUNITY_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "status",
        column: "o.status",
        ty: FieldType::Enum(&["open", "won", "lost", "terminated"]),
    },
    FieldSpec {
        name: "stage_id",
        column: "o.stage_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "pipeline_id",
        column: "o.pipeline_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "customer_id",
        column: "o.customer_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "owner_id",
        column: "o.owner_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "forecast_category",
        column: "o.forecast_category",
        ty: FieldType::Enum(&["pipeline", "best_case", "commit", "closed", "omitted"]),
    },
    FieldSpec {
        name: "planned_close_date",
        column: "o.planned_close_date",
        ty: FieldType::Date,
    },
    FieldSpec {
        name: "create_time",
        column: "o.created_at",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "audited",
        column: "o.audited",
        ty: FieldType::Bool,
    },
];

const EDITABLE: &[&str] = &[
    "subject",
    "contact_id",
    "stage_id",
    "probability",
    "expected_amount",
    "expected_cost",
    "start_date",
    "planned_close_date",
    "forecast_category",
    "competitor",
    "remark",
];
const SERVER_OWNED: &[&str] = &[
    "id",
    "customer_id",
    "owner_id",
    "pipeline_id",
    "opportunity_amount",
    "expected_profit",
    "actual_close_date",
    "status",
    "lost_reason",
    "audited",
    "stage_enter_time",
    "stuck",
    "lead_id",
    "audit",
    "etag",
];

/// Whether an open opportunity has stayed longer in its stage than the stage allows.
fn stuck(o: &OpportunityRow, now: i64) -> bool {
    domain::stuck(&o.status, o.time_limit_days, o.stage_entered_at, now)
}

/// The wire form of an opportunity at `now` (for the stuck flag).
pub(crate) fn opportunity_proto(o: &OpportunityRow, now: i64) -> pb::Opportunity {
    let money = |v: i64| Some(domain::money(&o.currency, v));
    pb::Opportunity {
        id: o.id.clone(),
        subject: o.subject.clone(),
        customer_id: o.customer_id.clone(),
        contact_id: o.contact_id.clone(),
        owner_id: o.owner_id.clone(),
        pipeline_id: o.pipeline_id.clone(),
        stage_id: o.stage_id.clone(),
        probability: o.probability as i32,
        expected_amount: money(o.expected_amount),
        expected_cost: money(o.expected_cost),
        opportunity_amount: money(domain::weighted(o.expected_amount, o.probability, &o.currency)),
        expected_profit: money(o.expected_amount - o.expected_cost),
        start_date: o.start_date.clone(),
        planned_close_date: o.planned_close_date.clone(),
        actual_close_date: o.actual_close_date.clone(),
        forecast_category: domain::forecast_of(&o.forecast_category) as i32,
        competitor: o.competitor.clone(),
        remark: o.remark.clone(),
        status: domain::opportunity_status_of(&o.status) as i32,
        lost_reason: o.lost_reason.clone(),
        audited: o.audited == 1,
        stage_enter_time: crm_kit::time::set_to_proto(o.stage_entered_at),
        stuck: stuck(o, now),
        lead_id: o.lead_id.clone(),
        audit: Some(audit(o.created_at, &o.created_by, o.updated_at, &o.updated_by)),
        etag: etag(o.version),
    }
}

fn activity_proto(a: &ActivityRow, currency: &str) -> pb::Activity {
    pb::Activity {
        id: a.id.clone(),
        opportunity_id: a.opportunity_id.clone(),
        sequence: a.sequence as i32,
        method: domain::method_of(&a.method) as i32,
        activity_time: crm_kit::time::set_to_proto(a.activity_at),
        summary: a.summary.clone(),
        stage_id: a.stage_id.clone(),
        probability: a.probability as i32,
        expected_amount: Some(domain::money(currency, a.expected_amount)),
        expected_cost: Some(domain::money(currency, a.expected_cost)),
        planned_close_date: a.planned_close_date.clone(),
        completed: a.completed == 1,
        complete_time: crm_kit::time::set_to_proto(a.completed_at),
        audit: Some(audit(a.created_at, &a.created_by, a.updated_at, &a.updated_by)),
        etag: etag(a.version),
    }
}

/// Today's date (UTC), for closing dates.
fn today(now: i64) -> String {
    let (y, m, d) = crm_kit::time::civil_from_days(now.div_euclid(DAY_MICROS));
    crm_kit::time::format_date(y, m, d)
}

/// Where the opportunity's fields changed between `before` and `after`, as its history shows
/// them (amounts as decimals).
fn opportunity_changes(before: &OpportunityRow, after: &OpportunityRow) -> Changes {
    let mut changes = crm_kit::changed_fields!(before, after; subject, customer_id, contact_id, owner_id,
        pipeline_id, stage_id, probability, currency, start_date, planned_close_date, actual_close_date,
        forecast_category, competitor, remark, status, lost_reason, audited, converted_to);
    let amount = |v: i64| crm_kit::money::to_wire(crm_kit::money::from_storage(v));
    changes
        .field(
            "expected_amount",
            amount(before.expected_amount),
            amount(after.expected_amount),
        )
        .field(
            "expected_cost",
            amount(before.expected_cost),
            amount(after.expected_cost),
        );
    changes
}

impl SalesApi {
    /// An amount in the base currency, in storage units (`None` and an empty amount: zero).
    pub(crate) fn amount(&self, field: &str, m: Option<&crm_proto::common::Money>, v: &mut Violations) -> i64 {
        crm_kit::money::base_amount(field, m, &self.currency, v).unwrap_or(0)
    }

    /// The stage `stage_id` of `pipeline_id` (the first stage when empty).
    async fn stage_of(conn: &mut AnyConnection, pipeline_id: &str, stage_id: &str, field: &str) -> Result<StageRow> {
        let stages = store::pipelines::stages(conn, pipeline_id, false).await?;
        let found = if stage_id.trim().is_empty() {
            stages.into_iter().next()
        } else {
            stages.into_iter().find(|s| s.id == stage_id.trim())
        };
        found.ok_or_else(|| {
            Error::invalid(
                field,
                "UNKNOWN_STAGE",
                format!("{stage_id} is not a stage of the pipeline"),
            )
        })
    }

    /// A new opportunity from the wire, checked (not yet stored). `lead`: converted from it
    /// (the lead's owner owns it; the customer is filled in later).
    pub(crate) async fn new_opportunity(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        src: &pb::Opportunity,
        prefix: &str,
        lead: Option<&LeadRow>,
    ) -> Result<OpportunityRow> {
        let f = |name: &str| format!("{prefix}.{name}");
        let mut v = Violations::new();
        let subject = if src.subject.trim().is_empty() {
            lead.map(|l| l.company_name.clone()).unwrap_or_default()
        } else {
            src.subject.trim().to_string()
        };
        check_text(&f("subject"), &subject, true, 200, &mut v);
        if lead.is_none() && src.customer_id.trim().is_empty() {
            v.add(f("customer_id"), reason::REQUIRED, "is required");
        }
        if !domain::valid_probability(src.probability) {
            v.add(f("probability"), reason::OUT_OF_RANGE, "must be 0-100");
        }
        let expected_amount = self.amount(&f("expected_amount"), src.expected_amount.as_ref(), &mut v);
        let expected_cost = self.amount(&f("expected_cost"), src.expected_cost.as_ref(), &mut v);
        check_date(&f("start_date"), &src.start_date, false, &mut v);
        check_date(&f("planned_close_date"), &src.planned_close_date, false, &mut v);
        check_text(&f("competitor"), &src.competitor, false, 200, &mut v);
        check_notes(&f("remark"), &src.remark, false, 2000, &mut v);
        let category =
            pb::ForecastCategory::try_from(src.forecast_category).unwrap_or(pb::ForecastCategory::Unspecified);
        v.finish()?;
        let pipeline = store::pipelines::load(conn, src.pipeline_id.trim())
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    f("pipeline_id"),
                    "UNKNOWN_PIPELINE",
                    format!("{} is not a pipeline", src.pipeline_id),
                )
            })?;
        let stage = Self::stage_of(conn, &pipeline.id, &src.stage_id, &f("stage_id")).await?;
        let (owner_id, owner_department_path) = match lead {
            Some(l) => (l.owner_id.clone(), l.owner_department_path.clone()),
            None => (caller.employee_id.clone(), caller.department_path.clone()),
        };
        let now = now_micros();
        Ok(OpportunityRow {
            id: crm_kit::new_id(),
            subject,
            customer_id: src.customer_id.trim().to_string(),
            contact_id: src.contact_id.trim().to_string(),
            owner_id,
            owner_department_path,
            pipeline_id: pipeline.id,
            stage_id: stage.id,
            probability: if src.probability == 0 {
                stage.probability
            } else {
                i64::from(src.probability)
            },
            currency: self.currency.clone(),
            expected_amount,
            expected_cost,
            start_date: src.start_date.trim().to_string(),
            planned_close_date: src.planned_close_date.trim().to_string(),
            actual_close_date: String::new(),
            forecast_category: domain::forecast_code(category).to_string(),
            competitor: src.competitor.trim().to_string(),
            remark: src.remark.trim().to_string(),
            status: "open".into(),
            lost_reason: String::new(),
            audited: 0,
            converted_to: String::new(),
            stage_entered_at: now,
            lead_id: String::new(),
            closed_at: 0,
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
            time_limit_days: stage.time_limit_days,
        })
    }

    /// An opportunity the caller may see, or NOT_FOUND.
    pub(crate) async fn visible_opportunity(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        field: &str,
        id: &str,
    ) -> Result<OpportunityRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        match store::opportunities::load(conn, id).await? {
            Some(o) if caller.covers(SERVICE, &o.owner_id, &o.owner_department_path) => Ok(o),
            _ => Err(Error::not_found(OPPORTUNITY, id)),
        }
    }

    /// Writes `o` (at `version`), moving the stage history when the stage changed.
    async fn save(
        &self,
        conn: &mut AnyConnection,
        o: &mut OpportunityRow,
        before: &OpportunityRow,
        action: &str,
    ) -> Result<()> {
        if !store::opportunities::update(conn, o, before.version, &before.stage_id).await? {
            return Err(Error::stale_etag(OPPORTUNITY));
        }
        o.version = before.version + 1;
        if o.stage_id != before.stage_id
            && let Some(s) = store::pipelines::stage(conn, &o.stage_id).await?
        {
            o.time_limit_days = s.time_limit_days;
        }
        let changes = opportunity_changes(before, o);
        if !changes.is_empty() {
            CHANGES
                .record(conn, &o.id, action, &changes, &o.updated_by, o.updated_at)
                .await?;
        }
        Ok(())
    }

    pub async fn create_opportunity(
        &self,
        caller: &Principal,
        mut req: pb::CreateOpportunityRequest,
    ) -> Result<pb::CreateOpportunityResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateOpportunity", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.opportunity.as_ref() else {
            return Err(Error::required("opportunity"));
        };
        let row = {
            let mut conn = self.conn().await?;
            if let Some(k) = &key
                && let Some(done) = k.replay(&mut conn).await?
            {
                return Ok(done);
            }
            self.new_opportunity(&mut conn, caller, src, "opportunity", None)
                .await?
        };
        self.check_customer(caller, &row.customer_id).await?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        store::opportunities::insert(&mut tx, &row).await?;
        CHANGES
            .record(
                &mut tx,
                &row.id,
                "create",
                &Changes::new(),
                &row.created_by,
                row.created_at,
            )
            .await?;
        let response = pb::CreateOpportunityResponse {
            opportunity: Some(opportunity_proto(&row, row.created_at)),
        };
        tx.finish(response).await
    }

    /// That the customer exists and the caller may see it (asked of the customers service
    /// with the caller's token).
    async fn check_customer(&self, caller: &Principal, customer_id: &str) -> Result<()> {
        let request = caller.forward(cpb::GetCustomerRequest {
            id: customer_id.to_string(),
        })?;
        match CustomersServiceClient::new(self.customers.clone())
            .get_customer(request)
            .await
        {
            Ok(_) => Ok(()),
            Err(s) if s.code() == tonic::Code::NotFound => Err(Error::invalid(
                "opportunity.customer_id",
                "UNKNOWN_CUSTOMER",
                format!("customer {customer_id} does not exist or is outside your scope"),
            )),
            Err(s) if s.code() == tonic::Code::PermissionDenied => Err(Error::PermissionDenied {
                permission: "customers.customer.read".into(),
            }),
            Err(s) => {
                tracing::warn!(code = ?s.code(), message = %s.message(), "customers call failed");
                Err(Error::Unavailable("the customers service is unavailable; retry".into()))
            }
        }
    }

    pub async fn get_opportunity(
        &self,
        caller: &Principal,
        req: pb::GetOpportunityRequest,
    ) -> Result<pb::GetOpportunityResponse> {
        let mut conn = self.conn().await?;
        let o = self.visible_opportunity(&mut conn, caller, "id", &req.id).await?;
        Ok(pb::GetOpportunityResponse {
            opportunity: Some(opportunity_proto(&o, now_micros())),
        })
    }

    pub async fn list_opportunities(
        &self,
        caller: &Principal,
        req: pb::ListOpportunitiesRequest,
    ) -> Result<pb::ListOpportunitiesResponse> {
        let now = now_micros();
        let listed = store::opportunities::listed(req.stuck_only, now);
        let shape = [req.filter.as_str(), if req.stuck_only { "stuck" } else { "" }];
        let keyset = Keyset::open(&self.tokens, listed.order(), req.page_size, &req.page_token, &shape)?;
        let filter = crm_kit::filter::compile(OPPORTUNITY_FILTER, &req.filter, 1)?;
        let scope = ReadScope::of(caller, &OPPORTUNITY_SCOPE);
        let mut conn = self.conn().await?;
        let page = store::page(
            &mut conn,
            &listed,
            &scope,
            filter.as_ref(),
            &keyset,
            |o: &OpportunityRow| Position::at(o.created_at, &o.id),
        )
        .await?;
        Ok(pb::ListOpportunitiesResponse {
            opportunities: page.rows.iter().map(|o| opportunity_proto(o, now)).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn update_opportunity(
        &self,
        caller: &Principal,
        req: pb::UpdateOpportunityRequest,
    ) -> Result<pb::UpdateOpportunityResponse> {
        let Some(src) = req.opportunity.as_ref() else {
            return Err(Error::required("opportunity"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            EDITABLE,
            SERVER_OWNED,
            "Opportunity",
            &mut v,
        );
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut o = self
            .visible_opportunity(&mut tx, caller, "opportunity.id", &src.id)
            .await?;
        check_etag("opportunity.etag", &src.etag, o.version, OPPORTUNITY)?;
        if o.status != "open" {
            return Err(closed(&o.id));
        }
        let before = o.clone();
        let now = now_micros();
        let mut v = Violations::new();
        for p in &paths {
            let field = format!("opportunity.{p}");
            match *p {
                "subject" => {
                    check_text(&field, &src.subject, true, 200, &mut v);
                    o.subject = src.subject.trim().to_string();
                }
                "contact_id" => o.contact_id = src.contact_id.trim().to_string(),
                "stage_id" => {
                    let stage = Self::stage_of(&mut tx, &o.pipeline_id, &src.stage_id, &field).await?;
                    if stage.id != o.stage_id {
                        o.stage_id = stage.id;
                        o.stage_entered_at = now;
                        if !paths.contains(&"probability") {
                            o.probability = stage.probability;
                        }
                    }
                }
                "probability" => {
                    if domain::valid_probability(src.probability) {
                        o.probability = i64::from(src.probability);
                    } else {
                        v.add(&field, reason::OUT_OF_RANGE, "must be 0-100");
                    }
                }
                "expected_amount" => o.expected_amount = self.amount(&field, src.expected_amount.as_ref(), &mut v),
                "expected_cost" => o.expected_cost = self.amount(&field, src.expected_cost.as_ref(), &mut v),
                "start_date" => {
                    check_date(&field, &src.start_date, false, &mut v);
                    o.start_date = src.start_date.trim().to_string();
                }
                "planned_close_date" => {
                    check_date(&field, &src.planned_close_date, false, &mut v);
                    o.planned_close_date = src.planned_close_date.trim().to_string();
                }
                "forecast_category" => match pb::ForecastCategory::try_from(src.forecast_category) {
                    Ok(c) => o.forecast_category = domain::forecast_code(c).to_string(),
                    Err(_) => v.add(&field, reason::UNKNOWN_ENUM_VALUE, "not a forecast category"),
                },
                "competitor" => {
                    check_text(&field, &src.competitor, false, 200, &mut v);
                    o.competitor = src.competitor.trim().to_string();
                }
                "remark" => {
                    check_notes(&field, &src.remark, false, 2000, &mut v);
                    o.remark = src.remark.trim().to_string();
                }
                _ => {}
            }
        }
        v.finish()?;
        o.updated_at = now;
        o.updated_by = caller.employee_id.clone();
        let moved = o.stage_id != before.stage_id;
        if moved {
            Self::record_move(&mut tx, &o, caller, now).await?;
        }
        self.save(&mut tx, &mut o, &before, "update").await?;
        tx.commit().await?;
        Ok(pb::UpdateOpportunityResponse {
            opportunity: Some(opportunity_proto(&o, now)),
        })
    }

    /// A stage moved by hand (the pipeline board) follows the activity rules: the stage is the
    /// latest completed activity's, so the move is refused while an activity is open (it sets
    /// the stage when it completes) and is otherwise recorded as a completed activity reaching
    /// the new stage, which later back-fills keep.
    async fn record_move(conn: &mut AnyConnection, o: &OpportunityRow, caller: &Principal, now: i64) -> Result<()> {
        let activities = store::opportunities::activities(conn, &o.id).await?;
        if let Some(open) = activities.iter().find(|a| a.completed == 0) {
            return Err(Error::precondition(
                "ACTIVITY_OPEN",
                format!("activities/{}", open.id),
                format!(
                    "activity {} (number {}) is open: complete or delete it first, the stage follows the completed activities",
                    open.id, open.sequence
                ),
            ));
        }
        let stage = store::pipelines::stage(conn, &o.stage_id)
            .await?
            .map_or_else(|| o.stage_id.clone(), |s| s.name);
        let mut a = ActivityRow {
            summary: format!("Moved to {stage}"),
            completed: 1,
            completed_at: now,
            ..activity_where(o, caller, now)
        };
        store::opportunities::insert_activity(conn, &mut a).await?;
        Ok(())
    }

    pub async fn delete_opportunity(
        &self,
        caller: &Principal,
        req: pb::DeleteOpportunityRequest,
    ) -> Result<pb::DeleteOpportunityResponse> {
        let mut tx = self.db.begin_write().await?;
        let o = self.visible_opportunity(&mut tx, caller, "id", &req.id).await?;
        store::opportunities::delete(&mut tx, &o.id).await?;
        CHANGES
            .record(
                &mut tx,
                &o.id,
                "delete",
                &Changes::new(),
                &caller.employee_id,
                now_micros(),
            )
            .await?;
        tx.commit().await?;
        Ok(pb::DeleteOpportunityResponse {})
    }

    pub async fn audit_opportunity(
        &self,
        caller: &Principal,
        req: pb::AuditOpportunityRequest,
    ) -> Result<pb::AuditOpportunityResponse> {
        let mut tx = self.db.begin_write().await?;
        let mut o = self.visible_opportunity(&mut tx, caller, "id", &req.id).await?;
        if !req.audited && !o.converted_to.is_empty() {
            return Err(Error::precondition(
                "ALREADY_CONVERTED",
                format!("opportunities/{}", o.id),
                format!("the opportunity became {}; its approval stands", o.converted_to),
            ));
        }
        let before = o.clone();
        o.audited = i64::from(req.audited);
        o.updated_at = now_micros();
        o.updated_by = caller.employee_id.clone();
        self.save(&mut tx, &mut o, &before, "audit").await?;
        tx.commit().await?;
        Ok(pb::AuditOpportunityResponse {
            opportunity: Some(opportunity_proto(&o, o.updated_at)),
        })
    }

    pub async fn set_opportunity_status(
        &self,
        caller: &Principal,
        req: pb::SetOpportunityStatusRequest,
    ) -> Result<pb::SetOpportunityStatusResponse> {
        let to = pb::OpportunityStatus::try_from(req.status).unwrap_or(pb::OpportunityStatus::Unspecified);
        if to == pb::OpportunityStatus::Unspecified {
            return Err(Error::invalid(
                "status",
                reason::REQUIRED,
                "WON, LOST, TERMINATED or OPEN",
            ));
        }
        let mut tx = self.db.begin_write().await?;
        let mut o = self.visible_opportunity(&mut tx, caller, "id", &req.id).await?;
        let from = domain::opportunity_status_of(&o.status);
        domain::OPPORTUNITY_STATUS.check(from, to, &format!("opportunities/{}", o.id))?;
        if to == pb::OpportunityStatus::Lost && req.reason.trim().is_empty() {
            return Err(Error::invalid(
                "reason",
                reason::REQUIRED,
                "a lost deal needs its reason",
            ));
        }
        let now = now_micros();
        let before = o.clone();
        match to {
            pb::OpportunityStatus::Won => {
                o.probability = 100;
                o.forecast_category = "closed".into();
                o.actual_close_date = today(now);
                o.closed_at = now;
            }
            pb::OpportunityStatus::Lost => {
                o.probability = 0;
                o.forecast_category = "omitted".into();
                o.lost_reason = req.reason.trim().to_string();
                o.actual_close_date = today(now);
                o.closed_at = now;
            }
            pb::OpportunityStatus::Terminated => {
                o.closed_at = now;
            }
            _ => {
                // Re-opened: back where the stage puts it.
                let s = store::pipelines::stage(&mut tx, &o.stage_id).await?;
                o.probability = s.map_or(o.probability, |s| s.probability);
                o.forecast_category = "pipeline".into();
                o.lost_reason.clear();
                o.actual_close_date.clear();
                o.closed_at = 0;
            }
        }
        o.status = domain::opportunity_status_code(to).to_string();
        o.updated_at = now;
        o.updated_by = caller.employee_id.clone();
        self.save(&mut tx, &mut o, &before, "status").await?;
        crm_kit::events::append_at(
            &mut tx,
            &o.id,
            &pb::OpportunityStatusChanged {
                opportunity_id: o.id.clone(),
                customer_id: o.customer_id.clone(),
                owner_id: o.owner_id.clone(),
                from_status: domain::opportunity_status_code(from).to_string(),
                to_status: o.status.clone(),
                expected_amount: Some(domain::money(&o.currency, o.expected_amount)),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(pb::SetOpportunityStatusResponse {
            opportunity: Some(opportunity_proto(&o, now)),
        })
    }

    pub async fn list_opportunity_changes(
        &self,
        caller: &Principal,
        req: pb::ListOpportunityChangesRequest,
    ) -> Result<pb::ListOpportunityChangesResponse> {
        let mut conn = self.conn().await?;
        let o = self
            .visible_opportunity(&mut conn, caller, "opportunity_id", &req.opportunity_id)
            .await?;
        let page = CHANGES
            .list(&mut conn, &self.tokens, &o.id, req.page_size, &req.page_token)
            .await?;
        Ok(pb::ListOpportunityChangesResponse {
            changes: page.rows.iter().map(|c| c.to_proto()).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn list_stage_history(
        &self,
        caller: &Principal,
        req: pb::ListStageHistoryRequest,
    ) -> Result<pb::ListStageHistoryResponse> {
        let mut conn = self.conn().await?;
        let o = self
            .visible_opportunity(&mut conn, caller, "opportunity_id", &req.opportunity_id)
            .await?;
        let now = now_micros();
        let visits = store::opportunities::visits(&mut conn, &o.id)
            .await?
            .into_iter()
            .map(|v| pb::StageVisit {
                seconds_in_stage: ((if v.left_at == 0 { now } else { v.left_at }) - v.entered_at).max(0) / 1_000_000,
                stage_id: v.stage_id,
                stage_name: v.stage_name,
                enter_time: crm_kit::time::set_to_proto(v.entered_at),
                leave_time: crm_kit::time::set_to_proto(v.left_at),
                moved_by: v.moved_by,
            })
            .collect();
        Ok(pb::ListStageHistoryResponse { visits })
    }

    /// Takes stage, probability, amounts and planned close date from the latest completed
    /// activity (if any) and saves the opportunity.
    async fn backfill(
        &self,
        conn: &mut AnyConnection,
        o: &mut OpportunityRow,
        caller: &Principal,
        now: i64,
    ) -> Result<()> {
        let latest = store::opportunities::activities(conn, &o.id)
            .await?
            .into_iter()
            .filter(|a| a.completed == 1)
            .max_by_key(|a| a.sequence);
        let Some(a) = latest else {
            return Ok(());
        };
        let before = o.clone();
        if a.stage_id != o.stage_id {
            o.stage_id = a.stage_id.clone();
            o.stage_entered_at = now;
        }
        o.probability = a.probability;
        o.expected_amount = a.expected_amount;
        o.expected_cost = a.expected_cost;
        if !a.planned_close_date.is_empty() {
            o.planned_close_date = a.planned_close_date.clone();
        }
        o.updated_at = now;
        o.updated_by = caller.employee_id.clone();
        self.save(conn, o, &before, "activity").await
    }

    /// Checks and copies the activity fields named in `paths`.
    async fn apply_activity(
        &self,
        conn: &mut AnyConnection,
        o: &OpportunityRow,
        src: &pb::Activity,
        paths: &[&str],
        a: &mut ActivityRow,
    ) -> Result<()> {
        let mut v = Violations::new();
        for p in paths {
            let field = format!("activity.{p}");
            match *p {
                "method" => match pb::ActivityMethod::try_from(src.method) {
                    Ok(m) => a.method = domain::method_code(m).to_string(),
                    Err(_) => v.add(&field, reason::UNKNOWN_ENUM_VALUE, "not an activity method"),
                },
                "activity_time" => {
                    if let Some(t) = &src.activity_time {
                        match crm_kit::time::from_proto(&field, t) {
                            Ok(t) => a.activity_at = t,
                            Err(_) => v.add(&field, reason::MALFORMED, "not a valid time"),
                        }
                    }
                }
                "summary" => {
                    check_notes(&field, &src.summary, false, 4000, &mut v);
                    a.summary = src.summary.trim().to_string();
                }
                "stage_id" if !src.stage_id.trim().is_empty() => {
                    let stage = Self::stage_of(conn, &o.pipeline_id, &src.stage_id, &field).await?;
                    if !paths.contains(&"probability") || src.probability == 0 {
                        a.probability = stage.probability;
                    }
                    a.stage_id = stage.id;
                }
                "probability" => {
                    if !domain::valid_probability(src.probability) {
                        v.add(&field, reason::OUT_OF_RANGE, "must be 0-100");
                    } else if src.probability != 0 || !paths.contains(&"stage_id") {
                        a.probability = i64::from(src.probability);
                    }
                }
                "expected_amount" if src.expected_amount.is_some() => {
                    a.expected_amount = self.amount(&field, src.expected_amount.as_ref(), &mut v);
                }
                "expected_cost" if src.expected_cost.is_some() => {
                    a.expected_cost = self.amount(&field, src.expected_cost.as_ref(), &mut v);
                }
                "planned_close_date" => {
                    check_date(&field, &src.planned_close_date, false, &mut v);
                    if !src.planned_close_date.trim().is_empty() {
                        a.planned_close_date = src.planned_close_date.trim().to_string();
                    }
                }
                _ => {}
            }
        }
        v.finish()
    }

    pub async fn create_activity(
        &self,
        caller: &Principal,
        req: pb::CreateActivityRequest,
    ) -> Result<pb::CreateActivityResponse> {
        let Some(src) = req.activity.as_ref() else {
            return Err(Error::required("activity"));
        };
        let mut tx = self.db.begin_write().await?;
        let o = self
            .visible_opportunity(&mut tx, caller, "activity.opportunity_id", &src.opportunity_id)
            .await?;
        if o.status != "open" {
            return Err(closed(&o.id));
        }
        let now = now_micros();
        // Unless told otherwise, the activity starts where the opportunity stands.
        let mut a = activity_where(&o, caller, now);
        self.apply_activity(&mut tx, &o, src, ACTIVITY_FIELDS, &mut a).await?;
        store::opportunities::insert_activity(&mut tx, &mut a).await?;
        tx.commit().await?;
        Ok(pb::CreateActivityResponse {
            activity: Some(activity_proto(&a, &o.currency)),
        })
    }

    pub async fn list_activities(
        &self,
        caller: &Principal,
        req: pb::ListActivitiesRequest,
    ) -> Result<pb::ListActivitiesResponse> {
        let mut conn = self.conn().await?;
        let o = self
            .visible_opportunity(&mut conn, caller, "opportunity_id", &req.opportunity_id)
            .await?;
        let activities = store::opportunities::activities(&mut conn, &o.id).await?;
        Ok(pb::ListActivitiesResponse {
            activities: activities.iter().map(|a| activity_proto(a, &o.currency)).collect(),
        })
    }

    /// An activity whose opportunity the caller may see, with that opportunity.
    async fn visible_activity(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        field: &str,
        id: &str,
    ) -> Result<(ActivityRow, OpportunityRow)> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        let Some(a) = store::opportunities::activity(conn, id).await? else {
            return Err(Error::not_found(ACTIVITY, id));
        };
        match self.visible_opportunity(conn, caller, field, &a.opportunity_id).await {
            Ok(o) => Ok((a, o)),
            Err(_) => Err(Error::not_found(ACTIVITY, id)),
        }
    }

    pub async fn update_activity(
        &self,
        caller: &Principal,
        req: pb::UpdateActivityRequest,
    ) -> Result<pb::UpdateActivityResponse> {
        let Some(src) = req.activity.as_ref() else {
            return Err(Error::required("activity"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            ACTIVITY_FIELDS,
            &[
                "id",
                "opportunity_id",
                "sequence",
                "completed",
                "complete_time",
                "audit",
                "etag",
            ],
            "Activity",
            &mut v,
        );
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let (mut a, o) = self.visible_activity(&mut tx, caller, "activity.id", &src.id).await?;
        check_etag("activity.etag", &src.etag, a.version, ACTIVITY)?;
        if a.completed == 1 {
            return Err(frozen(&a.id));
        }
        let version = a.version;
        self.apply_activity(&mut tx, &o, src, &paths, &mut a).await?;
        a.updated_at = now_micros();
        a.updated_by = caller.employee_id.clone();
        if !store::opportunities::update_activity(&mut tx, &a, version).await? {
            return Err(Error::stale_etag(ACTIVITY));
        }
        a.version += 1;
        tx.commit().await?;
        Ok(pb::UpdateActivityResponse {
            activity: Some(activity_proto(&a, &o.currency)),
        })
    }

    pub async fn complete_activity(
        &self,
        caller: &Principal,
        req: pb::CompleteActivityRequest,
    ) -> Result<pb::CompleteActivityResponse> {
        let mut tx = self.db.begin_write().await?;
        let (mut a, mut o) = self.visible_activity(&mut tx, caller, "id", &req.id).await?;
        if o.status != "open" {
            return Err(closed(&o.id));
        }
        if a.completed == 1 {
            return Err(frozen(&a.id));
        }
        let earlier_open = store::opportunities::activities(&mut tx, &o.id)
            .await?
            .into_iter()
            .find(|e| e.sequence < a.sequence && e.completed == 0);
        if let Some(e) = earlier_open {
            return Err(Error::precondition(
                "EARLIER_ACTIVITY_OPEN",
                format!("activities/{}", e.id),
                format!("activity {} (number {}) must be completed first", e.id, e.sequence),
            ));
        }
        let now = now_micros();
        let version = a.version;
        a.completed = 1;
        a.completed_at = now;
        a.updated_at = now;
        a.updated_by = caller.employee_id.clone();
        if !store::opportunities::update_activity(&mut tx, &a, version).await? {
            return Err(Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "the activity changed meanwhile; reload it".into(),
            });
        }
        a.version += 1;
        self.backfill(&mut tx, &mut o, caller, now).await?;
        tx.commit().await?;
        Ok(pb::CompleteActivityResponse {
            activity: Some(activity_proto(&a, &o.currency)),
            opportunity: Some(opportunity_proto(&o, now)),
        })
    }

    pub async fn delete_activity(
        &self,
        caller: &Principal,
        req: pb::DeleteActivityRequest,
    ) -> Result<pb::DeleteActivityResponse> {
        let mut tx = self.db.begin_write().await?;
        let (a, mut o) = self.visible_activity(&mut tx, caller, "id", &req.id).await?;
        if o.status != "open" {
            return Err(closed(&o.id));
        }
        store::opportunities::delete_activity(&mut tx, &a.id).await?;
        let now = now_micros();
        if a.completed == 1 {
            self.backfill(&mut tx, &mut o, caller, now).await?;
        }
        tx.commit().await?;
        Ok(pb::DeleteActivityResponse {
            opportunity: Some(opportunity_proto(&o, now)),
        })
    }
}

/// The activity fields a client sets.
const ACTIVITY_FIELDS: &[&str] = &[
    "method",
    "activity_time",
    "summary",
    "stage_id",
    "probability",
    "expected_amount",
    "expected_cost",
    "planned_close_date",
];

fn closed(id: &str) -> Error {
    Error::precondition(
        "OPPORTUNITY_CLOSED",
        format!("opportunities/{id}"),
        "the opportunity is closed; re-open it first",
    )
}

fn frozen(id: &str) -> Error {
    Error::precondition(
        "ACTIVITY_COMPLETED",
        format!("activities/{id}"),
        "a completed activity is frozen; delete it and add a new one",
    )
}

/// A new, open activity of `o` by `caller` at `now`, standing where the opportunity stands.
fn activity_where(o: &OpportunityRow, caller: &Principal, now: i64) -> ActivityRow {
    ActivityRow {
        id: crm_kit::new_id(),
        opportunity_id: o.id.clone(),
        sequence: 0,
        method: "other".into(),
        activity_at: now,
        summary: String::new(),
        stage_id: o.stage_id.clone(),
        probability: o.probability,
        expected_amount: o.expected_amount,
        expected_cost: o.expected_cost,
        planned_close_date: o.planned_close_date.clone(),
        completed: 0,
        completed_at: 0,
        created_at: now,
        created_by: caller.employee_id.clone(),
        updated_at: now,
        updated_by: caller.employee_id.clone(),
        version: 1,
    }
}
