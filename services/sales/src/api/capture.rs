//! Leads from outside and who gets them: public web forms (a form key, no sign-in; the
//! gateway rate-limits public calls per address) and the assignment rules that hand new pooled
//! leads to active salespeople with capacity, in turn, by region or by source.

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::sales as pb;
use std::collections::HashMap;

use sqlx::AnyConnection;

use super::SalesApi;
use super::leads::{new_lead, validate_lead};
use crate::store;
use crate::store::capture::{AssigneeRow, WebFormRow};
use crm_kit::errors::reason;

const WEB_FORM: &str = "crm.sales.v1.WebForm";

fn form_proto(f: &WebFormRow) -> pb::WebForm {
    pb::WebForm {
        id: f.id.clone(),
        name: f.name.clone(),
        key: f.form_key.clone(),
        active: f.active == 1,
        captured: f.captured,
    }
}

/// Most assignees in the rules.
const MAX_ASSIGNEES: usize = 200;
/// Most provinces of one assignee.
const MAX_PROVINCES: usize = 100;
/// Most lead sources of one assignee.
const MAX_SOURCES: usize = 20;

/// A JSON array of strings as stored in `assignees`.
fn list_of(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The assignment rules as they stand inside one write transaction, handing out new leads in
/// memory: the next assignee in turn after the last one served, among those covering the
/// lead's province (by region) or taking its source (by source), and below their capacity.
/// [`Assigner::load`] takes the rules' row lock, so concurrent writers take turns;
/// [`Assigner::save`] stores whose turn it was.
pub(crate) struct Assigner {
    enabled: bool,
    mode: String,
    last: i64,
    served: bool,
    /// Each assignee with their provinces and sources, lower-cased.
    assignees: Vec<(AssigneeRow, Vec<String>, Vec<String>)>,
    /// Open leads held by each assignee with a capacity.
    open: HashMap<String, i64>,
}

impl Assigner {
    pub(crate) async fn load(conn: &mut AnyConnection) -> Result<Assigner> {
        store::capture::lock_rules(conn).await?;
        let (enabled, mode, last) = store::capture::rules_with_turn(conn).await?;
        if enabled == 0 {
            return Ok(Assigner {
                enabled: false,
                mode,
                last,
                served: false,
                assignees: Vec::new(),
                open: HashMap::new(),
            });
        }
        let rows = store::capture::assignees(conn).await?;
        let open = store::capture::open_leads_of_assignees(conn)
            .await?
            .into_iter()
            .collect();
        let lower = |json: &str| {
            list_of(json)
                .iter()
                .map(|p| p.trim().to_lowercase())
                .collect::<Vec<_>>()
        };
        Ok(Assigner {
            enabled: true,
            mode,
            last,
            served: false,
            assignees: rows
                .into_iter()
                .map(|a| {
                    let (provinces, sources) = (lower(&a.provinces), lower(&a.sources));
                    (a, provinces, sources)
                })
                .collect(),
            open,
        })
    }

    /// Who gets a new open lead from `province` with source code `source` (owner id and
    /// department path), counting it against their capacity; `None`: it stays in the pool.
    pub(crate) fn pick(&mut self, province: &str, source: &str) -> Option<(String, String)> {
        if !self.enabled {
            return None;
        }
        let province = province.trim().to_lowercase();
        let fits = |(a, provinces, sources): &(AssigneeRow, Vec<String>, Vec<String>)| {
            let covers = match self.mode.as_str() {
                "by_region" => provinces.contains(&province),
                "by_source" => sources.iter().any(|s| s == source),
                _ => true,
            };
            covers && (a.capacity == 0 || self.open.get(&a.employee_id).copied().unwrap_or(0) < a.capacity)
        };
        let next = self
            .assignees
            .iter()
            .filter(|a| fits(a))
            .find(|(a, ..)| a.position > self.last)
            .or_else(|| self.assignees.iter().find(|a| fits(a)))
            .map(|(a, ..)| a.clone())?;
        self.last = next.position;
        self.served = true;
        *self.open.entry(next.employee_id.clone()).or_default() += 1;
        Some((next.employee_id, next.department_path))
    }

    /// Stores whose turn it was, when a lead was handed out.
    pub(crate) async fn save(&self, conn: &mut AnyConnection) -> Result<()> {
        if self.served {
            store::capture::save_turn(conn, self.last).await?;
        }
        Ok(())
    }
}

/// Who gets one new lead under the rules (see [`Assigner`]), if anyone.
pub(crate) async fn pick_assignee(
    conn: &mut AnyConnection,
    province: &str,
    source: &str,
) -> Result<Option<(String, String)>> {
    let mut rules = Assigner::load(conn).await?;
    let picked = rules.pick(province, source);
    rules.save(conn).await?;
    only_active(conn, picked).await
}

/// `picked`, unless they have left (the rules lose a leaver when the departure is applied, but
/// a pick may race it): then nobody, and the lead waits in the pool.
pub(crate) async fn only_active(
    conn: &mut AnyConnection,
    picked: Option<(String, String)>,
) -> Result<Option<(String, String)>> {
    match picked {
        Some((id, path)) if crm_kit::handover::active_guarded(conn, &id).await? => Ok(Some((id, path))),
        Some((id, _)) => {
            tracing::info!(employee = %id, "the assignment rules picked an employee who has left; the lead waits in the pool");
            Ok(None)
        }
        None => Ok(None),
    }
}

impl SalesApi {
    pub async fn capture_lead(&self, req: pb::CaptureLeadRequest) -> Result<pb::CaptureLeadResponse> {
        let key = req.form_key.trim();
        if key.is_empty() {
            return Err(Error::required("form_key"));
        }
        let src = pb::Lead {
            company_name: req.company_name,
            contact_name: req.contact_name,
            phone: req.phone,
            mobile: req.mobile,
            email: req.email,
            province: req.province,
            city: req.city,
            remark: req.message,
            source: pb::LeadSource::WebsiteForm as i32,
            ..Default::default()
        };
        let mut tx = self.db.begin_write().await?;
        let form = store::capture::form_by_key(&mut tx, key).await?;
        let Some(form) = form.filter(|f| f.active == 1) else {
            return Err(Error::invalid(
                "form_key",
                "UNKNOWN_FORM",
                "no active web form has this key",
            ));
        };
        let mut row = new_lead(&format!("webform:{}", form.id), now_micros());
        validate_lead(&src, &mut row, "", self.phone_region)?;
        if let Some((owner, path)) = pick_assignee(&mut tx, &row.province, &row.source).await? {
            row.owner_id = owner;
            row.owner_department_path = path;
        }
        store::leads::insert(&mut tx, &row).await?;
        store::capture::count_capture(&mut tx, &form.id).await?;
        tx.commit().await?;
        tracing::info!(form = %form.id, lead = %row.id, owner = %row.owner_id, "lead captured");
        Ok(pb::CaptureLeadResponse { accepted: true })
    }

    pub async fn create_web_form(
        &self,
        caller: &Principal,
        req: pb::CreateWebFormRequest,
    ) -> Result<pb::CreateWebFormResponse> {
        let name = req.web_form.map(|f| f.name).unwrap_or_default();
        let mut v = Violations::new();
        super::check_text("web_form.name", &name, true, 100, &mut v);
        v.finish()?;
        let row = WebFormRow {
            id: crm_kit::new_id(),
            name: name.trim().to_string(),
            form_key: crm_kit::config::generate_secret()[..32].to_string(),
            active: 1,
            captured: 0,
        };
        let mut tx = self.db.begin_write().await?;
        store::capture::insert_form(&mut tx, &row, now_micros(), &caller.employee_id).await?;
        tx.commit().await?;
        Ok(pb::CreateWebFormResponse {
            web_form: Some(form_proto(&row)),
        })
    }

    pub async fn list_web_forms(
        &self,
        _caller: &Principal,
        _req: pb::ListWebFormsRequest,
    ) -> Result<pb::ListWebFormsResponse> {
        let mut conn = self.conn().await?;
        let rows = store::capture::forms(&mut conn).await?;
        Ok(pb::ListWebFormsResponse {
            web_forms: rows.iter().map(form_proto).collect(),
        })
    }

    pub async fn set_web_form_active(
        &self,
        _caller: &Principal,
        req: pb::SetWebFormActiveRequest,
    ) -> Result<pb::SetWebFormActiveResponse> {
        let mut tx = self.db.begin_write().await?;
        if !store::capture::set_form_active(&mut tx, req.id.trim(), req.active).await? {
            return Err(Error::not_found(WEB_FORM, req.id.trim()));
        }
        let row = store::capture::form(&mut tx, req.id.trim()).await?;
        tx.commit().await?;
        Ok(pb::SetWebFormActiveResponse {
            web_form: Some(form_proto(&row)),
        })
    }

    async fn rules(conn: &mut AnyConnection) -> Result<pb::AssignmentRules> {
        let (enabled, mode) = store::capture::rules(conn).await?;
        let assignees = store::capture::assignees(conn).await?;
        Ok(pb::AssignmentRules {
            enabled: enabled == 1,
            mode: match mode.as_str() {
                "by_region" => pb::AssignmentMode::ByRegion,
                "by_source" => pb::AssignmentMode::BySource,
                _ => pb::AssignmentMode::RoundRobin,
            } as i32,
            assignees: assignees
                .iter()
                .map(|a| pb::Assignee {
                    employee_id: a.employee_id.clone(),
                    provinces: list_of(&a.provinces),
                    capacity: a.capacity as i32,
                    sources: list_of(&a.sources)
                        .iter()
                        .map(|code| crate::domain::source_of(code) as i32)
                        .collect(),
                })
                .collect(),
        })
    }

    pub async fn get_assignment_rules(
        &self,
        _caller: &Principal,
        _req: pb::GetAssignmentRulesRequest,
    ) -> Result<pb::GetAssignmentRulesResponse> {
        let mut conn = self.conn().await?;
        Ok(pb::GetAssignmentRulesResponse {
            rules: Some(Self::rules(&mut conn).await?),
        })
    }

    pub async fn update_assignment_rules(
        &self,
        caller: &Principal,
        req: pb::UpdateAssignmentRulesRequest,
    ) -> Result<pb::UpdateAssignmentRulesResponse> {
        let Some(rules) = req.rules else {
            return Err(Error::required("rules"));
        };
        let mut v = Violations::new();
        let mode = match pb::AssignmentMode::try_from(rules.mode).unwrap_or(pb::AssignmentMode::Unspecified) {
            pb::AssignmentMode::ByRegion => "by_region",
            pb::AssignmentMode::BySource => "by_source",
            pb::AssignmentMode::RoundRobin => "round_robin",
            pb::AssignmentMode::Unspecified => {
                v.add("rules.mode", reason::REQUIRED, "ROUND_ROBIN, BY_REGION or BY_SOURCE");
                ""
            }
        };
        // Counts first: each assignee costs a call to identity and a row.
        if rules.assignees.len() > MAX_ASSIGNEES {
            return Err(Error::invalid(
                "rules.assignees",
                reason::TOO_MANY,
                format!("at most {MAX_ASSIGNEES} assignees"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, a) in rules.assignees.iter().enumerate() {
            let list = format!("rules.assignees[{i}]");
            if a.provinces.len() > MAX_PROVINCES {
                v.add(
                    format!("{list}.provinces"),
                    reason::TOO_MANY,
                    format!("at most {MAX_PROVINCES} provinces"),
                );
            } else {
                for (j, p) in a.provinces.iter().enumerate() {
                    v.take(crm_kit::text::optional(
                        &format!("{list}.provinces[{j}]"),
                        p,
                        60,
                        crm_kit::text::Lines::Single,
                    ));
                }
            }
            if a.sources.len() > MAX_SOURCES {
                v.add(
                    format!("{list}.sources"),
                    reason::TOO_MANY,
                    format!("at most {MAX_SOURCES} sources"),
                );
            }
            if !seen.insert(a.employee_id.trim().to_string()) {
                v.add(
                    format!("rules.assignees[{i}].employee_id"),
                    reason::DUPLICATE,
                    "each assignee once",
                );
            }
            if a.capacity < 0 {
                v.add(
                    format!("rules.assignees[{i}].capacity"),
                    reason::OUT_OF_RANGE,
                    "0 (no limit) or more",
                );
            }
            if mode == "by_region" && a.provinces.iter().all(|p| p.trim().is_empty()) {
                v.add(
                    format!("rules.assignees[{i}].provinces"),
                    reason::REQUIRED,
                    "by region, each assignee covers a province",
                );
            }
            for (j, source) in a.sources.iter().enumerate() {
                if matches!(
                    pb::LeadSource::try_from(*source),
                    Err(_) | Ok(pb::LeadSource::Unspecified)
                ) {
                    v.add(
                        format!("rules.assignees[{i}].sources[{j}]"),
                        reason::UNKNOWN_ENUM_VALUE,
                        format!("{source} is not a lead source"),
                    );
                }
            }
            if mode == "by_source" && a.sources.is_empty() {
                v.add(
                    format!("rules.assignees[{i}].sources"),
                    reason::REQUIRED,
                    "by source, each assignee takes a source",
                );
            }
        }
        if rules.enabled && rules.assignees.is_empty() {
            v.add("rules.assignees", reason::REQUIRED, "enabled rules need an assignee");
        }
        v.finish()?;
        // Each assignee is an active employee in the caller's scope (asked of identity).
        let mut paths = Vec::new();
        for (i, a) in rules.assignees.iter().enumerate() {
            paths.push(
                self.owner_path(
                    caller,
                    &format!("rules.assignees[{i}].employee_id"),
                    a.employee_id.trim(),
                )
                .await?,
            );
        }
        let mut tx = self.db.begin_write().await?;
        store::capture::update_rules(&mut tx, rules.enabled, mode, now_micros(), &caller.employee_id).await?;
        // Identity said they were active; one who has left since must not rejoin the rules.
        for (i, a) in rules.assignees.iter().enumerate() {
            crm_kit::handover::require_active(
                &mut tx,
                &caller.employee_id,
                &format!("rules.assignees[{i}].employee_id"),
                a.employee_id.trim(),
            )
            .await?;
        }
        store::capture::clear_assignees(&mut tx).await?;
        for (i, (a, path)) in rules.assignees.iter().zip(paths).enumerate() {
            let provinces: Vec<&str> = a.provinces.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect();
            let mut sources: Vec<&str> = Vec::new();
            for code in a
                .sources
                .iter()
                .filter_map(|s| pb::LeadSource::try_from(*s).ok())
                .map(crate::domain::source_code)
            {
                if !sources.contains(&code) {
                    sources.push(code);
                }
            }
            store::capture::insert_assignee(
                &mut tx,
                &AssigneeRow {
                    employee_id: a.employee_id.trim().to_string(),
                    position: i as i64 + 1,
                    provinces: serde_json::to_string(&provinces).unwrap_or_else(|_| "[]".into()),
                    sources: serde_json::to_string(&sources).unwrap_or_else(|_| "[]".into()),
                    capacity: i64::from(a.capacity),
                    department_path: path,
                },
            )
            .await?;
        }
        let stored = Self::rules(&mut tx).await?;
        tx.commit().await?;
        Ok(pb::UpdateAssignmentRulesResponse { rules: Some(stored) })
    }
}
