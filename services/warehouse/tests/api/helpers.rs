//! Identity and the warehouse wired together on fresh databases, and calling the warehouse as
//! a given employee.

use crm_identity::testing::{Bearer, TestIdentity};
use crm_kit::testing::{TestService, fresh_database};
use crm_proto::warehouse as pb;
use crm_proto::warehouse::warehouse_service_client::WarehouseServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use crm_kit::testing::{assert_field, assert_field_reason, assert_reason};

pub type Warehouse = WarehouseServiceClient<InterceptedService<Channel, Bearer>>;

/// The warehouse manager (scope `all`).
pub const MANAGER: &str = "stock-manager";
/// Keepers of one warehouse each.
pub const KEEPERS: &[&str] = &["keeper-a", "keeper-b"];

pub struct TestApp {
    pub identity: TestIdentity,
    pub warehouse: TestService,
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tune: impl FnOnce(&mut crm_warehouse::Config)) -> TestApp {
    let identity = TestIdentity::start(&fresh_database("identity").await).await;
    identity.employee(MANAGER, "warehouse_manager").await;
    for k in KEEPERS {
        identity.employee(k, "warehouse_keeper").await;
    }
    let warehouse = crm_warehouse::testing::spawn_with(&identity.url(), None, tune).await;
    TestApp { identity, warehouse }
}

impl TestApp {
    pub async fn as_role(&self, employee: &str, role: &str) -> Warehouse {
        let channel = crm_kit::testing::channel(&self.warehouse.url()).await;
        WarehouseServiceClient::with_interceptor(channel, Bearer::new(&self.identity.token(employee, role)))
    }

    pub async fn manager(&self) -> Warehouse {
        self.as_role(MANAGER, "warehouse_manager").await
    }

    pub async fn keeper(&self, keeper: &str) -> Warehouse {
        self.as_role(keeper, "warehouse_keeper").await
    }
}

/// A product with stock unit "pcs" (and a "box" of 12) at standard cost `cost`.
pub async fn product(w: &mut Warehouse, code: &str, cost: &str) -> pb::Product {
    w.create_product(pb::CreateProductRequest {
        product: Some(pb::Product {
            code: code.into(),
            name: format!("Product {code}"),
            specification: "standard".into(),
            unit: "pcs".into(),
            units: vec![pb::UnitConversion {
                name: "box".into(),
                factor: "12".into(),
            }],
            standard_cost: Some(money(cost)),
            ..Default::default()
        }),
        request_id: String::new(),
    })
    .await
    .expect("create product")
    .into_inner()
    .product
    .expect("product")
}

/// A warehouse `code` kept by `keepers`.
pub async fn warehouse(w: &mut Warehouse, code: &str, keepers: &[&str]) -> pb::Warehouse {
    w.create_warehouse(pb::CreateWarehouseRequest {
        warehouse: Some(pb::Warehouse {
            code: code.into(),
            name: format!("Warehouse {code}"),
            keeper_ids: keepers.iter().map(|k| (*k).to_string()).collect(),
            ..Default::default()
        }),
        request_id: String::new(),
    })
    .await
    .expect("create warehouse")
    .into_inner()
    .warehouse
    .expect("warehouse")
}

pub fn money(amount: &str) -> crm_proto::common::Money {
    crm_proto::common::Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    }
}

pub fn line(product_id: &str, quantity: &str) -> pb::StockDocumentLine {
    pb::StockDocumentLine {
        product_id: product_id.into(),
        quantity: quantity.into(),
        ..Default::default()
    }
}

pub fn costed(product_id: &str, quantity: &str, unit_cost: &str) -> pb::StockDocumentLine {
    pb::StockDocumentLine {
        unit_cost: Some(money(unit_cost)),
        ..line(product_id, quantity)
    }
}

/// A document of `kind` at `warehouse_id` with `lines`, created and posted.
pub fn posted(
    kind: pb::DocumentKind,
    warehouse_id: &str,
    lines: Vec<pb::StockDocumentLine>,
) -> pb::CreateStockDocumentRequest {
    pb::CreateStockDocumentRequest {
        document: Some(pb::StockDocument {
            kind: kind as i32,
            warehouse_id: warehouse_id.into(),
            lines,
            ..Default::default()
        }),
        post: true,
        request_id: String::new(),
    }
}

/// Posts `lines` as a document of `kind`; returns it.
pub async fn post(
    w: &mut Warehouse,
    kind: pb::DocumentKind,
    warehouse_id: &str,
    lines: Vec<pb::StockDocumentLine>,
) -> pb::StockDocument {
    w.create_stock_document(posted(kind, warehouse_id, lines))
        .await
        .unwrap_or_else(|e| panic!("post {kind:?}: {e:?}"))
        .into_inner()
        .document
        .expect("document")
}

/// The stock level of a product in a warehouse.
pub async fn level(w: &mut Warehouse, warehouse_id: &str, product_id: &str) -> pb::StockLevel {
    w.get_stock_level(pb::GetStockLevelRequest {
        warehouse_id: warehouse_id.into(),
        product_id: product_id.into(),
    })
    .await
    .expect("stock level")
    .into_inner()
    .level
    .expect("level")
}

/// The audit, asserting every balance equals its ledger and every reservation adds up.
pub async fn audit_clean(w: &mut Warehouse) -> pb::AuditStockResponse {
    let audit = w
        .audit_stock(pb::AuditStockRequest {})
        .await
        .expect("audit")
        .into_inner();
    assert!(
        audit.mismatches.is_empty(),
        "balances differ from the ledger: {:?}",
        audit.mismatches
    );
    assert!(
        audit.reservation_mismatches.is_empty(),
        "reservations differ: {:?}",
        audit.reservation_mismatches
    );
    assert!(
        audit.tracking_mismatches.is_empty(),
        "serials or lots differ from the shelves: {:?}",
        audit.tracking_mismatches
    );
    audit
}

/// An amount as its shortest decimal ("50.00" → "50", "110.50" → "110.5").
pub fn amt(m: Option<&crm_proto::common::Money>) -> String {
    let a = m.expect("an amount").amount.clone();
    if a.contains('.') {
        a.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        a
    }
}
