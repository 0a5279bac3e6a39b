-- The fleet hub's schema: kiosks and their identities, the central journal, alerts, commands,
-- the audit log. Times are TIMESTAMPTZ; money in the journal stays integer fen inside the
-- snapshots, exactly as each kiosk chained it.

CREATE TABLE kiosks (
    id                 TEXT PRIMARY KEY,
    hall               TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- SHA-256 (hex) of the one-time pairing code; NULL once used or never issued.
    pairing_code_hash  TEXT,
    pairing_expires_at TIMESTAMPTZ,
    paired_at          TIMESTAMPTZ,
    revoked_at         TIMESTAMPTZ,
    last_seen_at       TIMESTAMPTZ,
    last_heartbeat     JSONB,
    -- The journal the central copy belongs to (journal_meta.journal_id on the kiosk).
    journal_id         TEXT,
    -- Highest seq held, and the head the kiosk last reported.
    stored_through     BIGINT NOT NULL DEFAULT 0,
    reported_head_seq  BIGINT NOT NULL DEFAULT 0,
    -- The chain is verified up to here; 'broken' stops the walk until an operator looks.
    verified_seq       BIGINT NOT NULL DEFAULT 0,
    verified_hash      TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    chain_state        TEXT NOT NULL DEFAULT 'intact' CHECK (chain_state IN ('intact', 'broken'))
);

-- Client certificates the hub signed, by SHA-256 of their DER. A request is a kiosk's only if
-- its certificate is here, not revoked, and the kiosk is not revoked.
CREATE TABLE kiosk_certificates (
    fingerprint TEXT PRIMARY KEY,
    kiosk_id    TEXT NOT NULL REFERENCES kiosks (id),
    issued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);

-- The central journal: every kiosk's chained transitions, as shipped. (kiosk_id, seq) is unique,
-- so a batch sent twice is stored once.
CREATE TABLE transitions (
    kiosk_id    TEXT NOT NULL REFERENCES kiosks (id),
    seq         BIGINT NOT NULL,
    payment_id  TEXT NOT NULL,
    at_ms       BIGINT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    event       TEXT NOT NULL,
    effects     TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kiosk_id, seq)
);
CREATE INDEX transitions_by_payment ON transitions (payment_id);

-- Rows a kiosk offered that contradict what the hub holds (a fork): kept as evidence, never
-- written over the central copy.
CREATE TABLE chain_conflicts (
    id           BIGSERIAL PRIMARY KEY,
    kiosk_id     TEXT NOT NULL REFERENCES kiosks (id),
    seq          BIGINT NOT NULL,
    held_hash    TEXT NOT NULL,
    offered_hash TEXT NOT NULL,
    -- The row as offered, whole: the other history's payments are not lost to the hub.
    offered_row  JSONB,
    journal_id   TEXT NOT NULL,
    seen_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (kiosk_id, seq, offered_hash)
);

CREATE TABLE alerts (
    id           BIGSERIAL PRIMARY KEY,
    kiosk_id     TEXT NOT NULL REFERENCES kiosks (id),
    kind         TEXT NOT NULL,
    -- What within the kiosk: a device, an order reference, a seq range; '' for the kiosk.
    subject      TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL,
    opened_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    occurrences  INTEGER NOT NULL DEFAULT 1,
    cleared_at   TIMESTAMPTZ,
    acked_at     TIMESTAMPTZ,
    acked_by     TEXT
);
-- De-duplication: one open alert per kiosk, kind and subject.
CREATE UNIQUE INDEX alerts_open_once ON alerts (kiosk_id, kind, subject) WHERE cleared_at IS NULL;
CREATE INDEX alerts_recent ON alerts (opened_at DESC);

-- Hysteresis: how many observations in a row found a condition, or found it gone.
CREATE TABLE alert_streaks (
    kiosk_id    TEXT NOT NULL REFERENCES kiosks (id),
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    bad_streak  INTEGER NOT NULL DEFAULT 0,
    good_streak INTEGER NOT NULL DEFAULT 0,
    detail      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kiosk_id, kind, subject)
);

-- Alert notifications waiting for the webhook (the outbox pattern again).
CREATE TABLE webhook_outbox (
    id              BIGSERIAL PRIMARY KEY,
    payload         JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at    TIMESTAMPTZ,
    last_error      TEXT
);
CREATE INDEX webhook_pending ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- Operator commands to kiosks: queued, delivered with a heartbeat's answer, acknowledged.
CREATE TABLE commands (
    id           BIGSERIAL PRIMARY KEY,
    kiosk_id     TEXT NOT NULL REFERENCES kiosks (id),
    operator     TEXT NOT NULL,
    action       JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ,
    acked_at     TIMESTAMPTZ,
    done         BOOLEAN,
    detail       TEXT
);
CREATE INDEX commands_waiting ON commands (kiosk_id, id) WHERE acked_at IS NULL;

-- Everything an operator (or the hub on an operator's behalf) did.
CREATE TABLE audit_log (
    id     BIGSERIAL PRIMARY KEY,
    at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail JSONB NOT NULL DEFAULT '{}'::jsonb
);
