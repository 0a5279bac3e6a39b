-- Signed software packages and their roll-out by cohort (issue 16). The hub keeps the package
-- and the operator's signature as uploaded (it checked the signature then; every kiosk checks it
-- again); it never holds the signing key.

CREATE TABLE packages (
    package     TEXT NOT NULL,
    version     TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    signature   JSONB NOT NULL,
    body        BYTEA NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (package, version)
);

-- A roll-out offers one version to the fleet in stages: `cohorts` holds how many kiosks have
-- been offered it by the end of each stage (cumulative; 0 = every kiosk). It moves to the next
-- stage when every kiosk of this one is healthy on the new version, and stops by itself when
-- more than `max_failure_pct` of the kiosks offered it so far rolled back or refused it.
CREATE TABLE rollouts (
    id              BIGSERIAL PRIMARY KEY,
    package         TEXT NOT NULL,
    version         TEXT NOT NULL,
    cohorts         INTEGER[] NOT NULL,
    stage           INTEGER NOT NULL DEFAULT 0,
    max_failure_pct INTEGER NOT NULL CHECK (max_failure_pct BETWEEN 0 AND 100),
    state           TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'stopped', 'done')),
    reason          TEXT,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (package, version) REFERENCES packages (package, version)
);

-- One roll-out at a time: two would offer a kiosk two versions.
CREATE UNIQUE INDEX rollouts_one_running ON rollouts ((true)) WHERE state = 'running';

CREATE TABLE rollout_kiosks (
    rollout_id BIGINT NOT NULL REFERENCES rollouts (id),
    kiosk_id   TEXT NOT NULL REFERENCES kiosks (id),
    stage      INTEGER NOT NULL,
    command_id BIGINT NOT NULL REFERENCES commands (id),
    -- offered → installed (healthy on the version), or failed (refused, rolled back).
    state      TEXT NOT NULL DEFAULT 'offered' CHECK (state IN ('offered', 'installed', 'failed')),
    detail     TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (rollout_id, kiosk_id)
);
