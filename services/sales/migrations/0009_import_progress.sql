-- How far a lead import with a request id got: the last row of its batches committed so far,
-- written in the same transaction as each batch, so that retrying an import that was cut off
-- writes only the rows not yet written.
CREATE TABLE lead_import_progress (
    scope TEXT NOT NULL,
    request_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    rows_done BIGINT NOT NULL,
    PRIMARY KEY (scope, request_id)
);
