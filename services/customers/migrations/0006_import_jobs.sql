-- The progress of an import started with a request_id, updated after every committed batch so
-- that any replica can answer GetImportJob, and the flag CancelImport raises for the replica
-- running the import to see between batches.
CREATE TABLE import_jobs (
    request_id TEXT PRIMARY KEY,
    employee_id TEXT NOT NULL,
    department_path TEXT NOT NULL,
    state TEXT NOT NULL,
    rows_read BIGINT NOT NULL DEFAULT 0,
    created BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    bytes_received BIGINT NOT NULL DEFAULT 0,
    bytes_declared BIGINT NOT NULL DEFAULT 0,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    error_message TEXT NOT NULL DEFAULT '',
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL DEFAULT 0
);
