//! Serial numbers and lots: where a serial is and every move it made, the serials and the lots
//! in the warehouses the caller keeps. They move only by posting documents (see
//! [`super::posting`]).

use crm_kit::auth::{Principal, ReadScope};
use crm_kit::errors::Violations;
use crm_kit::filter::{FieldSpec, FieldType};
use crm_kit::listing::{Direction, Keyset, Order};
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;

use super::{BALANCE_SCOPE, WarehouseApi, check_text, qty};
use crate::store;
use crate::store::tracking::{LotRow, SerialRow};

pub const SERIAL_NUMBER: &str = "crm.warehouse.v1.SerialNumber";

const STATES: &[&str] = &["stock", "transit", "loan", "gone"];

const SERIAL_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "product_id",
        column: "b.product_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "warehouse_id",
        column: "b.warehouse_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "state",
        column: "b.state",
        ty: FieldType::Enum(STATES),
    },
];

const LOT_FILTER: &[FieldSpec] = &[
    FieldSpec {
        name: "warehouse_id",
        column: "b.warehouse_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "product_id",
        column: "b.product_id",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "lot",
        column: "b.lot",
        ty: FieldType::Text,
    },
    FieldSpec {
        name: "on_hand",
        column: "b.on_hand",
        ty: FieldType::Money,
    },
];

fn state_of(code: &str) -> pb::SerialState {
    match code {
        "stock" => pb::SerialState::Stock,
        "transit" => pb::SerialState::Transit,
        "loan" => pb::SerialState::Loan,
        "gone" => pb::SerialState::Gone,
        _ => pb::SerialState::Unspecified,
    }
}

fn serial_proto(s: &SerialRow, moves: Vec<pb::SerialMove>) -> pb::SerialNumber {
    pb::SerialNumber {
        product_id: s.product_id.clone(),
        serial_number: s.serial.clone(),
        state: state_of(&s.state) as i32,
        warehouse_id: s.warehouse_id.clone(),
        document_id: s.document_id.clone(),
        update_time: crm_kit::time::set_to_proto(s.updated_at),
        moves,
    }
}

fn lot_proto(l: &LotRow) -> pb::LotLevel {
    pb::LotLevel {
        warehouse_id: l.warehouse_id.clone(),
        product_id: l.product_id.clone(),
        lot: l.lot.clone(),
        on_hand: qty(l.on_hand),
        update_time: crm_kit::time::set_to_proto(l.updated_at),
    }
}

impl WarehouseApi {
    pub async fn get_serial_number(
        &self,
        caller: &Principal,
        req: pb::GetSerialNumberRequest,
    ) -> Result<pb::GetSerialNumberResponse> {
        let mut v = Violations::new();
        check_text("product_id", &req.product_id, true, 64, &mut v);
        check_text("serial_number", &req.serial_number, true, 100, &mut v);
        v.finish()?;
        let key = crm_kit::text::fold(&crm_kit::text::normalize(&req.serial_number));
        let mut conn = self.conn().await?;
        let s = store::tracking::visible(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            req.product_id.trim(),
            &key,
        )
        .await?
        .ok_or_else(|| {
            Error::not_found(
                SERIAL_NUMBER,
                format!("{}/{}", req.product_id.trim(), req.serial_number.trim()),
            )
        })?;
        let moves = store::tracking::moves(&mut conn, &s.product_id, &s.serial_key)
            .await?
            .into_iter()
            .map(|m| pb::SerialMove {
                document_id: m.document_id,
                document_number: m.document_number,
                kind: m.kind,
                line_no: i32::try_from(m.line_no).unwrap_or(i32::MAX),
                warehouse_id: m.warehouse_id,
                state: state_of(&m.state) as i32,
                move_time: crm_kit::time::set_to_proto(m.moved_at),
                moved_by: m.moved_by,
            })
            .collect();
        Ok(pb::GetSerialNumberResponse {
            serial_number: Some(serial_proto(&s, moves)),
        })
    }

    pub async fn list_serial_numbers(
        &self,
        caller: &Principal,
        req: pb::ListSerialNumbersRequest,
    ) -> Result<pb::ListSerialNumbersResponse> {
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            Order::by("b.product_id", "b.serial_key", Direction::Ascending),
            req.page_size,
            &req.page_token,
            SERIAL_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::tracking::page(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            filter.as_ref(),
            &keyset,
        )
        .await?;
        Ok(pb::ListSerialNumbersResponse {
            serial_numbers: page.rows.iter().map(|s| serial_proto(s, Vec::new())).collect(),
            next_page_token: page.next_page_token,
        })
    }

    pub async fn list_lots(&self, caller: &Principal, req: pb::ListLotsRequest) -> Result<pb::ListLotsResponse> {
        let (keyset, filter) = Keyset::open_filtered(
            &self.tokens,
            Order::by_id("b.place", Direction::Ascending),
            req.page_size,
            &req.page_token,
            LOT_FILTER,
            &req.filter,
        )?;
        let mut conn = self.conn().await?;
        let page = store::tracking::lots(
            &mut conn,
            &ReadScope::of(caller, &BALANCE_SCOPE),
            filter.as_ref(),
            &keyset,
        )
        .await?;
        Ok(pb::ListLotsResponse {
            lots: page.rows.iter().map(lot_proto).collect(),
            next_page_token: page.next_page_token,
        })
    }
}
