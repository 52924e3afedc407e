//! The tonic service. Each RPC turns its request into domain values (collecting every field
//! violation), checks the caller's scope (a warehouse or document outside it is NOT_FOUND),
//! runs the store calls in one transaction, and maps failures through `crm_kit::Error`.
//!
//! - [`catalog`]: categories and products.
//! - [`catalog_csv`]: the catalog imported from and exported to CSV.
//! - [`warehouses`]: warehouses, keepers, safety stock.
//! - [`documents`]: stock documents: create, read, post, receive, cancel.
//! - [`images`]: product pictures in the kit's document store.
//! - [`loans`]: loans and samples until returned or sold.
//! - [`posting`]: what posting a document writes: balances, ledger lines, events.
//! - [`prices`]: price lists and what a customer pays on a day.
//! - [`reports`]: slow-moving and dead stock, warehouses side by side, reports as CSV.
//! - [`stock`]: reservations, stock levels, the journal, stock value, the audit.
//! - [`stocktakes`]: count sheets, counts, posting their differences.
//! - [`tracking`]: serial numbers and lots.

pub mod catalog;
pub mod catalog_csv;
pub mod documents;
pub mod images;
pub mod loans;
pub mod posting;
pub mod prices;
pub mod reports;
pub mod stock;
pub mod stocktakes;
pub mod tracking;
pub mod warehouses;

use std::sync::Arc;

use crm_kit::auth::{Principal, ReadScope, ScopeColumns, ScopeRule};
use crm_kit::db::Db;
use crm_kit::errors::{Violations, reason};
use crm_kit::money::Money;
use crm_kit::paging::PageTokens;
use crm_kit::quantity::Quantity;
use crm_kit::{Error, Result};
use crm_proto::warehouse as pb;
use crm_proto::warehouse::warehouse_service_server::WarehouseService;
use sqlx::AnyConnection;

use crate::store;
use crate::store::warehouses::WarehouseRow;

/// The service name in permissions and data scopes.
pub const SERVICE: &str = "warehouse";

/// Rows of warehouses the caller keeps: a scope of `all` reaches every warehouse, any other
/// scope the warehouses the caller is a keeper of (`$1`). Nothing here has an owner, so the
/// owner columns are constants no employee id equals.
const fn kept(collaborator: &'static str) -> ScopeRule {
    ScopeRule {
        service: SERVICE,
        columns: ScopeColumns {
            owner: "''",
            owner_department_path: "''",
            collaborator: Some(collaborator),
        },
        unowned_visible_to: &[],
    }
}

/// Warehouses `w`.
pub const WAREHOUSE_SCOPE: ScopeRule =
    kept("EXISTS (SELECT 1 FROM warehouse_keepers k WHERE k.warehouse_id = w.id AND k.employee_id = $1)");

/// Documents `d`: kept at their warehouse or (transfers) at their destination.
pub const DOCUMENT_SCOPE: ScopeRule = kept(
    "EXISTS (SELECT 1 FROM warehouse_keepers k WHERE k.employee_id = $1 \
     AND (k.warehouse_id = d.warehouse_id OR k.warehouse_id = d.to_warehouse_id))",
);

/// Balances, reservations and ledger lines `b`.
pub const BALANCE_SCOPE: ScopeRule =
    kept("EXISTS (SELECT 1 FROM warehouse_keepers k WHERE k.warehouse_id = b.warehouse_id AND k.employee_id = $1)");

/// Ledger lines `l` of the journal.
pub const JOURNAL_SCOPE: ScopeRule =
    kept("EXISTS (SELECT 1 FROM warehouse_keepers k WHERE k.warehouse_id = l.warehouse_id AND k.employee_id = $1)");

/// The warehouse service's state, shared by every call.
#[derive(Clone)]
pub struct WarehouseApi {
    pub(crate) db: Db,
    pub(crate) directory: crm_kit::directory::Directory,
    pub(crate) tokens: Arc<PageTokens>,
    /// The base currency: costs and values are kept in it.
    pub(crate) currency: String,
    pub(crate) max_document_lines: usize,
}

impl std::fmt::Debug for WarehouseApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarehouseApi").finish_non_exhaustive()
    }
}

impl WarehouseApi {
    /// The service over a migrated database.
    pub fn new(db: Db, config: &crate::Config) -> Result<Self> {
        Ok(WarehouseApi {
            db,
            directory: crm_kit::directory::Directory::new(&config.service.identity_url)?,
            tokens: Arc::new(PageTokens::new(config.service.page_token_secret.as_bytes())),
            currency: config.service.base_currency()?,
            max_document_lines: config.max_document_lines,
        })
    }

    /// A pooled connection.
    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool.acquire().await?)
    }

    /// The warehouse `id` (in `field`) if the caller reaches it: NOT_FOUND otherwise.
    pub(crate) async fn kept_warehouse(
        &self,
        conn: &mut AnyConnection,
        caller: &Principal,
        field: &str,
        id: &str,
    ) -> Result<WarehouseRow> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::required(field));
        }
        store::warehouses::visible(conn, &ReadScope::of(caller, &WAREHOUSE_SCOPE), id)
            .await?
            .ok_or_else(|| Error::not_found(warehouses::WAREHOUSE, id))
    }

    /// An amount in the base currency from the wire (unset or empty: `None`), 0 or more.
    pub(crate) fn amount(&self, field: &str, m: Option<&crm_proto::common::Money>, v: &mut Violations) -> Option<i64> {
        crm_kit::money::base_amount(field, m, &self.currency, v)
    }

    pub(crate) fn money(&self, storage: i64) -> crm_proto::common::Money {
        Money::from_storage(&self.currency, storage).to_proto()
    }
}

/// Most stock units one line, count or reservation moves (a billion): far beyond any real
/// movement, and low enough that balances summed over many lines stay exact in 64 bits.
pub(crate) const MAX_LINE_UNITS: i64 = 1_000_000_000;

/// Most value one line carries (in the base currency): likewise.
pub(crate) const MAX_LINE_VALUE: i64 = 100_000_000_000;

/// A quantity from the wire that must be more than zero, reported into `v` by field.
pub(crate) fn positive_quantity(field: &str, s: &str, v: &mut Violations) -> Option<Quantity> {
    if s.trim().is_empty() {
        v.add(field, reason::REQUIRED, "is required");
        return None;
    }
    match Quantity::parse(s) {
        Ok(q) if q.is_negative() => {
            v.add(field, reason::NEGATIVE, "must be greater than zero");
            None
        }
        Ok(q) if q.is_zero() => {
            v.add(field, reason::NOT_POSITIVE, "must be greater than zero");
            None
        }
        Ok(q) if q.storage() > MAX_LINE_UNITS * 10_000 => {
            v.add(field, reason::OUT_OF_RANGE, format!("must be at most {MAX_LINE_UNITS}"));
            None
        }
        Ok(q) => Some(q),
        Err(e) => {
            v.add(field, e.reason(), e.to_string());
            None
        }
    }
}

/// A quantity from the wire that may be zero (empty: zero), reported into `v` by field.
pub(crate) fn non_negative_quantity(field: &str, s: &str, v: &mut Violations) -> Quantity {
    if s.trim().is_empty() {
        return Quantity::ZERO;
    }
    match Quantity::parse_non_negative(s) {
        Ok(q) if q.storage() > MAX_LINE_UNITS * 10_000 => {
            v.add(field, reason::OUT_OF_RANGE, format!("must be at most {MAX_LINE_UNITS}"));
            Quantity::ZERO
        }
        Ok(q) => q,
        Err(e) => {
            v.add(field, e.reason(), e.to_string());
            Quantity::ZERO
        }
    }
}

/// A stored quantity on the wire.
pub(crate) fn qty(storage: i64) -> String {
    Quantity::from_storage(storage).to_wire()
}

pub(crate) use crm_kit::text::{check_notes, check_text};
pub(crate) use crm_kit::time::audit_info as audit;

crm_kit::rpcs! {
    impl WarehouseService for WarehouseApi;
    public: []
    signed_in: [
    create_category(pb::CreateCategoryRequest) -> pb::CreateCategoryResponse;
    list_categories(pb::ListCategoriesRequest) -> pb::ListCategoriesResponse;
    update_category(pb::UpdateCategoryRequest) -> pb::UpdateCategoryResponse;
    create_product(pb::CreateProductRequest) -> pb::CreateProductResponse;
    get_product(pb::GetProductRequest) -> pb::GetProductResponse;
    list_products(pb::ListProductsRequest) -> pb::ListProductsResponse;
    update_product(pb::UpdateProductRequest) -> pb::UpdateProductResponse;
    create_warehouse(pb::CreateWarehouseRequest) -> pb::CreateWarehouseResponse;
    list_warehouses(pb::ListWarehousesRequest) -> pb::ListWarehousesResponse;
    get_warehouse(pb::GetWarehouseRequest) -> pb::GetWarehouseResponse;
    update_warehouse(pb::UpdateWarehouseRequest) -> pb::UpdateWarehouseResponse;
    create_stock_document(pb::CreateStockDocumentRequest) -> pb::CreateStockDocumentResponse;
    get_stock_document(pb::GetStockDocumentRequest) -> pb::GetStockDocumentResponse;
    list_stock_documents(pb::ListStockDocumentsRequest) -> pb::ListStockDocumentsResponse;
    post_stock_document(pb::PostStockDocumentRequest) -> pb::PostStockDocumentResponse;
    receive_transfer(pb::ReceiveTransferRequest) -> pb::ReceiveTransferResponse;
    cancel_stock_document(pb::CancelStockDocumentRequest) -> pb::CancelStockDocumentResponse;
    reserve_stock(pb::ReserveStockRequest) -> pb::ReserveStockResponse;
    release_reservation(pb::ReleaseReservationRequest) -> pb::ReleaseReservationResponse;
    list_reservations(pb::ListReservationsRequest) -> pb::ListReservationsResponse;
    get_stock_level(pb::GetStockLevelRequest) -> pb::GetStockLevelResponse;
    list_stock_levels(pb::ListStockLevelsRequest) -> pb::ListStockLevelsResponse;
    list_ledger_entries(pb::ListLedgerEntriesRequest) -> pb::ListLedgerEntriesResponse;
    get_stock_value(pb::GetStockValueRequest) -> pb::GetStockValueResponse;
    audit_stock(pb::AuditStockRequest) -> pb::AuditStockResponse;
    set_safety_stock(pb::SetSafetyStockRequest) -> pb::SetSafetyStockResponse;
    create_stocktake(pb::CreateStocktakeRequest) -> pb::CreateStocktakeResponse;
    get_stocktake(pb::GetStocktakeRequest) -> pb::GetStocktakeResponse;
    list_stocktakes(pb::ListStocktakesRequest) -> pb::ListStocktakesResponse;
    record_counts(pb::RecordCountsRequest) -> pb::RecordCountsResponse;
    post_stocktake(pb::PostStocktakeRequest) -> pb::PostStocktakeResponse;
    cancel_stocktake(pb::CancelStocktakeRequest) -> pb::CancelStocktakeResponse;
    list_loans(pb::ListLoansRequest) -> pb::ListLoansResponse;
    return_loan(pb::ReturnLoanRequest) -> pb::ReturnLoanResponse;
    sell_loan(pb::SellLoanRequest) -> pb::SellLoanResponse;
    get_serial_number(pb::GetSerialNumberRequest) -> pb::GetSerialNumberResponse;
    list_serial_numbers(pb::ListSerialNumbersRequest) -> pb::ListSerialNumbersResponse;
    list_lots(pb::ListLotsRequest) -> pb::ListLotsResponse;
    create_price_list(pb::CreatePriceListRequest) -> pb::CreatePriceListResponse;
    get_price_list(pb::GetPriceListRequest) -> pb::GetPriceListResponse;
    list_price_lists(pb::ListPriceListsRequest) -> pb::ListPriceListsResponse;
    update_price_list(pb::UpdatePriceListRequest) -> pb::UpdatePriceListResponse;
    set_prices(pb::SetPricesRequest) -> pb::SetPricesResponse;
    list_prices(pb::ListPricesRequest) -> pb::ListPricesResponse;
    get_customer_prices(pb::GetCustomerPricesRequest) -> pb::GetCustomerPricesResponse;
    import_products(tonic::Streaming<pb::ImportProductsRequest>) -> pb::ImportProductsResponse;
    list_stock_movement(pb::ListStockMovementRequest) -> pb::ListStockMovementResponse;
    upload_product_image(tonic::Streaming<pb::UploadProductImageRequest>) -> pb::UploadProductImageResponse;
    list_product_images(pb::ListProductImagesRequest) -> pb::ListProductImagesResponse;
    delete_product_image(pb::DeleteProductImageRequest) -> pb::DeleteProductImageResponse;
    compare_warehouses(pb::CompareWarehousesRequest) -> pb::CompareWarehousesResponse;
    ]
    server_streaming: [
        export_stock_report(pb::ExportStockReportRequest) -> pb::ExportStockReportResponse as ExportStockReportStream;
        download_product_image(pb::DownloadProductImageRequest) -> pb::DownloadProductImageResponse as DownloadProductImageStream;
        export_products(pb::ExportProductsRequest) -> pb::ExportProductsResponse as ExportProductsStream;
    ]
}
