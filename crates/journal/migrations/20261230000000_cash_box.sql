-- The cash box (hardware.md §9, payments.md §8): each cash customer's intake, the custody record
-- of every note, and the collections (清机). Never edit this file once released: add a new
-- timestamp-prefixed migration instead. Times are milliseconds since the Unix epoch (UTC); money
-- is integer fen. Like the card terminal's memory, these rows are working memory beside the
-- hash chain: what the money did is journaled as the payment's own transitions.

-- One cash customer's notes (kiosk_core::cash::Intake), keyed by the order they pay, written
-- durably after every step that changes them and before the acceptor is told anything: a note
-- is on record in escrow before STACK, credited before its VEND VALID is acknowledged. `open`
-- until the payment of the credited cash exists (or nothing was credited).
CREATE TABLE cash_intakes (
    order_ref   TEXT    PRIMARY KEY NOT NULL,
    order_json  TEXT    NOT NULL,
    intake_json TEXT    NOT NULL,
    open        INTEGER NOT NULL CHECK (open IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX cash_intakes_open ON cash_intakes (created_at, order_ref) WHERE open = 1;

-- A closed intake stays closed: its cash is a payment now.
CREATE TRIGGER cash_intakes_stay_closed BEFORE UPDATE ON cash_intakes
WHEN OLD.open = 0 OR NEW.order_ref IS NOT OLD.order_ref OR NEW.order_json IS NOT OLD.order_json
BEGIN
    SELECT RAISE(ABORT, 'a closed cash intake is not changed');
END;

CREATE TRIGGER cash_intakes_no_delete BEFORE DELETE ON cash_intakes
BEGIN
    SELECT RAISE(ABORT, 'cash intakes are kept');
END;

-- One row per note: `seq` is its place in its intake (a note found in the box with nothing on
-- record, an anomaly, has a negative one). `value_fen` NULL: unknown (an escrow code the head did
-- not list, an anomaly). `collection`: the collection that counted it out of the box.
CREATE TABLE cash_notes (
    id         INTEGER PRIMARY KEY,
    order_ref  TEXT    NOT NULL REFERENCES cash_intakes (order_ref),
    seq        INTEGER NOT NULL,
    value_fen  INTEGER CHECK (value_fen IS NULL OR value_fen > 0),
    state      TEXT    NOT NULL
               CHECK (state IN ('escrowed', 'credited', 'returned', 'stuck', 'in_doubt', 'anomaly')),
    seen_at    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    collection INTEGER REFERENCES cash_collections (id),
    UNIQUE (order_ref, seq)
) STRICT;

CREATE INDEX cash_notes_uncollected ON cash_notes (state) WHERE collection IS NULL;

-- A note's custody only moves forward (kiosk_core::cash::NoteState): from escrow to credited,
-- returned, stuck or in doubt; from stuck or in doubt to credited (it reached the box after all)
-- or between the two; credited, returned and anomaly are final. Only a note that is (or may be)
-- in the box is counted by a collection, and a counted note never changes again. What a note is
-- (its intake, place, value, first sight) never changes.
CREATE TRIGGER cash_notes_custody BEFORE UPDATE ON cash_notes
WHEN NEW.order_ref IS NOT OLD.order_ref OR NEW.seq IS NOT OLD.seq
  OR NEW.value_fen IS NOT OLD.value_fen OR NEW.seen_at IS NOT OLD.seen_at
  OR OLD.collection IS NOT NULL
  OR (NEW.collection IS NOT NULL AND NEW.state NOT IN ('credited', 'anomaly', 'stuck', 'in_doubt'))
  OR (NEW.state IS NOT OLD.state AND NOT (
         (OLD.state = 'escrowed' AND NEW.state IN ('credited', 'returned', 'stuck', 'in_doubt'))
      OR (OLD.state IN ('stuck', 'in_doubt') AND NEW.state IN ('credited', 'stuck', 'in_doubt'))))
BEGIN
    SELECT RAISE(ABORT, 'a note moves only forward in its custody, and a counted note never changes');
END;

CREATE TRIGGER cash_notes_no_delete BEFORE DELETE ON cash_notes
BEGIN
    SELECT RAISE(ABORT, 'cash notes are kept');
END;

-- A collection (清机): staff emptied the box; what the journal says was in it.
CREATE TABLE cash_collections (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    staff_id  TEXT    NOT NULL,
    -- Credited notes and anomalies: what should be in the box.
    notes     INTEGER NOT NULL CHECK (notes >= 0),
    sum_fen   INTEGER NOT NULL CHECK (sum_fen >= 0),
    -- Notes of unknown value among them (anomalies), and notes held for staff (stuck, in doubt)
    -- that may or may not be in the box.
    unknown   INTEGER NOT NULL CHECK (unknown >= 0),
    uncertain INTEGER NOT NULL CHECK (uncertain >= 0)
) STRICT;

CREATE TRIGGER cash_collections_fixed BEFORE UPDATE ON cash_collections
BEGIN
    SELECT RAISE(ABORT, 'a collection is recorded once');
END;

CREATE TRIGGER cash_collections_no_delete BEFORE DELETE ON cash_collections
BEGIN
    SELECT RAISE(ABORT, 'collections are kept');
END;
