-- Cash collections (清机): what each kiosk's journal says it took out of the box (from its
-- heartbeats, each collection kept once), and the amount finance counted out of the box.
-- Reconciliation compares the two (kiosk_core::recon::cash_count_flag).
CREATE TABLE cash_collections (
    kiosk_id      TEXT NOT NULL,
    -- The journal's collection number (one sequence per kiosk).
    collection_id BIGINT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    -- The Beijing accounting day of `at`: the run of that day compares it.
    day           DATE NOT NULL,
    staff_id      TEXT NOT NULL,
    notes         INTEGER NOT NULL CHECK (notes >= 0),
    journaled_fen BIGINT NOT NULL CHECK (journaled_fen >= 0),
    -- Notes of unknown value in the box, and notes held for staff that may be in it.
    unknown       INTEGER NOT NULL CHECK (unknown >= 0),
    uncertain     INTEGER NOT NULL CHECK (uncertain >= 0),
    -- Counted once; a recount is a resolution on the desk, with its reason.
    counted_fen   BIGINT CHECK (counted_fen >= 0),
    counted_by    TEXT,
    counted_at    TIMESTAMPTZ,
    PRIMARY KEY (kiosk_id, collection_id)
);
CREATE INDEX cash_collections_day ON cash_collections (day);
