-- The furthest stage (by position) each opportunity has stood in, kept with the opportunity so
-- the funnel reads it in the same pass as the amounts instead of joining every stage visit.
ALTER TABLE opportunities ADD COLUMN reached_position BIGINT NOT NULL DEFAULT 0;
UPDATE opportunities SET reached_position = COALESCE((
    SELECT MAX(s.position) FROM stage_visits v JOIN stages s ON s.id = v.stage_id
    WHERE v.opportunity_id = opportunities.id
), 0);
