//! Warehouses and their keepers. A keeper acts on the warehouses they keep; a caller whose
//! warehouse scope is `all` on every warehouse.

use crm_kit::auth::{Principal, ReadScope};
use crm_kit::errors::Violations;
use crm_kit::idempotency::{Begun, RequestKey};
use crm_kit::listing::{Direction, Keyset, Order};
use crm_kit::time::now_micros;
use crm_kit::update::{check_etag, etag, mask_paths};
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use sqlx::AnyConnection;

use super::{WAREHOUSE_SCOPE, WarehouseApi, audit, check_notes, check_text};
use crate::store;
use crate::store::warehouses::WarehouseRow;

pub const WAREHOUSE: &str = "crm.warehouse.v1.Warehouse";

/// Most keepers of one warehouse.
const MAX_KEEPERS: usize = 50;

fn warehouse_proto(w: &WarehouseRow, keepers: Vec<String>) -> pb::Warehouse {
    pb::Warehouse {
        id: w.id.clone(),
        code: w.code.clone(),
        name: w.name.clone(),
        address: w.address.clone(),
        keeper_ids: keepers,
        allow_negative_stock: w.allow_negative == 1,
        status: if w.status == "closed" {
            pb::WarehouseStatus::Closed
        } else {
            pb::WarehouseStatus::Active
        } as i32,
        remark: w.remark.clone(),
        audit: Some(audit(w.created_at, &w.created_by, w.updated_at, &w.updated_by)),
        etag: etag(w.version),
    }
}

impl WarehouseApi {
    /// Applies `fields` of `src` to `w`; returns the keepers when they are among them.
    fn apply_warehouse(
        w: &mut WarehouseRow,
        src: &pb::Warehouse,
        fields: &[&str],
        v: &mut Violations,
    ) -> Option<Vec<String>> {
        let mut keepers = None;
        for f in fields {
            let field = format!("warehouse.{f}");
            match *f {
                "code" => {
                    check_text(&field, &src.code, true, 32, v);
                    w.code = src.code.trim().to_string();
                    w.code_key = crm_kit::text::fold_key(&src.code);
                    if w.code_key.is_empty() && !src.code.trim().is_empty() {
                        v.add(
                            &field,
                            crm_kit::errors::reason::MALFORMED,
                            "must hold letters or digits",
                        );
                    }
                }
                "name" => {
                    check_text(&field, &src.name, true, 100, v);
                    w.name = src.name.trim().to_string();
                }
                "address" => {
                    check_text(&field, &src.address, false, 300, v);
                    w.address = src.address.trim().to_string();
                }
                "keeper_ids" => {
                    keepers = Some(crm_kit::text::distinct_list(
                        v,
                        &field,
                        &src.keeper_ids,
                        crm_kit::text::ListRule {
                            max_items: MAX_KEEPERS,
                            max_chars: 64,
                            skip_empty: true,
                        },
                    ));
                }
                "allow_negative_stock" => w.allow_negative = i64::from(src.allow_negative_stock),
                "status" => match pb::WarehouseStatus::try_from(src.status) {
                    Ok(pb::WarehouseStatus::Active) => w.status = "active".into(),
                    Ok(pb::WarehouseStatus::Closed) => w.status = "closed".into(),
                    _ => v.add(&field, crm_kit::errors::reason::UNKNOWN_ENUM_VALUE, "ACTIVE or CLOSED"),
                },
                "remark" => {
                    check_notes(&field, &src.remark, false, 2000, v);
                    w.remark = src.remark.trim().to_string();
                }
                _ => {}
            }
        }
        keepers
    }

    /// Checks that each keeper is an active employee (asked of identity).
    async fn check_keepers(&self, caller: &Principal, keepers: &[String]) -> Result<()> {
        for (i, k) in keepers.iter().enumerate() {
            self.directory
                .department_of(caller, &format!("warehouse.keeper_ids[{i}]"), k)
                .await?;
        }
        Ok(())
    }

    pub async fn create_warehouse(
        &self,
        caller: &Principal,
        mut req: pb::CreateWarehouseRequest,
    ) -> Result<pb::CreateWarehouseResponse> {
        let request_id = std::mem::take(&mut req.request_id);
        let key = RequestKey::new("CreateWarehouse", &caller.employee_id, &request_id, &req)?;
        let Some(src) = req.warehouse.as_ref() else {
            return Err(Error::required("warehouse"));
        };
        let now = now_micros();
        let mut w = WarehouseRow {
            id: crm_kit::new_id(),
            code: String::new(),
            code_key: String::new(),
            name: String::new(),
            address: String::new(),
            allow_negative: 0,
            status: "active".into(),
            remark: String::new(),
            created_at: now,
            created_by: caller.employee_id.clone(),
            updated_at: now,
            updated_by: caller.employee_id.clone(),
            version: 1,
        };
        let mut fields = vec![
            "code",
            "name",
            "address",
            "keeper_ids",
            "allow_negative_stock",
            "remark",
        ];
        if src.status != 0 {
            fields.push("status");
        }
        let mut v = Violations::new();
        let keepers = Self::apply_warehouse(&mut w, src, &fields, &mut v).unwrap_or_default();
        v.finish()?;
        self.check_keepers(caller, &keepers).await?;
        let mut tx = match self.db.begin_command(key).await? {
            Begun::Replayed(done) => return Ok(done),
            Begun::Fresh(tx) => tx,
        };
        if !store::warehouses::insert(&mut tx, &w).await? {
            return Err(code_taken(&w.code));
        }
        store::warehouses::set_keepers(&mut tx, &w.id, &keepers).await?;
        let response = pb::CreateWarehouseResponse {
            warehouse: Some(warehouse_proto(&w, sorted(keepers))),
        };
        tx.finish(response).await
    }

    pub async fn list_warehouses(
        &self,
        caller: &Principal,
        req: pb::ListWarehousesRequest,
    ) -> Result<pb::ListWarehousesResponse> {
        let order = Order::by("w.code_key", "w.id", Direction::Ascending);
        let keyset = Keyset::open(&self.tokens, order, req.page_size, &req.page_token, &[])?;
        let scope = ReadScope::of(caller, &WAREHOUSE_SCOPE);
        let mut conn = self.conn().await?;
        let page = store::warehouses::page(&mut conn, &scope, &keyset).await?;
        let ids: Vec<&str> = page.rows.iter().map(|w| w.id.as_str()).collect();
        let mut keepers: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for (w, k) in store::warehouses::keepers_of(&mut conn, &ids).await? {
            keepers.entry(w).or_default().push(k);
        }
        let warehouses = page
            .rows
            .iter()
            .map(|w| warehouse_proto(w, keepers.remove(&w.id).unwrap_or_default()))
            .collect();
        Ok(pb::ListWarehousesResponse {
            warehouses,
            next_page_token: page.next_page_token,
        })
    }

    pub async fn get_warehouse(
        &self,
        caller: &Principal,
        req: pb::GetWarehouseRequest,
    ) -> Result<pb::GetWarehouseResponse> {
        let mut conn = self.conn().await?;
        let w = self.kept_warehouse(&mut conn, caller, "id", &req.id).await?;
        let keepers = store::warehouses::keepers(&mut conn, &w.id).await?;
        Ok(pb::GetWarehouseResponse {
            warehouse: Some(warehouse_proto(&w, keepers)),
        })
    }

    pub async fn update_warehouse(
        &self,
        caller: &Principal,
        req: pb::UpdateWarehouseRequest,
    ) -> Result<pb::UpdateWarehouseResponse> {
        let Some(src) = req.warehouse.as_ref() else {
            return Err(Error::required("warehouse"));
        };
        let mut v = Violations::new();
        let paths = mask_paths(
            req.update_mask.as_ref().map_or(&[][..], |m| &m.paths),
            &[
                "code",
                "name",
                "address",
                "keeper_ids",
                "allow_negative_stock",
                "status",
                "remark",
            ],
            &["id", "audit", "etag"],
            "Warehouse",
            &mut v,
        );
        v.finish()?;
        let mut tx = self.db.begin_write().await?;
        let mut w = self.kept_warehouse(&mut tx, caller, "warehouse.id", &src.id).await?;
        check_etag("warehouse.etag", &src.etag, w.version, WAREHOUSE)?;
        let version = w.version;
        let mut v = Violations::new();
        let keepers = Self::apply_warehouse(&mut w, src, &paths, &mut v);
        v.finish()?;
        if let Some(k) = &keepers {
            self.check_keepers(caller, k).await?;
        }
        w.updated_at = now_micros();
        w.updated_by = caller.employee_id.clone();
        match store::warehouses::update(&mut tx, &w, version).await? {
            None => return Err(Error::stale_etag(WAREHOUSE)),
            Some(false) => return Err(code_taken(&w.code)),
            Some(true) => {}
        }
        if let Some(k) = &keepers {
            store::warehouses::set_keepers(&mut tx, &w.id, k).await?;
        }
        let keepers = store::warehouses::keepers(&mut tx, &w.id).await?;
        w.version += 1;
        tx.commit().await?;
        Ok(pb::UpdateWarehouseResponse {
            warehouse: Some(warehouse_proto(&w, keepers)),
        })
    }

    /// A warehouse that takes documents: kept by the caller and active.
    pub(crate) async fn open_warehouse(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        field: &str,
        id: &str,
    ) -> Result<WarehouseRow> {
        let w = self.kept_warehouse(conn, caller, field, id).await?;
        if w.status != "active" {
            return Err(closed(&w));
        }
        Ok(w)
    }
}

pub(crate) fn closed(w: &WarehouseRow) -> Error {
    Error::precondition(
        "WAREHOUSE_CLOSED",
        format!("warehouses/{}", w.id),
        format!("warehouse {} is closed and takes no documents", w.code),
    )
}

fn code_taken(code: &str) -> Error {
    Error::AlreadyExists {
        reason: "DUPLICATE_WAREHOUSE_CODE",
        message: format!("a warehouse with the code {code} exists"),
        metadata: vec![],
        resource: None,
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
