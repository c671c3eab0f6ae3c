-- Broadcasts composed in the staff chat (issue 6). A draft is a broadcasts
-- row with status draft, one per staff member, whose step is the
-- conversation cursor (durable: a restart continues it); its text is typed
-- after the row exists. reported is the last progress reported to staff, in
-- tenths of total; 10 once the final report is made.

-- +goose Up
ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_text_check;
ALTER TABLE broadcasts ADD CONSTRAINT broadcasts_text_check CHECK (status = 'draft' OR text <> '');
ALTER TABLE broadcasts ADD COLUMN staff_id bigint NOT NULL DEFAULT 0;
ALTER TABLE broadcasts ADD COLUMN step text NOT NULL DEFAULT ''
    CHECK (step IN ('', 'text', 'segment', 'type', 'days', 'preview'));
ALTER TABLE broadcasts ADD COLUMN reported integer NOT NULL DEFAULT 0 CHECK (reported BETWEEN 0 AND 10);
CREATE UNIQUE INDEX broadcasts_one_draft_per_staff ON broadcasts (staff_id) WHERE status = 'draft';
-- the dispatcher's report pass reads only broadcasts still to report
CREATE INDEX broadcasts_to_report_idx ON broadcasts (id)
    WHERE reported < 10 AND status IN ('running', 'paused', 'done');

-- +goose Down
DROP INDEX broadcasts_to_report_idx;
DROP INDEX broadcasts_one_draft_per_staff;
ALTER TABLE broadcasts DROP COLUMN reported;
ALTER TABLE broadcasts DROP COLUMN step;
ALTER TABLE broadcasts DROP COLUMN staff_id;
ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_text_check;
ALTER TABLE broadcasts ADD CONSTRAINT broadcasts_text_check CHECK (text <> '');
