//! The product catalog: a category tree and products with their units, prices, costs and
//! custom fields. Codes and names are compared folded (width, case, traditional or simplified
//! characters), so "ＡＢ-１" and "ab-1" are one code.

use std::collections::BTreeMap;

use crm_kit::auth::Principal;
use crm_kit::errors::{Resource, Violations, reason};
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Direction, Keyset, Order};
use crm_kit::quantity::Quantity;
use crm_kit::time::now_micros;
use crm_kit::update::{check_etag, etag, mask_paths};
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use sqlx::AnyConnection;

use super::{WarehouseApi, audit, check_notes, check_text};
use crate::domain::{self, Units};
use crate::store;
use crate::store::catalog::{CategoryRow, ProductRow, Search};

pub const PRODUCT: &str = "crm.warehouse.v1.Product";
pub const CATEGORY: &str = "crm.warehouse.v1.Category";

/// Most alternative units of one product.
const MAX_UNITS: usize = 10;

pub(crate) const PRODUCT_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "status",
        column: "p.status",
        ty: FieldType::Enum(&["active", "discontinued"]),
    },
    FieldSpec {
        name: "category_id",
        column: "p.category_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "brand",
        column: "p.brand",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "tracking",
        column: "p.tracking",
        ty: FieldType::Enum(&["none", "serial", "lot"]),
    },
    FieldSpec {
        name: "create_time",
        column: "p.created_at",
        ty: FieldType::Timestamp,
    },
];

const EDITABLE: &[&str] = &[
    "code",
    "name",
    "specification",
    "unit",
    "units",
    "category_id",
    "barcode",
    "brand",
    "sale_price",
    "tax_rate",
    "standard_cost",
    "image_ids",
    "status",
    "tracking",
    "warranty_months",
    "remark",
    "custom_fields",
];

/// A product's units as stored (JSON of names and factors × 10^4).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredUnit {
    name: String,
    factor: i64,
}

/// The units of a stored product.
pub(crate) fn units_of(p: &ProductRow) -> Units {
    let stored: Vec<StoredUnit> = serde_json::from_str(&p.units).unwrap_or_default();
    Units {
        unit: p.unit.clone(),
        alternatives: stored
            .into_iter()
            .map(|u| (u.name, Quantity::from_storage(u.factor)))
            .collect(),
    }
}

pub(crate) fn category_proto(c: &CategoryRow, all: &[CategoryRow]) -> pb::Category {
    let ids: Vec<&str> = c.path.trim_matches('/').split('/').collect();
    let names: Vec<&str> = ids
        .iter()
        .map(|id| all.iter().find(|x| x.id == *id).map_or("?", |x| x.name.as_str()))
        .collect();
    pb::Category {
        id: c.id.clone(),
        name: c.name.clone(),
        parent_id: c.parent_id.clone(),
        path_name: names.join(" / "),
        depth: i32::try_from(ids.len().saturating_sub(1)).unwrap_or(i32::MAX),
    }
}

impl WarehouseApi {
    pub(crate) fn product_proto(&self, p: &ProductRow) -> pb::Product {
        let units = units_of(p);
        pb::Product {
            id: p.id.clone(),
            code: p.code.clone(),
            name: p.name.clone(),
            specification: p.specification.clone(),
            unit: p.unit.clone(),
            units: units
                .alternatives
                .iter()
                .map(|(name, factor)| pb::UnitConversion {
                    name: name.clone(),
                    factor: factor.to_wire(),
                })
                .collect(),
            category_id: p.category_id.clone(),
            barcode: p.barcode.clone(),
            brand: p.brand.clone(),
            sale_price: Some(self.money(p.sale_price)),
            tax_rate: Quantity::from_storage(p.tax_rate).to_wire(),
            standard_cost: Some(self.money(p.standard_cost)),
            image_ids: serde_json::from_str(&p.image_ids).unwrap_or_default(),
            status: domain::product_status_of(&p.status) as i32,
            tracking: domain::tracking_of(&p.tracking) as i32,
            warranty_months: i32::try_from(p.warranty_months).unwrap_or(0),
            remark: p.remark.clone(),
            custom_fields: serde_json::from_str(&p.custom_fields).unwrap_or_default(),
            audit: Some(audit(p.created_at, &p.created_by, p.updated_at, &p.updated_by)),
            etag: etag(p.version),
        }
    }

    pub async fn create_category(
        &self,
        caller: &Principal,
        mut req: pb::CreateCategoryRequest,
    ) -> Result<pb::CreateCategoryResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateCategory", &caller.employee_id, &request_id, &req)?;
        let mut v = Violations::new();
        check_text("name", &req.name, true, 100, &mut v);
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        let parent_path = parent_path(&mut tx, "parent_id", &req.parent_id).await?;
        let now = now_micros();
        let id = crm_kit::new_id();
        let row = CategoryRow {
            path: format!("{parent_path}{id}/"),
            id,
            name: req.name.trim().to_string(),
            name_key: crm_kit::text::fold_key(&req.name),
            parent_id: req.parent_id.trim().to_string(),
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
        };
        if !store::catalog::insert_category(&mut tx, &row).await? {
            return Err(sibling_taken(&row.name));
        }
        let all = store::catalog::categories(&mut tx).await?;
        let response = pb::CreateCategoryResponse {
            category: Some(category_proto(&row, &all)),
        };
        tx.finish(response).await
    }

    pub async fn list_categories(
        &self,
        _caller: &Principal,
        _req: pb::ListCategoriesRequest,
    ) -> Result<pb::ListCategoriesResponse> {
        let mut conn = self.conn().await?;
        let all = store::catalog::categories(&mut conn).await?;
        let mut categories: Vec<pb::Category> = all.iter().map(|c| category_proto(c, &all)).collect();
        // Tree order: by the names along the path.
        categories.sort_by(|a, b| a.path_name.cmp(&b.path_name));
        Ok(pb::ListCategoriesResponse { categories })
    }

    pub async fn update_category(
        &self,
        caller: &Principal,
        req: pb::UpdateCategoryRequest,
    ) -> Result<pb::UpdateCategoryResponse> {
        let Some(src) = req.category.as_ref() else {
            return Err(Error::required("category"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            &["name", "parent_id"],
            &["id", "path_name", "depth"],
            "Category",
            &mut v,
        );
        if paths.contains(&"name") {
            check_text("category.name", &src.name, true, 100, &mut v);
        }
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut c = store::catalog::category(&mut tx, src.id.trim())
            .await?
            .ok_or_else(|| Error::not_found(CATEGORY, src.id.trim()))?;
        let version = c.version;
        let old_path = c.path.clone();
        if paths.contains(&"name") {
            c.name = src.name.trim().to_string();
            c.name_key = crm_kit::text::fold_key(&src.name);
        }
        if paths.contains(&"parent_id") {
            let parent = parent_path(&mut tx, "category.parent_id", &src.parent_id).await?;
            if parent.starts_with(&old_path) {
                return Err(Error::invalid(
                    "category.parent_id",
                    "CYCLE",
                    "a category cannot move under itself or one of its own categories",
                ));
            }
            c.parent_id = src.parent_id.trim().to_string();
            c.path = format!("{parent}{}/", c.id);
        }
        c.updated_at = now_micros();
        c.updated_by = caller.employee_id.clone();
        match store::catalog::update_category(&mut tx, &c, version, &old_path).await? {
            None => return Err(Error::stale_etag(CATEGORY)),
            Some(false) => return Err(sibling_taken(&c.name)),
            Some(true) => {}
        }
        let all = store::catalog::categories(&mut tx).await?;
        tx.commit().await?;
        let c = all.iter().find(|x| x.id == c.id).cloned().unwrap_or(c);
        Ok(pb::UpdateCategoryResponse {
            category: Some(category_proto(&c, &all)),
        })
    }

    /// A product not yet written, created by `caller` at `now`, with every field at its default.
    pub(crate) fn new_product_row(&self, caller: &Principal, now: i64) -> ProductRow {
        ProductRow {
            id: crm_kit::new_id(),
            code: String::new(),
            code_key: String::new(),
            name: String::new(),
            specification: String::new(),
            identity_key: String::new(),
            unit: String::new(),
            units: "[]".into(),
            category_id: String::new(),
            category_path: String::new(),
            barcode: String::new(),
            brand: String::new(),
            currency: self.currency.clone(),
            sale_price: 0,
            tax_rate: 0,
            standard_cost: 0,
            image_ids: "[]".into(),
            status: "active".into(),
            tracking: "none".into(),
            warranty_months: 0,
            remark: String::new(),
            custom_fields: "{}".into(),
            search_text: String::new(),
            moved: 0,
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
        }
    }

    pub async fn create_product(
        &self,
        caller: &Principal,
        mut req: pb::CreateProductRequest,
    ) -> Result<pb::CreateProductResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateProduct", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.product.as_ref() else {
            return Err(Error::required("product"));
        };
        let mut row = self.new_product_row(caller, now_micros());
        let mut v = Violations::new();
        let mut fields: Vec<&str> = EDITABLE.to_vec();
        if src.status == 0 {
            fields.retain(|f| *f != "status");
        }
        if src.tracking == 0 {
            fields.retain(|f| *f != "tracking");
        }
        // Pictures are uploaded to the product once it exists (UploadProductImage).
        fields.retain(|f| *f != "image_ids");
        if !src.image_ids.is_empty() {
            v.add(
                "product.image_ids",
                reason::NOT_ALLOWED,
                "add pictures with UploadProductImage once the product exists",
            );
        }
        let category = self.apply(&mut row, src, &fields, &mut v);
        v.finish()?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        if let Some(category) = category {
            row.category_path = category_path(&mut tx, "product.category_id", &category).await?;
        }
        if let Some(err) = self.collision(&mut tx, &row).await? {
            return Err(err);
        }
        if !store::catalog::insert_product(&mut tx, &row).await? {
            return Err(self.collision(&mut tx, &row).await?.unwrap_or_else(|| Error::Aborted {
                reason: "CONCURRENT_CHANGE",
                message: "another product took this code meanwhile; retry".into(),
            }));
        }
        let response = pb::CreateProductResponse {
            product: Some(self.product_proto(&row)),
        };
        tx.finish(response).await
    }

    pub async fn get_product(&self, _caller: &Principal, req: pb::GetProductRequest) -> Result<pb::GetProductResponse> {
        let mut conn = self.conn().await?;
        let p = product(&mut conn, "id", &req.id).await?;
        Ok(pb::GetProductResponse {
            product: Some(self.product_proto(&p)),
        })
    }

    pub async fn list_products(
        &self,
        _caller: &Principal,
        req: pb::ListProductsRequest,
    ) -> Result<pb::ListProductsResponse> {
        let query = crm_kit::text::search_query("query", &req.query)?;
        let search = Search {
            key: crm_kit::text::fold_key(&query),
            typed: query.clone(),
        };
        let order = if search.key.is_empty() {
            Order::by("p.code_key", "p.id", Direction::Ascending)
        } else {
            Order::by(store::catalog::SEARCH_ORDER, "p.id", Direction::Ascending)
        };
        let shape = [req.filter.as_str(), search.key.as_str(), req.category_id.trim()];
        let keyset = Keyset::open(&self.tokens, order, req.page_size, &req.page_token, &shape)?;
        let filter = crm_kit::filter::compile(PRODUCT_FILTER, &req.filter, 1)?;
        let mut conn = self.conn().await?;
        let under = match req.category_id.trim() {
            "" => None,
            id => Some(category_path(&mut conn, "category_id", id).await?),
        };
        let page = store::catalog::page(&mut conn, filter.as_ref(), under.as_deref(), &search, &keyset).await?;
        Ok(pb::ListProductsResponse {
            products: page.rows.iter().map(|p| self.product_proto(p)).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn update_product(
        &self,
        caller: &Principal,
        req: pb::UpdateProductRequest,
    ) -> Result<pb::UpdateProductResponse> {
        let Some(src) = req.product.as_ref() else {
            return Err(Error::required("product"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            EDITABLE,
            &["id", "audit", "etag"],
            "Product",
            &mut v,
        );
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut p = product(&mut tx, "product.id", &src.id).await?;
        check_etag("product.etag", &src.etag, p.version, PRODUCT)?;
        let version = p.version;
        let before = p.clone();
        let mut v = Violations::new();
        let category = self.apply(&mut p, src, &paths, &mut v);
        moved_changes(&before, &p, &mut v);
        if paths.contains(&"image_ids") {
            // Reordered or dropped, never another document.
            let stored = self.stored_images(&mut tx, &p.id).await?;
            for (i, id) in src.image_ids.iter().enumerate() {
                if !id.trim().is_empty() && !stored.iter().any(|s| s == id.trim()) {
                    v.add(
                        format!("product.image_ids[{i}]"),
                        "UNKNOWN_IMAGE",
                        format!("{} is not a picture of this product", id.trim()),
                    );
                }
            }
        }
        v.finish()?;
        if let Some(category) = category {
            p.category_path = category_path(&mut tx, "product.category_id", &category).await?;
        } else if paths.contains(&"category_id") {
            p.category_path.clear();
        }
        if let Some(err) = self.collision(&mut tx, &p).await? {
            return Err(err);
        }
        p.updated_at = now_micros();
        p.updated_by = caller.employee_id.clone();
        match store::catalog::update_product(&mut tx, &p, version).await? {
            None => return Err(Error::stale_etag(PRODUCT)),
            Some(false) => {
                return Err(self.collision(&mut tx, &p).await?.unwrap_or_else(|| Error::Aborted {
                    reason: "CONCURRENT_CHANGE",
                    message: "another product took this code meanwhile; retry".into(),
                }));
            }
            Some(true) => {}
        }
        p.version += 1;
        tx.commit().await?;
        Ok(pb::UpdateProductResponse {
            product: Some(self.product_proto(&p)),
        })
    }

    /// Applies the `fields` of `src` to `row`, checking each; returns the category to look up.
    pub(crate) fn apply(
        &self,
        row: &mut ProductRow,
        src: &pb::Product,
        fields: &[&str],
        v: &mut Violations,
    ) -> Option<String> {
        let mut category = None;
        for f in fields {
            let field = format!("product.{f}");
            match *f {
                "code" => {
                    check_text(&field, &src.code, true, 64, v);
                    row.code = src.code.trim().to_string();
                    row.code_key = crm_kit::text::fold_key(&src.code);
                    if row.code_key.is_empty() && !src.code.trim().is_empty() {
                        v.add(&field, reason::MALFORMED, "must hold letters or digits");
                    }
                }
                "name" => {
                    check_text(&field, &src.name, true, 200, v);
                    row.name = src.name.trim().to_string();
                }
                "specification" => {
                    check_text(&field, &src.specification, false, 200, v);
                    row.specification = src.specification.trim().to_string();
                }
                "unit" => {
                    check_text(&field, &src.unit, true, 20, v);
                    row.unit = src.unit.trim().to_string();
                }
                "units" => {
                    if src.units.len() > MAX_UNITS {
                        v.add(
                            &field,
                            reason::TOO_MANY,
                            format!("must have at most {MAX_UNITS} entries"),
                        );
                        continue;
                    }
                    let mut stored = Vec::new();
                    let mut names: Vec<String> = Vec::new();
                    for (i, u) in src.units.iter().enumerate() {
                        let at = format!("{field}[{i}]");
                        check_text(&format!("{at}.name"), &u.name, true, 20, v);
                        let name = u.name.trim().to_string();
                        if names.contains(&name) {
                            v.add(
                                format!("{at}.name"),
                                reason::DUPLICATE,
                                format!("{name} is listed twice"),
                            );
                        }
                        names.push(name.clone());
                        if let Some(factor) = super::positive_quantity(&format!("{at}.factor"), &u.factor, v) {
                            stored.push(StoredUnit {
                                name,
                                factor: factor.storage(),
                            });
                        }
                    }
                    row.units = serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into());
                }
                "category_id" => {
                    row.category_id = src.category_id.trim().to_string();
                    if !row.category_id.is_empty() {
                        category = Some(row.category_id.clone());
                    }
                }
                "barcode" => {
                    check_text(&field, &src.barcode, false, 64, v);
                    row.barcode = src.barcode.trim().to_string();
                }
                "brand" => {
                    check_text(&field, &src.brand, false, 100, v);
                    row.brand = src.brand.trim().to_string();
                }
                "sale_price" => row.sale_price = self.amount(&field, src.sale_price.as_ref(), v).unwrap_or(0),
                "standard_cost" => {
                    row.standard_cost = self.amount(&field, src.standard_cost.as_ref(), v).unwrap_or(0);
                }
                "tax_rate" => {
                    let rate = super::non_negative_quantity(&field, &src.tax_rate, v);
                    if rate > Quantity::units(100).unwrap_or(Quantity::ZERO) {
                        v.add(&field, reason::OUT_OF_RANGE, "a percentage from 0 to 100");
                    }
                    row.tax_rate = rate.storage();
                }
                "image_ids" => {
                    let ids = crm_kit::text::distinct_list(
                        v,
                        &field,
                        &src.image_ids,
                        crm_kit::text::ListRule {
                            max_items: 20,
                            max_chars: 64,
                            skip_empty: true,
                        },
                    );
                    row.image_ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
                }
                "status" => match pb::ProductStatus::try_from(src.status)
                    .ok()
                    .and_then(domain::product_status_code)
                {
                    Some(code) => row.status = code.into(),
                    None => v.add(&field, reason::UNKNOWN_ENUM_VALUE, "ACTIVE or DISCONTINUED"),
                },
                "tracking" => match pb::Tracking::try_from(src.tracking)
                    .ok()
                    .and_then(domain::tracking_code)
                {
                    Some(code) => row.tracking = code.into(),
                    None => v.add(&field, reason::UNKNOWN_ENUM_VALUE, "NONE, SERIAL or LOT"),
                },
                "warranty_months" => {
                    if !(0..=600).contains(&src.warranty_months) {
                        v.add(&field, reason::OUT_OF_RANGE, "from 0 to 600 months");
                    }
                    row.warranty_months = i64::from(src.warranty_months.clamp(0, 600));
                }
                "remark" => {
                    check_notes(&field, &src.remark, false, 2000, v);
                    row.remark = src.remark.trim().to_string();
                }
                "custom_fields" => {
                    let map: BTreeMap<String, String> = crm_kit::text::custom_fields(v, &field, &src.custom_fields);
                    row.custom_fields = serde_json::to_string(&map).unwrap_or_else(|_| "{}".into());
                }
                _ => {}
            }
        }
        // A unit named like the stock unit would make a quantity mean two things.
        let units = units_of(row);
        if units.alternatives.iter().any(|(n, _)| *n == row.unit) {
            v.add(
                "product.units",
                reason::DUPLICATE,
                format!("{} is the stock unit already", row.unit),
            );
        }
        row.identity_key = format!(
            "{}|{}",
            crm_kit::text::fold_key(&row.name),
            crm_kit::text::fold_key(&row.specification)
        );
        row.search_text = [&row.code, &row.name, &row.specification, &row.barcode]
            .iter()
            .map(|t| crm_kit::text::fold_key(t))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("|");
        category
    }

    /// The product `row` would collide with, as the ALREADY_EXISTS to answer.
    pub(crate) async fn collision(&self, conn: &mut AnyConnection, row: &ProductRow) -> Result<Option<Error>> {
        let identity = (row.status == "active").then_some(row.identity_key.as_str());
        let Some((existing, by)) = store::catalog::colliding(conn, &row.code_key, identity, &row.id).await? else {
            return Ok(None);
        };
        let message = if by == "code" {
            format!("product {} already has the code {}", existing.id, existing.code)
        } else {
            format!(
                "active product {} ({}) already has this name and specification",
                existing.id, existing.code
            )
        };
        Ok(Some(Error::AlreadyExists {
            reason: if by == "code" {
                "DUPLICATE_PRODUCT_CODE"
            } else {
                "DUPLICATE_PRODUCT"
            },
            message,
            metadata: vec![
                ("existing_product_id".into(), existing.id.clone()),
                ("existing_product_code".into(), existing.code.clone()),
            ],
            resource: Some(Box::new(Resource {
                resource_type: PRODUCT.into(),
                name: existing.id.clone(),
                owner: String::new(),
                description: format!("{} {} {}", existing.code, existing.name, existing.specification)
                    .trim()
                    .to_string(),
            })),
        }))
    }
}

/// The product `id` (in `field`): NOT_FOUND when there is none.
pub(crate) async fn product(conn: &mut AnyConnection, field: &str, id: &str) -> Result<ProductRow> {
    let id = id.trim();
    if id.is_empty() {
        return Err(Error::required(field));
    }
    store::catalog::product(conn, id)
        .await?
        .ok_or_else(|| Error::not_found(PRODUCT, id))
}

/// The path of the parent category `id` (empty: the top).
async fn parent_path(conn: &mut AnyConnection, field: &str, id: &str) -> Result<String> {
    let id = id.trim();
    if id.is_empty() {
        return Ok("/".into());
    }
    category_path(conn, field, id).await
}

async fn category_path(conn: &mut AnyConnection, field: &str, id: &str) -> Result<String> {
    match store::catalog::category(conn, id).await? {
        Some(c) => Ok(c.path),
        None => Err(Error::invalid(field, "UNKNOWN_CATEGORY", format!("no category {id}"))),
    }
}

fn sibling_taken(name: &str) -> Error {
    Error::AlreadyExists {
        reason: "DUPLICATE_CATEGORY",
        message: format!("a category named {name} is already there"),
        metadata: vec![],
        resource: None,
    }
}

/// What may not change once a product has stock movements (its stock unit, unit factors and
/// tracking), as violations of `after` against `before`.
pub(crate) fn moved_changes(before: &ProductRow, after: &ProductRow, v: &mut Violations) {
    if before.moved == 1 {
        if after.tracking != before.tracking {
            v.add(
                "product.tracking",
                "PRODUCT_HAS_MOVED",
                "the tracking cannot change once the product has stock movements",
            );
        }
        if after.unit != before.unit {
            v.add(
                "product.unit",
                "PRODUCT_HAS_MOVED",
                "the stock unit cannot change once the product has stock movements",
            );
        }
        let (old, new) = (units_of(before), units_of(after));
        for (name, factor) in &old.alternatives {
            if new.factor(name).is_some_and(|f| f != *factor) {
                v.add(
                    "product.units",
                    "PRODUCT_HAS_MOVED",
                    format!("the factor of {name} cannot change once the product has stock movements"),
                );
            }
        }
    }
}
