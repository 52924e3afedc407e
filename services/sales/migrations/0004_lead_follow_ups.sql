-- Contacts made with leads, and the lead's last and next follow-up times.
ALTER TABLE leads ADD COLUMN last_follow_up_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN next_follow_up_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE lead_follow_ups (
    id TEXT PRIMARY KEY,
    lead_id TEXT NOT NULL,
    method TEXT NOT NULL,
    occur_at BIGINT NOT NULL,
    summary TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    next_contact_at BIGINT NOT NULL DEFAULT 0,
    next_plan TEXT NOT NULL DEFAULT '',
    author_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX lead_follow_ups_by_lead ON lead_follow_ups (lead_id, occur_at, id);
