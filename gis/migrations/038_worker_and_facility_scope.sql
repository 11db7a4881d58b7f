-- Every write to grid_worker (网格员) by the service is checked against the acting admin's scope and
-- audited (issue 16's guards).
--
-- Until now grid_worker's write policy (005) let ANY admin, a street admin of another street included,
-- rename a worker, change her personal phone or delete her, with no audit entry; only the service phone
-- (035) and the account link (023) went through a checked, audited path. The rule is theirs
-- (admin_worker_target, 023): an admin may change a worker when every grid the worker serves lies
-- within her admin scopes; a worker serving no grid is an admin of everything's.
--
--   * UPDATE and DELETE: a policy over the workers the acting admin may change (access_admin_workers,
--     looked up as the owner: the service's own view of grid_worker_grid is cut by row-level security,
--     so it cannot tell by itself whether a worker also serves a grid outside the admin's sight);
--   * INSERT: any admin, but a scoped admin's worker is created with her grids in the same statement
--     (gis/division/workers.py and the import do so; grid_worker_grid's policy keeps the grids within
--     her scope): a worker serving no grid is an admin of everything's to create;
--   * the columns: the service updates name, phone and ref only (user_id is refused by 023's trigger);
--     the service phone and the account link change through 035's and 023's functions, which audit
--     themselves;
--   * the audit: one entry per worker and field changed ({field, old, new}, like 035; a personal phone
--     masked as everywhere it is shown), one per statement for inserts (the ids), one per worker deleted
--     (its name); the entry's area is the worker's grids, so the admins over them read it. The acting
--     account is stamped by audit_log_stamp (012).

-- The workers the acting admin may change: every grid they serve within her admin scopes. One pass over
-- the assignments per statement (the policies test `id IN (SELECT ...)`, a hashed subplan).
CREATE FUNCTION access_admin_workers() RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH admin AS (SELECT access_scopes('{admin}') AS scopes)
    SELECT wg.worker_id
    FROM admin CROSS JOIN grid_worker_grid wg
    WHERE cardinality(admin.scopes) > 0
    GROUP BY wg.worker_id, admin.scopes
    HAVING bool_and(admin_within(wg.grid_code, admin.scopes))
$$;
REVOKE EXECUTE ON FUNCTION access_admin_workers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access_admin_workers() TO gridmap_app;

DROP POLICY grid_worker_write ON grid_worker;
CREATE POLICY grid_worker_insert ON grid_worker FOR INSERT TO gridmap_app
    WITH CHECK ((SELECT access_any('{admin}')));
CREATE POLICY grid_worker_update ON grid_worker FOR UPDATE TO gridmap_app
USING ((SELECT access_all('{admin}')) OR id IN (SELECT access_admin_workers()))
WITH CHECK ((SELECT access_all('{admin}')) OR id IN (SELECT access_admin_workers()));
CREATE POLICY grid_worker_delete ON grid_worker FOR DELETE TO gridmap_app
USING ((SELECT access_all('{admin}')) OR id IN (SELECT access_admin_workers()));

-- (user_id stays granted: grid_worker_link_stamp (023) refuses the service's own change of it, saying
-- where the link is made)
REVOKE UPDATE ON grid_worker FROM gridmap_app;
GRANT UPDATE (name, phone, ref, user_id) ON grid_worker TO gridmap_app;

-- A phone as the pages show it (gis/codes.py mask_phone): the first 3 and last 4 digits.
CREATE FUNCTION audit_masked_phone(phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT CASE WHEN phone IS NULL OR phone = '' THEN phone
                WHEN length(phone) > 7 THEN left(phone, 3) || repeat('*', length(phone) - 7) || right(phone, 4)
                ELSE repeat('*', length(phone)) END
$$;

-- The grids of these workers, read as the owner (the entry's area).
CREATE FUNCTION audit_worker_grids(ids bigint[]) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(DISTINCT wg.grid_code ORDER BY wg.grid_code), '{}')
    FROM grid_worker_grid wg WHERE wg.worker_id = ANY (ids)
$$;
REVOKE EXECUTE ON FUNCTION audit_worker_grids(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_worker_grids(bigint[]) TO gridmap_app;

-- Inserts: one entry per statement; and a scoped admin's new worker serves a grid by the statement's
-- end (the links written beside it in the same statement are seen here: AFTER triggers run after it).
CREATE FUNCTION grid_worker_audit_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    ids bigint[];
BEGIN
    SELECT array_agg(n.id ORDER BY n.id) INTO ids FROM new_rows n;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT access_as_owner() AND NOT access_all('{admin}') AND EXISTS (
            SELECT 1 FROM unnest(ids) i WHERE NOT EXISTS (
                SELECT 1 FROM grid_worker_grid wg WHERE wg.worker_id = i)) THEN
        RAISE EXCEPTION 'a grid worker of your area is created with the grids she serves (grids)'
            USING ERRCODE = 'insufficient_privilege', COLUMN = 'grids';
    END IF;
    INSERT INTO audit_log (action, object, object_ids, row_count, detail, area)
    VALUES ('insert', 'grid_worker', ids, cardinality(ids),
            (SELECT jsonb_build_object('names', jsonb_agg(n.name ORDER BY n.id)) FROM new_rows n
             HAVING count(*) <= 100),  -- an import of thousands names its ids only
            audit_worker_grids(ids));
    RETURN NULL;
END $$;
CREATE TRIGGER grid_worker_audit_insert AFTER INSERT ON grid_worker REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grid_worker_audit_insert();

-- Updates: one entry per worker and field changed (name, personal phone masked, ref). The service phone
-- and the account link are audited by their own functions (035, 023) and not again here.
CREATE FUNCTION grid_worker_audit_update() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO audit_log (action, object, object_ids, row_count, detail, area)
    SELECT 'update', 'grid_worker', ARRAY[n.id], 1,
           jsonb_build_object('field', f.field, 'old', f.old, 'new', f.new), audit_worker_grids(ARRAY[n.id])
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    CROSS JOIN LATERAL (VALUES ('name', o.name, n.name, o.name, n.name),
                               ('phone', o.phone, n.phone, audit_masked_phone(o.phone),
                                audit_masked_phone(n.phone)),
                               ('ref', o.ref, n.ref, o.ref, n.ref)) f(field, was, now, old, new)
    WHERE f.was IS DISTINCT FROM f.now
    ORDER BY n.id, f.field;
    RETURN NULL;
END $$;
CREATE TRIGGER grid_worker_audit_update AFTER UPDATE ON grid_worker
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grid_worker_audit_update();

-- Deletes: one entry per worker, written before the row goes (its grids go with it, by the cascade).
CREATE FUNCTION grid_worker_audit_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO audit_log (action, object, object_ids, row_count, detail, area)
    VALUES ('delete', 'grid_worker', ARRAY[OLD.id], 1,
            jsonb_build_object('field', 'name', 'old', OLD.name, 'new', NULL), audit_worker_grids(ARRAY[OLD.id]));
    RETURN OLD;
END $$;
CREATE TRIGGER grid_worker_audit_delete BEFORE DELETE ON grid_worker
    FOR EACH ROW EXECUTE FUNCTION grid_worker_audit_delete();
