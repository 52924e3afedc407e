-- Price lists: by customer level or named (for the customers listed), valid from a day (and
-- until one), with one price per product (per stock unit, × 10^4, in the base currency).

CREATE TABLE price_lists (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Folded name: unique.
    name_key TEXT NOT NULL,
    -- level or named.
    kind TEXT NOT NULL,
    customer_level TEXT NOT NULL DEFAULT '',
    -- YYYY-MM-DD; valid_until '' is open-ended.
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    remark TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX price_lists_name ON price_lists (name_key);
CREATE INDEX price_lists_level ON price_lists (customer_level, valid_from) WHERE kind = 'level';

CREATE TABLE price_list_customers (
    price_list_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (price_list_id, customer_id)
);
CREATE INDEX price_list_customers_customer ON price_list_customers (customer_id, price_list_id);

CREATE TABLE prices (
    price_list_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    price BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (price_list_id, product_id),
    CHECK (price >= 0)
);
CREATE INDEX prices_product ON prices (product_id, price_list_id);
