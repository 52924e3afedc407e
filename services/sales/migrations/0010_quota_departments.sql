-- Quotas are read within the caller's data scope: the department path of the employee a quota
-- is set for, or of the department itself. Quotas set before this are seen only by those who
-- see every record, until they are set again.
ALTER TABLE quotas ADD COLUMN subject_department_path TEXT NOT NULL DEFAULT '';
