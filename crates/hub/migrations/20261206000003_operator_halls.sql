-- A hall supervisor answers for the kiosks of one hall: they command those and acknowledge their
-- alerts, and read the rest of the fleet like a viewer. NOT VALID: an account made before halls
-- were kept commands nothing until an admin sets its hall; a disabled one needs none (so that
-- such an account can still be disabled).
ALTER TABLE operators
    ADD COLUMN hall TEXT,
    ADD CONSTRAINT hall_supervisors_have_a_hall
        CHECK (role <> 'hall_supervisor' OR hall IS NOT NULL OR disabled_at IS NOT NULL) NOT VALID;
