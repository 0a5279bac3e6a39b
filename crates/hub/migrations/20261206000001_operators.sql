-- Operator accounts of the console and their sessions.

CREATE TABLE operators (
    name          TEXT PRIMARY KEY,
    -- argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'hall_supervisor', 'finance', 'admin')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    disabled_at   TIMESTAMPTZ
);

-- A signed-in browser: the cookie holds the token, the table its SHA-256 (a database read does
-- not give away live sessions), and the CSRF token every form must carry back.
CREATE TABLE operator_sessions (
    token_hash TEXT PRIMARY KEY,
    operator   TEXT NOT NULL REFERENCES operators (name),
    csrf       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);
