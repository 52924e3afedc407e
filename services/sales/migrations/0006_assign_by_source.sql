-- Lead sources an assignee takes when the rules assign by source (JSON array of source codes).
ALTER TABLE assignees ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';
