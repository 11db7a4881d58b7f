-- The grid worker's public service phone (服务电话, migration 024) set by an admin over the worker's
-- area, and written to the audit log like the worker's account link (migration 023).
--
-- grid_worker's own write policy (005) lets any admin write any worker, and an admin of one street
-- reads only the grid assignments within her scope: the service cannot tell by itself whether every
-- grid the worker serves lies within that scope. This function can (SECURITY DEFINER, the same target
-- check as admin_worker_link: 404 unknown, 42501 when any of the worker's grids lies outside the
-- scope, a worker serving no grid is an admin of everything's). The number's format is judged by the
-- service (a Chinese mobile or landline, gis/division/workers.py) and again by 024's CHECK.
CREATE FUNCTION admin_worker_service_phone(worker bigint, new_phone text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    scopes text[] := admin_scopes_or_refuse();
    target record := admin_worker_target(worker, scopes);
    was text;
BEGIN
    SELECT w.service_phone INTO was FROM grid_worker w WHERE w.id = worker;
    IF was IS NOT DISTINCT FROM new_phone THEN
        RETURN false;
    END IF;
    UPDATE grid_worker w SET service_phone = new_phone WHERE w.id = worker;
    -- the entry's area: the worker's grids (the audit policy shows it to the admins over them)
    INSERT INTO audit_log (action, object, object_ids, row_count, detail, area)
    VALUES ('update', 'grid_worker', ARRAY[worker], 1,
            jsonb_build_object('field', 'service_phone', 'old', was, 'new', new_phone), target.grids);
    RETURN true;
END $$;

REVOKE EXECUTE ON FUNCTION admin_worker_service_phone(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_worker_service_phone(bigint, text) TO gridmap_app;

-- Which of the workers ``ids`` the acting admin may set the service phone of (the same rule as above):
-- the page offers the edit only there, so that no form leads to a refusal.
CREATE FUNCTION admin_worker_editable(ids bigint[]) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH admin AS (SELECT access_scopes('{admin}') AS scopes)
    SELECT w.id FROM admin CROSS JOIN grid_worker w
    WHERE w.id = ANY (ids) AND cardinality(admin.scopes) > 0
      AND ('' = ANY (admin.scopes)
           OR (EXISTS (SELECT 1 FROM grid_worker_grid wg WHERE wg.worker_id = w.id)
               AND NOT EXISTS (SELECT 1 FROM grid_worker_grid wg WHERE wg.worker_id = w.id
                               AND NOT admin_within(wg.grid_code, admin.scopes))))
$$;

REVOKE EXECUTE ON FUNCTION admin_worker_editable(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_worker_editable(bigint[]) TO gridmap_app;
