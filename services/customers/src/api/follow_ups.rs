//! Follow-ups: every contact with a customer, managers' comments, visit check-ins.

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Keyset, Page};
use crm_kit::time::{DAY_MICROS, from_proto, now_micros};
use crm_kit::{Error, Result};
use crm_proto::customers as pb;

use super::{CustomersApi, convert, visible_customer};
use crate::domain::codes;
use crate::domain::contact_info::parse_coordinate;
use crate::store::follow_ups::{self as store, CommentRow, FollowUpRow};
use crate::store::{contacts, customers};
use crm_kit::errors::reason;

const FOLLOW_UP: &str = "crm.customers.v1.FollowUp";

impl CustomersApi {
    /// CreateFollowUp: also moves the customer's last and next follow-up times.
    pub async fn create_follow_up(
        &self,
        caller: &Principal,
        mut req: pb::CreateFollowUpRequest,
    ) -> Result<pb::CreateFollowUpResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateFollowUp", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.follow_up.as_ref() else {
            return Err(Error::required("follow_up"));
        };
        let now = now_micros();
        let mut v = Violations::new();
        if src.customer_id.trim().is_empty() {
            v.add("follow_up.customer_id", reason::REQUIRED, "is required");
        }
        let method = v.take(codes::parse_method("follow_up.method", src.method));
        let summary = v
            .take(crate::domain::required_notes("follow_up.summary", &src.summary, 4000))
            .unwrap_or_default();
        let outcome = v
            .take(crate::domain::optional_notes("follow_up.outcome", &src.outcome, 2000))
            .unwrap_or_default();
        let next_plan = v
            .take(crate::domain::optional_notes(
                "follow_up.next_plan",
                &src.next_plan,
                2000,
            ))
            .unwrap_or_default();
        let occurred_at = match &src.occur_time {
            Some(t) => v.take(from_proto("follow_up.occur_time", t)).unwrap_or(now),
            None => now,
        };
        if occurred_at > now + DAY_MICROS {
            v.add(
                "follow_up.occur_time",
                "IN_FUTURE",
                "must not be in the future; plan it as the next contact time instead",
            );
        }
        let next_contact_at = match &src.next_contact_time {
            Some(t) => v.take(from_proto("follow_up.next_contact_time", t)).unwrap_or(0),
            None => 0,
        };
        if next_contact_at != 0 && next_contact_at < occurred_at {
            v.add(
                "follow_up.next_contact_time",
                "BEFORE_OCCUR_TIME",
                "must be after the follow-up's occur_time",
            );
        }
        let mut check_in = (0i64, String::new(), String::new(), String::new());
        if let Some(ci) = &src.check_in {
            if method.is_some_and(|m| m != pb::FollowUpMethod::Visit) {
                v.add(
                    "follow_up.check_in",
                    "VISIT_ONLY",
                    "a check-in proves a visit; use method VISIT",
                );
            }
            check_in.0 = match &ci.check_in_time {
                Some(t) => v.take(from_proto("follow_up.check_in.check_in_time", t)).unwrap_or(now),
                None => now,
            };
            check_in.1 = v
                .take(parse_coordinate("follow_up.check_in.latitude", &ci.latitude, 90.0))
                .unwrap_or_default();
            check_in.2 = v
                .take(parse_coordinate("follow_up.check_in.longitude", &ci.longitude, 180.0))
                .unwrap_or_default();
            check_in.3 = v
                .take(crate::domain::optional_notes(
                    "follow_up.check_in.address",
                    &ci.address,
                    500,
                ))
                .unwrap_or_default();
        }
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let customer = visible_customer(&mut tx, caller, "follow_up.customer_id", &src.customer_id).await?;
        let contact_id = src.contact_id.trim().to_string();
        if !contact_id.is_empty()
            && contacts::load(&mut tx, &contact_id)
                .await?
                .is_none_or(|c| c.customer_id != customer.id)
        {
            return Err(Error::invalid(
                "follow_up.contact_id",
                "UNKNOWN_CONTACT",
                "is not a contact of this customer",
            ));
        }
        let row = FollowUpRow {
            id: crm_kit::new_id(),
            customer_id: customer.id.clone(),
            contact_id,
            method: codes::method_code(method.unwrap_or(pb::FollowUpMethod::Other)).to_string(),
            occurred_at,
            summary,
            outcome,
            next_contact_at,
            next_plan,
            author_id: caller.employee_id.clone(),
            check_in_at: check_in.0,
            check_in_latitude: check_in.1,
            check_in_longitude: check_in.2,
            check_in_address: check_in.3,
            created_at: now,
        };
        store::insert(&mut tx, &row).await?;
        store::apply_to_customer(&mut tx, &row).await?;
        customers::touch(&mut tx, &customer.id, &caller.employee_id, now).await?;
        let response = pb::CreateFollowUpResponse {
            follow_up: Some(convert::follow_up(&row, &[])),
        };
        tx.finish(response).await
    }

    async fn visible_follow_up(
        &self,
        conn: &mut sqlx::AnyConnection,
        caller: &Principal,
        field: &str,
        id: &str,
    ) -> Result<FollowUpRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        let Some(row) = store::load(conn, id).await? else {
            return Err(Error::not_found(FOLLOW_UP, id));
        };
        match visible_customer(conn, caller, field, &row.customer_id).await {
            Ok(_) => Ok(row),
            Err(Error::NotFound { .. }) => Err(Error::not_found(FOLLOW_UP, id)),
            Err(e) => Err(e),
        }
    }

    /// GetFollowUp.
    pub async fn get_follow_up(
        &self,
        caller: &Principal,
        req: pb::GetFollowUpRequest,
    ) -> Result<pb::GetFollowUpResponse> {
        let mut conn = self.conn().await?;
        let row = self.visible_follow_up(&mut conn, caller, "id", &req.id).await?;
        let comments = store::comments(&mut conn, &[row.id.as_str()]).await?;
        Ok(pb::GetFollowUpResponse {
            follow_up: Some(convert::follow_up(&row, &comments)),
        })
    }

    /// ListFollowUps: one customer's, newest first.
    pub async fn list_follow_ups(
        &self,
        caller: &Principal,
        req: pb::ListFollowUpsRequest,
    ) -> Result<pb::ListFollowUpsResponse> {
        let shape = ["follow_ups", req.customer_id.as_str()];
        let keyset = Keyset::open(&self.tokens, store::order(), req.page_size, &req.page_token, &shape)?;
        let mut conn = self.conn().await?;
        let customer = visible_customer(&mut conn, caller, "customer_id", &req.customer_id).await?;
        let Page { rows, next_page_token } = store::page(&mut conn, &customer.id, &keyset).await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let comments = store::comments(&mut conn, &ids).await?;
        Ok(pb::ListFollowUpsResponse {
            follow_ups: rows.iter().map(|r| convert::follow_up(r, &comments)).collect(),
            next_page_token,
        })
    }

    /// CommentFollowUp (managers): the salesperson sees the comment on the follow-up.
    pub async fn comment_follow_up(
        &self,
        caller: &Principal,
        req: pb::CommentFollowUpRequest,
    ) -> Result<pb::CommentFollowUpResponse> {
        let mut v = Violations::new();
        let text = v
            .take(crate::domain::required_notes("text", &req.text, 2000))
            .unwrap_or_default();
        if req.follow_up_id.trim().is_empty() {
            v.add("follow_up_id", reason::REQUIRED, "is required");
        }
        v.finish()?;
        caller.require("customers.follow_up.comment")?;
        let mut tx = self.db.begin_write().await?;
        let row = self
            .visible_follow_up(&mut tx, caller, "follow_up_id", &req.follow_up_id)
            .await?;
        let comment = CommentRow {
            id: crm_kit::new_id(),
            follow_up_id: row.id.clone(),
            author_id: caller.employee_id.clone(),
            text,
            created_at: now_micros(),
        };
        store::insert_comment(&mut tx, &comment).await?;
        let comments = store::comments(&mut tx, &[row.id.as_str()]).await?;
        tx.commit().await?;
        Ok(pb::CommentFollowUpResponse {
            follow_up: Some(convert::follow_up(&row, &comments)),
        })
    }
}
