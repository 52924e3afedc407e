//! Contacts: the people at a customer. Exactly one is primary when there are any; contacts
//! feed the customer's search index, so every change reindexes it.

use crm_kit::auth::Principal;
use crm_kit::errors::Violations;
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::time::now_micros;
use crm_kit::update::mask_paths;
use crm_kit::{Error, Result};
use crm_proto::customers as pb;
use sqlx::AnyConnection;

use super::{CustomersApi, check_etag, convert, may_manage, visible_customer};
use crm_kit::fields::{Email, Mobile, Phone};
use crm_kit::phone::PhoneRegion;

use crate::domain::{optional_date, optional_text, required_text};
use crate::store::contacts::{self as store, ContactRow};
use crate::store::{customers, history, search};
use crm_kit::errors::reason;

const CONTACT: &str = "crm.customers.v1.Contact";

/// Editable contact paths.
const CONTACT_PATHS: &[&str] = &[
    "name",
    "title",
    "department",
    "mobile",
    "phone",
    "email",
    "im_handles",
    "birthday",
    "is_primary",
    "remark",
];

fn apply(
    target: &mut ContactRow,
    src: &pb::Contact,
    prefix: &str,
    paths: &[&str],
    region: PhoneRegion,
    v: &mut Violations,
) {
    for path in paths {
        let field = format!("{prefix}.{path}");
        let field = field.as_str();
        match *path {
            "name" => target.name = v.take(required_text(field, &src.name, 100)).unwrap_or_default(),
            "title" => target.title = v.take(optional_text(field, &src.title, 100)).unwrap_or_default(),
            "department" => target.department = v.take(optional_text(field, &src.department, 100)).unwrap_or_default(),
            "mobile" => {
                let m = Mobile::parse_optional(v, field, &src.mobile, region);
                (target.mobile_typed, target.mobile) = m.map(Mobile::into_parts).unwrap_or_default();
            }
            "phone" => {
                let p = Phone::parse_optional(v, field, &src.phone, region);
                (target.phone_typed, target.phone) = p.map(Phone::into_parts).unwrap_or_default();
            }
            "email" => {
                target.email = Email::parse_optional(v, field, &src.email)
                    .map(Email::into_inner)
                    .unwrap_or_default()
            }
            "im_handles" => {
                if src.im_handles.len() > 10 {
                    // Counts before contents: no entry of a list this long is read.
                    v.add(field, reason::TOO_MANY, "must have at most 10 entries");
                    continue;
                }
                let mut handles = Vec::new();
                for (i, h) in src.im_handles.iter().enumerate() {
                    let n = v
                        .take(required_text(&format!("{field}[{i}].network"), &h.network, 30))
                        .unwrap_or_default();
                    let id = v
                        .take(required_text(&format!("{field}[{i}].handle"), &h.handle, 100))
                        .unwrap_or_default();
                    handles.push((n, id));
                }
                target.im_handles = serde_json::to_string(&handles).unwrap_or_else(|_| "[]".into());
            }
            "birthday" => target.birthday = v.take(optional_date(field, &src.birthday, true)).unwrap_or_default(),
            "is_primary" => target.is_primary = i64::from(src.is_primary),
            "remark" => {
                target.remark = v
                    .take(crate::domain::optional_notes(field, &src.remark, 1000))
                    .unwrap_or_default()
            }
            other => v.add(
                format!("update_mask.{other}"),
                reason::UNKNOWN_FIELD,
                format!("{other} is not an editable field of Contact"),
            ),
        }
    }
}

/// A new contact from the wire (customer id, audit and id are filled by the caller).
pub fn contact_from_proto(src: &pb::Contact, prefix: &str, region: PhoneRegion, v: &mut Violations) -> ContactRow {
    let mut row = ContactRow {
        id: crm_kit::new_id(),
        customer_id: String::new(),
        name: String::new(),
        title: String::new(),
        department: String::new(),
        mobile: String::new(),
        mobile_typed: String::new(),
        phone: String::new(),
        phone_typed: String::new(),
        email: String::new(),
        im_handles: "[]".into(),
        birthday: String::new(),
        is_primary: 0,
        remark: String::new(),
        created_at: 0,
        created_by: String::new(),
        updated_at: 0,
        updated_by: String::new(),
        version: 1,
    };
    apply(&mut row, src, prefix, CONTACT_PATHS, region, v);
    row
}

impl CustomersApi {
    async fn visible_contact(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        id: &str,
    ) -> Result<(ContactRow, customers::CustomerRow)> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required("id"));
        }
        let Some(contact) = store::load(conn, id).await? else {
            return Err(Error::not_found(CONTACT, id));
        };
        match visible_customer(conn, caller, "id", &contact.customer_id).await {
            Ok(customer) => Ok((contact, customer)),
            Err(Error::NotFound { .. }) => Err(Error::not_found(CONTACT, id)),
            Err(e) => Err(e),
        }
    }

    /// CreateContact.
    pub async fn create_contact(
        &self,
        caller: &Principal,
        mut req: pb::CreateContactRequest,
    ) -> Result<pb::CreateContactResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateContact", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.contact.as_ref() else {
            return Err(Error::required("contact"));
        };
        let mut v = Violations::new();
        let mut row = contact_from_proto(src, "contact", self.phone_region, &mut v);
        if src.customer_id.trim().is_empty() {
            v.add("contact.customer_id", reason::REQUIRED, "is required");
        }
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let customer = visible_customer(&mut tx, caller, "contact.customer_id", &src.customer_id).await?;
        let now = now_micros();
        row.customer_id = customer.id.clone();
        row.created_at = now;
        row.updated_at = now;
        row.created_by = caller.employee_id.clone();
        row.updated_by = caller.employee_id.clone();
        if store::count(&mut tx, &customer.id).await? >= 500 {
            return Err(Error::precondition(
                "TOO_MANY_CONTACTS",
                format!("customers/{}", customer.id),
                "a customer has at most 500 contacts",
            ));
        }
        if row.is_primary == 1 {
            store::clear_primary(&mut tx, &customer.id).await?;
        }
        store::insert(&mut tx, &row).await?;
        store::ensure_primary(&mut tx, &customer.id).await?;
        search::reindex(&mut tx, &customer.id).await?;
        history::record_change(
            &mut tx,
            &customer.id,
            "contact_added",
            &[("contact", String::new(), row.name.clone())],
            &caller.employee_id,
            now,
        )
        .await?;
        customers::touch(&mut tx, &customer.id, &caller.employee_id, now).await?;
        let stored = store::load(&mut tx, &row.id)
            .await?
            .ok_or_else(|| Error::not_found(CONTACT, &row.id))?;
        let response = pb::CreateContactResponse {
            contact: Some(convert::contact(&stored)),
        };
        tx.finish(response).await
    }

    /// GetContact.
    pub async fn get_contact(&self, caller: &Principal, req: pb::GetContactRequest) -> Result<pb::GetContactResponse> {
        let mut conn = self.conn().await?;
        let (contact, _) = self.visible_contact(&mut conn, caller, &req.id).await?;
        Ok(pb::GetContactResponse {
            contact: Some(convert::contact(&contact)),
        })
    }

    /// ListContacts.
    pub async fn list_contacts(
        &self,
        caller: &Principal,
        req: pb::ListContactsRequest,
    ) -> Result<pb::ListContactsResponse> {
        let mut conn = self.conn().await?;
        let customer = visible_customer(&mut conn, caller, "customer_id", &req.customer_id).await?;
        let rows = store::of_customer(&mut conn, &customer.id).await?;
        Ok(pb::ListContactsResponse {
            contacts: rows.iter().map(convert::contact).collect(),
        })
    }

    /// UpdateContact.
    pub async fn update_contact(
        &self,
        caller: &Principal,
        req: pb::UpdateContactRequest,
    ) -> Result<pb::UpdateContactResponse> {
        let Some(src) = req.contact.as_ref() else {
            return Err(Error::required("contact"));
        };
        let paths: Vec<String> = req.update_mask.as_ref().map(|m| m.paths.clone()).unwrap_or_default();
        let mut v = Violations::new();
        let ok_paths = mask_paths(
            &paths,
            CONTACT_PATHS,
            &["id", "customer_id", "audit", "etag"],
            "Contact",
            &mut v,
        );
        if src.id.trim().is_empty() {
            v.add("contact.id", reason::REQUIRED, "is required");
        }
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let (current, customer) = self.visible_contact(&mut tx, caller, &src.id).await?;
        if !may_manage(caller, &customer) {
            return Err(Error::PermissionDenied {
                permission: "customers.contact.update".into(),
            });
        }
        check_etag("contact.etag", &src.etag, current.version, "contact")?;
        let mut row = current.clone();
        let mut v = Violations::new();
        apply(&mut row, src, "contact", &ok_paths, self.phone_region, &mut v);
        if current.is_primary == 1 && row.is_primary == 0 {
            v.add(
                "contact.is_primary",
                "PRIMARY_REQUIRED",
                "make another contact primary instead; a customer with contacts keeps one primary",
            );
        }
        v.finish()?;
        let now = now_micros();
        row.updated_at = now;
        row.updated_by = caller.employee_id.clone();
        if row.is_primary == 1 && current.is_primary == 0 {
            store::clear_primary(&mut tx, &customer.id).await?;
        }
        if !store::update(&mut tx, &row, current.version).await? {
            return Err(Error::stale_etag("contact"));
        }
        search::reindex(&mut tx, &customer.id).await?;
        customers::touch(&mut tx, &customer.id, &caller.employee_id, now).await?;
        let stored = store::load(&mut tx, &row.id)
            .await?
            .ok_or_else(|| Error::not_found(CONTACT, &row.id))?;
        tx.commit().await?;
        Ok(pb::UpdateContactResponse {
            contact: Some(convert::contact(&stored)),
        })
    }

    /// DeleteContact: a deleted primary hands the flag to the oldest remaining contact.
    pub async fn delete_contact(
        &self,
        caller: &Principal,
        req: pb::DeleteContactRequest,
    ) -> Result<pb::DeleteContactResponse> {
        let mut tx = self.db.begin_write().await?;
        let (contact, customer) = self.visible_contact(&mut tx, caller, &req.id).await?;
        if !may_manage(caller, &customer) {
            return Err(Error::PermissionDenied {
                permission: "customers.contact.delete".into(),
            });
        }
        let now = now_micros();
        store::delete(&mut tx, &contact.id).await?;
        store::ensure_primary(&mut tx, &customer.id).await?;
        search::reindex(&mut tx, &customer.id).await?;
        history::record_change(
            &mut tx,
            &customer.id,
            "contact_removed",
            &[("contact", contact.name.clone(), String::new())],
            &caller.employee_id,
            now,
        )
        .await?;
        customers::touch(&mut tx, &customer.id, &caller.employee_id, now).await?;
        tx.commit().await?;
        Ok(pb::DeleteContactResponse {})
    }
}
