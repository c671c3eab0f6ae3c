-- Reminder scheduling (issue 6). The sweep must cost in proportion to what is
-- due, not to the number of certificates: each certificate carries the moment
-- its next reminder tier is reached (remind_at), kept by the sweep, and the
-- sweep reads only rows whose moment has come. NULL means "not planned yet"
-- (a new certificate, or one whose not_after changed: a renewal starts a new
-- period); 'infinity' means no tier is left for this period.

-- +goose Up
ALTER TABLE certificates ADD COLUMN remind_at timestamptz;
CREATE INDEX certificates_remind_at_idx ON certificates (remind_at);

-- A new validity period (renewal, corrected import) is planned again from
-- scratch; the ledger is keyed by period, so old-period rows never block it.
-- +goose StatementBegin
CREATE FUNCTION certificates_replan_reminders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.not_after IS DISTINCT FROM OLD.not_after THEN
        NEW.remind_at := NULL;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER certificates_replan_reminders BEFORE UPDATE OF not_after ON certificates
    FOR EACH ROW EXECUTE FUNCTION certificates_replan_reminders();

-- Which outbox message carried a claimed reminder, and why one was not sent.
ALTER TABLE reminders ADD COLUMN outbox_id bigint REFERENCES outbox (id) ON DELETE SET NULL;
ALTER TABLE reminders ADD COLUMN reason text NOT NULL DEFAULT '';
CREATE INDEX reminders_outbox_idx ON reminders (outbox_id) WHERE outbox_id IS NOT NULL;

-- Broadcast recipients point at their outbox message, so the dispatcher's
-- outcome is copied back to the recipient and the broadcast's counters.
ALTER TABLE broadcast_recipients ADD COLUMN outbox_id bigint REFERENCES outbox (id) ON DELETE SET NULL;
CREATE INDEX broadcast_recipients_outbox_idx ON broadcast_recipients (outbox_id) WHERE outbox_id IS NOT NULL;

-- +goose Down
DROP INDEX broadcast_recipients_outbox_idx;
ALTER TABLE broadcast_recipients DROP COLUMN outbox_id;
DROP INDEX reminders_outbox_idx;
ALTER TABLE reminders DROP COLUMN reason;
ALTER TABLE reminders DROP COLUMN outbox_id;
DROP TRIGGER certificates_replan_reminders ON certificates;
DROP FUNCTION certificates_replan_reminders();
DROP INDEX certificates_remind_at_idx;
ALTER TABLE certificates DROP COLUMN remind_at;
