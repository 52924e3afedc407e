-- Weekly snapshots of the forecast per owner, close month and category.
CREATE TABLE forecast_snapshots (
    week TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    owner_department_path TEXT NOT NULL DEFAULT '',
    period TEXT NOT NULL,
    category TEXT NOT NULL,
    opportunity_count BIGINT NOT NULL,
    expected_amount BIGINT NOT NULL,
    weighted_amount BIGINT NOT NULL,
    taken_at BIGINT NOT NULL,
    PRIMARY KEY (week, owner_id, period, category)
);
