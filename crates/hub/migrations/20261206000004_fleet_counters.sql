-- The fleet's totals, kept per kiosk as its rows arrive: the console's summary then adds up one
-- row per kiosk instead of counting every transition on every page load.
ALTER TABLE kiosks
    ADD COLUMN transitions_held BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN payments_held    BIGINT NOT NULL DEFAULT 0;

UPDATE kiosks k SET
    transitions_held = (SELECT count(*) FROM transitions t WHERE t.kiosk_id = k.id),
    payments_held    = (SELECT count(DISTINCT payment_id) FROM transitions t WHERE t.kiosk_id = k.id);
