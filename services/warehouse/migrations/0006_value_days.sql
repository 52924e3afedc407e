-- What each day's ledger lines changed the value held by, per warehouse and bucket (stock,
-- transit, loan): the stock value as of a time is the sum of the days before it and of the
-- lines of its own day up to it. Written once per day after the day closed (no line is posted
-- into a closed day), never changed after.
CREATE TABLE value_days (
    -- Days since 1970-01-01 (UTC) of the lines' posted_at.
    day BIGINT NOT NULL,
    warehouse_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (day, warehouse_id, bucket)
);

-- The days summed so far: every day before `next_day` is in value_days (one row).
CREATE TABLE value_days_summed (
    id BIGINT PRIMARY KEY,
    next_day BIGINT NOT NULL
);
INSERT INTO value_days_summed (id, next_day) VALUES (1, 0);
