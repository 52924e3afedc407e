//! Stored rows → wire messages.

use std::collections::HashMap;

use crm_kit::Result;
use crm_kit::money::Money;
use crm_kit::time::{opt_to_proto, set_to_proto, to_proto};
use crm_proto::common::AuditInfo;
use crm_proto::customers as pb;
use sqlx::AnyConnection;

use crate::domain::codes;
use crate::domain::customer::shown;
use crate::store::catalog::{CategoryRow, EntryRow, SavedFilterRow};
use crate::store::contacts::ContactRow;
use crate::store::customers::CustomerRow;
use crate::store::follow_ups::{CommentRow, FollowUpRow};
use crate::store::history::{ChangeRow, OwnerChangeRow};

/// A customer on the wire, given its collaborators and primary contact.
pub fn customer(row: &CustomerRow, collaborators: Vec<String>, primary: Option<&ContactRow>) -> pb::Customer {
    let f = &row.fields;
    pb::Customer {
        id: row.id.clone(),
        kind: codes::kind_of(f.kind) as i32,
        name: f.name.clone(),
        short_name: f.short_name.clone(),
        tax_id: f.tax_id.clone(),
        industry_code: f.industry_code.clone(),
        scale: f.scale.clone(),
        website: f.website.clone(),
        region: Some(pb::Region {
            country: f.country.clone(),
            province: f.province.clone(),
            city: f.city.clone(),
            district: f.district.clone(),
        }),
        address: f.address.clone(),
        phone: shown(&f.phone_typed, &f.phone),
        mobile: shown(&f.mobile_typed, &f.mobile),
        normalized_phone: f.phone.clone(),
        normalized_mobile: f.mobile.clone(),
        email: f.email.clone(),
        gender: codes::gender_of(f.gender) as i32,
        birthday: f.birthday.clone(),
        id_number: f.id_number.clone(),
        category_id: f.category_id.clone(),
        type_code: f.type_code.clone(),
        level_code: f.level_code.clone(),
        source_code: f.source_code.clone(),
        status: codes::status_of(f.status) as i32,
        credit_limit: f.credit_limit.as_ref().map(Money::to_proto),
        remark: f.remark.clone(),
        tags: f.tags.clone(),
        custom_fields: f.custom_fields.clone(),
        owner_id: row.owner_id.clone(),
        owned_since: set_to_proto(row.owned_since),
        collaborator_ids: collaborators,
        reclaim_locked: row.reclaim_locked,
        last_follow_up_time: set_to_proto(row.last_follow_up_at),
        next_follow_up_time: set_to_proto(row.next_follow_up_at),
        last_order_time: set_to_proto(row.last_order_at),
        total_ordered: Some(Money::from_storage(&row.totals_currency, row.total_ordered).to_proto()),
        receivable_balance: Some(Money::from_storage(&row.totals_currency, row.receivable_balance).to_proto()),
        audit: Some(AuditInfo {
            create_time: Some(to_proto(row.created_at)),
            created_by: row.created_by.clone(),
            update_time: Some(to_proto(row.updated_at)),
            updated_by: row.updated_by.clone(),
        }),
        etag: row.etag(),
        delete_time: opt_to_proto(row.deleted_at),
        primary_contact: primary.map(contact),
    }
}

/// Customers on the wire, loading collaborators and primary contacts in two queries.
pub async fn customers(conn: &mut AnyConnection, rows: &[CustomerRow]) -> Result<Vec<pb::Customer>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut collaborators = crate::store::customers::collaborators(conn, &ids).await?;
    let primaries: HashMap<String, ContactRow> = crate::store::contacts::primaries(conn, &ids)
        .await?
        .into_iter()
        .map(|c| (c.customer_id.clone(), c))
        .collect();
    Ok(rows
        .iter()
        .map(|r| customer(r, collaborators.remove(&r.id).unwrap_or_default(), primaries.get(&r.id)))
        .collect())
}

/// One customer on the wire.
pub async fn one_customer(conn: &mut AnyConnection, row: &CustomerRow) -> Result<pb::Customer> {
    Ok(customers(conn, std::slice::from_ref(row)).await?.remove(0))
}

/// A contact on the wire.
pub fn contact(c: &ContactRow) -> pb::Contact {
    pb::Contact {
        id: c.id.clone(),
        customer_id: c.customer_id.clone(),
        name: c.name.clone(),
        title: c.title.clone(),
        department: c.department.clone(),
        mobile: shown(&c.mobile_typed, &c.mobile),
        phone: shown(&c.phone_typed, &c.phone),
        normalized_mobile: c.mobile.clone(),
        normalized_phone: c.phone.clone(),
        email: c.email.clone(),
        im_handles: serde_json::from_str::<Vec<(String, String)>>(&c.im_handles)
            .unwrap_or_default()
            .into_iter()
            .map(|(network, handle)| pb::ImHandle { network, handle })
            .collect(),
        birthday: c.birthday.clone(),
        is_primary: c.is_primary != 0,
        remark: c.remark.clone(),
        audit: Some(AuditInfo {
            create_time: Some(to_proto(c.created_at)),
            created_by: c.created_by.clone(),
            update_time: Some(to_proto(c.updated_at)),
            updated_by: c.updated_by.clone(),
        }),
        etag: format!("v{}", c.version),
    }
}

/// A follow-up on the wire, with its comments.
pub fn follow_up(f: &FollowUpRow, comments: &[CommentRow]) -> pb::FollowUp {
    let check_in = (f.check_in_at != 0 || !f.check_in_address.is_empty()).then(|| pb::CheckIn {
        check_in_time: set_to_proto(f.check_in_at),
        latitude: f.check_in_latitude.clone(),
        longitude: f.check_in_longitude.clone(),
        address: f.check_in_address.clone(),
    });
    pb::FollowUp {
        id: f.id.clone(),
        customer_id: f.customer_id.clone(),
        contact_id: f.contact_id.clone(),
        method: codes::method_of(&f.method) as i32,
        occur_time: Some(to_proto(f.occurred_at)),
        summary: f.summary.clone(),
        outcome: f.outcome.clone(),
        next_contact_time: set_to_proto(f.next_contact_at),
        next_plan: f.next_plan.clone(),
        author_id: f.author_id.clone(),
        check_in,
        comments: comments
            .iter()
            .filter(|c| c.follow_up_id == f.id)
            .map(|c| pb::FollowUpComment {
                id: c.id.clone(),
                author_id: c.author_id.clone(),
                text: c.text.clone(),
                create_time: Some(to_proto(c.created_at)),
            })
            .collect(),
        create_time: Some(to_proto(f.created_at)),
    }
}

/// An owner change on the wire.
pub fn owner_change(o: &OwnerChangeRow) -> pb::OwnerChange {
    pb::OwnerChange {
        id: o.id.clone(),
        customer_id: o.customer_id.clone(),
        from_owner_id: o.from_owner_id.clone(),
        to_owner_id: o.to_owner_id.clone(),
        reason: codes::reason_of(&o.reason) as i32,
        note: o.note.clone(),
        changed_by: o.changed_by.clone(),
        change_time: Some(to_proto(o.changed_at)),
    }
}

/// A field-level change on the wire.
pub fn change(c: &ChangeRow) -> pb::CustomerChange {
    pb::CustomerChange {
        id: c.id.clone(),
        customer_id: c.record_id.clone(),
        action: c.action.clone(),
        fields: c
            .changes()
            .fields()
            .iter()
            .map(|f| pb::FieldChange {
                field: f.field.clone(),
                old_value: f.old.clone(),
                new_value: f.new.clone(),
            })
            .collect(),
        changed_by: c.changed_by.clone(),
        change_time: Some(to_proto(c.changed_at)),
    }
}

/// A category on the wire.
pub fn category(c: &CategoryRow) -> pb::Category {
    pb::Category {
        id: c.id.clone(),
        parent_id: c.parent_id.clone(),
        name: c.name.clone(),
        sort_order: i32::try_from(c.sort_order).unwrap_or(0),
        customer_count: c.customer_count,
        child_count: c.child_count,
        etag: format!("v{}", c.version),
    }
}

/// A dictionary entry on the wire.
pub fn entry(e: &EntryRow) -> pb::DictionaryEntry {
    pb::DictionaryEntry {
        dictionary: e.dictionary.clone(),
        code: e.code.clone(),
        display_name: e.display_name.clone(),
        enabled: e.enabled != 0,
        sort_order: i32::try_from(e.sort_order).unwrap_or(0),
    }
}

/// A saved filter on the wire.
pub fn saved_filter(f: &SavedFilterRow) -> pb::SavedFilter {
    pb::SavedFilter {
        id: f.id.clone(),
        name: f.name.clone(),
        filter: f.filter.clone(),
        query: f.query.clone(),
        order_by: f.order_by.clone(),
        create_time: Some(to_proto(f.created_at)),
    }
}
