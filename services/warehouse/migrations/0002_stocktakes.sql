-- Stocktakes: a count sheet frozen for a warehouse (or some of its products), the counts
-- entered against it, and the adjustment document its differences post.

CREATE TABLE stocktakes (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    category_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'counting',
    remark TEXT NOT NULL DEFAULT '',
    -- The adjustment document, once posted.
    document_id TEXT NOT NULL DEFAULT '',
    frozen_at BIGINT NOT NULL,
    posted_at BIGINT NOT NULL DEFAULT 0,
    posted_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX stocktakes_number ON stocktakes (number);
CREATE INDEX stocktakes_newest ON stocktakes (created_at, id);

CREATE TABLE stocktake_lines (
    stocktake_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    -- On hand when the sheet was frozen: what the count is compared with.
    book_quantity BIGINT NOT NULL,
    counted BIGINT NOT NULL DEFAULT 0,
    -- 0: not counted yet.
    counted_at BIGINT NOT NULL DEFAULT 0,
    counted_by TEXT NOT NULL DEFAULT '',
    -- At posting: what moved between the freeze and the posting, the adjustment, on hand after.
    moved BIGINT NOT NULL DEFAULT 0,
    adjustment BIGINT NOT NULL DEFAULT 0,
    on_hand_after BIGINT NOT NULL DEFAULT 0,
    -- 1 while the sheet is being counted: a product is on one open sheet per warehouse at most.
    open BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (stocktake_id, product_id)
);
CREATE UNIQUE INDEX stocktake_lines_open ON stocktake_lines (warehouse_id, product_id) WHERE open = 1;
