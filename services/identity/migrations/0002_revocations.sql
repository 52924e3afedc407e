-- Access tokens void although unexpired: every token of `employee_id` issued at or before
-- `revoked_at` (microseconds) is refused by every verifier. One row per employee, the latest
-- revocation (which covers every earlier one).
CREATE TABLE revocations (
    employee_id TEXT PRIMARY KEY,
    revoked_at BIGINT NOT NULL,
    -- `deactivated` or `password_reset`.
    reason TEXT NOT NULL
);
CREATE INDEX revocations_revoked_at ON revocations (revoked_at);
