-- The customers service schema. Portable SQL (SQLite and PostgreSQL): ids are UUIDv7 text,
-- money is BIGINT x 10^4, timestamps are BIGINT microseconds since the epoch (0 = never, for
-- the follow-up and order times that lists sort by), booleans are BIGINT 0/1, empty text is ''.

CREATE TABLE categories (
    id TEXT PRIMARY KEY,
    parent_id TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    sort_order BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE UNIQUE INDEX categories_sibling_name ON categories (parent_id, name);

CREATE TABLE dictionary_entries (
    dictionary TEXT NOT NULL,
    code TEXT NOT NULL,
    display_name TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    sort_order BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (dictionary, code)
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    -- Normalised name (duplicate prevention), see domain::names::name_key.
    name_key TEXT NOT NULL,
    short_name TEXT NOT NULL DEFAULT '',
    tax_id TEXT NOT NULL DEFAULT '',
    industry_code TEXT NOT NULL DEFAULT '',
    scale TEXT NOT NULL DEFAULT '',
    website TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    province TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    district TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    gender TEXT NOT NULL DEFAULT '',
    birthday TEXT NOT NULL DEFAULT '',
    id_number TEXT NOT NULL DEFAULT '',
    category_id TEXT NOT NULL DEFAULT '',
    type_code TEXT NOT NULL DEFAULT '',
    level_code TEXT NOT NULL DEFAULT '',
    source_code TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'potential',
    credit_currency TEXT NOT NULL DEFAULT '',
    credit_limit BIGINT NOT NULL DEFAULT 0,
    remark TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    custom_fields TEXT NOT NULL DEFAULT '{}',
    -- '' = in the public pool.
    owner_id TEXT NOT NULL DEFAULT '',
    owned_since BIGINT NOT NULL DEFAULT 0,
    reclaim_locked BIGINT NOT NULL DEFAULT 0,
    last_follow_up_at BIGINT NOT NULL DEFAULT 0,
    next_follow_up_at BIGINT NOT NULL DEFAULT 0,
    last_order_at BIGINT NOT NULL DEFAULT 0,
    totals_currency TEXT NOT NULL DEFAULT 'CNY',
    total_ordered BIGINT NOT NULL DEFAULT 0,
    receivable_balance BIGINT NOT NULL DEFAULT 0,
    payable_balance BIGINT NOT NULL DEFAULT 0,
    order_count BIGINT NOT NULL DEFAULT 0,
    -- Normalised name, short name, contact names and phones, for verifying search hits.
    search_text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at BIGINT
);
-- Duplicate prevention holds under concurrency because the database enforces it.
CREATE UNIQUE INDEX customers_company_name_key ON customers (name_key) WHERE deleted_at IS NULL AND kind = 'company';
CREATE UNIQUE INDEX customers_tax_id ON customers (tax_id) WHERE deleted_at IS NULL AND tax_id <> '';
CREATE UNIQUE INDEX customers_individual_mobile ON customers (mobile) WHERE deleted_at IS NULL AND kind = 'individual' AND mobile <> '';
CREATE INDEX customers_by_name ON customers (name, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_by_created ON customers (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_by_owner_name ON customers (owner_id, name, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_by_owner_next ON customers (owner_id, next_follow_up_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_by_owner_last ON customers (owner_id, last_follow_up_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_by_level_name ON customers (level_code, name, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_by_city_name ON customers (city, name, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_by_category ON customers (category_id);
CREATE INDEX customers_by_name_key ON customers (name_key);
CREATE INDEX customers_by_mobile ON customers (mobile);
CREATE INDEX customers_by_phone ON customers (phone);
CREATE INDEX customers_by_email ON customers (email);

-- Search index: hashed character bigrams of name, short name, contact names and phones. It has
-- no index by customer: a customer's rows are found again from its search_text, which keeps
-- the biggest table of the service to a single B-tree.
CREATE TABLE customer_grams (
    gram BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (gram, customer_id)
);

CREATE TABLE customer_collaborators (
    customer_id TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    PRIMARY KEY (customer_id, employee_id)
);
CREATE INDEX customer_collaborators_by_employee ON customer_collaborators (employee_id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    im_handles TEXT NOT NULL DEFAULT '[]',
    birthday TEXT NOT NULL DEFAULT '',
    -- MM-DD of the birthday, for the birthdays-this-week list.
    birthday_md TEXT NOT NULL DEFAULT '',
    is_primary BIGINT NOT NULL DEFAULT 0,
    remark TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX contacts_by_customer ON contacts (customer_id, is_primary, created_at);
-- Exactly one primary contact per customer.
CREATE UNIQUE INDEX contacts_one_primary ON contacts (customer_id) WHERE is_primary = 1;
CREATE INDEX contacts_by_birthday ON contacts (birthday_md);

CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    contact_id TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    summary TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    next_contact_at BIGINT NOT NULL DEFAULT 0,
    next_plan TEXT NOT NULL DEFAULT '',
    author_id TEXT NOT NULL,
    check_in_at BIGINT NOT NULL DEFAULT 0,
    check_in_latitude TEXT NOT NULL DEFAULT '',
    check_in_longitude TEXT NOT NULL DEFAULT '',
    check_in_address TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX follow_ups_by_customer ON follow_ups (customer_id, occurred_at, id);

CREATE TABLE follow_up_comments (
    id TEXT PRIMARY KEY,
    follow_up_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX follow_up_comments_by_follow_up ON follow_up_comments (follow_up_id, created_at);

CREATE TABLE owner_changes (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    from_owner_id TEXT NOT NULL,
    to_owner_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX owner_changes_by_customer ON owner_changes (customer_id, id);
CREATE INDEX owner_changes_reclaimed ON owner_changes (reason, changed_at);

CREATE TABLE customer_changes (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    action TEXT NOT NULL,
    -- JSON array of {"field", "old", "new"}.
    fields TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX customer_changes_by_customer ON customer_changes (customer_id, id);

-- Who released which customer when: the re-claim cooldown.
CREATE TABLE pool_releases (
    customer_id TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    released_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, employee_id)
);

-- One row per owner, touched inside every ownership change of that owner so that cap checks
-- of concurrent claims by the same person serialise (PostgreSQL row lock; SQLite write lock).
CREATE TABLE owner_guards (
    owner_id TEXT PRIMARY KEY,
    touched_at BIGINT NOT NULL
);

CREATE TABLE saved_filters (
    id TEXT PRIMARY KEY,
    employee_id TEXT NOT NULL,
    name TEXT NOT NULL,
    filter TEXT NOT NULL DEFAULT '',
    query TEXT NOT NULL DEFAULT '',
    order_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX saved_filters_name ON saved_filters (employee_id, name);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Default dictionaries; names are editable, codes are stable.
INSERT INTO dictionary_entries (dictionary, code, display_name, enabled, sort_order, created_at, updated_at) VALUES
    ('level', 'A', 'A (key)', 1, 1, 0, 0),
    ('level', 'B', 'B', 1, 2, 0, 0),
    ('level', 'C', 'C', 1, 3, 0, 0),
    ('level', 'D', 'D', 1, 4, 0, 0),
    ('source', 'exhibition', 'Exhibition', 1, 1, 0, 0),
    ('source', 'phone_inquiry', 'Phone inquiry', 1, 2, 0, 0),
    ('source', 'referral', 'Referral', 1, 3, 0, 0),
    ('source', 'website', 'Website', 1, 4, 0, 0),
    ('source', 'campaign', 'Campaign', 1, 5, 0, 0),
    ('customer_type', 'end_user', 'End user', 1, 1, 0, 0),
    ('customer_type', 'distributor', 'Distributor', 1, 2, 0, 0),
    ('customer_type', 'partner', 'Partner', 1, 3, 0, 0),
    ('industry', 'manufacturing', 'Manufacturing', 1, 1, 0, 0),
    ('industry', 'it', 'IT and software', 1, 2, 0, 0),
    ('industry', 'retail', 'Retail', 1, 3, 0, 0),
    ('industry', 'finance', 'Finance', 1, 4, 0, 0),
    ('industry', 'education', 'Education', 1, 5, 0, 0),
    ('satisfaction', 'very_satisfied', 'Very satisfied', 1, 1, 0, 0),
    ('satisfaction', 'satisfied', 'Satisfied', 1, 2, 0, 0),
    ('satisfaction', 'neutral', 'Neutral', 1, 3, 0, 0),
    ('satisfaction', 'dissatisfied', 'Dissatisfied', 1, 4, 0, 0),
    ('service_type', 'consulting', 'Consulting', 1, 1, 0, 0),
    ('service_type', 'complaint', 'Complaint', 1, 2, 0, 0),
    ('service_type', 'repair', 'Repair', 1, 3, 0, 0),
    ('contact_method', 'phone', 'Phone', 1, 1, 0, 0),
    ('contact_method', 'email', 'Email', 1, 2, 0, 0),
    ('contact_method', 'im', 'Instant message', 1, 3, 0, 0),
    ('contact_method', 'visit', 'Visit', 1, 4, 0, 0),
    ('importance', 'high', 'High', 1, 1, 0, 0),
    ('importance', 'normal', 'Normal', 1, 2, 0, 0),
    ('importance', 'low', 'Low', 1, 3, 0, 0);
