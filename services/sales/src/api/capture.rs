//! Leads from outside and who gets them: public web forms (a form key, no sign-in; the
//! gateway rate-limits public calls per address) and the assignment rules that hand new pooled
//! leads to active salespeople with capacity, in turn or by region.

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::sales as pb;
use sqlx::AnyConnection;

use super::SalesApi;
use super::leads::{new_lead, validate_lead};
use crate::store;

const WEB_FORM: &str = "crm.sales.v1.WebForm";

#[derive(Debug, Clone, sqlx::FromRow)]
struct FormRow {
    id: String,
    name: String,
    form_key: String,
    active: i64,
    captured: i64,
}

fn form_proto(f: &FormRow) -> pb::WebForm {
    pb::WebForm {
        id: f.id.clone(),
        name: f.name.clone(),
        key: f.form_key.clone(),
        active: f.active == 1,
        captured: f.captured,
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct AssigneeRow {
    employee_id: String,
    position: i64,
    provinces: String,
    capacity: i64,
    department_path: String,
}

fn provinces_of(a: &AssigneeRow) -> Vec<String> {
    serde_json::from_str(&a.provinces).unwrap_or_default()
}

/// The assignee who gets the next new lead from `province` under the rules, if any: the next
/// in turn after the last one served, among those covering the province (by region) and below
/// their capacity. Takes the rules' row lock, so concurrent leads take turns.
pub(crate) async fn pick_assignee(conn: &mut AnyConnection, province: &str) -> Result<Option<(String, String)>> {
    sqlx::query("UPDATE assignment_rules SET last_position = last_position WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    let (enabled, mode, last): (i64, String, i64) =
        sqlx::query_as("SELECT enabled, mode, last_position FROM assignment_rules WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    if enabled == 0 {
        return Ok(None);
    }
    let assignees: Vec<AssigneeRow> = sqlx::query_as(
        "SELECT employee_id, position, provinces, capacity, department_path FROM assignees ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    // Open leads of every assignee with a capacity, in one query.
    let open: std::collections::HashMap<String, i64> = sqlx::query_as(
        "SELECT l.owner_id, CAST(COUNT(*) AS BIGINT) FROM leads l JOIN assignees a ON a.employee_id = l.owner_id \
         WHERE a.capacity > 0 AND l.deleted_at IS NULL AND l.status IN ('new', 'contacting', 'qualified') \
         GROUP BY l.owner_id",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let province = province.trim().to_lowercase();
    let candidates: Vec<AssigneeRow> = assignees
        .into_iter()
        .filter(|a| mode != "by_region" || provinces_of(a).iter().any(|p| p.trim().to_lowercase() == province))
        .filter(|a| a.capacity == 0 || open.get(&a.employee_id).copied().unwrap_or(0) < a.capacity)
        .collect();
    let Some(next) = candidates
        .iter()
        .find(|a| a.position > last)
        .or_else(|| candidates.first())
        .cloned()
    else {
        return Ok(None);
    };
    sqlx::query("UPDATE assignment_rules SET last_position = $1 WHERE id = 1")
        .bind(next.position)
        .execute(conn)
        .await?;
    Ok(Some((next.employee_id, next.department_path)))
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
        let form: Option<FormRow> =
            sqlx::query_as("SELECT id, name, form_key, active, captured FROM web_forms WHERE form_key = $1")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(form) = form.filter(|f| f.active == 1) else {
            return Err(Error::invalid(
                "form_key",
                "UNKNOWN_FORM",
                "no active web form has this key",
            ));
        };
        let mut row = new_lead(&format!("webform:{}", form.id), now_micros());
        validate_lead(&src, &mut row, "")?;
        if let Some((owner, path)) = pick_assignee(&mut tx, &row.province).await? {
            row.owner_id = owner;
            row.owner_department_path = path;
        }
        store::insert_lead(&mut tx, &row).await?;
        sqlx::query("UPDATE web_forms SET captured = captured + 1 WHERE id = $1")
            .bind(&form.id)
            .execute(&mut *tx)
            .await?;
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
        let row = FormRow {
            id: crm_kit::new_id(),
            name: name.trim().to_string(),
            form_key: crm_kit::config::generate_secret()[..32].to_string(),
            active: 1,
            captured: 0,
        };
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO web_forms (id, name, form_key, active, captured, created_at, created_by) VALUES ($1, $2, $3, 1, 0, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.form_key)
        .bind(now_micros())
        .bind(&caller.employee_id)
        .execute(&mut *tx)
        .await?;
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
        let rows: Vec<FormRow> =
            sqlx::query_as("SELECT id, name, form_key, active, captured FROM web_forms ORDER BY created_at, id")
                .fetch_all(&mut *conn)
                .await?;
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
        let done = sqlx::query("UPDATE web_forms SET active = $1 WHERE id = $2")
            .bind(i64::from(req.active))
            .bind(req.id.trim())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if done == 0 {
            return Err(Error::not_found(WEB_FORM, req.id.trim()));
        }
        let row: FormRow = sqlx::query_as("SELECT id, name, form_key, active, captured FROM web_forms WHERE id = $1")
            .bind(req.id.trim())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(pb::SetWebFormActiveResponse {
            web_form: Some(form_proto(&row)),
        })
    }

    async fn rules(conn: &mut AnyConnection) -> Result<pb::AssignmentRules> {
        let (enabled, mode): (i64, String) = sqlx::query_as("SELECT enabled, mode FROM assignment_rules WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
        let assignees: Vec<AssigneeRow> = sqlx::query_as(
            "SELECT employee_id, position, provinces, capacity, department_path FROM assignees ORDER BY position",
        )
        .fetch_all(conn)
        .await?;
        Ok(pb::AssignmentRules {
            enabled: enabled == 1,
            mode: if mode == "by_region" {
                pb::AssignmentMode::ByRegion
            } else {
                pb::AssignmentMode::RoundRobin
            } as i32,
            assignees: assignees
                .iter()
                .map(|a| pb::Assignee {
                    employee_id: a.employee_id.clone(),
                    provinces: provinces_of(a),
                    capacity: a.capacity as i32,
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
            pb::AssignmentMode::RoundRobin => "round_robin",
            pb::AssignmentMode::Unspecified => {
                v.add("rules.mode", "REQUIRED", "ROUND_ROBIN or BY_REGION");
                ""
            }
        };
        let mut seen = std::collections::HashSet::new();
        for (i, a) in rules.assignees.iter().enumerate() {
            if !seen.insert(a.employee_id.trim().to_string()) {
                v.add(
                    format!("rules.assignees[{i}].employee_id"),
                    "DUPLICATE",
                    "each assignee once",
                );
            }
            if a.capacity < 0 {
                v.add(
                    format!("rules.assignees[{i}].capacity"),
                    "OUT_OF_RANGE",
                    "0 (no limit) or more",
                );
            }
            if mode == "by_region" && a.provinces.iter().all(|p| p.trim().is_empty()) {
                v.add(
                    format!("rules.assignees[{i}].provinces"),
                    "REQUIRED",
                    "by region, each assignee covers a province",
                );
            }
        }
        if rules.enabled && rules.assignees.is_empty() {
            v.add("rules.assignees", "REQUIRED", "enabled rules need an assignee");
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
        sqlx::query("UPDATE assignment_rules SET enabled = $1, mode = $2, last_position = 0, updated_at = $3, updated_by = $4 WHERE id = 1")
            .bind(i64::from(rules.enabled))
            .bind(mode)
            .bind(now_micros())
            .bind(&caller.employee_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM assignees").execute(&mut *tx).await?;
        for (i, (a, path)) in rules.assignees.iter().zip(paths).enumerate() {
            let provinces: Vec<&str> = a.provinces.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect();
            sqlx::query(
                "INSERT INTO assignees (employee_id, position, provinces, capacity, department_path) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(a.employee_id.trim())
            .bind(i as i64 + 1)
            .bind(serde_json::to_string(&provinces).unwrap_or_else(|_| "[]".into()))
            .bind(i64::from(a.capacity))
            .bind(path)
            .execute(&mut *tx)
            .await?;
        }
        let stored = Self::rules(&mut tx).await?;
        tx.commit().await?;
        Ok(pb::UpdateAssignmentRulesResponse { rules: Some(stored) })
    }
}
