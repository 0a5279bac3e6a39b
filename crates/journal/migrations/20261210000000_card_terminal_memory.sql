-- The bank card terminal's memory (payments.md §3.2, C1), bound to the payment it belongs to.
-- Never edit this file once released: add a new timestamp-prefixed migration instead.
-- Until this migration the driver kept these records in JSON files of its own; the journal is
-- now the one durable truth. Times are milliseconds since the Unix epoch (UTC); money is
-- integer fen. No card number (masked or not) is stored in any of these tables.

-- The reversal record of a card sale: armed (durably) before the sale frame leaves the kiosk,
-- one per order at most (the primary key). `armed`: nothing definite heard about the sale, no
-- new sale may be sent; `answered`: the sale was approved or declined, or its reversal answered;
-- `refused`: the terminal declined the reversal (kept for the order's own retries and staff);
-- `settled`: closed by the payment's journaled outcome (staff, statements), not sent.
CREATE TABLE card_reversals (
    payment_id TEXT    PRIMARY KEY NOT NULL REFERENCES payments (id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    armed_at   INTEGER NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('armed', 'answered', 'refused', 'settled')),
    -- The terminal's words (response code and message) or why the kiosk settled it.
    detail     TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
) STRICT;

-- What blocks the next sale: served by a partial index.
CREATE INDEX card_reversals_armed ON card_reversals (armed_at, payment_id) WHERE state = 'armed';

CREATE TRIGGER card_reversals_no_delete BEFORE DELETE ON card_reversals
BEGIN
    SELECT RAISE(ABORT, 'card reversal records are kept');
END;

-- A card purchase the terminal approved: what a void (voucher) and a refund (reference no.,
-- date) need. `void_state`: NULL none sent, `in_doubt` sent without an answer, `done`, `refused`.
CREATE TABLE card_purchases (
    payment_id  TEXT    PRIMARY KEY NOT NULL REFERENCES payments (id),
    amount_fen  INTEGER NOT NULL CHECK (amount_fen > 0),
    voucher     TEXT    NOT NULL,
    ref_no      TEXT    NOT NULL,
    txn_date    TEXT    NOT NULL,
    batch       TEXT    NOT NULL,
    auth_code   TEXT    NOT NULL,
    void_state  TEXT    CHECK (void_state IN ('in_doubt', 'done', 'refused')),
    recorded_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- The approval itself never changes; only its void does.
CREATE TRIGGER card_purchases_fixed BEFORE UPDATE ON card_purchases
WHEN NEW.payment_id IS NOT OLD.payment_id OR NEW.amount_fen IS NOT OLD.amount_fen
  OR NEW.voucher IS NOT OLD.voucher OR NEW.ref_no IS NOT OLD.ref_no OR NEW.txn_date IS NOT OLD.txn_date
  OR NEW.batch IS NOT OLD.batch OR NEW.auth_code IS NOT OLD.auth_code OR NEW.recorded_at IS NOT OLD.recorded_at
BEGIN
    SELECT RAISE(ABORT, 'an approved card purchase is recorded once');
END;

CREATE TRIGGER card_purchases_no_delete BEFORE DELETE ON card_purchases
BEGIN
    SELECT RAISE(ABORT, 'card purchases are kept');
END;

-- Refunds of a card purchase under our stable refund numbers, and where each stands.
CREATE TABLE card_refunds (
    payment_id TEXT    NOT NULL REFERENCES card_purchases (payment_id),
    refund_no  TEXT    NOT NULL CHECK (refund_no <> ''),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    state      TEXT    NOT NULL CHECK (state IN ('in_doubt', 'done', 'refused')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (payment_id, refund_no)
) STRICT;

CREATE TRIGGER card_refunds_fixed BEFORE UPDATE ON card_refunds
WHEN NEW.payment_id IS NOT OLD.payment_id OR NEW.refund_no IS NOT OLD.refund_no
  OR NEW.amount_fen IS NOT OLD.amount_fen OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'a card refund keeps its number and amount');
END;

CREATE TRIGGER card_refunds_no_delete BEFORE DELETE ON card_refunds
BEGIN
    SELECT RAISE(ABORT, 'card refunds are kept');
END;
