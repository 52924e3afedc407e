-- Projects made of audited, won opportunities, and their maintenance records.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL,
    name TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    contact_id TEXT NOT NULL DEFAULT '',
    owner_id TEXT NOT NULL,
    owner_department_path TEXT NOT NULL DEFAULT '',
    stage_id TEXT NOT NULL,
    probability BIGINT NOT NULL,
    currency TEXT NOT NULL,
    expected_amount BIGINT NOT NULL DEFAULT 0,
    expected_cost BIGINT NOT NULL DEFAULT 0,
    actual_cost BIGINT NOT NULL DEFAULT 0,
    actual_sales BIGINT NOT NULL DEFAULT 0,
    -- JSON array of partner names.
    partners TEXT NOT NULL DEFAULT '[]',
    remark TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX projects_by_opportunity ON projects (opportunity_id);
CREATE INDEX projects_by_owner ON projects (owner_id, created_at, id);
CREATE INDEX projects_by_department ON projects (owner_department_path, created_at, id);
CREATE INDEX projects_by_created ON projects (created_at, id);

CREATE TABLE maintenance_records (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    method TEXT NOT NULL,
    record_at BIGINT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    completed BIGINT NOT NULL DEFAULT 0,
    completed_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE UNIQUE INDEX maintenance_records_by_project ON maintenance_records (project_id, sequence);
