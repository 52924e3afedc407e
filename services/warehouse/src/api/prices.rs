//! Price lists: by customer level (every customer of the level) or named (the customers it
//! lists), valid from a day and until a day; and what a customer pays for products on a day.
//! Prices are per stock unit in the base currency; a product on no list valid for the customer
//! that day costs its default sale price.

use std::collections::{HashMap, HashSet};

use crm_kit::auth::Principal;
use crm_kit::errors::{Violations, reason};
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Direction, Keyset, Order};
use crm_kit::time::now_micros;
use crm_kit::update::{check_etag, etag, mask_paths};
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use sqlx::AnyConnection;

use super::{WarehouseApi, audit, check_notes, check_text};
use crate::store;
use crate::store::prices::PriceListRow;

pub const PRICE_LIST: &str = "crm.warehouse.v1.PriceList";

/// Most customers a named list prices, and most prices one call sets or asks for.
const MAX_CUSTOMERS: usize = 1_000;
const MAX_PRICES: usize = 1_000;

const LIST_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "kind",
        column: "l.kind",
        ty: FieldType::Enum(&["level", "named"]),
    },
    FieldSpec {
        name: "customer_level",
        column: "l.customer_level",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "status",
        column: "l.status",
        ty: FieldType::Enum(&["active", "inactive"]),
    },
    FieldSpec {
        name: "valid_from",
        column: "l.valid_from",
        ty: FieldType::Date,
    },
    FieldSpec {
        name: "valid_until",
        column: "NULLIF(l.valid_until, '')",
        ty: FieldType::Date,
    },
];

const PRICE_FILTER: &[FieldSpec] = &[FieldSpec {
    name: "product_id",
    column: "b.product_id",
    ty: FieldType::Text,
}];

/// Today, YYYY-MM-DD (UTC).
fn today() -> String {
    let (y, m, d) = crm_kit::time::civil_from_days(now_micros().div_euclid(86_400_000_000));
    crm_kit::time::format_date(y, m, d)
}

/// A date from the wire, normalised (`None` with a violation when it is not one).
fn date(field: &str, s: &str, v: &mut Violations) -> Option<String> {
    let s = crm_kit::text::normalize(s);
    match crm_kit::time::parse_date(&s) {
        Some((y, m, d)) => Some(crm_kit::time::format_date(y, m, d)),
        None => {
            v.add(field, reason::MALFORMED, "must be a date YYYY-MM-DD");
            None
        }
    }
}

fn kind_of(code: &str) -> pb::PriceListKind {
    if code == "named" {
        pb::PriceListKind::Named
    } else {
        pb::PriceListKind::Level
    }
}

fn list_proto(l: &PriceListRow, customers: Vec<String>) -> pb::PriceList {
    pb::PriceList {
        id: l.id.clone(),
        name: l.name.clone(),
        kind: kind_of(&l.kind) as i32,
        customer_level: l.customer_level.clone(),
        customer_ids: customers,
        valid_from: l.valid_from.clone(),
        valid_until: l.valid_until.clone(),
        status: if l.status == "inactive" {
            pb::PriceListStatus::Inactive
        } else {
            pb::PriceListStatus::Active
        } as i32,
        remark: l.remark.clone(),
        price_count: i32::try_from(l.price_count).unwrap_or(i32::MAX),
        audit: Some(audit(l.created_at, &l.created_by, l.updated_at, &l.updated_by)),
        etag: etag(l.version),
    }
}

impl WarehouseApi {
    /// Applies `fields` of `src` to `l`; returns the customers when they are among them.
    fn apply_price_list(
        l: &mut PriceListRow,
        src: &pb::PriceList,
        fields: &[&str],
        v: &mut Violations,
    ) -> Option<Vec<String>> {
        let mut customers = None;
        for f in fields {
            let field = format!("price_list.{f}");
            match *f {
                "name" => {
                    check_text(&field, &src.name, true, 100, v);
                    l.name = crm_kit::text::normalize(&src.name);
                    l.name_key = crm_kit::text::fold_key(&src.name);
                }
                "customer_level" => {
                    check_text(&field, &src.customer_level, false, 32, v);
                    l.customer_level = crm_kit::text::normalize(&src.customer_level);
                }
                "customer_ids" => {
                    customers = Some(crm_kit::text::distinct_list(
                        v,
                        &field,
                        &src.customer_ids,
                        crm_kit::text::ListRule {
                            max_items: MAX_CUSTOMERS,
                            max_chars: 64,
                            skip_empty: true,
                        },
                    ));
                }
                "valid_from" => {
                    if src.valid_from.trim().is_empty() {
                        v.add(&field, reason::REQUIRED, "the first day the list is valid");
                    } else if let Some(d) = date(&field, &src.valid_from, v) {
                        l.valid_from = d;
                    }
                }
                "valid_until" => {
                    if src.valid_until.trim().is_empty() {
                        l.valid_until = String::new();
                    } else if let Some(d) = date(&field, &src.valid_until, v) {
                        l.valid_until = d;
                    }
                }
                "status" => match pb::PriceListStatus::try_from(src.status) {
                    Ok(pb::PriceListStatus::Active) => l.status = "active".into(),
                    Ok(pb::PriceListStatus::Inactive) => l.status = "inactive".into(),
                    _ => v.add(&field, reason::UNKNOWN_ENUM_VALUE, "ACTIVE or INACTIVE"),
                },
                "remark" => {
                    check_notes(&field, &src.remark, false, 2000, v);
                    l.remark = src.remark.trim().to_string();
                }
                _ => {}
            }
        }
        customers
    }

    /// The rules that tie a list's fields together, after they were applied.
    fn check_price_list(l: &PriceListRow, customers: Option<&[String]>, v: &mut Violations) {
        if !l.valid_until.is_empty() && l.valid_until < l.valid_from {
            v.add(
                "price_list.valid_until",
                reason::OUT_OF_RANGE,
                format!("must be on or after valid_from {}", l.valid_from),
            );
        }
        match l.kind.as_str() {
            "level" => {
                if l.customer_level.is_empty() {
                    v.add(
                        "price_list.customer_level",
                        reason::REQUIRED,
                        "a LEVEL list names the customer level it prices",
                    );
                }
                if customers.is_some_and(|c| !c.is_empty()) {
                    v.add(
                        "price_list.customer_ids",
                        reason::NOT_ALLOWED,
                        "a LEVEL list prices every customer of its level: use a NAMED list for chosen customers",
                    );
                }
            }
            _ => {
                if !l.customer_level.is_empty() {
                    v.add(
                        "price_list.customer_level",
                        reason::NOT_ALLOWED,
                        "a NAMED list prices the customers it names, not a level",
                    );
                }
            }
        }
    }

    /// Checks prices from the wire: known products, no product twice, prices 0 or more.
    async fn checked_prices(
        &self,
        conn: &mut AnyConnection,
        field: &str,
        prices: &[pb::Price],
    ) -> Result<Vec<(String, i64)>> {
        let mut v = Violations::new();
        if prices.len() > MAX_PRICES {
            return Err(Error::invalid(
                field,
                reason::TOO_MANY,
                format!("at most {MAX_PRICES} prices a call"),
            ));
        }
        let ids: Vec<&str> = prices.iter().map(|p| p.product_id.trim()).collect();
        let known: HashSet<String> = store::catalog::products(conn, &ids)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        let mut seen = HashMap::new();
        let mut out = Vec::with_capacity(prices.len());
        for (i, p) in prices.iter().enumerate() {
            let at = format!("{field}[{i}]");
            let id = p.product_id.trim();
            if id.is_empty() {
                v.add(format!("{at}.product_id"), reason::REQUIRED, "is required");
            } else if !known.contains(id) {
                v.add(
                    format!("{at}.product_id"),
                    "UNKNOWN_PRODUCT",
                    format!("no product {id}"),
                );
            } else if let Some(first) = seen.insert(id.to_string(), i) {
                v.add(
                    format!("{at}.product_id"),
                    reason::DUPLICATE,
                    format!("already priced at {field}[{first}]"),
                );
            }
            let price = self.amount(&format!("{at}.price"), p.price.as_ref(), &mut v);
            if p.price.is_none() {
                v.add(format!("{at}.price"), reason::REQUIRED, "is required");
            }
            if let Some(price) = price {
                out.push((id.to_string(), price));
            }
        }
        v.finish()?;
        Ok(out)
    }

    pub async fn create_price_list(
        &self,
        caller: &Principal,
        mut req: pb::CreatePriceListRequest,
    ) -> Result<pb::CreatePriceListResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreatePriceList", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.price_list.as_ref() else {
            return Err(Error::required("price_list"));
        };
        let now = now_micros();
        let mut v = Violations::new();
        let kind = match pb::PriceListKind::try_from(src.kind) {
            Ok(pb::PriceListKind::Level) => "level",
            Ok(pb::PriceListKind::Named) => "named",
            _ => {
                v.add(
                    "price_list.kind",
                    if src.kind == 0 {
                        reason::REQUIRED
                    } else {
                        reason::UNKNOWN_ENUM_VALUE
                    },
                    "LEVEL or NAMED",
                );
                ""
            }
        };
        let mut l = PriceListRow {
            id: crm_kit::new_id(),
            name: String::new(),
            name_key: String::new(),
            kind: kind.to_string(),
            customer_level: String::new(),
            valid_from: today(),
            valid_until: String::new(),
            status: "active".into(),
            remark: String::new(),
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
            price_count: 0,
        };
        let mut fields = vec!["name", "customer_level", "customer_ids", "valid_until", "remark"];
        if !src.valid_from.trim().is_empty() {
            fields.push("valid_from");
        }
        if src.status != 0 {
            fields.push("status");
        }
        let customers = Self::apply_price_list(&mut l, src, &fields, &mut v).unwrap_or_default();
        if !kind.is_empty() {
            Self::check_price_list(&l, Some(&customers), &mut v);
        }
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let prices = self.checked_prices(&mut tx, "prices", &req.prices).await?;
        if let Some(taken) = self.name_taken(&mut tx, &l).await? {
            return Err(taken);
        }
        if !store::prices::insert(&mut tx, &l).await? {
            return Err(Self::name_raced(&l));
        }
        store::prices::set_customers(&mut tx, &l.id, &customers).await?;
        store::prices::set_prices(&mut tx, &l.id, &prices, now, &caller.employee_id).await?;
        l.price_count = i64::try_from(prices.len()).unwrap_or(i64::MAX);
        let mut customers = customers;
        customers.sort();
        let response = pb::CreatePriceListResponse {
            price_list: Some(list_proto(&l, customers)),
        };
        tx.finish(response).await
    }

    /// ALREADY_EXISTS naming the list that holds `l`'s name, if one does (looked up before the
    /// write: a unique violation ends a PostgreSQL transaction, so nothing could be read after it).
    async fn name_taken(&self, conn: &mut AnyConnection, l: &PriceListRow) -> Result<Option<Error>> {
        let Some(other) = store::prices::named(conn, &l.name_key, &l.id).await? else {
            return Ok(None);
        };
        let other = Some(other);
        Ok(Some(Error::AlreadyExists {
            reason: "DUPLICATE_PRICE_LIST",
            message: format!("a price list is already named {}", l.name),
            metadata: other
                .iter()
                .map(|o| ("existing_price_list_id".to_string(), o.id.clone()))
                .collect(),
            resource: other.map(|o| {
                Box::new(crm_kit::errors::Resource {
                    resource_type: PRICE_LIST.into(),
                    name: o.id,
                    owner: String::new(),
                    description: o.name,
                })
            }),
        }))
    }

    /// ALREADY_EXISTS for a name another writer took meanwhile.
    fn name_raced(l: &PriceListRow) -> Error {
        Error::AlreadyExists {
            reason: "DUPLICATE_PRICE_LIST",
            message: format!("a price list is already named {}", l.name),
            metadata: vec![],
            resource: None,
        }
    }

    async fn price_list(&self, conn: &mut AnyConnection, field: &str, id: &str) -> Result<PriceListRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        store::prices::get(conn, id)
            .await?
            .ok_or_else(|| Error::not_found(PRICE_LIST, id))
    }

    pub async fn get_price_list(
        &self,
        _caller: &Principal,
        req: pb::GetPriceListRequest,
    ) -> Result<pb::GetPriceListResponse> {
        let mut conn = self.conn().await?;
        let l = self.price_list(&mut conn, "id", &req.id).await?;
        let customers = store::prices::customers(&mut conn, &l.id).await?;
        Ok(pb::GetPriceListResponse {
            price_list: Some(list_proto(&l, customers)),
        })
    }

    pub async fn list_price_lists(
        &self,
        _caller: &Principal,
        req: pb::ListPriceListsRequest,
    ) -> Result<pb::ListPriceListsResponse> {
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            Order::by("l.name_key", "l.id", Direction::Ascending),
            req.page_size,
            &req.page_token,
            LIST_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::prices::page(&mut conn, filter.as_ref(), &keyset).await?;
        let ids: Vec<&str> = page.rows.iter().map(|l| l.id.as_str()).collect();
        let mut customers: HashMap<String, Vec<String>> = HashMap::new();
        for (list, customer) in store::prices::customers_of(&mut conn, &ids).await? {
            customers.entry(list).or_default().push(customer);
        }
        Ok(pb::ListPriceListsResponse {
            price_lists: page
                .rows
                .iter()
                .map(|l| list_proto(l, customers.remove(&l.id).unwrap_or_default()))
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn update_price_list(
        &self,
        caller: &Principal,
        req: pb::UpdatePriceListRequest,
    ) -> Result<pb::UpdatePriceListResponse> {
        let Some(src) = req.price_list.as_ref() else {
            return Err(Error::required("price_list"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            &[
                "name",
                "customer_level",
                "customer_ids",
                "valid_from",
                "valid_until",
                "status",
                "remark",
            ],
            &["id", "kind", "price_count", "audit", "etag"],
            "PriceList",
            &mut v,
        );
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut l = self.price_list(&mut tx, "price_list.id", &src.id).await?;
        check_etag("price_list.etag", &src.etag, l.version, PRICE_LIST)?;
        let version = l.version;
        let mut v = Violations::new();
        let customers = Self::apply_price_list(&mut l, src, &paths, &mut v);
        let current = match &customers {
            Some(c) => c.clone(),
            None => store::prices::customers(&mut tx, &l.id).await?,
        };
        Self::check_price_list(&l, Some(&current), &mut v);
        v.finish()?;
        l.updated_at = now_micros();
        l.updated_by = caller.employee_id.clone();
        if let Some(taken) = self.name_taken(&mut tx, &l).await? {
            return Err(taken);
        }
        match store::prices::update(&mut tx, &l, version).await? {
            None => return Err(Error::stale_etag(PRICE_LIST)),
            Some(false) => return Err(Self::name_raced(&l)),
            Some(true) => {}
        }
        if let Some(c) = &customers {
            store::prices::set_customers(&mut tx, &l.id, c).await?;
        }
        let l = self.price_list(&mut tx, "price_list.id", &l.id).await?;
        let customers = store::prices::customers(&mut tx, &l.id).await?;
        tx.commit().await?;
        Ok(pb::UpdatePriceListResponse {
            price_list: Some(list_proto(&l, customers)),
        })
    }

    pub async fn set_prices(&self, caller: &Principal, mut req: pb::SetPricesRequest) -> Result<pb::SetPricesResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("SetPrices", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        let removed = crm_kit::text::distinct_list(
            &mut v,
            "remove_product_ids",
            &req.remove_product_ids,
            crm_kit::text::ListRule {
                max_items: MAX_PRICES,
                max_chars: 64,
                skip_empty: true,
            },
        );
        for (i, p) in req.prices.iter().enumerate() {
            if removed.iter().any(|r| r == p.product_id.trim()) {
                v.add(
                    format!("prices[{i}].product_id"),
                    reason::NOT_ALLOWED,
                    "a product is either priced or removed in one call",
                );
            }
        }
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let l = self.price_list(&mut tx, "price_list_id", &req.price_list_id).await?;
        let prices = self.checked_prices(&mut tx, "prices", &req.prices).await?;
        let now = now_micros();
        store::prices::set_prices(&mut tx, &l.id, &prices, now, &caller.employee_id).await?;
        store::prices::remove_prices(&mut tx, &l.id, &removed).await?;
        store::prices::touch(&mut tx, &l.id, None, now, &caller.employee_id).await?;
        let l = self.price_list(&mut tx, "price_list_id", &l.id).await?;
        let customers = store::prices::customers(&mut tx, &l.id).await?;
        let response = pb::SetPricesResponse {
            price_list: Some(list_proto(&l, customers)),
        };
        tx.finish(response).await
    }

    pub async fn list_prices(&self, _caller: &Principal, req: pb::ListPricesRequest) -> Result<pb::ListPricesResponse> {
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            Order::by("p.code_key", "b.product_id", Direction::Ascending),
            req.page_size,
            &req.page_token,
            PRICE_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let l = self.price_list(&mut conn, "price_list_id", &req.price_list_id).await?;
        let page = store::prices::prices(&mut conn, &l.id, filter.as_ref(), &keyset).await?;
        Ok(pb::ListPricesResponse {
            prices: page
                .rows
                .iter()
                .map(|r| pb::Price {
                    product_id: r.product_id.clone(),
                    product_code: r.product_code.clone(),
                    product_name: r.product_name.clone(),
                    price: Some(self.money(r.price)),
                })
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn get_customer_prices(
        &self,
        _caller: &Principal,
        req: pb::GetCustomerPricesRequest,
    ) -> Result<pb::GetCustomerPricesResponse> {
        let mut v = Violations::new();
        check_text("customer_id", &req.customer_id, false, 64, &mut v);
        check_text("customer_level", &req.customer_level, false, 32, &mut v);
        let day = if req.date.trim().is_empty() {
            Some(today())
        } else {
            date("date", &req.date, &mut v)
        };
        let ids = crm_kit::text::distinct_list(
            &mut v,
            "product_ids",
            &req.product_ids,
            crm_kit::text::ListRule {
                max_items: MAX_PRICES,
                max_chars: 64,
                skip_empty: true,
            },
        );
        if ids.is_empty() {
            v.add("product_ids", reason::REQUIRED, "the products to price");
        }
        v.finish()?;
        let day = day.unwrap_or_default();
        let mut conn = self.conn().await?;
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let products: HashMap<String, store::catalog::ProductRow> = store::catalog::products(&mut conn, &refs)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let mut v = Violations::new();
        for (i, id) in ids.iter().enumerate() {
            if !products.contains_key(id) {
                v.add(
                    format!("product_ids[{i}]"),
                    "UNKNOWN_PRODUCT",
                    format!("no product {id}"),
                );
            }
        }
        v.finish()?;
        let level = crm_kit::text::normalize(&req.customer_level);
        let resolved: HashMap<String, store::prices::ResolvedPrice> =
            store::prices::resolve(&mut conn, req.customer_id.trim(), &level, &day, &refs)
                .await?
                .into_iter()
                .map(|r| (r.product_id.clone(), r))
                .collect();
        Ok(pb::GetCustomerPricesResponse {
            prices: ids
                .iter()
                .map(|id| match resolved.get(id) {
                    Some(r) => pb::CustomerPrice {
                        product_id: id.clone(),
                        price: Some(self.money(r.price)),
                        price_list_id: r.price_list_id.clone(),
                        price_list_name: r.price_list_name.clone(),
                        kind: kind_of(&r.kind) as i32,
                    },
                    None => pb::CustomerPrice {
                        product_id: id.clone(),
                        price: Some(self.money(products.get(id).map_or(0, |p| p.sale_price))),
                        price_list_id: String::new(),
                        price_list_name: String::new(),
                        kind: pb::PriceListKind::Unspecified as i32,
                    },
                })
                .collect(),
            date: day,
        })
    }
}
