-- The journal's identity, and the hash chains of the audit tables.
-- Never edit this file once released: add a new timestamp-prefixed migration instead.

-- Key/value facts about this journal file: `journal_id` (random, also kept in the anchor file
-- beside the journal, so a swapped or recreated journal is noticed), `created_at`, `kiosk_id`.
CREATE TABLE journal_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

CREATE TRIGGER journal_meta_no_update BEFORE UPDATE ON journal_meta
BEGIN
    SELECT RAISE(ABORT, 'journal facts are written once');
END;

-- Prints and staff actions are chained like transitions, each table on its own chain
-- (`hash = sha256(prev_hash || canonical(row))`, see `crate::chain`), so an edited or deleted
-- audit row is found by `verify`. Rows written before this migration carry empty hashes and are
-- reported as unchained.
ALTER TABLE prints ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE prints ADD COLUMN hash TEXT NOT NULL DEFAULT '';
ALTER TABLE staff_actions ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE staff_actions ADD COLUMN hash TEXT NOT NULL DEFAULT '';

CREATE TRIGGER prints_no_update BEFORE UPDATE ON prints
BEGIN
    SELECT RAISE(ABORT, 'prints are append-only');
END;

CREATE TRIGGER prints_no_delete BEFORE DELETE ON prints
BEGIN
    SELECT RAISE(ABORT, 'prints are append-only');
END;
