-- Reconciliation in the hub (issue 15): the three books compared over the central journal.

-- The merchant accounts whose statements the hub reads (a channel's mch_id, Alipay app id or
-- merId; a biller). A day's statement of a source is complete only when every account of that
-- source has its file of the day, fetched after the day was final. `fee_ppm`: the fee the
-- account agreed, parts per million of each charge; NULL leaves fees unchecked.
CREATE TABLE merchant_accounts (
    source   TEXT NOT NULL,
    merchant TEXT NOT NULL,
    fee_ppm  INTEGER CHECK (fee_ppm BETWEEN 0 AND 50000),
    PRIMARY KEY (source, merchant)
);

-- One reconciliation of an accounting day: what it read and what it found.
CREATE TABLE recon_runs (
    id         BIGSERIAL PRIMARY KEY,
    day        DATE NOT NULL,
    ran_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    matched    INTEGER NOT NULL,
    -- Differences reported by this run (new or still open), and those held in the pool.
    exceptions INTEGER NOT NULL,
    held       INTEGER NOT NULL,
    -- Payments in suspense the files settle: a command sent to their kiosk.
    settled    INTEGER NOT NULL,
    -- Every file read: source, merchant, day, sha256, whole; and those that could not be read.
    files      JSONB NOT NULL,
    -- Every account's file of the day and the next was read final, and nothing was unreadable:
    -- the schedule does not come back to this day.
    complete   BOOLEAN NOT NULL DEFAULT false,
    -- Payments matched, by statement source (`wechat`, …): the day's result per account.
    by_source  JSONB NOT NULL DEFAULT '{}'::jsonb
);

-- The scratch pool (kiosk_core::scratch_pool): differences a later day may still explain,
-- with the day each was first seen.
CREATE TABLE recon_pool (
    key TEXT PRIMARY KEY,
    day DATE NOT NULL
);

-- The exception desk: each difference once (by its key), with its evidence, until finance
-- resolves it. A resolution is recorded here and in the audit log; it never rewrites a journal.
CREATE TABLE recon_exceptions (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    day         DATE NOT NULL,
    order_ref   TEXT,
    kiosk_id    TEXT,
    -- The statement or biller file the difference is of (`wechat`, `biller:water`), if known.
    source      TEXT,
    detail      TEXT NOT NULL,
    -- The files (sha256, source, merchant, day) and the journal's latest transition of the order.
    evidence    JSONB NOT NULL,
    run_id      BIGINT NOT NULL REFERENCES recon_runs (id),
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution  TEXT,
    resolved_by TEXT,
    resolved_at TIMESTAMPTZ
);
CREATE INDEX recon_exceptions_open ON recon_exceptions (day) WHERE status = 'open';

-- When a stored version was last received: the same bytes fetched again after the day was final
-- confirm that the version in force is the final one.
ALTER TABLE statements ADD COLUMN confirmed_at TIMESTAMPTZ NOT NULL DEFAULT now();
-- Files stored before this column: received when they were fetched, not now.
UPDATE statements SET confirmed_at = fetched_at;
