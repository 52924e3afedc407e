-- The sales pipeline: leads, pipelines and stages, opportunities with their stage history and
-- activities, quotas. Money is BIGINT (decimal × 10^4) in the base currency; dates are TEXT
-- `YYYY-MM-DD`; times BIGINT microseconds.

CREATE TABLE leads (
    id TEXT PRIMARY KEY,
    company_name TEXT NOT NULL,
    contact_name TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'other',
    province TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    remark TEXT NOT NULL DEFAULT '',
    -- '' = in the lead pool.
    owner_id TEXT NOT NULL DEFAULT '',
    owner_department_path TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'new',
    disqualified_reason TEXT NOT NULL DEFAULT '',
    converted_customer_id TEXT NOT NULL DEFAULT '',
    converted_contact_id TEXT NOT NULL DEFAULT '',
    converted_opportunity_id TEXT NOT NULL DEFAULT '',
    converted_at BIGINT NOT NULL DEFAULT 0,
    converted_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at BIGINT
);
CREATE INDEX leads_by_owner ON leads (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_by_department ON leads (owner_department_path, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_by_created ON leads (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE pipelines (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    is_default BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX pipelines_by_name ON pipelines (name);

CREATE TABLE stages (
    id TEXT PRIMARY KEY,
    pipeline_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    probability BIGINT NOT NULL,
    time_limit_days BIGINT NOT NULL DEFAULT 0,
    -- 1 while part of its pipeline; a removed stage stays for history.
    active BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX stages_by_pipeline ON stages (pipeline_id, active, position);

CREATE TABLE opportunities (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    contact_id TEXT NOT NULL DEFAULT '',
    owner_id TEXT NOT NULL,
    owner_department_path TEXT NOT NULL DEFAULT '',
    pipeline_id TEXT NOT NULL,
    stage_id TEXT NOT NULL,
    probability BIGINT NOT NULL,
    currency TEXT NOT NULL,
    expected_amount BIGINT NOT NULL DEFAULT 0,
    expected_cost BIGINT NOT NULL DEFAULT 0,
    start_date TEXT NOT NULL DEFAULT '',
    planned_close_date TEXT NOT NULL DEFAULT '',
    actual_close_date TEXT NOT NULL DEFAULT '',
    forecast_category TEXT NOT NULL DEFAULT 'pipeline',
    competitor TEXT NOT NULL DEFAULT '',
    remark TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    lost_reason TEXT NOT NULL DEFAULT '',
    audited BIGINT NOT NULL DEFAULT 0,
    -- Set once a project or order is made from it (un-audit is refused then).
    converted_to TEXT NOT NULL DEFAULT '',
    stage_entered_at BIGINT NOT NULL,
    lead_id TEXT NOT NULL DEFAULT '',
    closed_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX opportunities_by_owner ON opportunities (owner_id, created_at, id);
CREATE INDEX opportunities_by_department ON opportunities (owner_department_path, created_at, id);
CREATE INDEX opportunities_by_created ON opportunities (created_at, id);
CREATE INDEX opportunities_by_customer ON opportunities (customer_id);
CREATE INDEX opportunities_by_stage ON opportunities (pipeline_id, stage_id, status);

-- Every stay of an opportunity in a stage.
CREATE TABLE stage_visits (
    id TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL,
    stage_id TEXT NOT NULL,
    entered_at BIGINT NOT NULL,
    -- 0 while it is still there.
    left_at BIGINT NOT NULL DEFAULT 0,
    moved_by TEXT NOT NULL
);
CREATE INDEX stage_visits_by_opportunity ON stage_visits (opportunity_id, entered_at, id);

CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    method TEXT NOT NULL,
    activity_at BIGINT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    stage_id TEXT NOT NULL,
    probability BIGINT NOT NULL,
    expected_amount BIGINT NOT NULL DEFAULT 0,
    expected_cost BIGINT NOT NULL DEFAULT 0,
    planned_close_date TEXT NOT NULL DEFAULT '',
    completed BIGINT NOT NULL DEFAULT 0,
    completed_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX activities_by_opportunity ON activities (opportunity_id, sequence);

CREATE TABLE quotas (
    period TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    is_department BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (period, subject_id, is_department)
);

-- Every change of owner of a lead or an opportunity: from, to, when, by whom, why.
CREATE TABLE owner_changes (
    id TEXT PRIMARY KEY,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    from_owner_id TEXT NOT NULL,
    to_owner_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX owner_changes_by_record ON owner_changes (record_type, record_id, id);
