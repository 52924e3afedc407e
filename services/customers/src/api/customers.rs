//! Customers: create, get, list and search, update, delete, duplicate checks, merge, history.

use crm_kit::auth::Principal;
use crm_kit::db::Backend;
use crm_kit::errors::{Resource, Violations};
use crm_kit::fields::{Email, Phone};
use crm_kit::filter::{FieldSpec, FieldType, SqlValue};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Direction, Keyset, Order, Position, SortValue};
use crm_kit::paging::fingerprint;
use crm_kit::time::{format_rfc3339, now_micros};
use crm_kit::{Error, Result};
use crm_proto::customers as pb;
use sqlx::AnyConnection;

use super::{
    CUSTOMER, CustomersApi, check_etag, convert, decode_token, may_manage, page_size, scope, visible_customer,
};
use crate::domain::contact_info;
use crate::domain::customer::{CustomerFields, mask_paths};
use crate::domain::names;
use crate::store::contacts::ContactRow;
use crate::store::customers::{self as store, CustomerRow, Duplicate, InsertError};
use crate::store::{SqlBuf, catalog, contacts, history, search};
use crm_kit::errors::reason;

/// The fields a customer filter may name, and the columns behind them.
pub const CUSTOMER_FILTER_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "id",
        column: "c.id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "name",
        column: "c.name",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "short_name",
        column: "c.short_name",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "kind",
        column: "c.kind",
        ty: FieldType::Enum(&["company", "individual"]),
    },
    FieldSpec {
        name: "tax_id",
        column: "c.tax_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "industry_code",
        column: "c.industry_code",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "scale",
        column: "c.scale",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "type_code",
        column: "c.type_code",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "level_code",
        column: "c.level_code",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "source_code",
        column: "c.source_code",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "status",
        column: "c.status",
        ty: FieldType::Enum(&["potential", "active", "dormant", "lost"]),
    },
    FieldSpec {
        name: "category_id",
        column: "c.category_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "owner_id",
        column: "c.owner_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "in_pool",
        column: "(CASE WHEN c.owner_id = '' THEN 1 ELSE 0 END)",
        ty: FieldType::Bool,
    },
    FieldSpec {
        name: "reclaim_locked",
        column: "c.reclaim_locked",
        ty: FieldType::Bool,
    },
    FieldSpec {
        name: "region.country",
        column: "c.country",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "region.province",
        column: "c.province",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "region.city",
        column: "c.city",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "region.district",
        column: "c.district",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "address",
        column: "c.address",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "phone",
        column: "c.phone",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "mobile",
        column: "c.mobile",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "email",
        column: "c.email",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "website",
        column: "c.website",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "gender",
        column: "c.gender",
        ty: FieldType::Enum(&["male", "female", "other"]),
    },
    FieldSpec {
        name: "birthday",
        column: "c.birthday",
        ty: FieldType::Date,
    },
    FieldSpec {
        name: "remark",
        column: "c.remark",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "tags",
        column: "c.tags",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "credit_limit",
        column: "c.credit_limit",
        ty: FieldType::Money,
    },
    FieldSpec {
        name: "total_ordered",
        column: "c.total_ordered",
        ty: FieldType::Money,
    },
    FieldSpec {
        name: "receivable_balance",
        column: "c.receivable_balance",
        ty: FieldType::Money,
    },
    FieldSpec {
        name: "create_time",
        column: "c.created_at",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "update_time",
        column: "c.updated_at",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "owned_since",
        column: "c.owned_since",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "last_follow_up_time",
        column: "c.last_follow_up_at",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "next_follow_up_time",
        column: "c.next_follow_up_at",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "last_order_time",
        column: "c.last_order_at",
        ty: FieldType::Timestamp,
    },
    FieldSpec {
        name: "created_by",
        column: "c.created_by",
        ty: FieldType::Text,
    },
];

/// A sortable column: its SQL column and a row's value in it.
#[derive(Debug)]
pub struct SortKey {
    column: &'static str,
    value: fn(&CustomerRow) -> SortValue,
}

const SORT_KEYS: &[(&str, SortKey)] = &[
    (
        "name",
        SortKey {
            column: "c.name",
            value: |r| SortValue::from(&r.fields.name),
        },
    ),
    (
        "create_time",
        SortKey {
            column: "c.created_at",
            value: |r| SortValue::Int(r.created_at),
        },
    ),
    (
        "last_follow_up_time",
        SortKey {
            column: "c.last_follow_up_at",
            value: |r| SortValue::Int(r.last_follow_up_at),
        },
    ),
    (
        "next_follow_up_time",
        SortKey {
            column: "c.next_follow_up_at",
            value: |r| SortValue::Int(r.next_follow_up_at),
        },
    ),
    (
        "level_code",
        SortKey {
            column: "c.level_code",
            value: |r| SortValue::from(&r.fields.level_code),
        },
    ),
];

/// The order of a customer list: a sort key, then the id, one way.
#[derive(Debug, Clone, Copy)]
pub struct CustomerOrder {
    key: &'static SortKey,
    direction: Direction,
}

impl CustomerOrder {
    /// The SQL column sorted by: always one of the list's own, never text from the request.
    pub fn column(&self) -> &'static str {
        self.key.column
    }

    /// Whether the list runs from the largest value down.
    pub fn is_descending(&self) -> bool {
        matches!(self.direction, Direction::Descending)
    }

    /// The keyset order.
    pub fn order(&self) -> Order {
        Order::by(self.key.column, "c.id", self.direction)
    }

    /// A customer's place in the order.
    pub fn position(&self, r: &CustomerRow) -> Position {
        Position::at((self.key.value)(r), &r.id)
    }
}

/// A parsed customer list request.
pub struct CustomerQuery {
    pub filter: String,
    pub query: String,
    pub order_by: String,
    pub show_deleted: bool,
}

/// Compiles a filter expression, naming the offending field on failure.
pub fn compile_filter(filter: &str) -> Result<Option<crm_kit::filter::CompiledFilter>> {
    Ok(crm_kit::filter::compile(CUSTOMER_FILTER_FIELDS, filter, 1)?)
}

/// Reads `order_by`: one sortable field, optionally followed by `asc` or `desc` (the
/// default is `name asc`).
pub fn parse_order(order_by: &str) -> Result<CustomerOrder> {
    let mut parts = order_by.split_whitespace();
    let field = parts.next().unwrap_or("name");
    let direction = match parts.next() {
        None | Some("asc") => Direction::Ascending,
        Some("desc") => Direction::Descending,
        Some(other) => {
            return Err(Error::invalid(
                "order_by",
                reason::MALFORMED,
                format!("direction must be asc or desc, not {other}"),
            ));
        }
    };
    if parts.next().is_some() || order_by.contains(',') {
        return Err(Error::invalid(
            "order_by",
            reason::MALFORMED,
            "takes one field, optionally followed by asc or desc",
        ));
    }
    let key = SORT_KEYS.iter().find(|(n, _)| *n == field).map(|(_, k)| k).ok_or_else(|| {
        Error::invalid(
            "order_by",
            reason::UNKNOWN_FIELD,
            format!("cannot order by {field}; use name, create_time, last_follow_up_time, next_follow_up_time or level_code"),
        )
    })?;
    Ok(CustomerOrder { key, direction })
}

/// The read of a customer list (scope, deletion, search, filter; the `ORDER BY` is the
/// order's to add) and its order.
pub fn list_sql(on: Backend, caller: &Principal, q: &CustomerQuery) -> Result<(SqlBuf, CustomerOrder)> {
    list_sql_selecting(&format!("SELECT {} FROM customers c", store::COLUMNS), on, caller, q)
}

/// [`list_sql`] with another `SELECT ... FROM customers c ...` head (other columns, joins):
/// the same customers, scope and order.
pub fn list_sql_selecting(
    select: &str,
    on: Backend,
    caller: &Principal,
    q: &CustomerQuery,
) -> Result<(SqlBuf, CustomerOrder)> {
    crm_kit::text::search_query("query", &q.query)?;
    let order = parse_order(&q.order_by)?;
    let filter = compile_filter(&q.filter)?;
    let mut sql = SqlBuf::read(select, &scope(caller));
    if !q.show_deleted {
        sql.push(" AND c.deleted_at IS NULL");
    }
    search::push_predicate(&mut sql, &q.query, on);
    if let Some(f) = &filter {
        sql.push(" AND ").filter(f);
    }
    Ok((sql, order))
}

/// The ALREADY_EXISTS error for a duplicate, naming the existing customer and its owner.
pub fn duplicate_error(d: &Duplicate) -> Error {
    let row = &d.row;
    let in_pool = row.owner_id.is_empty();
    let since = if in_pool {
        String::new()
    } else {
        format_rfc3339(row.owned_since)
    };
    let owner_text = if in_pool {
        "is in the public pool".to_string()
    } else {
        format!("is owned by {} since {since}", row.owner_id)
    };
    Error::AlreadyExists {
        reason: "DUPLICATE_CUSTOMER",
        message: format!(
            "a customer with the same {} already exists: {} ({}) {owner_text}",
            d.matched_on.replace('_', " "),
            row.fields.name,
            row.id
        ),
        metadata: [
            ("customer_id".to_string(), row.id.clone()),
            ("customer_name".to_string(), row.fields.name.clone()),
            ("matched_on".to_string(), d.matched_on.to_string()),
            ("owner_id".to_string(), row.owner_id.clone()),
            ("owned_since".to_string(), since.clone()),
            ("in_pool".to_string(), in_pool.to_string()),
        ]
        .into(),
        resource: Some(Box::new(Resource {
            resource_type: CUSTOMER.into(),
            name: row.id.clone(),
            owner: if in_pool {
                "public pool".into()
            } else {
                row.owner_id.clone()
            },
            description: if in_pool {
                "in the public pool".into()
            } else {
                format!("owned since {since}")
            },
        })),
    }
}

/// Checks dictionary codes and the category of customer fields (only those that changed from
/// `old`, so a record using a since-disabled code can still be edited).
pub async fn check_references(
    conn: &mut AnyConnection,
    f: &CustomerFields,
    old: Option<&CustomerFields>,
    v: &mut Violations,
) -> Result<()> {
    let old_codes = old.map(CustomerFields::dictionary_codes).unwrap_or_default();
    for (dictionary, field, code) in f.dictionary_codes() {
        if old_codes.iter().any(|(d, _, c)| *d == dictionary && *c == code) {
            continue;
        }
        match catalog::entry(conn, dictionary, code).await? {
            None => v.add(
                field,
                "UNKNOWN_CODE",
                format!("{code} is not a code of the {dictionary} dictionary"),
            ),
            Some(e) if e.enabled == 0 => v.add(
                field,
                "DISABLED_CODE",
                format!("{code} is disabled in the {dictionary} dictionary"),
            ),
            Some(_) => {}
        }
    }
    if !f.category_id.is_empty() && old.is_none_or(|o| o.category_id != f.category_id) {
        match catalog::category(conn, &f.category_id).await? {
            None => v.add(
                "customer.category_id",
                "UNKNOWN_CATEGORY",
                format!("category {} does not exist", f.category_id),
            ),
            Some(c) if c.child_count > 0 => v.add(
                "customer.category_id",
                "CATEGORY_NOT_LEAF",
                format!(
                    "category {} has sub-categories; add the customer under one of them",
                    c.name
                ),
            ),
            Some(_) => {}
        }
    }
    Ok(())
}

/// A new contact parsed from the wire.
pub fn parse_contact(
    src: &pb::Contact,
    prefix: &str,
    region: crm_kit::phone::PhoneRegion,
    v: &mut Violations,
) -> crate::store::contacts::ContactRow {
    super::contacts::contact_from_proto(src, prefix, region, v)
}

impl CustomersApi {
    /// CreateCustomer.
    pub async fn create_customer(
        &self,
        caller: &Principal,
        mut req: pb::CreateCustomerRequest,
    ) -> Result<pb::CreateCustomerResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateCustomer", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.customer.as_ref() else {
            return Err(Error::required("customer"));
        };
        let (fields, contact, owner) = self.parse_create(caller, src, &req.owner_id)?;
        // A customer created for someone else is an assignment: managers, within their scope.
        let owner_department_path = if owner == caller.employee_id {
            caller.department_path.clone()
        } else {
            caller.require("customers.customer.assign")?;
            let path = self.directory.department_of(caller, "owner_id", &owner).await?;
            super::ownership::check_in_scope(caller, "owner_id", &owner, &path)?;
            path
        };

        // Without a request id on PostgreSQL the writes go as one statement and need no
        // transaction around them; SQLite, and a request id's replay and record, take one.
        let one_statement = key.is_none() && self.db.backend == Backend::Postgres;
        let mut tx = match one_statement {
            true => None,
            false => Some(self.db.begin_write().await?),
        };
        let mut pooled = match tx {
            Some(_) => None,
            None => Some(self.conn().await?),
        };
        let conn: &mut AnyConnection = match (&mut tx, &mut pooled) {
            (Some(tx), _) => tx,
            (None, Some(c)) => c,
            (None, None) => unreachable!("a transaction or a pooled connection"),
        };
        if let Some(k) = &key
            && let Some(done) = k.replay(conn).await?
        {
            return Ok(done);
        }
        // Without a transaction the owner's and the reference checks travel inside the write
        // (one round trip); only when they fail are they run one by one to name the field.
        let guard = if one_statement {
            Some(create_guard(&fields, &owner))
        } else {
            crm_kit::handover::require_active(conn, &caller.employee_id, "owner_id", &owner).await?;
            let mut v = Violations::new();
            check_references(conn, &fields, None, &mut v).await?;
            v.finish()?;
            None
        };
        // Duplicates are found by the insert itself: every duplicate rule is a unique index,
        // so a probe first would only add a round trip (and could not stop a concurrent twin).
        let now = now_micros();
        let row = self.new_row(fields, &owner, owner_department_path, &caller.employee_id, now);
        let texts = search::SearchTexts::of(&row.fields, contact.as_ref());
        let contact = contact.map(|c| c.into_primary_of(&row.id, &caller.employee_id, now));
        let writes = creation_writes(self.db.backend, &row, contact.as_ref(), texts, &caller.employee_id)?;
        let written = match &guard {
            Some((prelude, guard)) => crate::store::execute_guarded(conn, Some(prelude), guard, &writes).await,
            None => crate::store::execute_together(conn, &writes).await.map(|()| true),
        };
        match written.map_err(InsertError::from) {
            Ok(true) => {}
            Ok(false) => return Err(why_not_written(conn, caller, &row).await),
            Err(InsertError::Duplicate) => {
                // The customer exists (or a concurrent create of it committed first): name it,
                // after giving the connection back (a pool full of waiters must not deadlock).
                drop(tx);
                drop(pooled);
                return Err(self.duplicate_of(&row.fields).await);
            }
            Err(InsertError::Other(e)) => return Err(e),
        }
        // A new customer has no collaborators yet; its primary contact is the one just written.
        let response = pb::CreateCustomerResponse {
            customer: Some(convert::customer(&row, Vec::new(), contact.as_ref())),
        };
        if let Some(mut tx) = tx {
            if let Some(k) = &key {
                k.record(&mut tx, &response).await?;
            }
            tx.commit().await?;
        } else {
            // One autocommitted statement: its event is numbered now, not at the next poll.
            self.db.wrote();
        }
        Ok(response)
    }

    /// A new customer's fields, primary contact and owner (the caller when none is given),
    /// every bad field named at once.
    fn parse_create(
        &self,
        caller: &Principal,
        src: &pb::Customer,
        owner_id: &str,
    ) -> Result<(CustomerFields, Option<ContactRow>, String)> {
        let mut v = Violations::new();
        let fields = CustomerFields::from_create(src, self.phone_region, &mut v);
        fields.check_whole(&mut v);
        let contact = src
            .primary_contact
            .as_ref()
            .filter(|c| !c.name.trim().is_empty() || !c.mobile.is_empty() || !c.phone.is_empty() || !c.email.is_empty())
            .map(|c| parse_contact(c, "customer.primary_contact", self.phone_region, &mut v));
        let owner = match owner_id.trim() {
            "" => caller.employee_id.clone(),
            owner => owner.to_string(),
        };
        if owner.chars().count() > 64 {
            v.add("owner_id", reason::TOO_LONG, "must be at most 64 characters");
        }
        v.finish()?;
        Ok((fields, contact, owner))
    }

    /// The row of a customer created now for `owner`.
    pub(super) fn new_row(
        &self,
        fields: CustomerFields,
        owner: &str,
        owner_department_path: String,
        actor: &str,
        now: i64,
    ) -> CustomerRow {
        CustomerRow {
            id: crm_kit::new_id(),
            name_key: names::name_key(&fields.name),
            fields,
            owner_id: owner.to_string(),
            owner_department_path,
            owned_since: now,
            reclaim_locked: false,
            last_follow_up_at: 0,
            next_follow_up_at: 0,
            last_order_at: 0,
            totals_currency: self.base_currency.clone(),
            total_ordered: 0,
            receivable_balance: 0,
            payable_balance: 0,
            order_count: 0,
            created_at: now,
            created_by: actor.to_string(),
            updated_at: now,
            updated_by: actor.to_string(),
            version: 1,
            deleted_at: None,
        }
    }

    /// The ALREADY_EXISTS naming the customer that `fields` duplicate (ABORTED when a
    /// concurrent change removed it meanwhile).
    async fn duplicate_of(&self, fields: &CustomerFields) -> Error {
        let found = match self.conn().await {
            Ok(mut conn) => store::find_duplicate(&mut conn, fields, "").await,
            Err(e) => return e,
        };
        match found {
            Ok(Some(d)) => duplicate_error(&d),
            Ok(None) => Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "a concurrent change collided; retry".into(),
            },
            Err(e) => e,
        }
    }

    /// GetCustomer.
    pub async fn get_customer(
        &self,
        caller: &Principal,
        req: pb::GetCustomerRequest,
    ) -> Result<pb::GetCustomerResponse> {
        let mut conn = self.conn().await?;
        let row = visible_customer(&mut conn, caller, "id", &req.id).await?;
        Ok(pb::GetCustomerResponse {
            customer: Some(convert::one_customer(&mut conn, &row).await?),
        })
    }

    /// ListCustomers.
    pub async fn list_customers(
        &self,
        caller: &Principal,
        req: pb::ListCustomersRequest,
    ) -> Result<pb::ListCustomersResponse> {
        let limit = page_size(req.page_size, 50, 500)?;
        let q = CustomerQuery {
            filter: req.filter,
            query: req.query,
            order_by: req.order_by,
            show_deleted: req.show_deleted,
        };
        let show_deleted = q.show_deleted.to_string();
        let shape = [
            q.filter.as_str(),
            q.query.as_str(),
            q.order_by.as_str(),
            show_deleted.as_str(),
            caller.employee_id.as_str(),
        ];
        if q.order_by.trim().is_empty() {
            crm_kit::text::search_query("query", &q.query)?;
            if let Some(ranking) = super::search::Ranking::of(&q.query) {
                return self
                    .ranked_page(caller, &q, &ranking, &fingerprint(&shape), &req.page_token, limit)
                    .await;
            }
        }
        let (sql, order) = list_sql(self.db.backend, caller, &q)?;
        let keyset = Keyset::open(&self.tokens, order.order(), req.page_size, &req.page_token, &shape)?;
        let mut conn = self.conn().await?;
        let page = keyset.fetch(&mut conn, sql, |r| order.position(r)).await?;
        Ok(pb::ListCustomersResponse {
            customers: convert::customers(&mut conn, &page.rows).await?,
            next_page_token: page.next_page_token,
        })
    }

    /// A page of a search without `order_by`, ranked (see [`super::search`]).
    async fn ranked_page(
        &self,
        caller: &Principal,
        q: &CustomerQuery,
        ranking: &super::search::Ranking,
        fp: &str,
        page_token: &str,
        limit: i64,
    ) -> Result<pb::ListCustomersResponse> {
        let filter = compile_filter(&q.filter)?;
        let cursor: Option<super::search::RankCursor> = decode_token(&self.tokens, fp, page_token)?;
        let limit = usize::try_from(limit).unwrap_or(0);
        let mut conn = self.conn().await?;
        let mut rows = super::search::page(
            &mut conn,
            self.db.backend,
            caller,
            &super::search::Conditions {
                ranking,
                filter: filter.as_ref(),
                show_deleted: q.show_deleted,
            },
            cursor.as_ref(),
            limit + 1,
        )
        .await?;
        let next_page_token = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|(_, c)| self.tokens.encode(fp, c)).unwrap_or_default()
        } else {
            String::new()
        };
        let rows: Vec<CustomerRow> = rows.into_iter().map(|(r, _)| r).collect();
        Ok(pb::ListCustomersResponse {
            customers: convert::customers(&mut conn, &rows).await?,
            next_page_token,
        })
    }

    /// UpdateCustomer.
    pub async fn update_customer(
        &self,
        caller: &Principal,
        mut req: pb::UpdateCustomerRequest,
    ) -> Result<pb::UpdateCustomerResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("UpdateCustomer", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.customer.as_ref() else {
            return Err(Error::required("customer"));
        };
        let mut v = Violations::new();
        let paths = req.update_mask.as_ref().map(|m| m.paths.clone()).unwrap_or_default();
        let paths = mask_paths(&paths, &mut v);
        if src.id.trim().is_empty() {
            v.add("customer.id", reason::REQUIRED, "is required");
        }
        if src.etag.trim().is_empty() {
            v.add("customer.etag", reason::REQUIRED, "is required: send the etag you read");
        }
        v.finish()?;

        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let current = visible_customer(&mut tx, caller, "customer.id", &src.id).await?;
        if !may_manage(caller, &current) {
            return Err(Error::PermissionDenied {
                permission: "customers.customer.update".into(),
            });
        }
        check_etag("customer.etag", &src.etag, current.version, "customer")?;
        let mut fields = current.fields.clone();
        let mut v = Violations::new();
        fields.apply(src, &paths, self.phone_region, &mut v);
        fields.check_whole(&mut v);
        check_references(&mut tx, &fields, Some(&current.fields), &mut v).await?;
        v.finish()?;
        let changes = CustomerFields::diff(&current.fields, &fields);
        let now = now_micros();
        let row = if changes.is_empty() {
            current
        } else {
            if let Some(d) = store::find_duplicate(&mut tx, &fields, &current.id).await? {
                return Err(duplicate_error(&d));
            }
            match store::update_fields(&mut tx, &current.id, current.version, &fields, &caller.employee_id, now).await {
                Ok(true) => {}
                Ok(false) => return Err(Error::stale_etag("customer")),
                Err(InsertError::Duplicate) => {
                    return Err(Error::Aborted {
                        reason: "CONCURRENT_CHANGE",
                        message: "a concurrent change made this a duplicate; reload and retry".into(),
                    });
                }
                Err(InsertError::Other(e)) => return Err(e),
            }
            if changes
                .iter()
                .any(|(f, _, _)| matches!(*f, "name" | "short_name" | "phone" | "mobile"))
            {
                search::reindex(&mut tx, &current.id).await?;
            }
            history::record_change(&mut tx, &current.id, "update", &changes, &caller.employee_id, now).await?;
            crm_kit::events::append_at(
                &mut tx,
                &current.id,
                &pb::CustomerUpdated {
                    customer_id: current.id.clone(),
                    fields: changes.iter().map(|(f, _, _)| (*f).to_string()).collect(),
                },
                now,
            )
            .await?;
            store::load(&mut tx, &current.id, false)
                .await?
                .ok_or_else(|| Error::not_found(CUSTOMER, &current.id))?
        };
        let response = pb::UpdateCustomerResponse {
            customer: Some(convert::one_customer(&mut tx, &row).await?),
        };
        tx.finish(response).await
    }

    /// DeleteCustomer: soft delete, refused while money or orders hang on the customer.
    pub async fn delete_customer(
        &self,
        caller: &Principal,
        req: pb::DeleteCustomerRequest,
    ) -> Result<pb::DeleteCustomerResponse> {
        let mut tx = self.db.begin_write().await?;
        let current = visible_customer(&mut tx, caller, "id", &req.id).await?;
        if !may_manage(caller, &current) {
            return Err(Error::PermissionDenied {
                permission: "customers.customer.delete".into(),
            });
        }
        if !req.etag.trim().is_empty() {
            check_etag("etag", &req.etag, current.version, "customer")?;
        }
        crate::domain::delete_guard(
            &current.id,
            current.receivable_balance,
            current.payable_balance,
            current.order_count,
        )?;
        let now = now_micros();
        if !store::soft_delete(&mut tx, &current.id, current.version, &caller.employee_id, now).await? {
            return Err(Error::stale_etag("customer"));
        }
        history::record_change(&mut tx, &current.id, "delete", &[], &caller.employee_id, now).await?;
        crm_kit::events::append_at(
            &mut tx,
            &current.id,
            &pb::CustomerDeleted {
                customer_id: current.id.clone(),
            },
            now,
        )
        .await?;
        let row = store::load(&mut tx, &current.id, true)
            .await?
            .ok_or_else(|| Error::not_found(CUSTOMER, &current.id))?;
        let response = pb::DeleteCustomerResponse {
            customer: Some(convert::one_customer(&mut tx, &row).await?),
        };
        tx.commit().await?;
        Ok(response)
    }

    /// CheckDuplicates: exact matches (name key, tax id, phone/mobile, email) and close names.
    pub async fn check_duplicates(
        &self,
        _caller: &Principal,
        req: pb::CheckDuplicatesRequest,
    ) -> Result<pb::CheckDuplicatesResponse> {
        let mut v = Violations::new();
        let name = v
            .take(crate::domain::optional_text("name", &req.name, 200))
            .unwrap_or_default();
        let phone = Phone::parse_optional(&mut v, "phone", &req.phone, self.phone_region)
            .map(Phone::into_inner)
            .unwrap_or_default();
        let email = Email::parse_optional(&mut v, "email", &req.email)
            .map(Email::into_inner)
            .unwrap_or_default();
        let tax_id = if req.tax_id.trim().is_empty() {
            String::new()
        } else {
            v.take(contact_info::parse_tax_id("tax_id", &req.tax_id))
                .unwrap_or_default()
        };
        let max_close = match req.max_close_matches {
            0 => 10,
            n if (1..=50).contains(&n) => i64::from(n),
            _ => {
                v.add("max_close_matches", reason::OUT_OF_RANGE, "must be between 1 and 50");
                10
            }
        };
        if v.is_empty() && name.is_empty() && phone.is_empty() && email.is_empty() && tax_id.is_empty() {
            v.add(
                "name",
                reason::REQUIRED,
                "give at least one of name, phone, email or tax_id",
            );
        }
        v.finish()?;
        let mut conn = self.conn().await?;
        let key = names::name_key(&name);
        let mut exact: Vec<pb::DuplicateMatch> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // Phones and mobiles are compared in E.164, however either was typed.
        let probes: [(&'static str, &str, pb::DuplicateMatchKind); 5] = [
            ("name_key", key.as_str(), pb::DuplicateMatchKind::Name),
            ("tax_id", tax_id.as_str(), pb::DuplicateMatchKind::TaxId),
            ("phone", phone.as_str(), pb::DuplicateMatchKind::Phone),
            ("mobile", phone.as_str(), pb::DuplicateMatchKind::Mobile),
            ("email", email.as_str(), pb::DuplicateMatchKind::Email),
        ];
        for (column, value, kind) in probes {
            if value.is_empty() {
                continue;
            }
            for row in store::exact_matches(&mut conn, column, value, 20).await? {
                if seen.insert(row.id.clone()) {
                    exact.push(duplicate_match(&row, kind, 1.0));
                }
            }
        }
        let mut close: Vec<(f64, CustomerRow)> = Vec::new();
        if !key.is_empty() {
            // Candidates share the most bigrams with the name's core; the score reads both names.
            let texts = names::candidate_texts(&name);
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let ids = search::similar_candidates(&mut conn, &texts, 200).await?;
            for row in store::load_many(&mut conn, &ids).await? {
                if row.deleted_at.is_some() || seen.contains(&row.id) {
                    continue;
                }
                let sim = names::similarity(&name, &row.fields.name);
                if sim >= names::CLOSE_MATCH_THRESHOLD {
                    close.push((sim, row));
                }
            }
        }
        close.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        close.truncate(usize::try_from(max_close).unwrap_or(10));
        Ok(pb::CheckDuplicatesResponse {
            exact_matches: exact,
            close_matches: close
                .iter()
                .map(|(s, r)| duplicate_match(r, pb::DuplicateMatchKind::SimilarName, *s))
                .collect(),
        })
    }

    /// MergeCustomers: moves contacts, follow-ups and history of `merged_id` onto `survivor_id`
    /// and soft-deletes the merged record.
    pub async fn merge_customers(
        &self,
        caller: &Principal,
        mut req: pb::MergeCustomersRequest,
    ) -> Result<pb::MergeCustomersResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("MergeCustomers", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        if req.survivor_id.trim().is_empty() {
            v.add("survivor_id", reason::REQUIRED, "is required");
        }
        if req.merged_id.trim().is_empty() {
            v.add("merged_id", reason::REQUIRED, "is required");
        }
        if !req.survivor_id.is_empty() && req.survivor_id.trim() == req.merged_id.trim() {
            v.add("merged_id", "SAME_CUSTOMER", "must differ from survivor_id");
        }
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let survivor = visible_customer(&mut tx, caller, "survivor_id", &req.survivor_id).await?;
        let merged = visible_customer(&mut tx, caller, "merged_id", &req.merged_id).await?;
        if !may_manage(caller, &survivor) || !may_manage(caller, &merged) {
            return Err(Error::PermissionDenied {
                permission: "customers.customer.merge".into(),
            });
        }
        let (contacts_moved, follow_ups_moved, owner_changes_moved, changes_moved) =
            store::dependents(&mut tx, &merged.id).await?;
        let mut response = pb::MergeCustomersResponse {
            survivor: None,
            contacts_moved,
            follow_ups_moved,
            owner_changes_moved,
            changes_moved,
            dry_run: req.dry_run,
        };
        if req.dry_run {
            response.survivor = Some(convert::one_customer(&mut tx, &survivor).await?);
            return Ok(response);
        }
        let now = now_micros();
        store::move_dependents(&mut tx, &merged.id, &survivor.id).await?;
        if !store::soft_delete(&mut tx, &merged.id, merged.version, &caller.employee_id, now).await? {
            return Err(Error::stale_etag("customer"));
        }
        history::record_owner_change(
            &mut tx,
            &merged.id,
            &merged.owner_id,
            &survivor.owner_id,
            "merge",
            &format!("merged into {}", survivor.id),
            &caller.employee_id,
            now,
        )
        .await?;
        history::record_change(
            &mut tx,
            &survivor.id,
            "merge",
            &[(
                "merged_customer",
                String::new(),
                format!("{} ({})", merged.fields.name, merged.id),
            )],
            &caller.employee_id,
            now,
        )
        .await?;
        history::record_change(
            &mut tx,
            &merged.id,
            "merged",
            &[("merged_into", String::new(), survivor.id.clone())],
            &caller.employee_id,
            now,
        )
        .await?;
        crm_kit::events::append_at(
            &mut tx,
            &survivor.id,
            &pb::CustomersMerged {
                survivor_id: survivor.id.clone(),
                merged_ids: vec![merged.id.clone()],
            },
            now,
        )
        .await?;
        contacts::ensure_primary(&mut tx, &survivor.id).await?;
        store::touch(&mut tx, &survivor.id, &caller.employee_id, now).await?;
        search::reindex(&mut tx, &survivor.id).await?;
        let row = store::load(&mut tx, &survivor.id, false)
            .await?
            .ok_or_else(|| Error::not_found(CUSTOMER, &survivor.id))?;
        response.survivor = Some(convert::one_customer(&mut tx, &row).await?);
        tx.finish(response).await
    }

    /// ListOwnerChanges.
    pub async fn list_owner_changes(
        &self,
        caller: &Principal,
        req: pb::ListOwnerChangesRequest,
    ) -> Result<pb::ListOwnerChangesResponse> {
        let shape = ["owner_changes", req.customer_id.as_str()];
        let order = history::owner_change_order();
        let keyset = Keyset::open(&self.tokens, order, req.page_size, &req.page_token, &shape)?;
        let mut conn = self.conn().await?;
        let row = visible_customer(&mut conn, caller, "customer_id", &req.customer_id).await?;
        let page = history::owner_changes(&mut conn, &row.id, &keyset).await?;
        Ok(pb::ListOwnerChangesResponse {
            owner_changes: page.rows.iter().map(convert::owner_change).collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// ListCustomerChanges.
    pub async fn list_customer_changes(
        &self,
        caller: &Principal,
        req: pb::ListCustomerChangesRequest,
    ) -> Result<pb::ListCustomerChangesResponse> {
        let mut conn = self.conn().await?;
        let row = visible_customer(&mut conn, caller, "customer_id", &req.customer_id).await?;
        let page = history::CHANGES
            .list(&mut conn, &self.tokens, &row.id, req.page_size, &req.page_token)
            .await?;
        Ok(pb::ListCustomerChangesResponse {
            changes: page.rows.iter().map(convert::change).collect(),
            next_page_token: page.next_page_token,
        })
    }
}

fn duplicate_match(row: &CustomerRow, kind: pb::DuplicateMatchKind, similarity: f64) -> pb::DuplicateMatch {
    pb::DuplicateMatch {
        customer_id: row.id.clone(),
        name: row.fields.name.clone(),
        kind: kind as i32,
        owner_id: row.owner_id.clone(),
        owned_since: (!row.owner_id.is_empty()).then(|| crm_kit::time::to_proto(row.owned_since)),
        in_pool: row.owner_id.is_empty(),
        similarity,
    }
}

/// The guard a one-statement create writes under: the owner is active and every dictionary
/// code and the category exist (with the statement's prelude of CTEs).
fn create_guard(fields: &CustomerFields, owner: &str) -> (SqlBuf, SqlBuf) {
    let mut guard = SqlBuf::new(crm_kit::handover::ACTIVE_GUARD_HOLDS);
    if let Some(references) = catalog::references_guard(
        &fields
            .dictionary_codes()
            .into_iter()
            .map(|(d, _, c)| (d, c))
            .collect::<Vec<_>>(),
        &fields.category_id,
    ) {
        guard.push(" AND ").push_renumbered(&references.sql, &references.params);
    }
    let mut prelude = SqlBuf::new("");
    prelude.push_renumbered(
        crm_kit::handover::ACTIVE_GUARD_CTES,
        &[SqlValue::Text(owner.to_string())],
    );
    (prelude, guard)
}

/// What creating `row` writes together: the customer and its search entries, its primary
/// contact, its first history entries and its `CustomerCreated` event.
fn creation_writes(
    backend: Backend,
    row: &CustomerRow,
    contact: Option<&ContactRow>,
    texts: search::SearchTexts,
    actor: &str,
) -> Result<Vec<SqlBuf>> {
    let now = row.created_at;
    let created: Vec<(&str, String, String)> = row
        .fields
        .pairs()
        .into_iter()
        .filter(|(_, val)| !val.is_empty() && val != "[]" && val != "{}")
        .map(|(f, val)| (f, String::new(), val))
        .collect();
    let mut writes = store::insert_statements(backend, std::slice::from_ref(row), &[texts.entry()])?;
    if let Some(c) = contact {
        writes.extend(contacts::insert_statements(backend, std::slice::from_ref(c)));
    }
    writes.push(history::change_sql(&row.id, "create", &created, actor, now));
    writes.push(history::owner_change_sql(
        &row.id,
        "",
        &row.owner_id,
        "create",
        "",
        actor,
        now,
    ));
    writes.push(crate::store::SqlBuf::from(
        crm_kit::events::append_statement(
            &row.id,
            &pb::CustomerCreated {
                customer_id: row.id.clone(),
                name: row.fields.name.clone(),
                owner_id: row.owner_id.clone(),
            },
            now,
        )
        .1,
    ));
    Ok(writes)
}

/// Why a guarded create wrote nothing: the owner has left, or a code or the category is
/// unknown (named by field), or they changed between the write and this check.
async fn why_not_written(conn: &mut AnyConnection, caller: &Principal, row: &CustomerRow) -> Error {
    match crm_kit::handover::is_deactivated(conn, &row.owner_id).await {
        Ok(true) => return crm_kit::handover::inactive(&caller.employee_id, "owner_id", &row.owner_id),
        Ok(false) => {}
        Err(e) => return e,
    }
    let mut v = Violations::new();
    if let Err(e) = check_references(conn, &row.fields, None, &mut v).await {
        return e;
    }
    match v.finish() {
        Err(e) => e,
        // The references were fixed between the write and the check.
        Ok(()) => Error::Aborted {
            reason: "CONCURRENT_CHANGE",
            message: "a dictionary code or category changed concurrently; retry".into(),
        },
    }
}
