//! Deactivation and handover: a leaver's records pass to a successor. The counts come from
//! [`crate::handover`]; the services that own the records move them when they apply the event.

use crm_kit::auth::Principal;
use crm_kit::errors::{Violations, reason};
use crm_kit::time::now_micros;
use crm_kit::{Error, Result};
use crm_proto::identity as pb;
use sqlx::AnyConnection;

use super::{IdentityApi, convert};
use crate::domain::employee::not_active;
use crate::store::{self, EmployeeRow};

impl IdentityApi {
    /// Checks a handover's leaver and successor: the leaver exists (active unless `leaving`
    /// is being decided by the caller), the successor is someone else and active.
    async fn handover_parties(
        &self,
        conn: &mut AnyConnection,
        id: &str,
        successor_id: &str,
    ) -> Result<(EmployeeRow, EmployeeRow)> {
        let e = self.load_employee(conn, "id", id).await?;
        let successor = successor_id.trim();
        let mut v = Violations::new();
        let mut found = None;
        if successor.is_empty() {
            v.add(
                "successor_id",
                reason::REQUIRED,
                "is required: someone takes over the records",
            );
        } else if successor == e.id {
            v.add("successor_id", "SELF", "must be someone other than the leaver");
        } else {
            match store::employee(conn, successor).await? {
                Some(s) if s.status == store::ACTIVE => found = Some(s),
                _ => v.add(
                    "successor_id",
                    "UNKNOWN_EMPLOYEE",
                    format!("{successor} is not an active employee"),
                ),
            }
        }
        v.finish()?;
        let successor = found.ok_or_else(|| Error::required("successor_id"))?;
        Ok((e, successor))
    }

    /// DeactivateEmployee: the leaver's tokens stop working and `EmployeeDeactivated` hands
    /// their records to the successor; a dry run only counts them.
    pub(super) async fn deactivate_employee(
        &self,
        caller: &Principal,
        req: pb::DeactivateEmployeeRequest,
    ) -> Result<pb::DeactivateEmployeeResponse> {
        if req.dry_run {
            let mut conn = self.conn().await?;
            let (e, _) = self.handover_parties(&mut conn, &req.id, &req.successor_id).await?;
            if e.status != store::ACTIVE {
                return Err(not_active());
            }
            let counts = crate::handover::count(&mut conn, &self.handover_peers, &e.id, true).await?;
            let roles = store::role_ids_of(&mut conn, &e.id).await?;
            return Ok(pb::DeactivateEmployeeResponse {
                employee: Some(convert::employee(&e, roles, now_micros())),
                handover_id: String::new(),
                counts,
            });
        }
        let counts = {
            let mut conn = self.conn().await?;
            crate::handover::count(&mut conn, &self.handover_peers, req.id.trim(), false).await?
        };
        let mut tx = self.db.begin_write().await?;
        let (e, successor) = self.handover_parties(&mut tx, &req.id, &req.successor_id).await?;
        if e.id == caller.employee_id {
            return Err(Error::precondition(
                "SELF_DEACTIVATION",
                "id",
                "you cannot deactivate yourself",
            ));
        }
        let now = now_micros();
        if !store::deactivate(&mut tx, &e.id, &successor.id, now, &caller.employee_id).await? {
            return Err(not_active());
        }
        store::revoke_employee_tokens(&mut tx, &e.id, now).await?;
        store::revoke_access(&mut tx, &e.id, now, crm_kit::auth::DEACTIVATED).await?;
        let handover_id = crm_kit::new_id();
        let successor_department_path = self.department_path(&mut tx, &successor.department_id).await?;
        crm_kit::events::append_at(
            &mut tx,
            &e.id,
            &pb::EmployeeDeactivated {
                employee_id: e.id.clone(),
                successor_id: successor.id.clone(),
                successor_department_path,
                handover_id: handover_id.clone(),
                requested_by: caller.employee_id.clone(),
            },
            now,
        )
        .await?;
        let stored = self.load_employee(&mut tx, "id", &e.id).await?;
        let roles = store::role_ids_of(&mut tx, &e.id).await?;
        tx.commit().await?;
        self.revocations_changed().await;
        tracing::info!(employee = %e.id, successor = %successor.id, handover = %handover_id, by = %caller.employee_id, "employee deactivated");
        Ok(pb::DeactivateEmployeeResponse {
            employee: Some(convert::employee(&stored, roles, now)),
            handover_id,
            counts,
        })
    }

    /// HandOverEmployee: an active employee's records pass to a successor
    /// (`HandoverRequested`); a dry run only counts them.
    pub(super) async fn hand_over_employee(
        &self,
        caller: &Principal,
        req: pb::HandOverEmployeeRequest,
    ) -> Result<pb::HandOverEmployeeResponse> {
        let mut conn = self.conn().await?;
        let (e, successor) = self.handover_parties(&mut conn, &req.id, &req.successor_id).await?;
        if e.status != store::ACTIVE {
            // A leaver's records were handed over when they were deactivated.
            return Err(not_active());
        }
        let counts = crate::handover::count(&mut conn, &self.handover_peers, &e.id, req.dry_run).await?;
        if req.dry_run {
            return Ok(pb::HandOverEmployeeResponse {
                handover_id: String::new(),
                counts,
            });
        }
        let successor_department_path = self.department_path(&mut conn, &successor.department_id).await?;
        drop(conn);
        let mut tx = self.db.begin_write().await?;
        let handover_id = crm_kit::new_id();
        crm_kit::events::append(
            &mut tx,
            &e.id,
            &pb::HandoverRequested {
                handover_id: handover_id.clone(),
                employee_id: e.id.clone(),
                successor_id: successor.id.clone(),
                successor_department_path,
                requested_by: caller.employee_id.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(employee = %e.id, successor = %successor.id, handover = %handover_id, by = %caller.employee_id, "handover requested");
        Ok(pb::HandOverEmployeeResponse { handover_id, counts })
    }
}
