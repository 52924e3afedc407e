-- Phone numbers are kept as typed (`（0755）2666 8888`, shown back) beside the E.164 form in
-- `phone` / `mobile` (matched for duplicates and search). Empty for numbers saved before: those
-- show their stored form.
ALTER TABLE customers ADD COLUMN phone_typed TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN mobile_typed TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN phone_typed TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN mobile_typed TEXT NOT NULL DEFAULT '';
-- Which version of the derived keys (name keys, E.164 phones, search text and bigrams) the
-- stored rows were written with. At start-up the service rebuilds rows written with an older
-- one (see store::rekey), then records the version it wrote.
CREATE TABLE derived_keys (
    name TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
