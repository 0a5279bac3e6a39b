-- Statements and write-off files as received (issue 15): stored whole, with their SHA-256,
-- before anything parses them, so an exception's evidence can always be shown and re-checked.
-- A file fetched again with other bytes (a day's file that grew before it was final) is another
-- row; the same bytes again are the same row.

CREATE TABLE statements (
    id         BIGSERIAL PRIMARY KEY,
    -- The account the file is of: a channel's merchant id, a biller's name.
    merchant   TEXT NOT NULL,
    -- What the file is (kiosk_core::recon::Source's code, or `biller:<utility>`).
    source     TEXT NOT NULL,
    -- The Beijing accounting day it covers.
    day        DATE NOT NULL,
    body       BYTEA NOT NULL,
    sha256     TEXT NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (merchant, source, day, sha256)
);
