-- Yizhan payment journal, first schema.
-- Never edit this file once released: add a new timestamp-prefixed migration instead.
-- (Revised in place before the first release, to cut the pages written per commit: the latest
-- snapshot is stored only in `transitions` and read through `payments.last_seq`, and
-- `transitions.seq` no longer uses AUTOINCREMENT.)
-- Times are milliseconds since the Unix epoch (UTC); money is integer fen.

-- One row per payment (keyed by the order reference): its latest state, the recovery point.
-- Its latest snapshot is `transitions.snapshot` of the row `last_seq` (a primary-key lookup), so
-- the ~1.5 KB JSON is written once per commit, not twice.
CREATE TABLE payments (
    id            TEXT    PRIMARY KEY NOT NULL,
    kiosk_id      TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    total_fen     INTEGER NOT NULL CHECK (total_fen >= 0),
    channel       TEXT,
    state         TEXT    NOT NULL CHECK (state <> ''),
    terminal      INTEGER NOT NULL CHECK (terminal IN (0, 1)),
    -- SUSPENSE or AWAIT_CARD_WRITE: unfinished, but no longer blocking new sales (rule R5).
    parked        INTEGER NOT NULL CHECK (parked IN (0, 1)),
    next_deadline INTEGER,
    updated_at    INTEGER NOT NULL,
    last_seq      INTEGER NOT NULL,
    CHECK (NOT (terminal = 1 AND parked = 1))
) STRICT;

-- The restart scan (payments.md §8): unfinished, unparked, oldest first.
CREATE INDEX payments_unfinished ON payments (created_at, id) WHERE terminal = 0 AND parked = 0;
CREATE INDEX payments_parked ON payments (created_at, id) WHERE parked = 1;
CREATE INDEX payments_created ON payments (created_at, id);

-- Every state change, append-only and hash-chained in seq order. The journal assigns seq itself
-- (chain tip + 1). No AUTOINCREMENT: its `sqlite_sequence` row cost one more page per commit; a
-- deleted tail is detected through `payments.last_seq`, which every commit sets in the same
-- transaction (the payment of the newest row always points at it).
CREATE TABLE transitions (
    seq        INTEGER PRIMARY KEY,
    payment_id TEXT    NOT NULL REFERENCES payments (id),
    at         INTEGER NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    effects    TEXT    NOT NULL,
    snapshot   TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
) STRICT;

CREATE INDEX transitions_by_payment ON transitions (payment_id, seq);

CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;

CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;

-- Idempotency keys (out_trade_no, out_refund_no, biller references): created once, reused on
-- every retry (rule R2). The primary key is what turns a second use into AlreadyRecorded.
CREATE TABLE idempotency_keys (
    key        TEXT    PRIMARY KEY NOT NULL,
    payment_id TEXT    NOT NULL REFERENCES payments (id),
    purpose    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX idempotency_keys_by_payment ON idempotency_keys (payment_id);

-- Receipts are a repeatable side effect of a terminal state, never a trigger for money (rule R6).
CREATE TABLE prints (
    id         INTEGER PRIMARY KEY,
    payment_id TEXT    NOT NULL REFERENCES payments (id),
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('receipt', 'slip', 'reprint')),
    outcome    TEXT    NOT NULL
) STRICT;

CREATE INDEX prints_by_payment ON prints (payment_id, id);

-- What staff did at the kiosk (staff-assisted mode); an audit trail, so append-only too.
CREATE TABLE staff_actions (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    staff_id   TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    payment_id TEXT    REFERENCES payments (id),
    detail     TEXT    NOT NULL
) STRICT;

CREATE INDEX staff_actions_by_payment ON staff_actions (payment_id) WHERE payment_id IS NOT NULL;

CREATE TRIGGER staff_actions_no_update BEFORE UPDATE ON staff_actions
BEGIN
    SELECT RAISE(ABORT, 'staff actions are append-only');
END;

CREATE TRIGGER staff_actions_no_delete BEFORE DELETE ON staff_actions
BEGIN
    SELECT RAISE(ABORT, 'staff actions are append-only');
END;
