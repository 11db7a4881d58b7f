-- Who reads the register, decided for all of a user's roles together (issue 10).
--
-- 1. Viewers get counts, never rows. The row policies of 005 let a viewer's scope reach household and
--    person rows "for the counts", and the API then relied on the route policy to keep viewers away
--    from the rows; but a user holding a viewer grant and a grid worker's grant passed the route
--    policy as a worker and read (unmasked, exported) every row of the viewer's street. Rows are now
--    read by the register roles (admin, grid worker) of their scopes only; the statistics come from
--    register_grid_counts(), a SECURITY DEFINER function that returns aggregates per grid, never rows.
-- 2. A household outside every grid belongs to the admins whose scope covers the community its point
--    lies in (as /communities/{code}/unplaced decides), not to every admin of the city.
-- 3. A key person (重点人员) written in the same statement as their person row (create a person who is
--    a key person; import persons) was refused to scoped users: the policy's lookup of the person
--    cannot see a row the same statement inserted. The insert's scope is checked after the statement.

-- Ungridded households are few; this index finds those inside a community without scanning the rest.
CREATE INDEX household_ungridded_geom_idx ON household USING gist (geom) WHERE grid_code IS NULL;

-- The households outside every grid that lie in a community under the acting user's admin scopes
-- (only admins hold ungridded households: other roles in ``roles`` add nothing). An admin of everything
-- is answered by access_all() in the policies, so the scope '' is not expanded here.
CREATE FUNCTION access_ungridded(roles text[]) RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(DISTINCT h.id), '{}')
    FROM community c
    JOIN household h ON h.grid_code IS NULL AND ST_Intersects(c.geom, h.geom)
    WHERE 'admin' = ANY (roles)
      AND EXISTS (SELECT 1 FROM unnest(access_scopes('{admin}')) s WHERE s <> '' AND starts_with(c.code, s))
$$;

-- Whether a point outside every grid lies in a community under the acting user's admin scopes (no
-- admin grant: false at once, without looking at a community).
CREATE FUNCTION access_ungridded_point(p geometry) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (
        SELECT 1 FROM unnest(access_scopes('{admin}')) s
        JOIN community c ON starts_with(c.code, s) AND ST_Intersects(c.geom, p)
        WHERE s <> '')
$$;

CREATE OR REPLACE FUNCTION access_households(roles text[]) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT h.id FROM household h WHERE h.grid_code = ANY (access_grids(roles))
    UNION ALL
    SELECT unnest(access_ungridded(roles))
$$;

-- Register rows: read and written by admins and grid workers of the grid; no viewer. A household
-- outside every grid is tested by its point (few rows, each a lookup in the community index), not by
-- membership in access_ungridded(): a row being inserted is not in that set yet, and INSERT ... RETURNING
-- must pass the read policy too.
DROP POLICY household_read ON household;
DROP POLICY household_insert ON household;
DROP POLICY household_update ON household;
DROP POLICY household_delete ON household;
CREATE POLICY household_read ON household FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND access_ungridded_point(geom)));
CREATE POLICY household_insert ON household FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND access_ungridded_point(geom)));
CREATE POLICY household_update ON household FOR UPDATE TO gridmap_app
USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND access_ungridded_point(geom)))
WITH CHECK (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND access_ungridded_point(geom)));
CREATE POLICY household_delete ON household FOR DELETE TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
    OR (grid_code IS NULL AND access_ungridded_point(geom)));

DROP POLICY person_read ON person;
CREATE POLICY person_read ON person FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR household_id IN (SELECT access_households('{admin,grid_worker}')));

-- Key persons: read, changed and removed in the scope of their person; inserted by a register role,
-- the person's scope checked by the trigger below once the statement has written its rows.
DROP POLICY key_person_access ON key_person;
CREATE POLICY key_person_read ON key_person FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR person_id IN (SELECT access_persons('{admin,grid_worker}')));
CREATE POLICY key_person_insert ON key_person FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_any('{admin,grid_worker}')));
CREATE POLICY key_person_update ON key_person FOR UPDATE TO gridmap_app
USING ((SELECT access_all('{admin,grid_worker}'))
       OR person_id IN (SELECT access_persons('{admin,grid_worker}')))
WITH CHECK ((SELECT access_all('{admin,grid_worker}'))
            OR person_id IN (SELECT access_persons('{admin,grid_worker}')));
CREATE POLICY key_person_delete ON key_person FOR DELETE TO gridmap_app USING (
    (SELECT access_all('{admin,grid_worker}'))
    OR person_id IN (SELECT access_persons('{admin,grid_worker}')));

-- Runs after the inserting statement, so it sees the person rows that statement wrote (a policy does
-- not). Not SECURITY DEFINER: row_security_active() must speak of the role that inserted; the owner
-- (migrations, the CLI) is not subject to row-level security and is not checked.
CREATE FUNCTION key_person_insert_in_scope() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF row_security_active('key_person') AND NOT access_all('{admin,grid_worker}') AND EXISTS (
        SELECT 1 FROM new_rows n
        WHERE n.person_id NOT IN (SELECT access_persons('{admin,grid_worker}'))) THEN
        RAISE EXCEPTION 'new row violates row-level security policy for table "key_person"'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER key_person_insert_in_scope AFTER INSERT ON key_person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION key_person_insert_in_scope();

-- Whether the role that called is exempt from row-level security: the owner (migrations, the CLI) or
-- a superuser. Inside a SECURITY DEFINER function current_user is the definer; the caller is the role
-- set by SET ROLE, else the one that logged in.
CREATE FUNCTION access_caller_sees_all() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(bool_or(r.rolsuper OR r.rolbypassrls OR pg_has_role(r.oid, c.relowner, 'USAGE')), false)
    FROM pg_roles r, pg_class c
    WHERE r.rolname = CASE current_setting('role') WHEN 'none' THEN session_user::text
                                                  ELSE current_setting('role') END
      AND c.oid = 'public.household'::regclass
$$;

-- The register's figures per grid (grid_code NULL: households outside every grid), for the grids
-- under ``prefix`` ('' = all, and then the ungridded too), counted over what the acting user may count:
-- the scopes of all their roles that see counts (admin, grid worker, viewer); key persons only where
-- one of their roles may see key persons (admin, grid worker). Aggregates only: never a row of a
-- household or person, so a viewer's scope yields numbers and nothing else.
CREATE FUNCTION register_grid_counts(prefix text DEFAULT '')
RETURNS TABLE (grid_code text, households bigint, border_households bigint, poverty_households bigint,
               persons bigint, registered bigint, floating bigint, employed bigint, unemployed bigint,
               retired bigint, student bigint, preschool bigint, other bigint, unknown bigint,
               key_persons bigint, poverty_persons bigint, elderly_alone bigint, disabled bigint,
               activists bigint, volunteers bigint, key_persons_by_category jsonb, poverty_by_status jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
WITH h AS (
    SELECT h.id, coalesce(h.grid_code, '') AS grid, h.placement,
           (SELECT access_caller_sees_all()) OR (SELECT access_all('{admin,grid_worker}'))
           OR h.grid_code = ANY ((SELECT access_grids('{admin,grid_worker}'))::text[])
           OR (h.grid_code IS NULL AND h.id = ANY ((SELECT access_ungridded('{admin}'))::bigint[]))
           AS key_persons_seen
    FROM household h
    WHERE starts_with(coalesce(h.grid_code, ''), prefix)
      AND ((SELECT access_caller_sees_all()) OR (SELECT access_all('{admin,grid_worker,viewer}'))
           OR h.grid_code = ANY ((SELECT access_grids('{admin,grid_worker,viewer}'))::text[])
           OR (h.grid_code IS NULL AND h.id = ANY ((SELECT access_ungridded('{admin}'))::bigint[])))
),
p AS (
    SELECT h.grid, h.id AS household_id, pe.residence, pe.employment, pe.poverty, pe.elderly_alone,
           pe.disabled, pe.activist, pe.volunteer, CASE WHEN h.key_persons_seen THEN k.category END AS key_category
    FROM h JOIN person pe ON pe.household_id = h.id
    LEFT JOIN key_person k ON k.person_id = pe.id
),
hh AS (
    SELECT grid, count(*) AS households, count(*) FILTER (WHERE placement = 'border') AS border_households
    FROM h GROUP BY grid
),
pp AS (
    SELECT grid, count(*) AS persons,
           count(DISTINCT household_id) FILTER (WHERE poverty IS NOT NULL) AS poverty_households,
           count(*) FILTER (WHERE residence = 'registered') AS registered,
           count(*) FILTER (WHERE residence = 'floating') AS floating,
           count(*) FILTER (WHERE employment = 'employed') AS employed,
           count(*) FILTER (WHERE employment = 'unemployed') AS unemployed,
           count(*) FILTER (WHERE employment = 'retired') AS retired,
           count(*) FILTER (WHERE employment = 'student') AS student,
           count(*) FILTER (WHERE employment = 'preschool') AS preschool,
           count(*) FILTER (WHERE employment = 'other') AS other,
           count(*) FILTER (WHERE employment IS NULL) AS unknown,
           count(*) FILTER (WHERE key_category IS NOT NULL) AS key_persons,
           count(*) FILTER (WHERE poverty IS NOT NULL) AS poverty_persons,
           count(*) FILTER (WHERE elderly_alone) AS elderly_alone,
           count(*) FILTER (WHERE disabled) AS disabled,
           count(*) FILTER (WHERE activist) AS activists,
           count(*) FILTER (WHERE volunteer) AS volunteers
    FROM p GROUP BY grid
),
kc AS (
    SELECT grid, jsonb_object_agg(key_category, n) AS counts
    FROM (SELECT grid, key_category, count(*) AS n FROM p WHERE key_category IS NOT NULL
          GROUP BY grid, key_category) x
    GROUP BY grid
),
pc AS (
    SELECT grid, jsonb_object_agg(poverty, jsonb_build_object('persons', n, 'households', nh)) AS counts
    FROM (SELECT grid, poverty, count(*) AS n, count(DISTINCT household_id) AS nh FROM p
          WHERE poverty IS NOT NULL GROUP BY grid, poverty) x
    GROUP BY grid
)
SELECT nullif(hh.grid, ''), hh.households, hh.border_households, coalesce(pp.poverty_households, 0),
       coalesce(pp.persons, 0), coalesce(pp.registered, 0), coalesce(pp.floating, 0),
       coalesce(pp.employed, 0), coalesce(pp.unemployed, 0), coalesce(pp.retired, 0),
       coalesce(pp.student, 0), coalesce(pp.preschool, 0), coalesce(pp.other, 0), coalesce(pp.unknown, 0),
       coalesce(pp.key_persons, 0), coalesce(pp.poverty_persons, 0), coalesce(pp.elderly_alone, 0),
       coalesce(pp.disabled, 0), coalesce(pp.activists, 0), coalesce(pp.volunteers, 0),
       coalesce(kc.counts, '{}'), coalesce(pc.counts, '{}')
FROM hh
LEFT JOIN pp ON pp.grid = hh.grid
LEFT JOIN kc ON kc.grid = hh.grid
LEFT JOIN pc ON pc.grid = hh.grid
$$;

-- Households per grid only, for the maps' counts (the street map, the list of maps): the same rule as
-- register_grid_counts(), without the persons.
CREATE FUNCTION register_household_counts(prefix text DEFAULT '')
RETURNS TABLE (grid_code text, households bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT h.grid_code, count(*)
    FROM household h
    WHERE starts_with(coalesce(h.grid_code, ''), prefix)
      AND ((SELECT access_caller_sees_all()) OR (SELECT access_all('{admin,grid_worker,viewer}'))
           OR h.grid_code = ANY ((SELECT access_grids('{admin,grid_worker,viewer}'))::text[])
           OR (h.grid_code IS NULL AND h.id = ANY ((SELECT access_ungridded('{admin}'))::bigint[])))
    GROUP BY h.grid_code
$$;

GRANT EXECUTE ON FUNCTION access_ungridded(text[]), access_ungridded_point(geometry),
    access_caller_sees_all(), register_grid_counts(text), register_household_counts(text) TO gridmap_app;
