-- The campaign's records kept to the reader's area (issue 16: "... and RLS like the rest").
--
-- Migration 025 narrowed duties, 门前三包 agreements and unmanaged compounds only for unit accounts:
-- an admin, planner or viewer of one street read (and the admins and planners wrote) every street's.
-- Here each of those records gets the community it belongs to, and the policies keep every area-scoped
-- role to the communities its scopes reach, as the register is kept to its grids:
--   * a compound: the community holding a point of its surface (ST_PointOnSurface, lowest code on a
--     border), the same rule as gis/compounds/placed.sql, so the list a street admin reads and the
--     coverage per street agree;
--   * a duty: its road section's community (road_section.community_code, or the community at the
--     section's midpoint when that is unset), or the community its post (a crossing) lies in;
--   * a frontage agreement: the community its shop's point lies in.
-- A record outside every community belongs to the nearest community (the nearest of the five nearest
-- by the index, on the ellipsoid; ties: lowest code), as a report outside every community goes to the
-- nearest community's street (migration 022): a compound drawn a few metres past the division's edge
-- stays its street planner's, instead of a row only the admins of everything could see or write. Only an
-- empty division leaves area_code NULL (then: the roles of everything, scope '').
-- Children follow their parent: duty records and photos the duty, checks the agreement, helpers and
-- tasks the compound. Units keep access_units(): their own duties, agreements and tasks wherever they
-- lie, and now also the compounds they help or helped (with the compounds of their grant's area).
--
-- The area is STORED (area_code, indexed), set by a trigger on every write of the record and re-set
-- when the division or a section's community changes (statement triggers below), so a policy is
-- `area_code = ANY ((SELECT campaign_areas(roles))::text[])`: the scalar subquery is an InitPlan run once
-- per statement (the pattern of access_grids(), migration 005), never a spatial lookup per row. A reader
-- of everything is answered by access_all() first and pays nothing more (benchmarks/bench_campaign_scope.py).
--
-- Migration 026 was checked: volunteer teams, members, activities, hours and honour lists are already
-- kept to their area (campaign_scope_seen, access_covers, the register's functions), facility and session
-- writes to the admins covering the facility's community or its owning unit. Facilities and their sessions
-- stay readable by every role on purpose: they are public places (a 道德讲堂 has its sign on the street,
-- like the division and road sections, which every role reads), and the facility check
-- (gis/facilities/check.sql) counts them per community: hidden facilities would make another street's
-- communities come out "too few, 0", a figure that is false rather than unknown.

ALTER TABLE compound ADD COLUMN area_code text;
ALTER TABLE duty ADD COLUMN area_code text;
ALTER TABLE frontage_agreement ADD COLUMN area_code text;
CREATE INDEX compound_area_idx ON compound (area_code);
CREATE INDEX duty_area_idx ON duty (area_code);
CREATE INDEX frontage_agreement_area_idx ON frontage_agreement (area_code);
COMMENT ON COLUMN compound.area_code IS 'the community holding a point of its surface (set by the database)';
COMMENT ON COLUMN duty.area_code IS 'the community of its section or post (set by the database)';
COMMENT ON COLUMN frontage_agreement.area_code IS 'the community of its shop''s point (set by the database)';

-- The community a point lies in (lowest code on a border); outside every community the nearest one.
CREATE FUNCTION campaign_community_at(p geometry) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT coalesce(
        (SELECT min(c.code) FROM community c WHERE ST_Intersects(c.geom, p)),
        (SELECT k.code FROM (SELECT c.code, c.geom FROM community c ORDER BY c.geom <-> p LIMIT 5) k
         ORDER BY ST_Distance(k.geom::geography, p::geography), k.code LIMIT 1))
$$;

-- A duty's community: its section's, else the community at the section's midpoint or at its post.
CREATE FUNCTION campaign_duty_area(section bigint, post geometry) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT CASE WHEN section IS NULL THEN campaign_community_at(post)
                ELSE (SELECT coalesce(s.community_code, campaign_community_at(ST_LineInterpolatePoint(s.geom, 0.5)))
                      FROM road_section s WHERE s.id = section) END
$$;

-- The area is the database's, whatever the insert or update says.
CREATE FUNCTION campaign_place() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_TABLE_NAME = 'compound' THEN
        NEW.area_code := campaign_community_at(ST_PointOnSurface(NEW.geom));
    ELSIF TG_TABLE_NAME = 'duty' THEN
        NEW.area_code := campaign_duty_area(NEW.section_id, NEW.post);
    ELSE
        NEW.area_code := campaign_community_at(NEW.geom);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER compound_place BEFORE INSERT OR UPDATE OF geom, area_code ON compound
    FOR EACH ROW EXECUTE FUNCTION campaign_place();
CREATE TRIGGER duty_place BEFORE INSERT OR UPDATE OF section_id, post, area_code ON duty
    FOR EACH ROW EXECUTE FUNCTION campaign_place();
CREATE TRIGGER frontage_agreement_place BEFORE INSERT OR UPDATE OF geom, area_code ON frontage_agreement
    FOR EACH ROW EXECUTE FUNCTION campaign_place();

-- Re-place every record whose area the division now answers differently: set-based, one statement per
-- table, only the rows that change are written. Division edits are rare; the records are thousands. A
-- section's community concerns the duties only (``duties_only``).
CREATE FUNCTION campaign_replace(duties_only boolean DEFAULT false) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE compound k SET area_code = n.area
    FROM (SELECT x.id, campaign_community_at(ST_PointOnSurface(x.geom)) AS area FROM compound x
          WHERE NOT duties_only) n
    WHERE k.id = n.id AND k.area_code IS DISTINCT FROM n.area;
    UPDATE duty d SET area_code = n.area
    FROM (SELECT x.id, campaign_duty_area(x.section_id, x.post) AS area FROM duty x) n
    WHERE d.id = n.id AND d.area_code IS DISTINCT FROM n.area;
    UPDATE frontage_agreement a SET area_code = n.area
    FROM (SELECT x.id, campaign_community_at(x.geom) AS area FROM frontage_agreement x
          WHERE NOT duties_only) n
    WHERE a.id = n.id AND a.area_code IS DISTINCT FROM n.area;
$$;
REVOKE EXECUTE ON FUNCTION campaign_replace(boolean) FROM PUBLIC;

CREATE FUNCTION campaign_division_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM campaign_replace(TG_TABLE_NAME = 'road_section');
    RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION campaign_division_changed() FROM PUBLIC;
CREATE TRIGGER community_campaign_replace AFTER INSERT OR DELETE OR UPDATE OF code, geom ON community
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_division_changed();
CREATE TRIGGER road_section_campaign_replace AFTER UPDATE OF community_code, geom ON road_section
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_division_changed();

SELECT campaign_replace();

-- The communities the acting user's scopes for these roles reach: those under a scope, and the community
-- of a grid-level scope (a grid's planner or worker acts for her community's campaign records, as
-- campaign_scope_seen() lets her see her community's teams). '' is answered by access_all() and not
-- expanded here. Policies call it as a scalar subquery (an InitPlan, once per statement).
CREATE FUNCTION campaign_areas(roles text[]) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(c.code), '{}')
    FROM community c
    WHERE EXISTS (SELECT 1 FROM unnest(access_scopes(roles)) s
                  WHERE s <> '' AND (starts_with(c.code, s) OR starts_with(s, c.code)))
$$;

-- The compounds the acting user's units help or helped (read as the owner: the helper table's own
-- policy reads compound, whose policy calls this).
CREATE FUNCTION campaign_unit_compounds() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(DISTINCT h.compound_id), '{}')
    FROM compound_helper h WHERE h.unit_id = ANY (access_units())
$$;
REVOKE EXECUTE ON FUNCTION campaign_areas(text[]), campaign_unit_compounds(), campaign_community_at(geometry),
    campaign_duty_area(bigint, geometry) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION campaign_areas(text[]), campaign_unit_compounds(), campaign_community_at(geometry),
    campaign_duty_area(bigint, geometry) TO gridmap_app;

-- ---------------------------------------------------------------------------------------------- duties
DROP POLICY duty_read ON duty;
DROP POLICY duty_insert ON duty;
DROP POLICY duty_update ON duty;
CREATE POLICY duty_read ON duty FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,planner,viewer}'))
    OR area_code = ANY ((SELECT campaign_areas('{admin,planner,viewer}'))::text[])
    OR unit_id = ANY ((SELECT access_units())::bigint[]));
CREATE POLICY duty_insert ON duty FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_all('{admin,planner}'))
    OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]));
-- moved (another section or post) only within the writer's area: WITH CHECK judges the new place
CREATE POLICY duty_update ON duty FOR UPDATE TO gridmap_app
    USING ((SELECT access_all('{admin,planner}'))
           OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]))
    WITH CHECK ((SELECT access_all('{admin,planner}'))
                OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]));

-- a day is recorded by the admins and planners of the duty's area, or by its unit's accounts
DROP POLICY duty_record_insert ON duty_record;
CREATE POLICY duty_record_insert ON duty_record FOR INSERT TO gridmap_app WITH CHECK (
    duty_id IN (SELECT d.id FROM duty d
                WHERE (SELECT access_all('{admin,planner}'))
                   OR d.area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[])
                   OR d.unit_id = ANY ((SELECT access_units())::bigint[])));

-- ------------------------------------------------------------------------------------------- 门前三包
DROP POLICY frontage_agreement_read ON frontage_agreement;
DROP POLICY frontage_agreement_insert ON frontage_agreement;
DROP POLICY frontage_agreement_update ON frontage_agreement;
CREATE POLICY frontage_agreement_read ON frontage_agreement FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,planner,viewer,inspector}'))
    OR area_code = ANY ((SELECT campaign_areas('{admin,planner,viewer,inspector}'))::text[])
    OR unit_id = ANY ((SELECT access_units())::bigint[]));
CREATE POLICY frontage_agreement_insert ON frontage_agreement FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_all('{admin,planner}'))
    OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]));
CREATE POLICY frontage_agreement_update ON frontage_agreement FOR UPDATE TO gridmap_app
    USING ((SELECT access_all('{admin,planner}'))
           OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]))
    WITH CHECK ((SELECT access_all('{admin,planner}'))
                OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]));

DROP POLICY frontage_check_insert ON frontage_check;
CREATE POLICY frontage_check_insert ON frontage_check FOR INSERT TO gridmap_app WITH CHECK (
    agreement_id IN (SELECT a.id FROM frontage_agreement a
                     WHERE (SELECT access_all('{admin,planner,inspector}'))
                        OR a.area_code = ANY ((SELECT campaign_areas('{admin,planner,inspector}'))::text[])));

-- ------------------------------------------------------------------------------------------- compounds
DROP POLICY compound_read ON compound;
DROP POLICY compound_insert ON compound;
DROP POLICY compound_update ON compound;
CREATE POLICY compound_read ON compound FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,planner,viewer,unit}'))
    OR area_code = ANY ((SELECT campaign_areas('{admin,planner,viewer,unit}'))::text[])
    OR id = ANY ((SELECT campaign_unit_compounds())::bigint[]));
CREATE POLICY compound_insert ON compound FOR INSERT TO gridmap_app WITH CHECK (
    (SELECT access_all('{admin,planner}'))
    OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]));
CREATE POLICY compound_update ON compound FOR UPDATE TO gridmap_app
    USING ((SELECT access_all('{admin,planner}'))
           OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]))
    WITH CHECK ((SELECT access_all('{admin,planner}'))
                OR area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]));

-- helpers: with the compound (its history is no personal data); paired and ended by its area's writers
DROP POLICY compound_helper_read ON compound_helper;
DROP POLICY compound_helper_insert ON compound_helper;
DROP POLICY compound_helper_update ON compound_helper;
CREATE POLICY compound_helper_read ON compound_helper FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,planner,viewer,unit}'))
    OR compound_id IN (SELECT k.id FROM compound k));  -- the compound's own policy decides
CREATE POLICY compound_helper_insert ON compound_helper FOR INSERT TO gridmap_app WITH CHECK (
    compound_id IN (SELECT k.id FROM compound k
                    WHERE (SELECT access_all('{admin,planner}'))
                       OR k.area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[])));
CREATE POLICY compound_helper_update ON compound_helper FOR UPDATE TO gridmap_app USING (
    compound_id IN (SELECT k.id FROM compound k
                    WHERE (SELECT access_all('{admin,planner}'))
                       OR k.area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[])));

DROP POLICY compound_task_read ON compound_task;
DROP POLICY compound_task_insert ON compound_task;
CREATE POLICY compound_task_read ON compound_task FOR SELECT TO gridmap_app USING (
    (SELECT access_all('{admin,planner,viewer}'))
    OR compound_id IN (SELECT k.id FROM compound k
                       WHERE k.area_code = ANY ((SELECT campaign_areas('{admin,planner,viewer}'))::text[]))
    OR unit_id = ANY ((SELECT access_units())::bigint[]));
-- a unit records tasks only in its own name and only while it is the compound's helper that day; the
-- admins and planners of the compound's area in the helper's name
CREATE POLICY compound_task_insert ON compound_task FOR INSERT TO gridmap_app WITH CHECK (
    ((SELECT access_all('{admin,planner}'))
     OR compound_id IN (SELECT k.id FROM compound k
                        WHERE k.area_code = ANY ((SELECT campaign_areas('{admin,planner}'))::text[]))
     OR unit_id = ANY ((SELECT access_units())::bigint[]))
    AND EXISTS (SELECT 1 FROM compound_helper h
                WHERE h.compound_id = compound_task.compound_id AND h.unit_id = compound_task.unit_id
                  AND h.valid @> compound_task.done_on));
