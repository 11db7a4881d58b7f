-- What a map may say about an area it draws but the user does not hold whole (issue 12).
--
-- A grid worker's community map draws every grid of the community, but row-level security lets her
-- count only her own grid and read the grid_worker rows of her own grid alone. Summed over the rows
-- she sees, a neighbour's figures come out 0 and its worker list empty: a map then says "0 户" and
-- "未配备网格员" (no worker) about a grid that has hundreds of households and a worker. These
-- functions let a map tell "none" from "not yours to see": whether the user's scopes hold an area
-- whole, and how many workers serve each grid (a number, never a name).

-- Whether the acting user's scopes for these roles hold the whole area ``code`` (a code prefix: a
-- grid, community or street): its figures, summed over the rows she sees, are then the area's. The
-- same rule as the workbench's counts_whole (api/workbench/nav.py). The owner (migrations, the CLI)
-- holds everything.
CREATE FUNCTION access_holds(code text, roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT (SELECT access_caller_sees_all())
        OR EXISTS (SELECT 1 FROM unnest(access_scopes(roles)) s WHERE starts_with(code, s))
$$;

-- Per grid under ``prefix``: whether the acting user reads its register rows (admin, grid worker:
-- the households a map draws and links), whether she counts it (admin, grid worker, viewer: its
-- figures and its workers' names, as register_grid_counts() and the grid_worker_grid policy decide),
-- and how many grid workers and service-team members serve it. Only the grids of communities her
-- counting scopes reach (a street admin's street, a grid worker's community): a map of those shows
-- the grids, and nobody else learns who is staffed where.
CREATE FUNCTION map_grid_access(prefix text)
RETURNS TABLE (grid_code text, seen boolean, counted boolean, workers bigint, team bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
WITH me AS MATERIALIZED (  -- once per call, not once per grid
    SELECT access_caller_sees_all() AS everything, access_scopes('{admin,grid_worker}') AS reads,
           access_scopes('{admin,grid_worker,viewer}') AS counts
), w AS (
    SELECT wg.grid_code, count(*) FILTER (WHERE wg.role = 'worker') AS workers,
           count(*) FILTER (WHERE wg.role = 'team') AS team
    FROM grid_worker_grid wg WHERE starts_with(wg.grid_code, prefix) GROUP BY wg.grid_code
)
SELECT g.code,
       me.everything OR EXISTS (SELECT 1 FROM unnest(me.reads) s WHERE starts_with(g.code, s)),
       me.everything OR EXISTS (SELECT 1 FROM unnest(me.counts) s WHERE starts_with(g.code, s)),
       coalesce(w.workers, 0), coalesce(w.team, 0)
FROM me CROSS JOIN grid g
LEFT JOIN w ON w.grid_code = g.code
WHERE starts_with(g.code, prefix)
  AND (me.everything
       OR EXISTS (SELECT 1 FROM unnest(me.counts) s
                  WHERE starts_with(g.code, s) OR starts_with(s, g.community_code)))
$$;

GRANT EXECUTE ON FUNCTION access_holds(text, text[]), map_grid_access(text) TO gridmap_app;
