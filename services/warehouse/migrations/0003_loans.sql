-- Loans and samples: what is lent out of a warehouse is kept in its own bucket of the balance
-- (loan_quantity, loan_value) and per document line in `loans`, until returned or sold.

ALTER TABLE balances ADD COLUMN loan_quantity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE balances ADD COLUMN loan_value BIGINT NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN counterparty_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN sample BIGINT NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN due_date TEXT NOT NULL DEFAULT '';

CREATE TABLE loans (
    id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    warehouse_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    counterparty_kind TEXT NOT NULL,
    counterparty_id TEXT NOT NULL,
    sample BIGINT NOT NULL DEFAULT 0,
    quantity BIGINT NOT NULL,
    returned BIGINT NOT NULL DEFAULT 0,
    sold BIGINT NOT NULL DEFAULT 0,
    -- The value still out: what the next return or sale carries its share of.
    value_out BIGINT NOT NULL,
    due_date TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    CHECK (returned >= 0 AND sold >= 0 AND returned + sold <= quantity)
);
CREATE UNIQUE INDEX loans_line ON loans (document_id, line_no);
CREATE INDEX loans_newest ON loans (created_at, id);
CREATE INDEX loans_counterparty ON loans (counterparty_id, status);
