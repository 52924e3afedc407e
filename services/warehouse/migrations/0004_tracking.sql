-- Serial and lot numbers. A serial-tracked product's units each have a number, and the number
-- is in exactly one place (one row, its state and warehouse changed by conditional updates); a
-- lot-tracked product's shelves are kept per lot as well as in total.

ALTER TABLE document_lines ADD COLUMN serials TEXT NOT NULL DEFAULT '[]';
ALTER TABLE document_lines ADD COLUMN lot TEXT NOT NULL DEFAULT '';

CREATE TABLE serials (
    product_id TEXT NOT NULL,
    -- Folded number: unique per product, whatever the width or case typed.
    serial_key TEXT NOT NULL,
    serial TEXT NOT NULL,
    -- stock, transit, loan or gone.
    state TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    -- The document line that moved it last.
    document_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (product_id, serial_key)
);
CREATE INDEX serials_place ON serials (warehouse_id, product_id, state, serial_key);
CREATE INDEX serials_document ON serials (document_id, line_no);

-- Every move of a serial: append-only, one per document line and leg.
CREATE TABLE serial_moves (
    product_id TEXT NOT NULL,
    serial_key TEXT NOT NULL,
    document_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    leg TEXT NOT NULL,
    kind TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    state TEXT NOT NULL,
    moved_at BIGINT NOT NULL,
    moved_by TEXT NOT NULL,
    PRIMARY KEY (product_id, serial_key, document_id, line_no, leg)
);

CREATE TABLE lots (
    -- warehouse_id/product_id/lot_key: the list's order (by warehouse, product, lot).
    place TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    lot_key TEXT NOT NULL,
    lot TEXT NOT NULL,
    on_hand BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (warehouse_id, product_id, lot_key),
    CHECK (on_hand >= 0)
);
CREATE UNIQUE INDEX lots_place ON lots (place);
CREATE INDEX lots_product ON lots (product_id, warehouse_id);
