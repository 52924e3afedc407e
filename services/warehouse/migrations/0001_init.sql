-- The product catalog, warehouses, stock documents, the stock ledger and the balances it keeps.
-- Quantities are BIGINT (decimal × 10^4) in the product's stock unit; costs and values BIGINT
-- (decimal × 10^4) in the base currency; times BIGINT microseconds.

CREATE TABLE categories (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Folded name: siblings never share one.
    name_key TEXT NOT NULL,
    parent_id TEXT NOT NULL DEFAULT '',
    -- Ids from the top down, this one's last: /a/b/c/.
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX categories_sibling_name ON categories (parent_id, name_key);
CREATE INDEX categories_path ON categories (path);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    -- Folded code: unique, whatever the width or case typed.
    code_key TEXT NOT NULL,
    name TEXT NOT NULL,
    specification TEXT NOT NULL DEFAULT '',
    -- Folded name and specification: unique among active products.
    identity_key TEXT NOT NULL,
    unit TEXT NOT NULL,
    -- JSON [{"name": "box", "factor": 120000}], factors × 10^4.
    units TEXT NOT NULL DEFAULT '[]',
    category_id TEXT NOT NULL DEFAULT '',
    category_path TEXT NOT NULL DEFAULT '',
    barcode TEXT NOT NULL DEFAULT '',
    brand TEXT NOT NULL DEFAULT '',
    currency TEXT NOT NULL,
    sale_price BIGINT NOT NULL DEFAULT 0,
    -- Percent × 10^4.
    tax_rate BIGINT NOT NULL DEFAULT 0,
    standard_cost BIGINT NOT NULL DEFAULT 0,
    image_ids TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'active',
    tracking TEXT NOT NULL DEFAULT 'none',
    warranty_months BIGINT NOT NULL DEFAULT 0,
    remark TEXT NOT NULL DEFAULT '',
    custom_fields TEXT NOT NULL DEFAULT '{}',
    -- Folded code, name, specification and barcode joined by '|', for search.
    search_text TEXT NOT NULL DEFAULT '',
    -- 1 once a ledger line names it: its stock unit and tracking are fixed from then on.
    moved BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX products_code ON products (code_key);
CREATE UNIQUE INDEX products_active_identity ON products (identity_key) WHERE status = 'active';
CREATE INDEX products_newest ON products (created_at, id);
CREATE INDEX products_barcode ON products (barcode) WHERE barcode <> '';
CREATE INDEX products_category ON products (category_path);

CREATE TABLE warehouses (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    allow_negative BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active',
    remark TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX warehouses_code ON warehouses (code_key);

CREATE TABLE warehouse_keepers (
    warehouse_id TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    PRIMARY KEY (warehouse_id, employee_id)
);
CREATE INDEX warehouse_keepers_employee ON warehouse_keepers (employee_id, warehouse_id);

-- One row per warehouse and product: what is on the shelves (with what of it is reserved and
-- its value) and what is on its way here. Changed only together with the ledger lines that
-- explain the change, by conditional updates.
CREATE TABLE balances (
    warehouse_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    on_hand BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0,
    value BIGINT NOT NULL DEFAULT 0,
    transit_quantity BIGINT NOT NULL DEFAULT 0,
    transit_value BIGINT NOT NULL DEFAULT 0,
    -- The last moving-average cost per stock unit while stock was positive (costs an outbound
    -- from a warehouse that allows negative stock).
    last_unit_cost BIGINT NOT NULL DEFAULT 0,
    safety_min BIGINT NOT NULL DEFAULT 0,
    safety_max BIGINT NOT NULL DEFAULT 0,
    -- Counts the changes of the row; its ledger lines carry it, so they sort in the order
    -- they changed it even when two postings read the same clock.
    seq BIGINT NOT NULL DEFAULT 0,
    -- Never goes back: a line's time is at least its balance's last one.
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (warehouse_id, product_id),
    CHECK (reserved >= 0)
);
CREATE INDEX balances_product ON balances (product_id, warehouse_id);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    to_warehouse_id TEXT NOT NULL DEFAULT '',
    in_transit BIGINT NOT NULL DEFAULT 0,
    reference TEXT NOT NULL DEFAULT '',
    counterparty_id TEXT NOT NULL DEFAULT '',
    courier TEXT NOT NULL DEFAULT '',
    tracking_number TEXT NOT NULL DEFAULT '',
    remark TEXT NOT NULL DEFAULT '',
    posted_at BIGINT NOT NULL DEFAULT 0,
    posted_by TEXT NOT NULL DEFAULT '',
    received_at BIGINT NOT NULL DEFAULT 0,
    received_by TEXT NOT NULL DEFAULT '',
    cancel_reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX documents_number ON documents (number);
CREATE INDEX documents_newest ON documents (created_at, id);
CREATE INDEX documents_warehouse ON documents (warehouse_id, created_at);
CREATE INDEX documents_destination ON documents (to_warehouse_id, created_at) WHERE to_warehouse_id <> '';

CREATE TABLE document_lines (
    document_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    -- As entered, in `unit`.
    quantity BIGINT NOT NULL,
    unit TEXT NOT NULL,
    stock_quantity BIGINT NOT NULL,
    -- Inbound: the cost per stock unit given (cost_given = 1) or taken from the product or the
    -- average at posting; after posting, the cost per stock unit the line carried.
    unit_cost BIGINT NOT NULL DEFAULT 0,
    cost_given BIGINT NOT NULL DEFAULT 0,
    value BIGINT NOT NULL DEFAULT 0,
    reservation_id TEXT NOT NULL DEFAULT '',
    source_line_id TEXT NOT NULL DEFAULT '',
    remark TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (document_id, line_no)
);

-- The stock ledger: append-only. A line's `leg` says which movement of its document line it is
-- (out of the source, into the destination or transit, out of transit), and a document line
-- has each leg at most once, so nothing is ever posted twice.
CREATE TABLE ledger (
    id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    leg TEXT NOT NULL,
    kind TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    -- stock or transit.
    bucket TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    value BIGINT NOT NULL,
    unit_cost BIGINT NOT NULL,
    quantity_after BIGINT NOT NULL,
    value_after BIGINT NOT NULL,
    -- The balance's `seq` after this line.
    balance_seq BIGINT NOT NULL,
    posted_at BIGINT NOT NULL,
    posted_by TEXT NOT NULL
);
CREATE UNIQUE INDEX ledger_leg ON ledger (document_id, line_no, leg);
-- A balance's lines in time order: the balance as of any time is its last line before it.
CREATE INDEX ledger_balance_time ON ledger (warehouse_id, product_id, bucket, posted_at, balance_seq);
CREATE INDEX ledger_newest ON ledger (posted_at, id);
CREATE INDEX ledger_product ON ledger (product_id, posted_at);

CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    consumed BIGINT NOT NULL DEFAULT 0,
    released BIGINT NOT NULL DEFAULT 0,
    reference TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    CHECK (consumed >= 0 AND released >= 0 AND consumed + released <= quantity)
);
CREATE INDEX reservations_newest ON reservations (created_at, id);
CREATE INDEX reservations_balance ON reservations (warehouse_id, product_id) WHERE status = 'active';
