-- Web forms that post leads without signing in, and the rules that hand new leads out.
CREATE TABLE web_forms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    form_key TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    captured BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX web_forms_by_key ON web_forms (form_key);

-- The assignment rules (one row) and their assignees in turn order.
CREATE TABLE assignment_rules (
    id BIGINT PRIMARY KEY,
    enabled BIGINT NOT NULL DEFAULT 0,
    mode TEXT NOT NULL DEFAULT 'round_robin',
    -- Position of the assignee who got the last lead.
    last_position BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0,
    updated_by TEXT NOT NULL DEFAULT ''
);
INSERT INTO assignment_rules (id) VALUES (1);
CREATE TABLE assignees (
    employee_id TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    -- JSON array of province names.
    provinces TEXT NOT NULL DEFAULT '[]',
    capacity BIGINT NOT NULL DEFAULT 0,
    department_path TEXT NOT NULL DEFAULT ''
);
