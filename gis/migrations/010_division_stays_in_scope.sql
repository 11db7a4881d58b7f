-- The division cannot take a register over (issue 10, class 2).
--
-- Households are placed by geometry (grid_for_point: the lowest code wins), so whoever draws a grid
-- decides where households go. Until now a community admin could draw a grid of its own code over a
-- neighbouring community, and 007's SECURITY DEFINER trigger then moved the neighbour's households
-- (key persons included) into it the next time the neighbour edited a grid. Three rules close that:
--
-- 1. A grid lies within its community, and a community cannot be redrawn to leave its grids outside
--    or to reach into communities outside the writer's scope: within division_tolerance_m() on the
--    ground (digitising noise along shared edges), checked by constraint triggers.
-- 2. Re-placing households has one home, replace_households(area), run with the rights of the user
--    who caused it: row-level security decides which households it may touch (those the user may
--    write), and a move that would take a household out of the user's reach is refused by the
--    policies' WITH CHECK instead of being done with the owner's rights.
-- 3. Grid triggers call it: before a grid is deleted (its households are still the deleter's to
--    see and write) and after boundaries change. The API's grid creation and the grids import call it
--    after inserting.

-- Digitising noise tolerated where a grid meets its community's edge, in metres on the ground.
CREATE FUNCTION division_tolerance_m() RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 1.0::double precision $$;

-- True when some point of ``part`` lies farther than the tolerance from ``whole``. The exact test
-- answers most cases; only a part that crosses the edge pays for the buffer (about 0.5 ms for an
-- 800-vertex community). A buffer, not a shrunken part: a grid may not reach through a thin
-- corridor or fill a hole of its community (an enclave), whatever its width.
CREATE FUNCTION division_reaches_beyond(part geometry, whole geometry) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT NOT ST_Covers(whole, part)
       AND NOT ST_Covers(ST_Buffer(whole::geography, division_tolerance_m())::geometry, part)
$$;

-- The placement rule, in one place, with the grids that are about to go (``leaving``) left out: a grid
-- being deleted still exists while its households are re-placed (see grid_left_replace_households).
CREATE FUNCTION grid_for_point(p geometry, leaving text[])
RETURNS TABLE (grid_code text, placement grid_placement)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT min(g.code),
           CASE WHEN count(*) = 0 THEN 'outside'::grid_placement
                WHEN count(*) > 1 OR bool_or(NOT ST_Contains(g.geom, p)) THEN 'border'::grid_placement
                ELSE 'inside'::grid_placement END
    FROM grid g
    WHERE ST_Intersects(g.geom, p) AND g.code <> ALL (leaving)
$$;

-- Same answers as 006; still a single SELECT, so the planner inlines both levels into the caller's
-- LATERAL join.
CREATE OR REPLACE FUNCTION grid_for_point(p geometry)
RETURNS TABLE (grid_code text, placement grid_placement)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT * FROM grid_for_point(p, '{}'::text[])
$$;

-- Place the households in ``area`` again (all of them that the acting user may write), leaving out the
-- grids in ``leaving``. Only rows whose placement changes are written; the number written is returned.
--
-- Invoker rights on purpose: as the service role, row-level security limits the UPDATE to households
-- the user may write, and a new placement the user may not write (a grid outside their scope) fails
-- the policy's WITH CHECK, which refuses the whole write. Dynamic SQL: planned with the actual area,
-- so one grid's edit probes the household index and a city-wide import scans the table.
CREATE FUNCTION replace_households(area geometry, leaving text[] DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    written bigint;
BEGIN
    IF area IS NULL OR ST_IsEmpty(area) THEN
        RETURN 0;
    END IF;
    EXECUTE $sql$
        UPDATE household h SET grid_code = p.grid_code, placement = p.placement, updated_at = now()
        FROM (SELECT x.id, g.grid_code, g.placement
              FROM household x CROSS JOIN LATERAL grid_for_point(x.geom, $2) g
              WHERE ST_Intersects(x.geom, $1)) p
        WHERE h.id = p.id
          AND (h.grid_code IS DISTINCT FROM p.grid_code OR h.placement IS DISTINCT FROM p.placement)
    $sql$ USING ST_SetSRID(area, 4326), coalesce(leaving, '{}');
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'placing the households of this area again would leave some outside your scope'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'they fall in a grid (or, outside every grid, a community) that is not yours: '
                     'an admin over both must make this change';
END $$;

-- 007's trigger re-placed households with the owner's rights: gone, with its function.
DROP TRIGGER grid_deleted_replace_households ON grid;
DROP TRIGGER grid_changed_replace_households ON grid;
DROP FUNCTION replace_households_of_grids();

-- A grid's code is its identity (households, workers and the scope policies refer to it): a grid of
-- another code is a new grid. Changing it in place would also hide its households from a scoped
-- admin before they could be placed again.
CREATE FUNCTION grid_code_is_fixed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    RAISE EXCEPTION 'the code of grid % cannot change: create the new grid and delete this one', OLD.code
        USING ERRCODE = 'check_violation', CONSTRAINT = 'grid_code_is_fixed', TABLE = 'grid',
              COLUMN = 'code', SCHEMA = 'public';
END $$;
CREATE TRIGGER grid_code_is_fixed BEFORE UPDATE OF code ON grid
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION grid_code_is_fixed();

-- Before a grid goes, its households are placed as if it were gone. Before, not after: a scoped
-- admin's policies find households through the grids that exist, so after the delete they would no
-- longer see (nor write) the households of the grid they deleted. Row by row: deletes are few.
CREATE FUNCTION grid_left_replace_households() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM replace_households(OLD.geom, ARRAY[OLD.code]);
    RETURN OLD;
END $$;
CREATE TRIGGER grid_left_replace_households BEFORE DELETE ON grid
    FOR EACH ROW EXECUTE FUNCTION grid_left_replace_households();

-- After boundaries change: households in the old or the new boundary of each grid that moved, once
-- per statement (a transition table rules out a column list: an update of names finds nothing moved).
CREATE FUNCTION grid_moved_replace_households() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    area geometry;
BEGIN
    SELECT ST_Union(ST_Union(o.geom, n.geom)) INTO area
    FROM old_grids o JOIN new_grids n ON n.code = o.code
    WHERE o.geom IS DISTINCT FROM n.geom;  -- = is exact equality of coordinates (PostGIS >= 2.4)
    PERFORM replace_households(area);
    RETURN NULL;
END $$;
CREATE TRIGGER grid_moved_replace_households AFTER UPDATE ON grid
    REFERENCING OLD TABLE AS old_grids NEW TABLE AS new_grids
    FOR EACH STATEMENT EXECUTE FUNCTION grid_moved_replace_households();

-- Rule 1, from the grid's side. DEFERRABLE: a transaction redrawing a community and its grids
-- together may SET CONSTRAINTS ... DEFERRED and be checked at commit.
CREATE FUNCTION grid_within_community() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM community c
               WHERE c.code = NEW.community_code AND division_reaches_beyond(NEW.geom, c.geom)) THEN
        RAISE EXCEPTION 'grid % reaches more than % m outside its community %',
                        NEW.code, division_tolerance_m(), NEW.community_code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grid_within_community', TABLE = 'grid',
                  COLUMN = 'geom', SCHEMA = 'public';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER grid_within_community AFTER INSERT OR UPDATE OF geom, community_code ON grid
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION grid_within_community();

-- Rule 1, from the community's side: a new boundary must still hold every grid of the community.
CREATE FUNCTION community_holds_its_grids() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    outside text;
BEGIN
    SELECT string_agg(g.code, ', ' ORDER BY g.code) INTO outside
    FROM grid g WHERE g.community_code = NEW.code AND division_reaches_beyond(g.geom, NEW.geom);
    IF outside IS NOT NULL THEN
        RAISE EXCEPTION 'the new boundary of community % leaves its grids % more than % m outside',
                        NEW.code, outside, division_tolerance_m()
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grid_within_community', TABLE = 'community',
                  COLUMN = 'geom', SCHEMA = 'public';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER community_holds_its_grids AFTER UPDATE OF geom ON community
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION community_holds_its_grids();

-- A community drawn by a scoped writer (row-level security applies to them) may not reach more than
-- the tolerance into a community outside their scope: else rule 1 would hold for a grid drawn over
-- the neighbour after stretching one's own community over it first. The owner (migrations, the CLI)
-- and an admin of everything are not held to it: the whole city is theirs to draw.
-- The codes of the communities ``area`` (the boundary of community ``own``) reaches into, or NULL.
CREATE FUNCTION community_reaches_out_of_scope(area geometry, own text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT string_agg(o.code, ', ' ORDER BY o.code)
    FROM community o
    WHERE row_security_active('community') AND NOT access_all('{admin}')
      AND o.code <> own AND ST_Intersects(o.geom, area) AND NOT access_covers(o.code, '{admin}')
      AND ST_Intersects(area, ST_Buffer(o.geom::geography, -division_tolerance_m())::geometry)
$$;

CREATE FUNCTION community_within_scope() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    reached text := community_reaches_out_of_scope(NEW.geom, NEW.code);
BEGIN
    IF reached IS NOT NULL THEN
        RAISE EXCEPTION 'community % reaches more than % m into community % outside your scope',
                        NEW.code, division_tolerance_m(), reached
            USING ERRCODE = 'check_violation', CONSTRAINT = 'community_within_scope', TABLE = 'community',
                  COLUMN = 'geom', SCHEMA = 'public';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER community_within_scope AFTER INSERT OR UPDATE OF geom ON community
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION community_within_scope();

-- Whether the acting user may change the division at this point: true for the owner and an admin of
-- everything; else the point's grid (the one placement gives it) must be in the user's admin scope,
-- or, outside every grid, a community of their scope must hold it. Used to refuse imports of
-- buildings outside the importer's scope, with the rows named.
CREATE FUNCTION division_point_in_scope(p geometry) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT NOT row_security_active('grid') OR access_all('{admin}')
        OR (SELECT CASE WHEN g.grid_code IS NOT NULL THEN access_covers(g.grid_code, '{admin}')
                        ELSE EXISTS (SELECT 1 FROM community c
                                     WHERE ST_Intersects(c.geom, p) AND access_covers(c.code, '{admin}'))
                   END
            FROM grid_for_point(p) g)
$$;

GRANT EXECUTE ON FUNCTION division_tolerance_m(), division_reaches_beyond(geometry, geometry),
    grid_for_point(geometry, text[]), replace_households(geometry, text[]),
    community_reaches_out_of_scope(geometry, text), division_point_in_scope(geometry) TO gridmap_app;
