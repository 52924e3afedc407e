//! Leads: early information about a possible customer, owned by a salesperson or waiting in
//! the lead pool; assigned, claimed, released, qualified or disqualified, and converted into a
//! customer (through the customers service and its duplicate check) with a contact and
//! optionally an opportunity.

use crm_kit::auth::Principal;
use crm_kit::auth::ReadScope;
use crm_kit::errors::Violations;
use crm_kit::fields::{Email, Mobile, Phone};
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, CommandTx, RequestKey};
use crm_kit::listing::{Keyset, Position};
use crm_kit::phone::PhoneRegion;
use crm_kit::time::now_micros;
use crm_kit::update::{check_etag, etag, mask_paths};
use crm_kit::{Error, Result};
use crm_proto::customers as cpb;
use crm_proto::customers::customers_service_client::CustomersServiceClient;
use crm_proto::sales as pb;
use sqlx::AnyConnection;
use tonic_types::StatusExt as _;

use super::{CHANGES, LEAD_SCOPE, SERVICE, SalesApi, audit, check_notes, check_text};
use crate::domain;
use crate::store;
use crate::store::leads::{FollowUpRow, LeadRow};
use crm_kit::errors::reason;
use crm_kit::history::Changes;

pub const LEAD: &str = "crm.sales.v1.Lead";

/// The owner that means the lead pool in CreateLead.
pub(crate) const POOL: &str = "pool";
/// The owner that means "whom the assignment rules pick" in CreateLead.
pub(crate) const AUTO: &str = "auto";

const STATUS_CODES: &[&str] = &["new", "contacting", "qualified", "converted", "disqualified"];
const SOURCE_CODES: &[&str] = &[
    "event",
    "phone_inquiry",
    "referral",
    "website_form",
    "campaign",
    "import",
    "other",
];

/// What ListLeads filters may name.
pub(crate) const LEAD_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "status",
        column: "l.status",
        ty: FieldType::Enum(STATUS_CODES),
    },
    FieldSpec {
        name: "source",
        column: "l.source",
        ty: FieldType::Enum(SOURCE_CODES),
    },
    FieldSpec {
        name: "owner_id",
        column: "l.owner_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "company_name",
        column: "l.company_name",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "province",
        column: "l.province",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "city",
        column: "l.city",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "create_time",
        column: "l.created_at",
        ty: FieldType::Timestamp,
    },
    // Unset (0) is no time at all: it matches no comparison, so "due before the end of today"
    // lists only the leads that have a next follow-up.
    FieldSpec {
        name: "next_follow_up_time",
        column: "NULLIF(l.next_follow_up_at, 0)",
        ty: FieldType::Timestamp,
    },
];

/// The wire form of a lead.
pub(crate) fn lead_proto(l: &LeadRow) -> pb::Lead {
    pb::Lead {
        id: l.id.clone(),
        company_name: l.company_name.clone(),
        contact_name: l.contact_name.clone(),
        title: l.title.clone(),
        phone: l.phone.clone(),
        mobile: l.mobile.clone(),
        email: l.email.clone(),
        source: domain::source_of(&l.source) as i32,
        province: l.province.clone(),
        city: l.city.clone(),
        remark: l.remark.clone(),
        owner_id: l.owner_id.clone(),
        status: domain::lead_status_of(&l.status) as i32,
        disqualified_reason: l.disqualified_reason.clone(),
        converted_customer_id: l.converted_customer_id.clone(),
        converted_contact_id: l.converted_contact_id.clone(),
        converted_opportunity_id: l.converted_opportunity_id.clone(),
        convert_time: crm_kit::time::set_to_proto(l.converted_at),
        audit: Some(audit(l.created_at, &l.created_by, l.updated_at, &l.updated_by)),
        etag: etag(l.version),
        last_follow_up_time: crm_kit::time::set_to_proto(l.last_follow_up_at),
        next_follow_up_time: crm_kit::time::set_to_proto(l.next_follow_up_at),
    }
}

/// Checks and copies the editable fields named in `paths` from `src` onto `row`.
/// Phones and emails are read as the customers service reads them (the kit's fields, numbers
/// without a country code in `region`), so a lead that is accepted converts; the lead keeps its
/// phones as typed.
fn apply_fields(
    src: &pb::Lead,
    paths: &[&str],
    row: &mut LeadRow,
    v: &mut Violations,
    prefix: &str,
    region: PhoneRegion,
) {
    let named = |p: &str| {
        if prefix.is_empty() {
            p.to_string()
        } else {
            format!("{prefix}.{p}")
        }
    };
    for p in paths {
        let field = named(p);
        match *p {
            "company_name" => {
                check_text(&field, &src.company_name, true, 200, v);
                row.company_name = src.company_name.trim().to_string();
            }
            "contact_name" => {
                check_text(&field, &src.contact_name, false, 100, v);
                row.contact_name = src.contact_name.trim().to_string();
            }
            "title" => {
                check_text(&field, &src.title, false, 100, v);
                row.title = src.title.trim().to_string();
            }
            // A refused phone, mobile or email is still kept as given, so the request is not
            // also told it names no way to reach the contact.
            "phone" => {
                let t = src.phone.trim();
                let phone = Phone::parse_optional(v, &field, t, region);
                row.phone = phone.map_or_else(|| t.to_string(), |p| p.typed().to_string());
            }
            "mobile" => {
                let t = src.mobile.trim();
                let mobile = Mobile::parse_optional(v, &field, t, region);
                row.mobile = mobile.map_or_else(|| t.to_string(), |m| m.typed().to_string());
            }
            "email" => {
                let t = src.email.trim();
                row.email = Email::parse_optional(v, &field, t).map_or_else(|| t.to_string(), Email::into_inner);
            }
            "source" => match pb::LeadSource::try_from(src.source) {
                Ok(s) => row.source = domain::source_code(s).to_string(),
                Err(_) => v.add(&field, reason::UNKNOWN_ENUM_VALUE, "not a lead source"),
            },
            "province" => {
                check_text(&field, &src.province, false, 60, v);
                row.province = src.province.trim().to_string();
            }
            "city" => {
                check_text(&field, &src.city, false, 60, v);
                row.city = src.city.trim().to_string();
            }
            "remark" => {
                check_notes(&field, &src.remark, false, 2000, v);
                row.remark = src.remark.trim().to_string();
            }
            _ => {}
        }
    }
    if row.contact_name.is_empty() && row.phone.is_empty() && row.mobile.is_empty() && row.email.is_empty() {
        v.add(
            named("contact_name"),
            reason::REQUIRED,
            "a lead needs a contact name, a phone, a mobile or an email",
        );
    }
}

/// A new lead in the pool with no fields set yet, made by `created_by` at `now`.
pub(crate) fn new_lead(created_by: &str, now: i64) -> LeadRow {
    LeadRow {
        id: crm_kit::new_id(),
        company_name: String::new(),
        contact_name: String::new(),
        title: String::new(),
        phone: String::new(),
        mobile: String::new(),
        email: String::new(),
        source: "other".into(),
        province: String::new(),
        city: String::new(),
        remark: String::new(),
        owner_id: String::new(),
        owner_department_path: String::new(),
        status: "new".into(),
        disqualified_reason: String::new(),
        converted_customer_id: String::new(),
        converted_contact_id: String::new(),
        converted_opportunity_id: String::new(),
        converted_at: 0,
        created_at: now,
        created_by: created_by.to_string(),
        updated_at: now,
        updated_by: created_by.to_string(),
        version: 1,
        last_follow_up_at: 0,
        next_follow_up_at: 0,
    }
}

/// Checks every editable field of `src` and copies it onto `row`; violations name fields
/// under `prefix` (`lead.company_name`), or bare when `prefix` is empty.
pub(crate) fn validate_lead(src: &pb::Lead, row: &mut LeadRow, prefix: &str, region: PhoneRegion) -> Result<()> {
    let mut v = Violations::new();
    apply_fields(src, EDITABLE, row, &mut v, prefix, region);
    v.finish()
}

pub(crate) const EDITABLE: &[&str] = &[
    "company_name",
    "contact_name",
    "title",
    "phone",
    "mobile",
    "email",
    "source",
    "province",
    "city",
    "remark",
];
const SERVER_OWNED: &[&str] = &[
    "id",
    "last_follow_up_time",
    "next_follow_up_time",
    "owner_id",
    "status",
    "disqualified_reason",
    "converted_customer_id",
    "converted_contact_id",
    "converted_opportunity_id",
    "convert_time",
    "audit",
    "etag",
];

/// The leads a list or export may show: the pool is open to everyone who may list leads, the
/// rest is the caller's scope.
pub(crate) fn lead_list_scope(caller: &Principal, pool: bool) -> ReadScope {
    if pool {
        ReadScope::everything("the lead pool is open to every salesperson")
    } else {
        ReadScope::of(caller, &LEAD_SCOPE)
    }
}

/// Where the lead's fields changed between `before` and `after`, as its history shows them.
fn lead_changes(before: &LeadRow, after: &LeadRow) -> Changes {
    crm_kit::changed_fields!(before, after; company_name, contact_name, title, phone, mobile, email, source,
        province, city, remark, owner_id, status, disqualified_reason, converted_customer_id,
        converted_contact_id, converted_opportunity_id)
}

/// Writes `row` over `before` (refused with `stale()` when the lead changed meanwhile) and
/// records the fields that changed in the lead's history as `action`, in the same transaction.
async fn save_lead(
    conn: &mut AnyConnection,
    before: &LeadRow,
    row: &mut LeadRow,
    action: &str,
    stale: impl FnOnce() -> Error,
) -> Result<()> {
    if !store::leads::update(conn, row, before.version).await? {
        return Err(stale());
    }
    row.version = before.version + 1;
    let changes = lead_changes(before, row);
    if !changes.is_empty() {
        CHANGES
            .record(conn, &row.id, action, &changes, &row.updated_by, row.updated_at)
            .await?;
    }
    Ok(())
}

impl SalesApi {
    /// A live lead the caller may see (pooled leads are visible to anyone who may claim), or
    /// NOT_FOUND.
    pub(crate) async fn visible_lead(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        field: &str,
        id: &str,
    ) -> Result<LeadRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        match store::leads::load(conn, id).await? {
            Some(l) if l.owner_id.is_empty() || caller.covers(SERVICE, &l.owner_id, &l.owner_department_path) => Ok(l),
            _ => Err(Error::not_found(LEAD, id)),
        }
    }

    pub async fn create_lead(
        &self,
        caller: &Principal,
        mut req: pb::CreateLeadRequest,
    ) -> Result<pb::CreateLeadResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateLead", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.lead.as_ref() else {
            return Err(Error::required("lead"));
        };
        let mut row = new_lead(&caller.employee_id, now_micros());
        validate_lead(src, &mut row, "lead", self.phone_region)?;
        match req.owner_id.trim() {
            "" => {
                row.owner_id = caller.employee_id.clone();
                row.owner_department_path = caller.department_path.clone();
            }
            POOL => {}
            AUTO => {
                let mut tx = match self.db.begin_command(key).await? {
                    Begun::Replayed(done) => return Ok(done),
                    Begun::Fresh(tx) => tx,
                };
                if let Some((owner, path)) = super::capture::pick_assignee(&mut tx, &row.province, &row.source).await? {
                    row.owner_id = owner;
                    row.owner_department_path = path;
                }
                return self.insert_new_lead(tx, &row).await;
            }
            owner => {
                if owner != caller.employee_id {
                    caller.require("sales.lead.assign")?;
                }
                row.owner_department_path = self.owner_path(caller, "owner_id", owner).await?;
                row.owner_id = owner.to_string();
            }
        }
        let tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        self.insert_new_lead(tx, &row).await
    }

    /// Stores a new lead and finishes the command.
    async fn insert_new_lead(&self, mut tx: CommandTx, row: &LeadRow) -> Result<pb::CreateLeadResponse> {
        store::leads::insert(&mut tx, row).await?;
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
        let response = pb::CreateLeadResponse {
            lead: Some(lead_proto(row)),
        };
        tx.finish(response).await
    }

    pub async fn get_lead(&self, caller: &Principal, req: pb::GetLeadRequest) -> Result<pb::GetLeadResponse> {
        let mut conn = self.conn().await?;
        let lead = self.visible_lead(&mut conn, caller, "id", &req.id).await?;
        Ok(pb::GetLeadResponse {
            lead: Some(lead_proto(&lead)),
        })
    }

    pub async fn list_lead_changes(
        &self,
        caller: &Principal,
        req: pb::ListLeadChangesRequest,
    ) -> Result<pb::ListLeadChangesResponse> {
        let mut conn = self.conn().await?;
        let lead = self.visible_lead(&mut conn, caller, "lead_id", &req.lead_id).await?;
        let page = CHANGES
            .list(&mut conn, &self.tokens, &lead.id, req.page_size, &req.page_token)
            .await?;
        Ok(pb::ListLeadChangesResponse {
            changes: page.rows.iter().map(|c| c.to_proto()).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn list_leads(&self, caller: &Principal, req: pb::ListLeadsRequest) -> Result<pb::ListLeadsResponse> {
        let listed = store::leads::listed(req.pool);
        let shape = [req.filter.as_str(), store::leads::owned(req.pool)];
        let keyset = Keyset::open(&self.tokens, listed.order(), req.page_size, &req.page_token, &shape)?;
        let filter = crm_kit::filter::compile(LEAD_FILTER, &req.filter, 1)?;
        let scope = lead_list_scope(caller, req.pool);
        let mut conn = self.conn().await?;
        let page = store::page(&mut conn, &listed, &scope, filter.as_ref(), &keyset, |l: &LeadRow| {
            Position::at(l.created_at, &l.id)
        })
        .await?;
        Ok(pb::ListLeadsResponse {
            leads: page.rows.iter().map(lead_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn update_lead(&self, caller: &Principal, req: pb::UpdateLeadRequest) -> Result<pb::UpdateLeadResponse> {
        let Some(src) = req.lead.as_ref() else {
            return Err(Error::required("lead"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            EDITABLE,
            SERVER_OWNED,
            "Lead",
            &mut v,
        );
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut row = self.visible_lead(&mut tx, caller, "lead.id", &src.id).await?;
        check_etag("lead.etag", &src.etag, row.version, LEAD)?;
        if row.status == "converted" {
            return Err(converted(&row.id));
        }
        let before = row.clone();
        let mut v = Violations::new();
        apply_fields(src, &paths, &mut row, &mut v, "lead", self.phone_region);
        v.finish()?;
        row.updated_at = now_micros();
        row.updated_by = caller.employee_id.clone();
        save_lead(&mut tx, &before, &mut row, "update", || Error::stale_etag(LEAD)).await?;
        tx.commit().await?;
        Ok(pb::UpdateLeadResponse {
            lead: Some(lead_proto(&row)),
        })
    }

    pub async fn delete_lead(&self, caller: &Principal, req: pb::DeleteLeadRequest) -> Result<pb::DeleteLeadResponse> {
        let mut tx = self.db.begin_write().await?;
        let row = self.visible_lead(&mut tx, caller, "id", &req.id).await?;
        if row.owner_id.is_empty() {
            caller.require("sales.lead.assign")?;
        }
        let now = now_micros();
        if !store::leads::delete(&mut tx, &row.id, row.version, now, &caller.employee_id).await? {
            return Err(Error::stale_etag(LEAD));
        }
        CHANGES
            .record(&mut tx, &row.id, "delete", &Changes::new(), &caller.employee_id, now)
            .await?;
        tx.commit().await?;
        Ok(pb::DeleteLeadResponse {})
    }

    /// Changes a lead's owner (`""`: the pool) if it still has `expected_owner`.
    async fn move_lead(
        &self,
        caller: &Principal,
        id: &str,
        to: &str,
        to_path: &str,
        expect_pool: Option<bool>,
    ) -> Result<LeadRow> {
        let mut tx = self.db.begin_write().await?;
        // Nobody who has left takes the lead (the caller themself included), checked first.
        let field = if to == caller.employee_id { "id" } else { "owner_id" };
        crm_kit::handover::require_active(&mut tx, &caller.employee_id, field, to).await?;
        let mut row = self.visible_lead(&mut tx, caller, "id", id).await?;
        if row.status == "converted" {
            return Err(converted(&row.id));
        }
        match expect_pool {
            Some(true) if !row.owner_id.is_empty() => {
                return Err(Error::precondition(
                    "NOT_IN_POOL",
                    format!("leads/{}", row.id),
                    "the lead is not in the pool (someone claimed it)",
                ));
            }
            Some(false) if row.owner_id != caller.employee_id => {
                return Err(Error::precondition(
                    "NOT_YOURS",
                    format!("leads/{}", row.id),
                    "only the owner releases a lead",
                ));
            }
            _ => {}
        }
        let before = row.clone();
        row.owner_id = to.to_string();
        row.owner_department_path = to_path.to_string();
        row.updated_at = now_micros();
        row.updated_by = caller.employee_id.clone();
        save_lead(&mut tx, &before, &mut row, "assign", || Error::Aborted {
            reason: "CONCURRENT_CHANGE",
            message: "the lead changed meanwhile; reload it".into(),
        })
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn assign_lead(&self, caller: &Principal, req: pb::AssignLeadRequest) -> Result<pb::AssignLeadResponse> {
        let owner = req.owner_id.trim();
        if owner.is_empty() {
            return Err(Error::required("owner_id"));
        }
        let path = self.owner_path(caller, "owner_id", owner).await?;
        let row = self.move_lead(caller, &req.id, owner, &path, None).await?;
        Ok(pb::AssignLeadResponse {
            lead: Some(lead_proto(&row)),
        })
    }

    pub async fn claim_lead(&self, caller: &Principal, req: pb::ClaimLeadRequest) -> Result<pb::ClaimLeadResponse> {
        let row = self
            .move_lead(
                caller,
                &req.id,
                &caller.employee_id,
                &caller.department_path,
                Some(true),
            )
            .await?;
        Ok(pb::ClaimLeadResponse {
            lead: Some(lead_proto(&row)),
        })
    }

    pub async fn release_lead(
        &self,
        caller: &Principal,
        req: pb::ReleaseLeadRequest,
    ) -> Result<pb::ReleaseLeadResponse> {
        let row = self.move_lead(caller, &req.id, "", "", Some(false)).await?;
        Ok(pb::ReleaseLeadResponse {
            lead: Some(lead_proto(&row)),
        })
    }

    pub async fn set_lead_status(
        &self,
        caller: &Principal,
        req: pb::SetLeadStatusRequest,
    ) -> Result<pb::SetLeadStatusResponse> {
        let to = pb::LeadStatus::try_from(req.status).unwrap_or(pb::LeadStatus::Unspecified);
        let mut v = Violations::new();
        if to == pb::LeadStatus::Disqualified {
            check_notes("reason", &req.reason, true, 500, &mut v);
        }
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut row = self.visible_lead(&mut tx, caller, "id", &req.id).await?;
        match to {
            pb::LeadStatus::Unspecified => {
                return Err(Error::invalid("status", reason::NOT_ALLOWED, "a status is required"));
            }
            pb::LeadStatus::Converted => {
                return Err(Error::invalid(
                    "status",
                    reason::NOT_ALLOWED,
                    "a lead is converted by ConvertLead",
                ));
            }
            _ => domain::LEAD_STATUS.check(domain::lead_status_of(&row.status), to, &format!("leads/{}", row.id))?,
        }
        let before = row.clone();
        row.status = domain::lead_status_code(to).to_string();
        row.disqualified_reason = if to == pb::LeadStatus::Disqualified {
            req.reason.trim().to_string()
        } else {
            String::new()
        };
        row.updated_at = now_micros();
        row.updated_by = caller.employee_id.clone();
        save_lead(&mut tx, &before, &mut row, "status", || Error::stale_etag(LEAD)).await?;
        tx.commit().await?;
        Ok(pb::SetLeadStatusResponse {
            lead: Some(lead_proto(&row)),
        })
    }

    pub async fn convert_lead(
        &self,
        caller: &Principal,
        mut req: pb::ConvertLeadRequest,
    ) -> Result<pb::ConvertLeadResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("ConvertLead", &caller.employee_id, &request_id, &req)?;
        let mut conn = self.conn().await?;
        if let Some(k) = &key
            && let Some(done) = k.replay(&mut conn).await?
        {
            return Ok(done);
        }
        let lead = self.visible_lead(&mut conn, caller, "id", &req.id).await?;
        if lead.status == "converted" {
            // Converting twice is asking for what the first conversion made.
            return self.conversion_result(&mut conn, &lead, false).await;
        }
        if lead.status != "qualified" {
            return Err(Error::precondition(
                "LEAD_NOT_QUALIFIED",
                format!("leads/{}", lead.id),
                "qualify the lead before converting it",
            ));
        }
        if lead.owner_id.is_empty() {
            return Err(Error::precondition(
                "LEAD_IN_POOL",
                format!("leads/{}", lead.id),
                "claim or assign the lead before converting it",
            ));
        }
        // The opportunity, checked before anything is created elsewhere.
        let opportunity = match &req.opportunity {
            Some(o) => Some(
                self.new_opportunity(&mut conn, caller, o, "opportunity", Some(&lead))
                    .await?,
            ),
            None => None,
        };
        drop(conn);

        let existing = !req.customer_id.trim().is_empty();
        let (customer_id, contact_id) = if existing {
            self.contact_on_existing(caller, &lead, req.customer_id.trim()).await?
        } else {
            self.create_customer_from(caller, &lead).await?
        };

        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let mut row = store::leads::load(&mut tx, &lead.id)
            .await?
            .ok_or_else(|| Error::not_found(LEAD, &lead.id))?;
        if row.status == "converted" {
            // A concurrent conversion won; its result stands.
            return self.conversion_result(&mut tx, &row, false).await;
        }
        let now = now_micros();
        let mut opportunity_id = String::new();
        if let Some(mut o) = opportunity {
            o.customer_id = customer_id.clone();
            o.contact_id = contact_id.clone();
            o.lead_id = lead.id.clone();
            o.created_at = now;
            o.updated_at = now;
            o.stage_entered_at = now;
            store::opportunities::insert(&mut tx, &o).await?;
            opportunity_id = o.id.clone();
        }
        let before = row.clone();
        row.status = "converted".into();
        row.converted_customer_id = customer_id.clone();
        row.converted_contact_id = contact_id.clone();
        row.converted_opportunity_id = opportunity_id.clone();
        row.converted_at = now;
        row.updated_at = now;
        row.updated_by = caller.employee_id.clone();
        save_lead(&mut tx, &before, &mut row, "convert", || Error::Aborted {
            reason: "CONCURRENT_CHANGE",
            message: "the lead changed meanwhile; retry with the same request_id".into(),
        })
        .await?;
        crm_kit::events::append_at(
            &mut tx,
            &row.id,
            &pb::LeadConverted {
                lead_id: row.id.clone(),
                customer_id: customer_id.clone(),
                contact_id: contact_id.clone(),
                opportunity_id: opportunity_id.clone(),
                existing_customer: existing,
            },
            now,
        )
        .await?;
        let response = self.conversion_result(&mut tx, &row, existing).await?;
        let response = tx.finish(response).await?;
        tracing::info!(lead = %row.id, customer = %customer_id, opportunity = %opportunity_id, existing, "lead converted");
        Ok(response)
    }

    async fn conversion_result(
        &self,
        conn: &mut AnyConnection,
        lead: &LeadRow,
        existing: bool,
    ) -> Result<pb::ConvertLeadResponse> {
        let opportunity = if lead.converted_opportunity_id.is_empty() {
            None
        } else {
            store::opportunities::load(conn, &lead.converted_opportunity_id)
                .await?
                .map(|o| super::opportunities::opportunity_proto(&o, now_micros()))
        };
        Ok(pb::ConvertLeadResponse {
            lead: Some(lead_proto(lead)),
            customer_id: lead.converted_customer_id.clone(),
            contact_id: lead.converted_contact_id.clone(),
            opportunity,
            existing_customer: existing,
        })
    }

    /// Creates the lead's customer and primary contact. The request id is the lead's, so a
    /// retried conversion gets the customer the first attempt made instead of a second one.
    async fn create_customer_from(&self, caller: &Principal, lead: &LeadRow) -> Result<(String, String)> {
        let contact = (!lead.contact_name.is_empty()).then(|| cpb::Contact {
            name: lead.contact_name.clone(),
            title: lead.title.clone(),
            mobile: lead.mobile.clone(),
            phone: lead.phone.clone(),
            email: lead.email.clone(),
            is_primary: true,
            ..Default::default()
        });
        let request = caller.forward(cpb::CreateCustomerRequest {
            customer: Some(cpb::Customer {
                kind: cpb::CustomerKind::Company as i32,
                name: lead.company_name.clone(),
                phone: lead.phone.clone(),
                email: lead.email.clone(),
                region: Some(cpb::Region {
                    province: lead.province.clone(),
                    city: lead.city.clone(),
                    ..Default::default()
                }),
                remark: lead.remark.clone(),
                primary_contact: contact,
                ..Default::default()
            }),
            owner_id: lead.owner_id.clone(),
            request_id: format!("convert-lead-{}", lead.id),
        })?;
        match CustomersServiceClient::new(self.customers.clone())
            .create_customer(request)
            .await
        {
            Ok(r) => {
                let customer = r.into_inner().customer.unwrap_or_default();
                let contact_id = customer.primary_contact.map(|c| c.id).unwrap_or_default();
                Ok((customer.id, contact_id))
            }
            Err(s) => Err(customers_refusal(&lead.id, s)),
        }
    }

    /// Adds the lead's contact to an existing customer the caller may see.
    async fn contact_on_existing(
        &self,
        caller: &Principal,
        lead: &LeadRow,
        customer_id: &str,
    ) -> Result<(String, String)> {
        let mut client = CustomersServiceClient::new(self.customers.clone());
        let found = client
            .get_customer(caller.forward(cpb::GetCustomerRequest {
                id: customer_id.to_string(),
            })?)
            .await;
        match found {
            Ok(_) => {}
            Err(s) if s.code() == tonic::Code::NotFound => {
                return Err(Error::invalid(
                    "customer_id",
                    "UNKNOWN_CUSTOMER",
                    format!("customer {customer_id} does not exist or is outside your scope"),
                ));
            }
            Err(s) => return Err(customers_refusal(&lead.id, s)),
        }
        if lead.contact_name.is_empty() {
            return Ok((customer_id.to_string(), String::new()));
        }
        let created = client
            .create_contact(caller.forward(cpb::CreateContactRequest {
                contact: Some(cpb::Contact {
                    customer_id: customer_id.to_string(),
                    name: lead.contact_name.clone(),
                    title: lead.title.clone(),
                    mobile: lead.mobile.clone(),
                    phone: lead.phone.clone(),
                    email: lead.email.clone(),
                    ..Default::default()
                }),
                request_id: format!("convert-lead-{}-contact", lead.id),
            })?)
            .await
            .map_err(|s| customers_refusal(&lead.id, s))?;
        Ok((
            customer_id.to_string(),
            created.into_inner().contact.map(|c| c.id).unwrap_or_default(),
        ))
    }
}

impl SalesApi {
    pub async fn create_lead_follow_up(
        &self,
        caller: &Principal,
        req: pb::CreateLeadFollowUpRequest,
    ) -> Result<pb::CreateLeadFollowUpResponse> {
        let Some(src) = req.follow_up else {
            return Err(Error::required("follow_up"));
        };
        let now = now_micros();
        let mut v = Violations::new();
        check_notes("follow_up.summary", &src.summary, true, 4000, &mut v);
        check_notes("follow_up.outcome", &src.outcome, false, 2000, &mut v);
        check_notes("follow_up.next_plan", &src.next_plan, false, 2000, &mut v);
        let method = match pb::ActivityMethod::try_from(src.method) {
            Ok(pb::ActivityMethod::Unspecified) | Err(_) => {
                v.add("follow_up.method", reason::REQUIRED, "how the contact was made");
                pb::ActivityMethod::Other
            }
            Ok(m) => m,
        };
        let mut time = |field: &str, t: &Option<prost_types::Timestamp>, default: i64| match t {
            Some(t) => crm_kit::time::from_proto(field, t).unwrap_or_else(|_| {
                v.add(field, reason::MALFORMED, "not a valid time");
                default
            }),
            None => default,
        };
        let occur_at = time("follow_up.occur_time", &src.occur_time, now);
        let next_at = time("follow_up.next_contact_time", &src.next_contact_time, 0);
        if next_at != 0 && next_at < occur_at {
            v.add(
                "follow_up.next_contact_time",
                reason::OUT_OF_RANGE,
                "must not be before occur_time",
            );
        }
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut lead = self
            .visible_lead(&mut tx, caller, "follow_up.lead_id", &src.lead_id)
            .await?;
        if lead.status == "converted" {
            return Err(converted(&lead.id));
        }
        let f = FollowUpRow {
            id: crm_kit::new_id(),
            method: domain::method_code(method).to_string(),
            occur_at,
            summary: src.summary.trim().to_string(),
            outcome: src.outcome.trim().to_string(),
            next_contact_at: next_at,
            next_plan: src.next_plan.trim().to_string(),
            author_id: caller.employee_id.clone(),
            created_at: now,
        };
        store::leads::insert_follow_up(&mut tx, &lead.id, &f).await?;
        // The latest contact sets the times; a new lead is being contacted now.
        let (last, next) = store::leads::follow_up_times(&mut tx, &lead.id).await?;
        let before = lead.clone();
        if lead.status == "new" {
            lead.status = "contacting".into();
        }
        lead.updated_at = now;
        lead.updated_by = caller.employee_id.clone();
        save_lead(&mut tx, &before, &mut lead, "follow_up", || Error::Aborted {
            reason: "CONCURRENT_CHANGE",
            message: "the lead changed meanwhile; retry".into(),
        })
        .await?;
        store::leads::set_follow_up_times(&mut tx, &lead.id, last, next).await?;
        lead.last_follow_up_at = last;
        lead.next_follow_up_at = next;
        tx.commit().await?;
        Ok(pb::CreateLeadFollowUpResponse {
            follow_up: Some(follow_up_proto(&lead.id, f)),
            lead: Some(lead_proto(&lead)),
        })
    }

    pub async fn list_lead_follow_ups(
        &self,
        caller: &Principal,
        req: pb::ListLeadFollowUpsRequest,
    ) -> Result<pb::ListLeadFollowUpsResponse> {
        let mut conn = self.conn().await?;
        let lead = self.visible_lead(&mut conn, caller, "lead_id", &req.lead_id).await?;
        let rows = store::leads::follow_ups(&mut conn, &lead.id).await?;
        Ok(pb::ListLeadFollowUpsResponse {
            follow_ups: rows.into_iter().map(|r| follow_up_proto(&lead.id, r)).collect(),
        })
    }
}

/// The wire form of a follow-up of lead `lead_id`.
fn follow_up_proto(lead_id: &str, r: FollowUpRow) -> pb::LeadFollowUp {
    pb::LeadFollowUp {
        id: r.id,
        lead_id: lead_id.to_string(),
        method: domain::method_of(&r.method) as i32,
        occur_time: crm_kit::time::set_to_proto(r.occur_at),
        summary: r.summary,
        outcome: r.outcome,
        next_contact_time: crm_kit::time::set_to_proto(r.next_contact_at),
        next_plan: r.next_plan,
        author_id: r.author_id,
        create_time: crm_kit::time::set_to_proto(r.created_at),
    }
}

fn converted(id: &str) -> Error {
    Error::precondition(
        "LEAD_CONVERTED",
        format!("leads/{id}"),
        "the lead is converted and kept as it was",
    )
}

/// What a refusal of the customers service means for a conversion: a duplicate is offered
/// (its id in the error's metadata, to convert onto it), anything else is passed on.
fn customers_refusal(lead_id: &str, s: tonic::Status) -> Error {
    let info = s.get_details_error_info();
    match s.code() {
        tonic::Code::AlreadyExists if info.as_ref().is_some_and(|i| i.reason == "DUPLICATE_CUSTOMER") => {
            let metadata = info.map(|i| i.metadata).unwrap_or_default();
            let existing = metadata.get("customer_id").cloned().unwrap_or_default();
            let name = metadata.get("customer_name").cloned().unwrap_or_default();
            Error::AlreadyExists {
                reason: "DUPLICATE_CUSTOMER",
                message: format!(
                    "customer {name} ({existing}) already exists: convert onto it by passing customer_id = {existing}"
                ),
                metadata: vec![
                    ("customer_id".into(), existing.clone()),
                    ("customer_name".into(), name),
                    ("lead_id".into(), lead_id.to_string()),
                ],
                resource: None,
            }
        }
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
            Error::Unavailable("the customers service is unavailable; retry with the same request_id".into())
        }
        tonic::Code::PermissionDenied => Error::PermissionDenied {
            permission: "customers.customer.create".into(),
        },
        _ => Error::precondition(
            "CUSTOMER_REFUSED",
            format!("leads/{lead_id}"),
            format!("the customers service refused the lead's data: {}", s.message()),
        ),
    }
}
