//! Ownership and the public pool: assign, transfer, release, claim, share, reclaim locks, the
//! pool policy and the reclaim rules.

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::Keyset;
use crm_kit::time::{DAY_MICROS, now_micros};
use crm_kit::{Error, Result};
use crm_proto::customers as pb;
use sqlx::AnyConnection;

use super::{CUSTOMER, CustomersApi, convert, may_manage, scope, visible_customer};
use crate::domain::pool::PoolPolicy;
use crate::domain::required_text;
use crate::store::customers::{self as store, CustomerRow};
use crate::store::{catalog, history, ownership};
use crm_kit::errors::reason;

const POLICY_KEY: &str = "pool_policy";

/// Reads the pool policy (defaults until one is saved).
pub async fn load_policy(conn: &mut AnyConnection) -> Result<PoolPolicy> {
    match catalog::setting(conn, POLICY_KEY).await? {
        Some(json) => serde_json::from_str(&json).map_err(|e| Error::Internal(format!("stored pool policy: {e}"))),
        None => Ok(PoolPolicy::default()),
    }
}

/// Refuses giving a customer to someone outside the caller's reach: their own department, or
/// further down the tree when their scope covers it (a manager hands customers around within
/// their department tree, no further).
pub fn check_in_scope(caller: &Principal, field: &str, employee: &str, department_path: &str) -> Result<()> {
    let same_department = !department_path.is_empty() && department_path == caller.department_path;
    if same_department || caller.covers(super::SERVICE, employee, department_path) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "OUT_OF_SCOPE",
            format!("{employee} is outside your department; you can give customers only to people in it"),
        ))
    }
}

fn employee_id(field: &str, value: &str, v: &mut Violations) -> String {
    let id = v.take(required_text(field, value, 64)).unwrap_or_default();
    if id.chars().any(char::is_whitespace) {
        v.add(field, reason::MALFORMED, "must be an employee id without spaces");
    }
    id
}

/// What an ownership command does once its checks pass.
struct Move<'a> {
    row: &'a CustomerRow,
    to: &'a str,
    /// The new owner's department path ('' for the pool).
    to_department_path: &'a str,
    reason: &'static str,
    note: &'a str,
}

impl CustomersApi {
    /// Gives `row` to the employee `to` (named by request field `field`, in department
    /// `to_path`) inside `tx`: the new owner must be active and within their caps; the move is
    /// recorded with `reason` and `note`. Returns the customer as it now is.
    async fn hand_to(
        &self,
        tx: &mut AnyConnection,
        caller: &Principal,
        row: &CustomerRow,
        (field, to, to_path): (&str, &str, &str),
        reason: &'static str,
        note: &str,
    ) -> Result<pb::Customer> {
        let now = now_micros();
        crm_kit::handover::require_active(tx, &caller.employee_id, field, to).await?;
        ownership::guard_owner(tx, to, now).await?;
        let m = Move {
            row,
            to,
            to_department_path: to_path,
            reason,
            note,
        };
        let updated = self.apply_move(tx, caller, m, now).await?;
        convert::one_customer(tx, &updated).await
    }

    /// Applies one ownership move inside `tx`: conditional update, history, response.
    async fn apply_move(
        &self,
        tx: &mut AnyConnection,
        caller: &Principal,
        m: Move<'_>,
        now: i64,
    ) -> Result<CustomerRow> {
        if !ownership::change_owner(
            tx,
            &m.row.id,
            &m.row.owner_id,
            m.to,
            m.to_department_path,
            &caller.employee_id,
            now,
        )
        .await?
        {
            return Err(Error::precondition(
                "OWNER_CHANGED",
                format!("customers/{}", m.row.id),
                "the customer changed hands meanwhile; reload it",
            ));
        }
        history::record_owner_change(
            tx,
            &m.row.id,
            &m.row.owner_id,
            m.to,
            m.reason,
            m.note,
            &caller.employee_id,
            now,
        )
        .await?;
        crm_kit::events::append_at(
            tx,
            &m.row.id,
            &pb::CustomerOwnerChanged {
                customer_ids: vec![m.row.id.clone()],
                from_owner_id: m.row.owner_id.clone(),
                to_owner_id: m.to.to_string(),
                reason: m.reason.to_string(),
            },
            now,
        )
        .await?;
        store::load(tx, &m.row.id, false)
            .await?
            .ok_or_else(|| Error::not_found(CUSTOMER, &m.row.id))
    }

    /// AssignCustomer (managers): gives a customer, owned or pooled, to an employee.
    pub async fn assign_customer(
        &self,
        caller: &Principal,
        mut req: pb::AssignCustomerRequest,
    ) -> Result<pb::AssignCustomerResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("AssignCustomer", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        let to = employee_id("owner_id", &req.owner_id, &mut v);
        let note = v
            .take(crate::domain::optional_notes("note", &req.note, 500))
            .unwrap_or_default();
        v.finish()?;
        caller.require("customers.customer.assign")?;
        let to_path = self.directory.department_of(caller, "owner_id", &to).await?;
        check_in_scope(caller, "owner_id", &to, &to_path)?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let row = visible_customer(&mut tx, caller, "id", &req.id).await?;
        if row.owner_id == to {
            return Err(Error::precondition(
                "ALREADY_OWNER",
                format!("customers/{}", row.id),
                format!("{to} already owns the customer"),
            ));
        }
        let customer = self
            .hand_to(&mut tx, caller, &row, ("owner_id", &to, &to_path), "assign", &note)
            .await?;
        tx.finish(pb::AssignCustomerResponse {
            customer: Some(customer),
        })
        .await
    }

    /// TransferCustomer: the owner (or a manager) passes a customer on, with a reason.
    pub async fn transfer_customer(
        &self,
        caller: &Principal,
        mut req: pb::TransferCustomerRequest,
    ) -> Result<pb::TransferCustomerResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("TransferCustomer", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        let to = employee_id("to_owner_id", &req.to_owner_id, &mut v);
        let note = v
            .take(crate::domain::required_notes("note", &req.note, 500))
            .unwrap_or_default();
        v.finish()?;
        let to_path = self.directory.department_of(caller, "to_owner_id", &to).await?;
        check_in_scope(caller, "to_owner_id", &to, &to_path)?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let row = visible_customer(&mut tx, caller, "id", &req.id).await?;
        if row.owner_id.is_empty() {
            return Err(Error::precondition(
                "IN_POOL",
                format!("customers/{}", row.id),
                "the customer is in the public pool; claim or assign it",
            ));
        }
        if !may_manage(caller, &row) {
            return Err(Error::PermissionDenied {
                permission: "customers.customer.transfer".into(),
            });
        }
        if row.owner_id == to {
            return Err(Error::invalid(
                "to_owner_id",
                "SAME_OWNER",
                "must differ from the current owner",
            ));
        }
        let customer = self
            .hand_to(&mut tx, caller, &row, ("to_owner_id", &to, &to_path), "transfer", &note)
            .await?;
        tx.finish(pb::TransferCustomerResponse {
            customer: Some(customer),
        })
        .await
    }

    /// ReleaseCustomer: back to the public pool, with a reason; starts the re-claim cooldown.
    pub async fn release_customer(
        &self,
        caller: &Principal,
        mut req: pb::ReleaseCustomerRequest,
    ) -> Result<pb::ReleaseCustomerResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("ReleaseCustomer", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        let note = v
            .take(crate::domain::required_notes("note", &req.note, 500))
            .unwrap_or_default();
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let row = visible_customer(&mut tx, caller, "id", &req.id).await?;
        if row.owner_id.is_empty() {
            return Err(Error::precondition(
                "IN_POOL",
                format!("customers/{}", row.id),
                "the customer is already in the public pool",
            ));
        }
        if !may_manage(caller, &row) {
            return Err(Error::PermissionDenied {
                permission: "customers.customer.release".into(),
            });
        }
        let now = now_micros();
        ownership::remember_release(&mut tx, &row.id, &row.owner_id, now).await?;
        let updated = self
            .apply_move(
                &mut tx,
                caller,
                Move {
                    row: &row,
                    to: "",
                    to_department_path: "",
                    reason: "release",
                    note: &note,
                },
                now,
            )
            .await?;
        let response = pb::ReleaseCustomerResponse {
            customer: Some(convert::one_customer(&mut tx, &updated).await?),
        };
        tx.finish(response).await
    }

    /// ClaimCustomer: takes a pool customer within caps and the cooldown; of concurrent claims
    /// exactly one wins.
    pub async fn claim_customer(
        &self,
        caller: &Principal,
        mut req: pb::ClaimCustomerRequest,
    ) -> Result<pb::ClaimCustomerResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("ClaimCustomer", &caller.employee_id, &request_id, &req)?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let now = now_micros();
        // A leaver claims nothing (their token may still be in its last seconds).
        crm_kit::handover::require_active(&mut tx, &caller.employee_id, "id", &caller.employee_id).await?;
        // Serialise this claimant's ownership changes before counting against the caps.
        ownership::guard_owner(&mut tx, &caller.employee_id, now).await?;
        // Pool customers are visible to everyone, so a claim looks the customer up regardless
        // of scope: a claim that lost a race must hear "claimed already", not "not found".
        // The answer names no owner.
        if req.id.trim().is_empty() {
            return Err(Error::required("id"));
        }
        let Some(row) = store::load(&mut tx, req.id.trim(), false).await? else {
            return Err(Error::not_found(CUSTOMER, req.id.trim()));
        };
        let subject = format!("customers/{}", row.id);
        if !row.owner_id.is_empty() {
            return Err(Error::precondition(
                "NOT_IN_POOL",
                subject,
                "the customer is not in the public pool (someone claimed it or owns it)",
            ));
        }
        let policy = load_policy(&mut tx).await?;
        if let Some(at) = ownership::released_at(&mut tx, &row.id, &caller.employee_id).await? {
            let until = at + i64::from(policy.reclaim_cooldown_days) * DAY_MICROS;
            if now < until {
                return Err(Error::FailedPrecondition {
                    reason: "RECLAIM_COOLDOWN",
                    message: format!(
                        "you released this customer; you may claim it again from {}",
                        crm_kit::time::format_rfc3339(until)
                    ),
                    subject,
                    metadata: [("available_from".to_string(), crm_kit::time::format_rfc3339(until))].into(),
                });
            }
        }
        let (total, of_level) = ownership::owned_counts(&mut tx, &caller.employee_id, &row.fields.level_code).await?;
        if policy.total_owned_cap > 0 && total >= i64::from(policy.total_owned_cap) {
            return Err(Error::FailedPrecondition {
                reason: "CLAIM_CAP_REACHED",
                message: format!(
                    "you already own {total} customers; the cap is {}",
                    policy.total_owned_cap
                ),
                subject,
                metadata: [
                    ("cap".to_string(), policy.total_owned_cap.to_string()),
                    ("owned".to_string(), total.to_string()),
                ]
                .into(),
            });
        }
        let rule = policy.rule_for(&row.fields.level_code);
        if rule.owned_cap > 0 && of_level >= i64::from(rule.owned_cap) {
            return Err(Error::FailedPrecondition {
                reason: "LEVEL_CAP_REACHED",
                message: format!(
                    "you already own {of_level} customers of level {}; the cap is {}",
                    if row.fields.level_code.is_empty() {
                        "(none)"
                    } else {
                        &row.fields.level_code
                    },
                    rule.owned_cap
                ),
                subject,
                metadata: [
                    ("level_code".to_string(), row.fields.level_code.clone()),
                    ("cap".to_string(), rule.owned_cap.to_string()),
                    ("owned".to_string(), of_level.to_string()),
                ]
                .into(),
            });
        }
        let m = Move {
            row: &row,
            to: &caller.employee_id,
            to_department_path: &caller.department_path,
            reason: "claim",
            note: "",
        };
        let updated = match self.apply_move(&mut tx, caller, m, now).await {
            Err(Error::FailedPrecondition { subject, .. }) => {
                return Err(Error::precondition(
                    "ALREADY_CLAIMED",
                    subject,
                    "someone else claimed the customer first",
                ));
            }
            other => other?,
        };
        let response = pb::ClaimCustomerResponse {
            customer: Some(convert::one_customer(&mut tx, &updated).await?),
        };
        tx.finish(response).await
    }

    /// ShareCustomer: replaces the collaborators.
    pub async fn share_customer(
        &self,
        caller: &Principal,
        req: pb::ShareCustomerRequest,
    ) -> Result<pb::ShareCustomerResponse> {
        let mut v = Violations::new();
        let mut ids = crm_kit::text::distinct_list(
            &mut v,
            "collaborator_ids",
            &req.collaborator_ids,
            crm_kit::text::ListRule {
                max_items: 50,
                max_chars: 64,
                skip_empty: false,
            },
        );
        for (i, id) in ids.iter().enumerate() {
            if id.chars().any(char::is_whitespace) {
                v.add(
                    format!("collaborator_ids[{i}]"),
                    reason::MALFORMED,
                    "must be an employee id without spaces",
                );
            }
        }
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let row = visible_customer(&mut tx, caller, "id", &req.id).await?;
        if !may_manage(caller, &row) {
            return Err(Error::PermissionDenied {
                permission: "customers.customer.share".into(),
            });
        }
        ids.retain(|id| *id != row.owner_id);
        let before = store::collaborators(&mut tx, &[row.id.as_str()])
            .await?
            .remove(&row.id)
            .unwrap_or_default();
        // Nobody who has left becomes a collaborator.
        for (i, id) in ids.iter().enumerate() {
            if !before.contains(id) {
                crm_kit::handover::require_active(&mut tx, "", &format!("collaborator_ids[{i}]"), id).await?;
            }
        }
        let now = now_micros();
        ownership::set_collaborators(&mut tx, &row.id, &ids).await?;
        if before != ids {
            history::record_change(
                &mut tx,
                &row.id,
                "share",
                &[("collaborator_ids", before.join(", "), ids.join(", "))],
                &caller.employee_id,
                now,
            )
            .await?;
            store::touch(&mut tx, &row.id, &caller.employee_id, now).await?;
        }
        let row = store::load(&mut tx, &row.id, false)
            .await?
            .ok_or_else(|| Error::not_found(CUSTOMER, &req.id))?;
        let response = pb::ShareCustomerResponse {
            customer: Some(convert::one_customer(&mut tx, &row).await?),
        };
        tx.commit().await?;
        Ok(response)
    }

    /// SetReclaimLock: within the per-person lock cap.
    pub async fn set_reclaim_lock(
        &self,
        caller: &Principal,
        req: pb::SetReclaimLockRequest,
    ) -> Result<pb::SetReclaimLockResponse> {
        let mut tx = self.db.begin_write().await?;
        let row = visible_customer(&mut tx, caller, "id", &req.id).await?;
        let subject = format!("customers/{}", row.id);
        if row.owner_id.is_empty() {
            return Err(Error::precondition(
                "IN_POOL",
                subject,
                "only owned customers can be locked against reclaim",
            ));
        }
        if !may_manage(caller, &row) {
            return Err(Error::PermissionDenied {
                permission: "customers.customer.lock".into(),
            });
        }
        if req.locked && !row.reclaim_locked {
            let now = now_micros();
            ownership::guard_owner(&mut tx, &row.owner_id, now).await?;
            let policy = load_policy(&mut tx).await?;
            let locked = ownership::locked_count(&mut tx, &row.owner_id).await?;
            if locked >= i64::from(policy.lock_cap) {
                return Err(Error::FailedPrecondition {
                    reason: "LOCK_CAP_REACHED",
                    message: format!(
                        "{} already has {locked} locked customers; the cap is {}",
                        row.owner_id, policy.lock_cap
                    ),
                    subject,
                    metadata: [("cap".to_string(), policy.lock_cap.to_string())].into(),
                });
            }
        }
        let now = now_micros();
        if req.locked != row.reclaim_locked {
            ownership::set_lock(&mut tx, &row.id, req.locked, &caller.employee_id, now).await?;
            history::record_change(
                &mut tx,
                &row.id,
                "lock",
                &[("reclaim_locked", row.reclaim_locked.to_string(), req.locked.to_string())],
                &caller.employee_id,
                now,
            )
            .await?;
        }
        let row = store::load(&mut tx, &row.id, false)
            .await?
            .ok_or_else(|| Error::not_found(CUSTOMER, &req.id))?;
        let response = pb::SetReclaimLockResponse {
            customer: Some(convert::one_customer(&mut tx, &row).await?),
        };
        tx.commit().await?;
        Ok(response)
    }

    /// GetPoolPolicy.
    pub async fn get_pool_policy(
        &self,
        _caller: &Principal,
        _req: pb::GetPoolPolicyRequest,
    ) -> Result<pb::GetPoolPolicyResponse> {
        let mut conn = self.conn().await?;
        Ok(pb::GetPoolPolicyResponse {
            policy: Some(load_policy(&mut conn).await?.to_proto()),
        })
    }

    /// UpdatePoolPolicy (managers).
    pub async fn update_pool_policy(
        &self,
        caller: &Principal,
        req: pb::UpdatePoolPolicyRequest,
    ) -> Result<pb::UpdatePoolPolicyResponse> {
        let Some(p) = req.policy.as_ref() else {
            return Err(Error::required("policy"));
        };
        let mut v = Violations::new();
        let policy = PoolPolicy::from_proto(p, &mut v);
        v.finish()?;
        caller.require("customers.pool.manage")?;
        let mut tx = self.db.begin_write().await?;
        let json = serde_json::to_string(&policy).map_err(|e| Error::Internal(e.to_string()))?;
        catalog::put_setting(&mut tx, POLICY_KEY, &json, now_micros()).await?;
        tx.commit().await?;
        Ok(pb::UpdatePoolPolicyResponse {
            policy: Some(policy.to_proto()),
        })
    }

    /// ListReclaimCandidates: owned customers the rules return to the pool within N days.
    pub async fn list_reclaim_candidates(
        &self,
        caller: &Principal,
        req: pb::ListReclaimCandidatesRequest,
    ) -> Result<pb::ListReclaimCandidatesResponse> {
        let days = match req.within_days {
            0 => 7,
            d if (1..=365).contains(&d) => d,
            _ => {
                return Err(Error::invalid(
                    "within_days",
                    reason::OUT_OF_RANGE,
                    "must be between 1 and 365",
                ));
            }
        };
        let keyset = Keyset::open(
            &self.tokens,
            ownership::reclaim_order(),
            req.page_size,
            &req.page_token,
            &["reclaim_candidates", &days.to_string(), &caller.employee_id],
        )?;
        let mut conn = self.conn().await?;
        let policy = load_policy(&mut conn).await?;
        let horizon = now_micros() + i64::from(days) * DAY_MICROS;
        let page = ownership::reclaim_candidates_page(&mut conn, &policy, horizon, &scope(caller), &keyset).await?;
        let customers = convert::customers(&mut conn, &page.rows).await?;
        Ok(pb::ListReclaimCandidatesResponse {
            candidates: candidates(&policy, &page.rows, customers),
            next_page_token: page.next_page_token,
        })
    }

    /// RunReclaim: returns every due customer to the pool now (or lists them on a dry run).
    pub async fn run_reclaim(&self, caller: &Principal, req: pb::RunReclaimRequest) -> Result<pb::RunReclaimResponse> {
        caller.require("customers.pool.manage")?;
        let reclaimed = self.reclaim_due(caller, req.dry_run).await?;
        Ok(pb::RunReclaimResponse {
            reclaimed,
            dry_run: req.dry_run,
        })
    }

    /// Applies the reclaim rules in batches to the customers in the caller's scope (everyone's
    /// for the service's own periodic run); each batch is one transaction, and each customer
    /// moves only if it is still owned by the same person (a follow-up racing the job wins).
    pub async fn reclaim_due(&self, caller: &Principal, dry_run: bool) -> Result<Vec<pb::ReclaimCandidate>> {
        let in_scope = scope(caller);
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let mut tx = self.db.begin_write().await?;
            let policy = load_policy(&mut tx).await?;
            let now = now_micros();
            let rows = ownership::reclaim_candidates(&mut tx, &policy, now, &in_scope, &after, 500).await?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            let mut moved = Vec::new();
            for row in &rows {
                if dry_run {
                    moved.push(row.clone());
                    continue;
                }
                let (rule, _) = ownership::due(&policy, row).unwrap_or(("no_follow_up", now));
                if ownership::change_owner(&mut tx, &row.id, &row.owner_id, "", "", &caller.employee_id, now).await? {
                    history::record_owner_change(
                        &mut tx,
                        &row.id,
                        &row.owner_id,
                        "",
                        "reclaim",
                        rule,
                        &caller.employee_id,
                        now,
                    )
                    .await?;
                    moved.push(row.clone());
                }
            }
            if !dry_run {
                // One event per previous owner: whose customers went back to the pool.
                let mut by_owner: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
                for row in &moved {
                    by_owner.entry(row.owner_id.as_str()).or_default().push(row.id.clone());
                }
                for (owner, customer_ids) in by_owner {
                    crm_kit::events::append_at(
                        &mut tx,
                        owner,
                        &pb::CustomerOwnerChanged {
                            customer_ids,
                            from_owner_id: owner.to_string(),
                            to_owner_id: String::new(),
                            reason: "reclaim".into(),
                        },
                        now,
                    )
                    .await?;
                }
            }
            let customers = convert::customers(&mut tx, &moved).await?;
            out.extend(candidates(&policy, &moved, customers));
            tx.commit().await?;
        }
        if !out.is_empty() {
            tracing::info!(count = out.len(), dry_run, "reclaim rules applied");
        }
        Ok(out)
    }
}

fn candidates(policy: &PoolPolicy, rows: &[CustomerRow], customers: Vec<pb::Customer>) -> Vec<pb::ReclaimCandidate> {
    rows.iter()
        .zip(customers)
        .map(|(row, customer)| {
            let (rule, due) = ownership::due(policy, row).unwrap_or(("", 0));
            pb::ReclaimCandidate {
                customer: Some(customer),
                rule: rule.to_string(),
                due_time: Some(crm_kit::time::to_proto(due)),
            }
        })
        .collect()
}
