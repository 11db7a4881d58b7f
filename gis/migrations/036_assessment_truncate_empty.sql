-- Evidence and submissions stay append-only (migration 027), but a TRUNCATE that removes nothing is
-- no removal: `gridmap demo --replace` (gis/demo/street.py clear_register) truncates the register's
-- tables with CASCADE, which reaches evidence_item and assessment_freeze through their references to
-- community even when they hold no row, and was refused. Now it is refused only when the table holds
-- a row (a demo with evidence or a submission still cannot be replaced: its evidence is kept).
CREATE OR REPLACE FUNCTION assessment_no_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    held boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO held;
    IF held THEN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END $$;
