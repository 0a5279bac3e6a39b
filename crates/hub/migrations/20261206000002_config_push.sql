-- Configurations pushed to kiosks: every version kept, numbered per kiosk from 1, so the
-- console can show what was sent, by whom, and what the kiosk reports running.

CREATE TABLE kiosk_configs (
    kiosk_id  TEXT NOT NULL REFERENCES kiosks (id),
    version   BIGINT NOT NULL,
    body      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    pushed_by TEXT NOT NULL,
    pushed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The command that carries it to the kiosk.
    command_id BIGINT NOT NULL REFERENCES commands (id),
    PRIMARY KEY (kiosk_id, version)
);
